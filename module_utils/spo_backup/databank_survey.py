"""What the quarterly report of the data bank needs from its host (S0.4), read now: the space
each unit uses and the file systems' free space, the device's health (uptime, the file
server's service, SMART where the disk answers it) and the period's security events
(security_log). Reads only; nothing is written or kept here: the CLI keeps the run.
"""

import json
import os
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path

from . import manifest, security_log
from .config import Config
from .databank import units as configured_units

SERVICES = ("smbd",)  # the data bank's file server
_TIMEOUT = 60


def survey(
    cfg: Config, since: datetime, until: datetime, services=SERVICES, group_prefix="bank-"
) -> dict:
    """The host's survey for [since, until): the shape the report renderer reads."""
    units = configured_units(cfg)
    found = {
        "host": cfg.host,
        "site": cfg.site,
        "time": manifest.iso(manifest.utc_now()),
        "since": manifest.iso(since),
        "until": manifest.iso(until),
        "units": [{**unit_usage(u.name, u.path), "quota_bytes": u.quota_bytes} for u in units],
        "filesystems": filesystems({u.name: u.path for u in units}),
        "services": [service(name) for name in services],
        **uptime(),
        **samba_access(),
    }
    found["smart"] = disks(found["filesystems"])
    found.update(security_log.read(since, until, group_prefix))
    return found


def unit_usage(name: str, root: Path) -> dict:
    """Files and bytes under a unit's folder (symlinks not followed), or why not."""
    if not root.is_dir():
        return {"unit": name, "path": str(root), "files": None, "bytes": None,
                "error": f"{root} is not a folder on this host"}  # fmt: skip
    files = size = 0
    problems: list[str] = []
    for folder, dirs, names in os.walk(root, onerror=lambda e: problems.append(str(e))):
        for entry in names + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            try:
                info = os.lstat(os.path.join(folder, entry))
            except OSError as exc:
                problems.append(str(exc))
                continue
            files += 1
            size += info.st_size
    return {
        "unit": name,
        "path": str(root),
        "files": files,
        "bytes": size,
        "error": "; ".join(problems[:3]) or None,  # what could not be counted
    }


def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, source, type) of every mount, from /proc/self/mountinfo."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, after = left.split(), right.split()
        if len(fields) >= 5 and len(after) >= 2:
            point = fields[4].encode().decode("unicode_escape")  # "\040" is a space
            found.append((point, after[1], after[0]))
    return found


def mount_of(path: Path, mounts: list[tuple[str, str, str]]) -> tuple[str, str, str]:
    """The mount holding ``path``: the longest mount point that is its prefix."""
    text = str(path.resolve())
    holding = [m for m in mounts if text == m[0] or text.startswith(m[0].rstrip("/") + "/")]
    return max(holding, key=lambda m: len(m[0]))


def filesystems(paths: dict[str, Path]) -> list[dict]:
    """One entry per file system holding a unit: size, used, free, and its disk."""
    mounts = _mounts()
    found: dict[str, dict] = {}
    for unit, path in paths.items():
        try:
            point, source, fstype = mount_of(path, mounts)
            stats = os.statvfs(path)
        except (OSError, ValueError):
            continue  # the unit's own entry says its folder is missing
        entry = found.setdefault(point, {
            "mount": point,
            "device": source,
            "fstype": fstype,
            "disk": disk_of(source),
            "size_bytes": stats.f_blocks * stats.f_frsize,
            "used_bytes": (stats.f_blocks - stats.f_bfree) * stats.f_frsize,
            "free_bytes": stats.f_bavail * stats.f_frsize,
            "units": [],
        })  # fmt: skip
        entry["units"].append(unit)
    return list(found.values())


def disk_of(source: str) -> str | None:
    """The whole disk behind a mount source ("/dev/sda1" -> "/dev/sda"), None when the
    source is not a block device (overlay, tmpfs, a network share)."""
    if not source.startswith("/dev/"):
        return None
    name = Path(source).resolve().name
    block = Path("/sys/class/block") / name
    if not block.exists():
        return None
    whole = block.resolve().parent.name if (block / "partition").exists() else name
    return f"/dev/{whole}"


