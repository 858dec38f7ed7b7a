"""``spo-backup drill``: the weekly test restore (S3.6), proving the backups can be restored.

Per source, the newest backup in the place the config names (this host's folder or an
offsite copy) goes through four steps, and the first that fails ends the drill:

checksums -> identity (the target is not the production server) -> restore (every table's
rows equal the manifest's) -> integrity (amcheck, CHECK TABLE EXTENDED, tar --diff).

The target is a scratch instance (or folder) made for the drill and removed after it, or a
dedicated drill server the operator names, into which a ``spo_drill_<source>`` database is
restored and dropped again. Every drill leaves a ``drill`` record in the history, with the
time the restore took (RTO) and the age of the restored data (RPO); a failed or refused one
is notified.
"""

import contextlib
import dataclasses
import logging
import os
import stat
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from . import (
    files,
    history,
    integrity,
    lock,
    manifest,
    notify,
    offsite,
    pg_client,
    postgres,
    runner,
    scratch,
    verify,
)
from . import mariadb as maria
from .catalog import Backup
from .config import Config, Source
from .errors import BackupError, Refused
from .session import Connection

log = logging.getLogger(__name__)
DATABASE_PREFIX = "spo_drill_"
_SUPERUSER = {"postgresql": "postgres", "mariadb": "root"}
_ENGINE = {"postgresql": "PostgreSQL", "mariadb": "MariaDB"}
_SCRATCH = {"postgresql": scratch.postgresql, "mariadb": scratch.mariadb}


class _Stopped(Exception):
    """A step failed; it is recorded, and the drill of this source ends."""

    def __init__(self, result: str, error: str) -> None:
        super().__init__(error)
        self.result, self.error = result, error


def run(
    cfg: Config,
    names: list[str] | tuple = (),
    triggered_by: str = "command line",
    target: Connection | None = None,
    now: datetime | None = None,
) -> list[dict]:
    """Drill the named sources (all when none) into scratch instances, or into ``target``,
    an existing non-production server; return their records (also in the history).
    ``now``: the drill's start time, for tests."""
    sources = [cfg.source(n) for n in names] or list(cfg.sources)
    engines = sorted({s.type for s in sources} - {"files"})
    if target is not None and len(engines) > 1:
        raise BackupError(
            f"a target server runs one engine, and the sources chosen are {' and '.join(engines)}",
            "choose the sources of the target's engine with --source",
        )
    records = []
    for source in sources:
        record = drill_source(cfg, source, triggered_by, target, now or manifest.utc_now())
        history.keep(cfg.history_file, record)
        _log(record)
        if record["result"] != "ok":
            runner.quietly("notification", lambda r=record: _tell(cfg, r))
        records.append(record)
    return records


def new_record(cfg: Config, source: Source, started: datetime, triggered_by: str) -> dict:
    return {
        "record": "drill",
        "time": manifest.iso(started),
        "site": cfg.site,
        "host": cfg.host,
        "source": source.name,
        "source_type": source.type,
        "backup": None,
        "backup_time": None,
        "from": cfg.drill.source_of_backups,
        "target": None,
        "triggered_by": triggered_by,
        "checks": [],
        "tables": {},
        "files": None,
        "rto_seconds": None,
        "rpo_seconds": None,
        "started_at": manifest.iso(started),
        "ended_at": None,
        "duration_seconds": None,
        "result": None,
        "error": None,
    }


