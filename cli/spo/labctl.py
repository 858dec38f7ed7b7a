"""The container lab: a locally built Debian 12 systemd image and one podman
container per host of a lab inventory.

Everything here is idempotent: `up` compares each container with what the
inventory and the image recipe ask for (a hash kept in a label) and only
creates, recreates or starts what differs.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from spo.paths import CONTAINERS_CONF, LAB_DIR

IMAGE_REPO = "localhost/spo-lab"
IMAGE_RECIPE = (LAB_DIR / "image" / "build.sh", LAB_DIR / "image" / "packages.txt")
LABEL = "io.spo.lab"
CONFIG_LABEL = "io.spo.lab.config"
BOOT_TIMEOUT = 120


class LabError(Exception):
    """A lab step failed; the message says what to do."""


@dataclass(frozen=True)
class LabHost:
    name: str
    container: str
    ip: str
    fuse: bool
    services: tuple[str, ...] = ()  # the lab's stand-ins this host runs (STAND_INS)


MAILDIR = "/var/lib/spo-lab/mail"
HOOKDIR = "/var/lib/spo-lab/hooks"
# Stand-ins for what a hospital has and the lab does not: its mail relay (every mail kept
# as a file) and the departments' webhook endpoints. Transient systemd units in the host
# named by spo_lab_services, started by `spo lab up` (again after a restart of the host).
STAND_INS = {
    "mail": ["python3", "-m", "aiosmtpd", "-n", "-l", "0.0.0.0:8025",
             "-c", "aiosmtpd.handlers.Mailbox", MAILDIR],
    "webhook": ["python3", "/usr/local/lib/spo-lab/webhook_receiver.py", HOOKDIR],
}  # fmt: skip


@dataclass(frozen=True)
class LabSpec:
    inventory: Path
    network: str
    subnet: str
    hosts: tuple[LabHost, ...]


def podman_env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(
            ["podman", *args], env=podman_env(), capture_output=True, text=True, check=False
        )
    except FileNotFoundError as exc:
        raise LabError("podman is not installed: run `./dev setup` first") from exc
    if check and proc.returncode != 0:
        raise LabError(f"podman {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc


def load_spec(inventory: Path) -> LabSpec:
    """Read the lab hosts and their container settings from an inventory."""
    from spo.inventory.loader import load_inventory  # noqa: PLC0415

    parsed = load_inventory(Path(inventory))
    if parsed.findings and not parsed.hosts:
        raise LabError(f"{inventory}: {parsed.findings[0].text()}")
    hosts, network, subnet = [], None, None
    for name in sorted(parsed.hosts):
        hv = parsed.merged_vars(name)
        missing = [k for k in ("ansible_host", "spo_lab_ip", "spo_lab_network") if k not in hv]
        if missing:
            raise LabError(
                f"{inventory}: host {name} lacks {', '.join(missing)}; a lab inventory "
                "names each host's container (ansible_host), address (spo_lab_ip) and the "
                "network (spo_lab_network, spo_lab_subnet)"
            )
        network, subnet = hv["spo_lab_network"], hv.get("spo_lab_subnet")
        services = tuple(hv.get("spo_lab_services") or ())
        unknown = sorted(set(services) - set(STAND_INS))
        if unknown:
            raise LabError(f"{inventory}: host {name}: spo_lab_services {', '.join(unknown)}: "
                           f"expected some of {', '.join(STAND_INS)}")  # fmt: skip
        hosts.append(
            LabHost(
                name, hv["ansible_host"], hv["spo_lab_ip"], bool(hv.get("spo_lab_fuse")), services
            )
        )
    if not hosts:
        raise LabError(f"{inventory}: no hosts; is this a lab inventory?")
    return LabSpec(inventory, network, subnet, tuple(hosts))


def image_tag() -> str:
    """The image name for the current recipe: a changed recipe means a new image."""
    digest = hashlib.sha256()
    for path in IMAGE_RECIPE:
        digest.update(path.read_bytes())
    return f"{IMAGE_REPO}:{digest.hexdigest()[:12]}"


def ensure_image(say) -> str:
    tag = image_tag()
    if podman("image", "exists", tag, check=False).returncode == 0:
        say(f"image    {tag} present")
    else:
        say(f"image    {tag} building with debootstrap (a few minutes, once per recipe)")
        started = time.monotonic()
        build = subprocess.run(
            [str(IMAGE_RECIPE[0]), tag],
            env=podman_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if build.returncode != 0:
            tail = "\n".join(build.stderr.strip().splitlines()[-15:])
            raise LabError(f"building the lab image failed:\n{tail}")
        say(f"image    {tag} built in {time.monotonic() - started:.0f} s")
    # A stable name for tools that cannot compute the hash (molecule's platforms).
    podman("tag", tag, f"{IMAGE_REPO}:current")
    remove_stale_images(tag, say)
    return tag


def remove_stale_images(keep: str, say) -> None:
    """Drop images of older recipes that no container uses any more."""
    listing = podman("images", "--format", "{{.Repository}}:{{.Tag}}", IMAGE_REPO).stdout.split()
    for name in listing:
        if name in (keep, f"{IMAGE_REPO}:current") or not name.startswith(IMAGE_REPO + ":"):
            continue
        # podman refuses to remove an image a container still runs from.
        if podman("rmi", name, check=False).returncode == 0:
            say(f"image    {name} removed (older recipe)")


def ensure_network(spec: LabSpec, say) -> None:
    if podman("network", "exists", spec.network, check=False).returncode == 0:
        say(f"network  {spec.network} present")
        return
    args = ["network", "create", "--label", LABEL]
    if spec.subnet:
        args += ["--subnet", spec.subnet]
    podman(*args, spec.network)
    say(f"network  {spec.network} created ({spec.subnet or 'podman default subnet'})")


def run_args(host: LabHost, spec: LabSpec, image: str) -> list[str]:
    """The `podman run` arguments that define a host's container."""
    args = [
        "--name", host.container,
        "--hostname", host.name,
        "--systemd", "always",
        "--network", spec.network,
        "--ip", host.ip,
    ]  # fmt: skip
    # Every host resolves every other by its inventory name, whatever the DNS.
    for peer in spec.hosts:
        if peer != host:
            args += ["--add-host", f"{peer.name}:{peer.ip}"]
    if host.fuse:
        args += ["--device", "/dev/fuse", "--cap-add", "SYS_ADMIN"]
    return [*args, image, "/sbin/init"]