def disks(found_filesystems: list[dict]) -> list[dict]:
    """The SMART health of each disk under the units' file systems, once per disk; a file
    system on no disk of the host's own says so."""
    health: dict[str, dict] = {}
    for fs in found_filesystems:
        if fs["disk"] is None:
            why = f"{fs['device']} ({fs['fstype']}) at {fs['mount']} is not a disk of this host"
            health[fs["device"]] = {**_NO_SMART, "device": fs["device"], "why": why}
        elif fs["disk"] not in health:
            health[fs["disk"]] = smart(fs["disk"])
    return list(health.values())


_NO_SMART = {"available": False, "passed": None, "power_on_hours": None, "temperature_c": None,
             "reallocated_sectors": None, "why": None}  # fmt: skip


def smart(disk: str) -> dict:
    """The disk's SMART health as smartctl reads it, or why it cannot be read."""
    found = {**_NO_SMART, "device": disk}
    if shutil.which("smartctl") is None:
        return {**found, "why": "smartctl is not installed (package smartmontools)"}
    try:
        done = subprocess.run(
            ["smartctl", "--json", "--health", "--attributes", "--info", disk],
            capture_output=True, text=True, timeout=_TIMEOUT, check=False,
        )  # fmt: skip
        data = json.loads(done.stdout or "{}")
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        return {**found, "why": f"smartctl: {exc}"}
    return {**found, **read_smart(data)}


def read_smart(data: dict) -> dict:
    """smartctl's JSON -> available, passed, hours, temperature, reallocated sectors, why."""
    status = data.get("smart_status")
    if not isinstance(status, dict):
        messages = data.get("smartctl", {}).get("messages") or [{}]
        return {"available": False, "why": messages[0].get("string") or "no SMART status"}
    attributes = {
        a.get("id"): a.get("raw", {}).get("value")
        for a in data.get("ata_smart_attributes", {}).get("table", [])
    }
    return {
        "available": True,
        "passed": bool(status.get("passed")),
        "power_on_hours": data.get("power_on_time", {}).get("hours"),
        "temperature_c": data.get("temperature", {}).get("current"),
        "reallocated_sectors": attributes.get(5),
        "why": None,
    }


def samba_access() -> dict:
    """Who Samba lets in (S0.5), as testparm reads its configuration: the networks of
    "hosts allow" and "hosts deny"; empty lists when Samba is not installed."""
    found = {}
    for key, name in (("hosts_allow", "hosts allow"), ("hosts_deny", "hosts deny")):
        try:
            done = subprocess.run(
                ["testparm", "--suppress-prompt", f"--parameter-name={name}"],
                capture_output=True, text=True, timeout=_TIMEOUT, check=False,
            )  # fmt: skip
            found[key] = done.stdout.replace(",", " ").split() if done.returncode == 0 else []
        except (OSError, subprocess.TimeoutExpired):
            found[key] = []
    return found


def uptime() -> dict:
    seconds = float(Path("/proc/uptime").read_text().split()[0])
    booted = datetime.fromtimestamp(time.time() - seconds).astimezone()
    return {"uptime_seconds": round(seconds), "booted": manifest.iso(booted)}


def service(name: str) -> dict:
    """A systemd service's state, since when, and how often systemd restarted it."""
    found = {"name": name, "active": "unknown", "since": None, "restarts": None}
    try:
        done = subprocess.run(
            ["systemctl", "show", "--timestamp=unix", name,
             "--property=ActiveState,ActiveEnterTimestamp,NRestarts"],
            capture_output=True, text=True, timeout=_TIMEOUT, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {**found, "active": f"unknown ({exc})"}
    shown = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    since = shown.get("ActiveEnterTimestamp", "").lstrip("@")
    return {
        **found,
        "active": shown.get("ActiveState") or "unknown",
        "since": manifest.iso(datetime.fromtimestamp(int(since)).astimezone())
        if since.isdigit() and int(since) > 0
        else None,
        "restarts": int(shown["NRestarts"]) if shown.get("NRestarts", "").isdigit() else None,
    }