def drill_source(
    cfg: Config, source: Source, triggered_by: str, target: Connection | None, started: datetime
) -> dict:
    clock = time.monotonic()
    record = new_record(cfg, source, started, triggered_by)
    result, error = "ok", None
    try:
        cfg.state_dir.mkdir(mode=0o750, parents=True, exist_ok=True)
        # Two drills of one source would meet in the same spo_drill_ database of a target.
        with lock.hold(cfg.state_dir, f"drill-{source.name}", purpose="spo-backup drill"):
            _drill(cfg, source, target, record)
    except _Stopped as stop:
        result, error = stop.result, stop.error
    except BackupError as exc:
        result, error = "failed", str(exc)
    except Exception as exc:  # a bug or an OS error: still recorded and notified
        log.exception("drill of source %s: unexpected error", source.name)
        result, error = "failed", f"unexpected {type(exc).__name__}: {exc}"
    if result != "ok":
        record["rto_seconds"] = None  # a restore that did not finish has no recovery time
    record.update(
        ended_at=manifest.iso(manifest.utc_now()),
        duration_seconds=round(time.monotonic() - clock, 3),
        result=result,
        error=error,
    )
    return record


def _drill(cfg: Config, source: Source, target: Connection | None, record: dict) -> None:
    place, root = where(cfg)
    chosen = newest(offsite.backups_of(root, cfg.host, source.name))
    if chosen is None:
        raise BackupError(
            f"source {source.name} has no backup in {place} ({root}) to drill",
            f"take one (spo-backup run --source {source.name}) and check why none was made",
        )
    record.update(
        backup=chosen.name,
        backup_time=manifest.iso(chosen.time),
        rpo_seconds=rpo_seconds(manifest.parse_time(record["started_at"]), chosen.time),
    )
    clock = time.monotonic()  # the recovery time: from checking the backup to a sound copy
    with _step(record, "checksums") as step:
        report = verify.check_payload(chosen.path, chosen.manifest)
        step["detail"] = f"{len(report['files'])} payload file(s) match the manifest's sha256"
    if source.type == "files":
        _files(cfg, source, chosen, record, clock)
    else:
        _database(cfg, source, chosen, target, record, clock)


@contextlib.contextmanager
def _step(record: dict, name: str) -> Iterator[dict]:
    """One step of the drill, recorded with what it found; a failure ends the drill."""
    check = {"name": name, "ok": True, "detail": ""}
    try:
        yield check
    except _Stopped:
        raise
    except Refused as exc:
        _record_failure(record, check, "refused", str(exc))
    except BackupError as exc:
        _record_failure(record, check, "failed", str(exc))
    except Exception as exc:  # a bug or an OS error: this step failed all the same
        log.exception("drill of source %s, step %s: unexpected error", record["source"], name)
        _record_failure(record, check, "failed", f"unexpected {type(exc).__name__}: {exc}")
    record["checks"].append(check)


def _record_failure(record: dict, check: dict, result: str, error: str) -> None:
    record["checks"].append({**check, "ok": False, "detail": error})
    raise _Stopped(result, f"{check['name']}: {error}")


def _database(
    cfg: Config,
    source: Source,
    backup: Backup,
    target: Connection | None,
    record: dict,
    clock: float,
) -> None:
    name = DATABASE_PREFIX + source.name
    with contextlib.ExitStack() as cleanup:
        with _step(record, "identity") as step:
            instance = cleanup.enter_context(_instance(cfg, source.type, target))
            record["target"] = instance.describe
            step["detail"] = not_production(source, instance, named=target is not None)
        with _step(record, "restore") as step:
            if target is not None:  # only now: nothing is ever dropped on an unproven server
                cleanup.enter_context(_dropped(instance.conn, source.type, name))
            done = _restore(instance.conn, source, backup, name)
            record["tables"] = done["tables"]
            step["detail"] = (
                f"{len(done['tables'])} table(s) restored into database {name}, every row "
                "count equal to the manifest's (owners and grants left out: roles are the "
                "server's)"
            )
        with _step(record, "integrity") as step:
            if source.type == "postgresql":
                found = integrity.postgresql(instance.conn, name, with_amcheck=True)
                checked = "every table read, every btree index checked by amcheck"
            else:
                found = integrity.mariadb_tables(instance.conn, name, extended=True)
                checked = "CHECK TABLE EXTENDED of every table"
            _sound(found, name)
            step["detail"] = f"{checked}: no problem"
        record["rto_seconds"] = round(time.monotonic() - clock, 3)