def config_hash(args: list[str]) -> str:
    return hashlib.sha256("\0".join(args).encode()).hexdigest()[:16]


def inspect(container: str) -> dict | None:
    proc = podman("container", "inspect", container, check=False)
    if proc.returncode != 0:
        return None
    return json.loads(proc.stdout)[0]


def ensure_container(host: LabHost, spec: LabSpec, image: str) -> str:
    """Make one host's container match the spec; say what was done."""
    args = run_args(host, spec, image)
    wanted = config_hash(args)
    current = inspect(host.container)
    action = "created"
    if current is not None:
        if current["Config"]["Labels"].get(CONFIG_LABEL) == wanted:
            if current["State"]["Running"] and answers(host.container):
                return "unchanged"
            if not current["State"]["Running"]:
                podman("start", host.container)
                return "started"
        # A changed definition, or a container podman believes is running but that cannot be
        # entered (its processes are gone, e.g. after the machine was restored from a
        # snapshot): start it afresh.
        podman("rm", "--force", "--time", "10", host.container)
        action = "recreated"
    podman("run", "--detach", "--label", LABEL, "--label", f"{CONFIG_LABEL}={wanted}", *args)
    return action


def is_running(container: str) -> bool:
    current = inspect(container)
    return bool(current and current["State"]["Running"])


def answers(container: str) -> bool:
    """Whether a command can really be run in the container, whatever podman's records say."""
    return podman("exec", container, "true", check=False).returncode == 0


def systemd_state(container: str) -> str:
    """systemd's own word for its state, or why it could not be asked."""
    proc = podman("exec", container, "systemctl", "is-system-running", check=False)
    state = proc.stdout.strip()
    if state:
        return state
    reason = proc.stderr.strip().splitlines()[-1:] or ["no answer"]
    return f"unreachable ({reason[0]})"


