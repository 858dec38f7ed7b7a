"""The one place that runs Ansible: a playbook through ansible_runner, with a
progress line per task and host, and a record of the run for the audit trail.
"""

from __future__ import annotations

import functools
import getpass
import os
import secrets
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from spo.paths import ANSIBLE_CFG, CONTAINERS_CONF, PLAYBOOKS, PROJECT_ROOT
from spo.records import RunRecord, write_record

VAULT_PASSWORD_FILE = ".vault-password"  # noqa: S105 - a file name, not a password

# Event name -> the word printed for a host's result.
RESULT_WORDS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "FAILED",
    "runner_on_unreachable": "UNREACHABLE",
    "runner_on_skipped": "skipped",
}


def operator() -> str:
    """Who ran the command: the person behind sudo when there is one."""
    return os.environ.get("SUDO_USER") or getpass.getuser()


def inventory_commit(inventory: Path) -> str | None:
    """The git commit of the inventory, with '+dirty' when it has uncommitted changes."""
    where = str(inventory if inventory.is_dir() else inventory.parent)

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-C", where, *args], capture_output=True, text=True, check=False
        )

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return None
        dirty = git("status", "--porcelain", "--", ".").stdout.strip()
    except FileNotFoundError:
        return None
    return head.stdout.strip() + ("+dirty" if dirty else "")


def new_run_id(name: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{name}-{secrets.token_hex(2)}"


class Progress:
    """Prints one line per play, task and host result as events arrive."""

    def __init__(self, echo=click.echo) -> None:
        self.echo = echo
        self.task = ""

    def __call__(self, event: dict) -> bool:
        data = event.get("event_data", {})
        name = event.get("event")
        if name == "playbook_on_play_start":
            self.echo(f"PLAY  {data.get('play', '')}")
        elif name == "playbook_on_task_start":
            self.task = data.get("task", "")
        elif name in RESULT_WORDS:
            word = RESULT_WORDS[name]
            res = data.get("res", {}) if isinstance(data.get("res"), dict) else {}
            if word == "ok" and res.get("changed"):
                word = "changed"
            line = f"  {word:<11} {data.get('host', '?'):<16} {self.task}"
            # Failures and reports (debug tasks) carry their message on the line.
            shows_msg = word in ("FAILED", "UNREACHABLE") or data.get("task_action", "").endswith(
                "debug"
            )
            if shows_msg and res.get("msg"):
                line += f": {first_line(res['msg'])}"
            self.echo(line)
            # A looped report: one line per item under the task's line.
            if shows_msg:
                for item in res.get("results") or []:
                    if isinstance(item, dict) and item.get("msg"):
                        self.echo(f"{'':30}{first_line(item['msg'])}")
        return True  # keep the event in the artifacts


def first_line(message: object) -> str:
    lines = str(message).strip().splitlines()
    return lines[0] if lines else ""


def host_results(stats: dict | None) -> dict[str, dict[str, int | str]]:
    """Per-host counts and a one-word result from ansible_runner's stats."""
    stats = stats or {}
    keys = {"ok": "ok", "changed": "changed", "failures": "failed",
            "dark": "unreachable", "skipped": "skipped"}  # fmt: skip
    hosts = sorted({h for key in keys for h in stats.get(key) or {}})
    results = {}
    for host in hosts:
        counts = {label: (stats.get(key) or {}).get(host, 0) for key, label in keys.items()}
        if counts["unreachable"]:
            result = "unreachable"
        elif counts["failed"]:
            result = "failed"
        else:
            result = "changed" if counts["changed"] else "ok"
        results[host] = {**counts, "result": result}
    return results


def require_valid_inventory(inventory: Path) -> None:
    """Refuse to run on an inventory that breaks the SPO policy schema."""
    from spo.inventory.check import check_inventory  # noqa: PLC0415

    report = check_inventory(inventory)
    if report.errors:
        for finding in report.findings:
            click.echo(finding.text(), err=True)
        raise click.ClickException(
            f"{report.summary()}; nothing was run. Fix the inventory, then check it with "
            f"`spo inventory check {inventory}`."
        )


def run_playbook(
    opts, playbook: str, command: str, extravars: dict | None = None, to_stderr: bool = False
) -> RunRecord:
    """Run playbooks/<playbook> on the inventory; record and return the run. With
    ``to_stderr`` the progress goes to stderr, leaving stdout to the command's own output
    (JSON for machines)."""
    echo = functools.partial(click.echo, err=to_stderr)
    import ansible_runner  # noqa: PLC0415 - slow import, only when a run happens

    require_valid_inventory(Path(opts.inventory))

    run_id = new_run_id(command.split(maxsplit=1)[0])
    run_dir = Path(opts.runs_dir).resolve() / run_id
    (run_dir / "private").mkdir(parents=True)
    inventory = Path(opts.inventory).resolve()
    cmdline = []
    if opts.check:
        cmdline.append("--check")
    if opts.limit:
        cmdline += ["--limit", opts.limit]
    if opts.verbose:
        cmdline.append("-" + "v" * opts.verbose)
    # A site's vault password: <inventory>/.vault-password (the lab's test value), else
    # ANSIBLE_VAULT_PASSWORD_FILE from the environment, which Ansible reads itself.
    vault_password = inventory / VAULT_PASSWORD_FILE
    if vault_password.is_file():
        cmdline += ["--vault-password-file", str(vault_password)]
    record = RunRecord(
        id=run_id,
        command=command,
        argv=sys.argv[1:],
        operator=operator(),
        playbook=playbook,
        inventory=str(inventory),
        inventory_commit=inventory_commit(inventory),
        check=opts.check,
        limit=opts.limit,
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        artifacts=str(run_dir / "artifacts"),
    )
    echo(f"run {run_id}: {command} on {inventory.name}" + (" (check mode)" if opts.check else ""))
    started = time.monotonic()
    try:
        result = ansible_runner.run(
            private_data_dir=str(run_dir / "private"),
            artifact_dir=str(run_dir / "artifacts"),
            ident=run_id,
            project_dir=str(PROJECT_ROOT),
            playbook=str(PLAYBOOKS / playbook),
            inventory=str(inventory),
            cmdline=shlex.join(cmdline) or None,
            extravars=extravars or {},
            envvars={
                "ANSIBLE_CONFIG": str(ANSIBLE_CFG),
                "CONTAINERS_CONF": str(CONTAINERS_CONF),
                "ANSIBLE_NOCOLOR": "1",
                # ansible-playbook from the same environment as this command.
                "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
            },
            suppress_env_files=True,
            quiet=True,
            event_handler=Progress(echo),
        )
    except Exception as exc:
        # A run that could not even start is recorded too, then reported.
        record.status, record.rc = "error", -1
        record.ended = datetime.now(UTC).isoformat(timespec="seconds")
        record.error = f"{type(exc).__name__}: {exc}"
        write_record(run_dir, record)
        raise click.ClickException(f"run {run_id} could not run: {record.error}") from exc
    record.duration_seconds = round(time.monotonic() - started, 1)
    record.ended = datetime.now(UTC).isoformat(timespec="seconds")
    record.rc = result.rc
    record.status = result.status
    record.hosts = host_results(result.stats)
    if record.rc != 0 and record.status == "successful":
        record.status = "failed"
    if record.rc != 0 and not record.hosts:
        # Nothing reached a host (a syntax error, a bad inventory): show why.
        record.error = (
            result.stdout.read().strip()[-2000:] or f"ansible-playbook exited {result.rc}"
        )
        click.echo(record.error, err=True)
    write_record(run_dir, record)
    return record
