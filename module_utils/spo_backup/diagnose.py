"""``spo-backup diagnose``: is it database damage, application damage, or neither (S2.5)?

S2.3 and S2.4 restore the database or the application; S2.5 sends everything else to the
technical troubleshooting procedure. So the operator must first know which it is. Per source
of this host: its services (systemd units), then for a database whether the server answers
and every table reads (and its indexes check, where amcheck is installed); for program files
whether they still equal the newest backup's archive. Reads only, changes nothing.
"""

import subprocess

from . import catalog, files, integrity, runner
from .config import Config, Source
from .errors import BackupError

DATABASE, APPLICATION, NEITHER = "database", "application", "neither"
# tar --diff lines that are normal life, not damage: a file touched but unchanged.
_HARMLESS = ("Mod time differs",)
_SHOWN = 20  # differences listed per source; the count says how many more


def run(cfg: Config, names=()) -> dict:
    sources = [cfg.source(n) for n in names] or list(cfg.sources)
    findings = [_source(cfg, s) for s in sources]
    damaged = [f for f in findings if f["problems"]]
    kinds = sorted({f["damage"] for f in damaged})
    verdict = kinds[0] if len(kinds) == 1 else ("both" if kinds else NEITHER)
    return {
        "host": cfg.host,
        "site": cfg.site,
        "verdict": verdict,
        "sources": findings,
        "recommended": [_command(cfg, f) for f in damaged],
        "procedure": None
        if damaged
        else "no database or application damage found: follow the technical troubleshooting "
        "procedure (network, hardware, operating system, user accounts) - S2.5",
    }


def _source(cfg: Config, source: Source) -> dict:
    problems = [p for unit in source.services if (p := _unit(unit))]
    if source.type == "files":
        damage = APPLICATION
        problems += _files(cfg, source)
    else:
        damage = DATABASE
        problems += _database(source)
    return {
        "source": source.name,
        "type": source.type,
        "services": list(source.services),
        "damage": damage if problems else None,
        "problems": problems,
    }


def _unit(unit: str) -> str | None:
    state = subprocess.run(
        ["systemctl", "is-active", unit], capture_output=True, text=True, check=False
    ).stdout.strip()
    if state == "active":
        return None
    log = subprocess.run(
        ["journalctl", "--unit", unit, "--lines", "3", "--no-pager", "--output", "cat"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"service {unit} is {state or 'unknown'}" + (f"; last log: {log}" if log else "")


def _database(source: Source) -> list[str]:
    try:
        conn = runner.connection(source)
    except BackupError as exc:
        return [f"cannot log in: {exc.what}"]
    down = integrity.reachable(source.type, conn, source.database)
    if down:
        return [f"the database server does not answer: {down}"]
    try:
        if source.type == "postgresql":
            return integrity.postgresql(conn, source.database)
        return integrity.mariadb_tables(conn, source.database)
    except BackupError as exc:
        return [f"the integrity check failed: {exc.what}"]


def _files(cfg: Config, source: Source) -> list[str]:
    if not source.path.is_dir():
        return [f"the program folder {source.path} is missing"]
    mine = [b for b in catalog.list_backups(cfg.backup_root)[0] if b.source == source.name]
    if not mine:
        return []  # nothing to compare with; the services said what they could
    newest = mine[-1]
    try:
        found = files.differences(newest.path, newest.manifest, source.path)
    except BackupError as exc:
        return [f"cannot compare with backup {newest.name}: {exc.what}"]
    damage = [d for d in found if not d.endswith(_HARMLESS)]
    if not damage:
        return []
    shown = damage[:_SHOWN]
    more = [f"... and {len(damage) - _SHOWN} more"] if len(damage) > _SHOWN else []
    return [f"{len(damage)} difference(s) from backup {newest.name}:", *shown, *more]


def _command(cfg: Config, finding: dict) -> str:
    return (
        f"spo restore --host {cfg.host} --source {finding['source']} --into-production "
        '--instructed-by "NAME (head of SIRS)" --reason "..."'
    )
