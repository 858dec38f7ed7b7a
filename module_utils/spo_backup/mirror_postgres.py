"""The PostgreSQL side of the mirror monitor.

What the local server says comes from psql run as the OS user postgres over the local socket
(root needs no password for that), as one JSON object per call; ``evaluate`` turns it into
the engine's part of the mirror report without touching the server, so tests feed it
sample answers. The pgBackRest archive is read from the repository's files.
"""

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from . import manifest, proc
from .errors import BackupError, ToolError

ENGINE = "postgresql"
HEARTBEAT_TABLE = "public.heartbeat"
MISSING = ("does not exist",)  # how psql says that the database or the table is not there
_HINT = "check that PostgreSQL runs on this host (systemctl status postgresql)"
# On a primary, replicas and slots are measured from its write position ("here").
STATUS_SQL = """
WITH here AS (SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn() END AS lsn)
SELECT json_build_object(
  'in_recovery', pg_is_in_recovery(),
  'current_lsn', here.lsn,
  'receive_lsn', pg_last_wal_receive_lsn(),
  'replay_lsn', pg_last_wal_replay_lsn(),
  'lag_bytes', pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()),
  'last_replay_time', pg_last_xact_replay_timestamp(),
  'receiver', (SELECT json_build_object('status', status, 'sender_host', sender_host)
               FROM pg_stat_wal_receiver),
  'replicas', (SELECT coalesce(json_agg(json_build_object(
                 'name', application_name, 'client_addr', client_addr, 'state', state,
                 'replay_lsn', replay_lsn, 'lag_bytes', pg_wal_lsn_diff(here.lsn, replay_lsn),
                 'replay_lag_seconds', extract(epoch FROM replay_lag))
               ORDER BY application_name), '[]') FROM pg_stat_replication),
  'slots', (SELECT coalesce(json_agg(json_build_object(
              'name', slot_name, 'active', active,
              'retained_bytes', pg_wal_lsn_diff(here.lsn, restart_lsn))
            ORDER BY slot_name), '[]') FROM pg_replication_slots),
  'archiver', (SELECT json_build_object(
                 'archived_count', archived_count, 'last_archived_wal', last_archived_wal,
                 'last_archived_time', last_archived_time, 'failed_count', failed_count,
                 'last_failed_time', last_failed_time, 'last_failed_wal', last_failed_wal)
               FROM pg_stat_archiver))
FROM here
"""
# A WAL segment in a pgBackRest archive: 24 hex digits, "-", its sha1, maybe a compression
# extension. Timeline .history files and .backup labels do not match.
_WAL = re.compile(r"[0-9A-Fa-f]{24}-[0-9a-f]{40}(\.[a-z0-9]+)?")


def psql(port: int, database: str, sql: str, what: str) -> str:
    """One statement as the OS user postgres on the local socket; its output, unaligned."""
    argv = ["runuser", "-u", "postgres", "--", "psql", "-X", "-A", "-t", "-q", "-w"]
    argv += ["-v", "ON_ERROR_STOP=1", "-p", str(port), "-d", database, "-c", sql]
    env = proc.child_env(
        PGTZ="UTC",  # times come back in UTC, whatever the server's TimeZone
        PGAPPNAME="spo-mirror",
        PGCONNECT_TIMEOUT="10",
        PGOPTIONS="-c statement_timeout=30000",
    )
    try:
        # cwd: postgres may not enter root's working directory (psql would warn about it).
        return proc.run(argv, env, what, _HINT, cwd="/")
    except ToolError as exc:  # runuser hands on psql's status: name the tool that failed
        raise ToolError(exc.what.replace("runuser exited", "psql exited", 1), exc.hint) from None


def one_line(error: BackupError) -> str:
    return " ".join(error.what.split())


def query(port: int, heartbeat_database: str) -> dict:
    """The server's replication facts (STATUS_SQL's object, plus ``heartbeat`` on a mirror),
    or ``{"error": why}`` when it does not answer: a stopped server is a state, not a crash."""
    try:
        facts = json.loads(psql(port, "postgres", STATUS_SQL, f"PostgreSQL on port {port}"))
    except BackupError as exc:
        return {"error": one_line(exc)}
    facts["heartbeat"] = read_heartbeat(port, heartbeat_database) if facts["in_recovery"] else None
    return facts