def boot_log(container: str, lines: int = 15) -> str:
    proc = podman("logs", "--tail", str(lines), container, check=False)
    return (proc.stdout + proc.stderr).strip()


def wait_booted(spec: LabSpec, timeout: float = BOOT_TIMEOUT) -> dict[str, str]:
    """Wait until systemd in every container has finished starting up."""
    deadline = time.monotonic() + timeout
    states: dict[str, str] = {}
    pending = list(spec.hosts)
    while pending:
        for host in list(pending):
            states[host.name] = systemd_state(host.container)
            if states[host.name] in ("running", "degraded"):
                pending.remove(host)
            elif not is_running(host.container):
                # /sbin/init gave up: waiting longer cannot help, its log says why.
                raise LabError(
                    f"the container {host.container} stopped while systemd was booting; "
                    f"last lines of `podman logs {host.container}`:\n{boot_log(host.container)}"
                )
        if pending and time.monotonic() > deadline:
            late = ", ".join(f"{h.name}={states[h.name]}" for h in pending)
            first = pending[0].container
            raise LabError(
                f"systemd did not finish booting within {timeout:.0f} s: {late}\n"
                f"last lines of `podman logs {first}`:\n{boot_log(first)}\n"
                "see `spo lab status`; `spo lab down` then `spo lab up` starts afresh"
            )
        if pending:
            time.sleep(1)
    return states


def up(spec: LabSpec, say) -> dict[str, str]:
    image = ensure_image(say)
    ensure_network(spec, say)
    actions = {}
    for host in spec.hosts:
        actions[host.name] = ensure_container(host, spec, image)
    states = wait_booted(spec)
    for host in spec.hosts:
        say(f"host     {host.name:<14} {actions[host.name]:<10} systemd {states[host.name]}")
        for service in host.services:
            say(f"service  {host.name:<14} {service:<10} {ensure_stand_in(host, service)}")
    return actions


def ensure_stand_in(host: LabHost, service: str) -> str:
    """Start the stand-in unless it runs; "running" or "started"."""
    unit = f"spo-lab-{service}"
    if podman("exec", host.container, "systemctl", "is-active", "--quiet", unit,
              check=False).returncode == 0:  # fmt: skip
        return "running"
    podman("exec", host.container, "mkdir", "-p", "/var/lib/spo-lab")  # the folders' parent
    if service == "webhook":
        podman("exec", host.container, "mkdir", "-p", "/usr/local/lib/spo-lab")
        podman("cp", str(LAB_DIR / "stand-ins" / "webhook_receiver.py"),
               f"{host.container}:/usr/local/lib/spo-lab/webhook_receiver.py")  # fmt: skip
    podman("exec", host.container, "systemctl", "reset-failed", unit, check=False)
    podman("exec", host.container, "systemd-run", f"--unit={unit}", "--collect",
           *STAND_INS[service])  # fmt: skip
    return "started"


def status(spec: LabSpec) -> list[dict[str, str]]:
    rows = []
    for host in spec.hosts:
        current = inspect(host.container)
        running = bool(current and current["State"]["Running"])
        rows.append(
            {
                "host": host.name,
                "container": host.container,
                "ip": host.ip,
                "state": "absent" if current is None else current["State"]["Status"],
                "systemd": systemd_state(host.container) if running else "-",
            }
        )
    return rows


def down(spec: LabSpec, say) -> None:
    for host in spec.hosts:
        if inspect(host.container) is None:
            say(f"host     {host.name:<14} absent")
            continue
        podman("rm", "--force", "--time", "10", host.container)
        say(f"host     {host.name:<14} removed")
    # The network goes only when no other container still uses it.
    users = podman("ps", "--all", "--quiet", "--filter", f"network={spec.network}").stdout
    if not users.strip() and podman("network", "exists", spec.network, check=False).returncode == 0:
        podman("network", "rm", spec.network)
        say(f"network  {spec.network} removed")
