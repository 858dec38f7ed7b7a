"""``spo-backup run``: for each selected source, in this order:

lock -> backup with verification -> prune locally -> copy, check on arrival and prune at
every offsite -> history line -> metrics -> notice.

A failing source does not stop the others. The run's result is the backup's: metrics and
notices that fail are logged (and, for notices, recorded) but change no result.
"""

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from . import backup, catalog, destination, history, jobs, lock, manifest, metrics, notify, offsite
from . import prune as prune_policy
from .config import Config, Offsite, Source, read_secret
from .errors import BackupError, LockHeld
from .session import Connection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """Where a run writes its backups and how they are kept there."""

    root: Path
    retention: prune_policy.Policy | None  # None: never pruned (an operator's own disk)
    offsite: tuple[Offsite, ...] = ()
    removable: bool = False  # an external disk chosen by hand: must be another device


def home(cfg: Config) -> Target:
    """The host's own backup folder, pruned by the policy and copied offsite."""
    return Target(cfg.backup_root, cfg.retention, cfg.offsite)


def run(
    cfg: Config,
    names: list[str] | tuple = (),
    kind: str = "automatic",
    triggered_by: str = "command line",
    reason: str = "",
    target: Target | None = None,
) -> list[dict]:
    """Back up the named sources (all when none) into ``target`` (the host's own backup
    folder when None); return their history records."""
    sources = [cfg.source(n) for n in names] or list(cfg.sources)
    target = target or home(cfg)
    records = []
    for source in sources:
        record = run_source(cfg, source, kind, triggered_by, reason, target)
        history.keep(cfg.history_file, record)
        _log_result(record)
        quietly("metrics", lambda: metrics.write(cfg))
        quietly("notification", lambda r=record, s=source: _notify(cfg, s, r))
        records.append(record)
    return records


def run_source(
    cfg: Config, source: Source, kind: str, triggered_by: str, reason: str, target: Target
) -> dict:
    started, clock = manifest.utc_now(), time.monotonic()
    record = {
        "record": "run",
        "time": manifest.iso(started),
        "site": cfg.site,
        "host": cfg.host,
        "source": source.name,
        "source_type": source.type,
        "kind": kind,
        "triggered_by": triggered_by,
        "reason": reason,
        "destination": str(target.root),
        "backup": None,
        "manifest": None,
        "size_bytes": None,
        "pruned": [],
        "offsite": [],
    }
    errors: list[str] = []
    try:
        if target.removable:
            destination.check_removable(target.root, cfg.backup_root)
        else:
            destination.prepare(target.root)
        cfg.state_dir.mkdir(mode=0o750, parents=True, exist_ok=True)
        # The whole sequence, not only the dump: two runs must not copy to the NAS at once.
        with lock.hold(cfg.state_dir, source.name, purpose="spo-backup run"):
            made = backup.run(
                backup.Destination(target.root), job(cfg, source, kind, triggered_by, reason)
            )
            data = made["manifest"]
            record.update(
                backup=data["name"],
                manifest=str(Path(made["path"]) / manifest.FILENAME),
                size_bytes=data["stored_bytes"],
            )
            if target.retention is not None:
                pruned = _patiently(
                    lambda: catalog.apply_prune(
                        target.root, target.retention, sources={source.name}, dry_run=False
                    )
                )
                record["pruned"] = pruned["removed"]
            record["offsite"] = [_copy(cfg, off, source, errors) for off in target.offsite]
    except BackupError as exc:
        errors.insert(0, str(exc))
    except Exception as exc:  # a bug or an OS error: still recorded and notified
        log.exception("source %s: unexpected error", source.name)
        errors.insert(0, f"unexpected {type(exc).__name__}: {exc}")
    record.update(
        ended_at=manifest.iso(manifest.utc_now()),
        duration_seconds=round(time.monotonic() - clock, 3),
        result="failed" if errors else "ok",
        error="; ".join(errors) or None,
    )
    return record


