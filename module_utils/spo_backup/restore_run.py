"""``spo-backup restore``: a restore on the instruction of the head of SIRS (S2.3, S2.4, S3.7).

From a named backup or the newest one that verifies now; a database (full, chosen schemas or
tables) or program files; into another target, or into production. Production is replaced
only when asked for explicitly, and only after a safety backup ("pre-restore") of what is
about to be replaced has succeeded: nothing is ever lost, even by a wrong restore. Every
attempt, refused or failed too, leaves a ``restore`` record in the history: who instructed
it, who ran it, why, and the row counts against the backup's manifest (S3.8's checklist).
"""

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from . import catalog, files, history, jobs, lock, manifest, runner, weekly
from .config import Config, Source
from .errors import BackupError, Refused

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    source: str
    instructed_by: str
    by: str
    reason: str = ""
    backup: str | None = None  # a folder name; None: the newest that verifies
    to_database: str | None = None  # None: the source's own database (production)
    to_path: Path | None = None  # None: the source's own path (production)
    tables: tuple[str, ...] = ()
    schemas: tuple[str, ...] = ()
    into_production: bool = False  # the explicit intent production replacement needs
    jobs: int = 1


def run(cfg: Config, req: Request) -> dict:
    """Restore as ``req`` asks; return the record (also appended to the history)."""
    source = cfg.source(req.source)
    started, clock = manifest.utc_now(), time.monotonic()
    record = _record(cfg, source, req, started)

    def restore() -> None:
        folder, data = _prepare(cfg, source, req, record)
        _restore(cfg, source, req, record, folder, data)

    return history.conclude(cfg.history_file, record, clock, restore)


def plan(cfg: Config, req: Request) -> dict:
    """What ``run`` would do (check mode): the backup it would take and the target; raises
    Refused when ``run`` would refuse. Changes nothing, records nothing."""
    source = cfg.source(req.source)
    record = _record(cfg, source, req, manifest.utc_now())
    _prepare(cfg, source, req, record)
    return record


def _record(cfg: Config, source: Source, req: Request, started) -> dict:
    return {
        "record": "restore",
        "time": manifest.iso(started),
        "site": cfg.site,
        "host": cfg.host,
        "source": source.name,
        "source_type": source.type,
        "backup": None,
        "backup_time": None,
        "target": None,
        "into_production": False,
        "scope": {"tables": list(req.tables), "schemas": list(req.schemas)},
        "instructed_by": req.instructed_by,
        "by": req.by,
        "reason": req.reason,
        "safety_backup": None,
        "started_at": manifest.iso(started),
        "expected_tables": {},
        "tables": {},
        "files": None,
        "checks": [],
    }


def _check(record: dict, name: str, detail: str) -> None:
    record["checks"].append({"name": name, "ok": True, "detail": detail})


def _prepare(cfg: Config, source: Source, req: Request, record: dict) -> tuple[Path, dict]:
    """Every check that needs no change: the request fits the source, the target, the intent
    for production, the backup verifies. Fills the record; returns the backup."""
    if source.type == "files" and (req.tables or req.schemas or req.to_database):
        raise Refused(
            f"source {source.name} holds program files: tables, schemas and a database "
            "name do not apply",
            "give --to-path to restore elsewhere, or nothing to restore to its own path",
        )
    if source.type != "files" and req.to_path:
        raise Refused(
            f"source {source.name} is a {source.type} database: --to-path does not apply",
            "give --to-database to restore into another database",
        )
    target, production = _target(source, req)
    record.update(target=target, into_production=production)
    if production and not req.into_production:
        raise Refused(
            f"restoring into the production {_what(source)} {target} replaces what is there now",
            "restore into another target first (--to-database / --to-path), or, on the "
            "instruction of the head of SIRS, ask for it explicitly (--into-production)",
        )
    folder, data = _choose(cfg, source, req.backup)
    record.update(backup=folder.name, backup_time=data["started_at"])
    record["expected_tables"] = _expected(data, req)
    _check(record, "verified", f"{len(data['files'])} payload file(s), checksums match")
    return folder, data