@contextlib.contextmanager
def _instance(cfg: Config, engine: str, target: Connection | None) -> Iterator[scratch.Instance]:
    if target is None:
        with _SCRATCH[engine](cfg.drill.scratch_dir) as instance:
            yield instance
        return
    conn = dataclasses.replace(target, user=target.user or _SUPERUSER[engine])
    if engine == "postgresql":  # it takes its socket's directory as the host
        conn = dataclasses.replace(conn, host=conn.host or conn.socket, socket=None)
    where = conn.socket or conn.host or "the local socket"
    where += f":{conn.port}" if conn.port and not conn.socket else ""
    describe = f"{_ENGINE[engine]} server at {where} (named by the operator)"
    yield scratch.Instance(engine, conn, scratch.identity(engine, conn), describe, None)


def not_production(source: Source, instance: scratch.Instance, named: bool) -> str:
    """Refuse a target with the identity of the source's production server; say why the
    target is another server."""
    try:
        live = scratch.identity(source.type, runner.connection(source, True), source.database)
    except BackupError as exc:
        if named:
            raise Refused(
                f"the production server of source {source.name} does not tell its identity "
                f"({exc.what}), so {instance.describe} cannot be proven another server",
                "make the production server answer the source's login, or drill into a "
                "scratch instance (leave out the --target options)",
            ) from None
        return (
            f"{instance.describe} ({instance.identity}) was made by this drill; the "
            f"production server did not tell its identity: {exc.what}"
        )
    if live == instance.identity:
        raise Refused(
            f"{instance.describe} is the production server of source {source.name} ({live}): "
            "a drill never restores into the live server",
            "drill into a scratch instance (leave out the --target options) or into a "
            "server that is not in production",
        )
    return f"{instance.describe} ({instance.identity}) is not the production server ({live})"


def _restore(conn: Connection, source: Source, backup: Backup, name: str) -> dict:
    if source.type == "postgresql":
        # Without the owners: the drill proves the data, and replaying the backup's roles
        # would change an operator's server (and could name production's tablespaces).
        return postgres.restore(
            conn, backup.path, backup.manifest, name, jobs=source.jobs, no_owner=True
        )
    return maria.restore(conn, backup.path, backup.manifest, name, jobs=source.jobs)


@contextlib.contextmanager
def _dropped(conn: Connection, engine: str, name: str) -> Iterator[None]:
    """The drill's database on an operator's server: a killed drill's copy is dropped
    first, and this drill's after it, also after a failure."""
    _drop(conn, engine, name)
    try:
        yield
    finally:
        try:
            _drop(conn, engine, name)
        except BackupError as exc:
            log.error("the drill database %s was not dropped: %s", name, exc)


def _drop(conn: Connection, engine: str, name: str) -> None:
    what = f"dropping the drill database {name}"
    if engine == "postgresql":
        with pg_client.env(conn) as env, pg_client.psql(conn, env, "postgres", what) as s:
            s.query(rf"\set db '{pg_client.psql_var(name)}'")
            s.query('DROP DATABASE IF EXISTS :"db" WITH (FORCE);')
        return
    with maria.session(conn, None, what) as s:
        s.query(f"DROP DATABASE IF EXISTS {maria._ident(name)};")


def _files(cfg: Config, source: Source, backup: Backup, record: dict, clock: float) -> None:
    with _step(record, "identity") as step:
        step["detail"] = apart(cfg.drill.scratch_dir, source.path)
    with contextlib.ExitStack() as cleanup:
        with _step(record, "restore") as step:
            home = cleanup.enter_context(scratch.folder(cfg.drill.scratch_dir, "files"))
            tree = home / "tree"
            record["target"] = f"scratch folder {home}"
            files.restore(backup.path, backup.manifest, tree)
            record["files"] = regular_files(tree)
            step["detail"] = f"{record['files']} file(s) restored into {tree}"
        with _step(record, "integrity") as step:
            entries = files.compare(backup.path, backup.manifest, tree)
            step["detail"] = f"tar --diff: the {entries} restored entries equal the archive"
        record["rto_seconds"] = round(time.monotonic() - clock, 3)