def read_heartbeat(port: int, database: str) -> dict:
    """The primary's last beat as replayed here: ``{"beat": ISO time or None, "error": why
    there is none}`` (the table lives in its own database, so psql connects to that)."""
    sql = "SELECT to_json(beat) FROM public.heartbeat WHERE id = 1"
    try:
        out = psql(port, database, sql, f"the heartbeat in database {database}").strip()
    except ToolError as exc:
        return {"beat": None, "error": one_line(exc)}
    return {"beat": json.loads(out), "error": None} if out else {"beat": None, "error": "no row"}


def write_heartbeat(port: int, database: str, now: datetime) -> dict:
    """On the primary, upsert the one heartbeat row; on a mirror, do nothing. A ToolError
    saying MISSING means there is no heartbeat table."""
    what = f"the heartbeat on PostgreSQL port {port}"
    if psql(port, "postgres", "SELECT pg_is_in_recovery()", what).strip() == "t":
        return {"role": "mirror", "written": False, "beat": None}
    beat = now.astimezone(UTC).isoformat()  # a time, never text from outside
    sql = (
        "INSERT INTO public.heartbeat (id, beat) "  # noqa: S608
        f"VALUES (1, '{beat}') ON CONFLICT (id) DO UPDATE SET beat = excluded.beat"
    )
    psql(port, database, sql, what)
    return {"role": "primary", "written": True, "beat": manifest.iso(now)}


def newest_archived_wal(folder: Path, now: datetime) -> dict:
    """The newest WAL segment file (by mtime) anywhere under the stanza's archive folder."""
    newest: tuple[float, str] | None = None
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            if not _WAL.fullmatch(name):
                continue
            try:
                mtime = os.stat(os.path.join(dirpath, name)).st_mtime
            except FileNotFoundError:  # expired by pgBackRest while we looked
                continue
            if newest is None or mtime > newest[0]:
                newest = (mtime, name)
    found = {"folder": str(folder), "newest_wal": None, "newest_time": None, "age_seconds": None}
    if newest is not None:
        moment = datetime.fromtimestamp(newest[0], UTC)
        found.update(
            newest_wal=newest[1],
            newest_time=manifest.iso(moment),
            age_seconds=_seconds(now - moment),
        )
    return found


def evaluate(facts: dict, archive: dict | None, now: datetime) -> dict:
    """The engine's report (without ``ok`` and ``breaches``) from ``query``'s facts."""
    if "error" in facts:
        engine = {"engine": ENGINE, "role": "stopped", "error": facts["error"]}
    elif facts["in_recovery"]:
        engine = {"engine": ENGINE, "role": "mirror", **_mirror(facts, now)}
    else:
        engine = {"engine": ENGINE, "role": "primary", **_primary(facts)}
    if archive is not None:
        engine["archive"] = archive
    return engine


def _mirror(facts: dict, now: datetime) -> dict:
    receiver = facts.get("receiver") or {}
    lag_bytes = facts.get("lag_bytes")
    if receiver.get("status") != "streaming":
        state = "disconnected"
    else:
        state = "streaming" if lag_bytes == 0 else "catching-up"
    heartbeat = (facts.get("heartbeat") or {}).get("beat")
    replayed = facts.get("last_replay_time")
    # Everything received is replayed while the stream is up: nothing is missing, however
    # long ago the idle primary last wrote. Otherwise the age of the newest replayed beat
    # says how much could be missing.
    if state == "streaming":
        lag = 0.0
    elif heartbeat or replayed:
        lag = _seconds(now - manifest.parse_time(heartbeat or replayed))
    else:
        lag = None
    return {
        "state": state,
        "receive_lsn": facts.get("receive_lsn"),
        "replay_lsn": facts.get("replay_lsn"),
        "lag_bytes": lag_bytes,
        "lag_seconds": lag,
        "last_replay_time": _iso(replayed),
        "heartbeat_time": _iso(heartbeat),
        "upstream": receiver.get("sender_host"),
    }


def _primary(facts: dict) -> dict:
    archiver = dict(facts.get("archiver") or {})
    for key in ("last_archived_time", "last_failed_time"):
        archiver[key] = _iso(archiver.get(key))
    return {
        "current_lsn": facts["current_lsn"],
        "replicas": facts.get("replicas") or [],
        "slots": facts.get("slots") or [],
        "archiver": archiver,
    }


def _seconds(delta) -> float:
    return round(max(0.0, delta.total_seconds()), 3)  # clocks a little apart: never < 0


def _iso(text: str | None) -> str | None:
    return manifest.iso(manifest.parse_time(text)) if text else None