def _restore(cfg: Config, source: Source, req, record: dict, folder: Path, data: dict) -> None:
    target, production = record["target"], record["into_production"]
    if production:
        record["safety_backup"] = _safety_backup(cfg, source, req, folder.name)
        _check(record, "safety backup", record["safety_backup"])
    with lock.hold(cfg.state_dir, source.name, purpose="spo-backup restore"):
        if source.type == "files":
            done = files.restore(folder, data, Path(target), production, keep_replaced=True)
            record["files"] = files.compare(folder, data, Path(target))
            kept = f"; the replaced folder is kept as {done['kept']}" if done["kept"] else ""
            _check(record, "restore", f"into {done['path']}{kept}")
            _check(record, "files", f"{record['files']} file(s) equal to the backup's archive")
            return
        conn = runner.connection(source, restore=True)
        done = jobs.restore_database(
            conn, folder, target, req.tables, req.schemas, production, req.jobs
        )
        record["tables"] = done["tables"]
        _check(record, "restore", f"into {_what(source)} {target}")
        _check(record, "row counts", f"{len(done['tables'])} table(s) equal to the manifest")


def _what(source: Source) -> str:
    return "folder" if source.type == "files" else f"{source.type} database"


def _target(source: Source, req: Request) -> tuple[str, bool]:
    """Where to, and whether that is the live (production) target."""
    if source.type == "files":
        path = Path(os.path.abspath(req.to_path or source.path))
        live = Path(os.path.abspath(source.path))
        if path != live and (path.is_relative_to(live) or live.is_relative_to(path)):
            raise Refused(
                f"{path} overlaps the live program folder {live}",
                "restore to the live folder itself (--into-production) or to a separate path",
            )
        return str(path), path == live
    target = req.to_database or source.database
    return target, target == source.database


def _choose(cfg: Config, source: Source, name: str | None) -> tuple[Path, dict]:
    """The named backup, or the newest of the source that verifies now (a damaged one is
    skipped with a warning, never restored)."""
    roots = [cfg.backup_root]
    if cfg.calendar.weekly is not None:
        roots.append(weekly.target(cfg).root)
    if name:
        for root in roots:
            if (root / name).is_dir():
                folder = root / name
                data = jobs.load_verified(folder, (source.type,))
                if data["source"] != source.name:
                    raise Refused(
                        f"backup {name} is of source {data['source']}, not {source.name}",
                        "pick a backup of this source (spo backup list)",
                    )
                return folder, data
        raise Refused(
            f"no backup named {name} in {' or '.join(map(str, roots))}",
            "pick one from spo backup list, or leave --backup out for the newest",
        )
    found = [b for root in roots for b in catalog.list_backups(root)[0] if b.source == source.name]
    for candidate in sorted(found, key=lambda b: (b.time, b.name), reverse=True):
        try:
            return candidate.path, jobs.load_verified(candidate.path, (source.type,))
        except BackupError as exc:
            log.warning("skipping %s: %s", candidate.name, exc)
    raise Refused(
        f"source {source.name} has no backup that verifies in {' or '.join(map(str, roots))}",
        "run a backup (spo backup now) or restore one from the NAS copy",
    )


def _safety_backup(cfg: Config, source: Source, req: Request, chosen: str) -> str:
    """A backup of what is about to be replaced. Not pruned here: pruning now could delete
    the very backup being restored."""
    target = runner.Target(cfg.backup_root, None)
    why = f"before restoring {chosen} (instructed by {req.instructed_by})"
    made = runner.run(cfg, [source.name], "pre-restore", req.by, why, target)[0]
    if made["result"] != "ok":
        raise Refused(
            f"the safety backup of {source.name} failed, nothing was replaced: {made['error']}",
            "fix its cause (a stopped database must be started first), or restore into "
            "another target and switch over by hand",
        )
    return made["backup"]


def _expected(data: dict, req: Request) -> dict[str, int]:
    """The manifest's row counts of the tables the request restores."""
    return {
        name: rows
        for name, rows in data["tables"].items()
        if (not req.schemas or name.split(".", 1)[0] in req.schemas)
        and (not req.tables or name.rsplit(".", 1)[-1] in req.tables)
    }