def job(cfg: Config, source: Source, kind: str, triggered_by: str, reason: str) -> backup.Job:
    common = {
        "kind": kind,
        "compression": cfg.compression,
        "triggered_by": triggered_by,
        "reason": reason,
    }
    if source.type == "files":
        made = jobs.files_job(source.path, source.name, list(source.exclude), **common)
    else:
        made = jobs.database_job(
            source.type,
            connection(source),
            source.database,
            source=source.name,
            fmt=source.format,
            jobs=source.jobs,
            with_globals=source.globals,
            **common,
        )
    made.host = cfg.host
    return made


def connection(source: Source, restore: bool = False) -> Connection:
    """How to reach a database source's server, as its config says (password read now); with
    ``restore`` as the restore login, when the source has one."""
    user, secret = source.login_user, source.password_file
    if restore and source.restore_login_user:
        user, secret = source.restore_login_user, source.restore_password_file
    password = None
    if secret:
        password = read_secret(secret, f"password of source {source.name}")
    # PostgreSQL takes its socket directory as the host.
    pg_socket = source.login_unix_socket if source.type == "postgresql" else None
    return Connection(
        host=source.login_host or pg_socket,
        port=source.login_port,
        user=user,
        password=password,
        socket=source.login_unix_socket if source.type == "mariadb" else None,
    )


def _copy(cfg: Config, off, source: Source, errors: list[str]) -> dict:
    try:
        result = _patiently(
            lambda: offsite.sync(cfg.backup_root, off, cfg.host, source.name, cfg.retention)
        )
    except (BackupError, OSError) as exc:
        message = str(exc) if isinstance(exc, BackupError) else f"offsite {off.name}: {exc}"
        errors.append(message)
        return {"offsite": off.name, "path": str(off.path), "error": message}
    for name, why in result["unrecognised"].items():
        log.warning("offsite %s: %s is not a backup, left alone: %s", off.name, name, why)
    return {**result, "error": None}


def _patiently(action, seconds: float = 120):
    """Prune takes a destination-wide lock; sources finishing together wait their turn
    (``action`` must be safe to repeat: prune and offsite sync are)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return action()
        except LockHeld:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _notify(cfg: Config, source: Source, record: dict) -> None:
    ended = manifest.parse_time(record["ended_at"])
    event, previous = notify.transition(cfg.state_dir, source.name, record["result"] == "ok", ended)
    if event is None or event not in cfg.notify.on:
        return
    good = history.last_runs(cfg.history_file).get(source.name, {}).get("ok")
    since = previous.get("since")
    notice = notify.Notice(
        event,
        record["result"],
        ended,
        source.name,
        record["error"],
        {
            "kind": record["kind"],
            "backup": record["backup"] or notify.word("none"),
            "size": notify.human_size(record["size_bytes"]),
            "offsite": ", ".join(
                f"{o['offsite']} ({o.get('count', '-')})" for o in record["offsite"]
            )
            or notify.word("none"),
            "last_success": notify.local_time(manifest.parse_time(good["ended_at"]))
            if good
            else notify.word("never"),
            "failed_since": notify.local_time(manifest.parse_time(since)) if since else "",
        },
    )
    record_notices(cfg, notify.send(cfg, notice))


def record_notices(cfg: Config, attempts: list[dict]) -> None:
    """One history line per delivery attempt, delivered or not."""
    for attempt in attempts:
        line = {"record": "notification", "time": manifest.iso(manifest.utc_now())}
        history.append(cfg.history_file, {**line, "host": cfg.host, **attempt})


def quietly(what: str, action) -> None:
    try:
        action()
    except Exception:  # never let reporting change the backup's result
        log.exception("%s failed (the backup result stands)", what)


def _log_result(record: dict) -> None:
    if record["result"] == "ok":
        log.info(
            "source %s: ok: %s (%s) in %.1f s, offsite: %s",
            record["source"],
            record["backup"],
            notify.human_size(record["size_bytes"]),
            record["duration_seconds"],
            ", ".join(o["offsite"] for o in record["offsite"]) or "none",
        )
    else:
        log.error("source %s: FAILED: %s", record["source"], record["error"])