def apart(scratch_dir: Path, live: Path) -> str:
    """Refuse a scratch folder that is, holds or sits inside the live program folder."""
    mine, theirs = Path(os.path.realpath(scratch_dir)), Path(os.path.realpath(live))
    if mine == theirs or mine.is_relative_to(theirs) or theirs.is_relative_to(mine):
        raise Refused(
            f"the drill's scratch folder {mine} overlaps the live program folder {theirs}",
            f"set the drill's scratch_dir (backup_drill_scratch_dir) outside {theirs}",
        )
    return f"the scratch folder {mine} is apart from the live folder {theirs}"


def regular_files(tree: Path) -> int:
    return sum(
        1
        for folder, _dirs, names in os.walk(tree)
        for name in names
        if stat.S_ISREG(os.lstat(os.path.join(folder, name)).st_mode)
    )


def _sound(problems: list[str], name: str) -> None:
    if problems:
        shown = "; ".join(problems[:10]) + (
            f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
        )
        raise BackupError(
            f"the restored database {name} has {len(problems)} problem(s): {shown}",
            "the backup restores but what it holds is damaged: take a new backup now and "
            "check the production database (spo diagnose)",
        )


def where(cfg: Config) -> tuple[str, Path]:
    """The place the drill takes its backups from: ("local", the host's folder) or an
    offsite's name and path (checked to be mounted first)."""
    name = cfg.drill.source_of_backups
    if name == "local":
        return name, cfg.backup_root
    for off in cfg.offsite:
        if off.name == name:
            offsite.check(off)
            return name, off.path
    raise BackupError(
        f"{cfg.path}: drill.from names the offsite {name!r}, which is not in offsite",
        "name one of the offsite entries, or local",
    )


def newest(backups: list[Backup]) -> Backup | None:
    """The newest backup by its manifest's time (names only help people)."""
    return max(backups, key=lambda b: (b.time, b.name), default=None)


def rpo_seconds(started: datetime, made: datetime) -> int:
    """How old the restored data is: what a restore at ``started`` would lose."""
    return int((started - made).total_seconds())


def _tell(cfg: Config, record: dict) -> None:
    none = notify.word("none")
    made = record["backup_time"]
    failed = [c["name"] for c in record["checks"] if not c["ok"]]
    notice = notify.Notice(
        "drill-failed",
        record["result"],
        manifest.parse_time(record["ended_at"]),
        record["source"],
        record["error"],
        {
            "outcome": notify.word(f"drill-failed.{record['result']}"),
            "backup": record["backup"] or none,
            "backup_time": notify.local_time(manifest.parse_time(made)) if made else none,
            "from": record["from"],
            "target": record["target"] or none,
            "check": failed[0] if failed else none,
        },
    )
    runner.record_notices(cfg, notify.send(cfg, notice))


def summary(record: dict) -> str:
    """One source's drill in one line: result, backup, RTO, RPO, and the failing check."""
    text = f"{record['source']}: {record['result'].upper()}, backup {record['backup'] or 'none'}"
    text += f" from {record['from']}"
    if record["rto_seconds"] is not None:
        text += f", RTO {record['rto_seconds']:.1f} s"
    if record["rpo_seconds"] is not None:
        text += f", RPO {record['rpo_seconds'] / 3600:.1f} h"
    return text + (f"; {record['error']}" if record["error"] else "")


def _log(record: dict) -> None:
    if record["result"] == "ok":
        log.info("drill of %s", summary(record))
    else:
        log.error("drill of %s", summary(record))
