"""The MariaDB side of the mirror monitor (GTID replication from the primary).

The local server is asked as root over its socket (unix-socket login: no password), one
statement a call, answers parsed from ``--batch`` output; ``evaluate`` turns them into the
engine's part of the mirror report without touching the server.
"""

import re
from datetime import UTC, datetime

from . import manifest, proc
from .errors import BackupError, ToolError

ENGINE = "mariadb"
HEARTBEAT_TABLE = "heartbeat"
MISSING = ("Unknown database", "doesn't exist")  # errors 1049 and 1146: no heartbeat table
_HINT = "check that MariaDB runs on this host (systemctl status mariadb)"
_VARIABLES = (
    "SELECT @@read_only AS read_only, @@gtid_binlog_pos AS gtid_binlog_pos, "
    "@@gtid_slave_pos AS gtid_slave_pos"
)
# Beats are written and read in UTC whatever the server's time zone; the age is the
# server's own clock minus the replicated beat.
_READ_BEAT = (
    "SET time_zone = '+00:00'; SELECT beat, TIMESTAMPDIFF(MICROSECOND, beat, UTC_TIMESTAMP(6)) "
    "/ 1000000 AS age_seconds FROM heartbeat WHERE id = 1"
)
_ESCAPES = {"t": "\t", "n": "\n", "0": "\0", "\\": "\\"}


def client(socket: str, sql: str, what: str, database: str | None = None) -> list[dict]:
    """Run ``sql`` as root over ``socket``; the rows of its (last) result as dicts."""
    argv = ["mariadb", f"--socket={socket}", "--batch", "--connect-timeout=10"]
    argv += [f"--database={database}"] if database else []
    return rows(proc.run([*argv, f"--execute={sql}"], proc.child_env(), what, _HINT, cwd="/"))


def rows(text: str) -> list[dict]:
    """``--batch`` output: a header line, tab-separated fields, backslash escapes, NULL."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        return []  # an empty result prints nothing, not even the header
    header = lines[0].split("\t")
    return [dict(zip(header, map(_value, line.split("\t")), strict=True)) for line in lines[1:]]


def _value(field: str) -> str | None:
    if field == "NULL":
        return None
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), field)


def role_of(variables: dict, slave: dict | None) -> str:
    """A server replicating from another is a mirror; a writable one that does not is the
    primary; a read-only one that does not is a mirror whose replication is gone."""
    return "primary" if slave is None and variables["read_only"] == "0" else "mirror"


def query(socket: str, heartbeat_database: str) -> dict:
    """The server's replication facts, or ``{"error": why}`` when it does not answer."""
    what = f"MariaDB on {socket}"
    try:
        variables = client(socket, _VARIABLES, what)[0]
        slave = next(iter(client(socket, "SHOW SLAVE STATUS", what)), None)
        facts = {"variables": variables, "slave": slave}
        if role_of(variables, slave) == "primary":
            facts["master"] = next(iter(client(socket, "SHOW MASTER STATUS", what)), None)
            facts["hosts"] = client(socket, "SHOW SLAVE HOSTS", what)
        else:
            facts["heartbeat"] = read_heartbeat(socket, heartbeat_database)
    except BackupError as exc:
        return {"error": " ".join(exc.what.split())}
    return facts


def read_heartbeat(socket: str, database: str) -> dict | None:
    """``{"beat": ISO time, "age_seconds": float}`` as replicated here, or None."""
    try:
        found = client(socket, _READ_BEAT, f"the heartbeat in {database}", database)
    except ToolError:
        return None  # no heartbeat table (yet): the lag falls back to Seconds_Behind_Master
    if not found:
        return None
    beat = datetime.fromisoformat(found[0]["beat"]).replace(tzinfo=UTC)
    return {"beat": manifest.iso(beat), "age_seconds": max(0.0, float(found[0]["age_seconds"]))}


def write_heartbeat(socket: str, database: str, now: datetime) -> dict:
    """On the primary, upsert the one heartbeat row; on a mirror, do nothing. A ToolError
    saying MISSING means there is no heartbeat table."""
    what = f"the heartbeat on MariaDB {socket}"
    variables = client(socket, _VARIABLES, what)[0]
    slave = next(iter(client(socket, "SHOW SLAVE STATUS", what)), None)
    if role_of(variables, slave) != "primary":
        return {"role": "mirror", "written": False, "beat": None}
    beat = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # a time, never text from outside
    sql = (
        "SET time_zone = '+00:00'; INSERT INTO heartbeat (id, beat) "  # noqa: S608
        f"VALUES (1, '{beat}') ON DUPLICATE KEY UPDATE beat = VALUES(beat)"
    )
    client(socket, sql, what, database)
    return {"role": "primary", "written": True, "beat": manifest.iso(now)}


def evaluate(facts: dict) -> dict:
    """The engine's report (without ``ok`` and ``breaches``) from ``query``'s facts."""
    if "error" in facts:
        return {"engine": ENGINE, "role": "stopped", "error": facts["error"]}
    variables, slave = facts["variables"], facts["slave"]
    if role_of(variables, slave) == "primary":
        master = facts.get("master") or {}
        return {
            "engine": ENGINE,
            "role": "primary",
            "gtid_binlog_pos": variables["gtid_binlog_pos"],
            "binlog_file": master.get("File"),
            "binlog_position": _int(master.get("Position")),
            "replicas": [{k.lower(): v for k, v in host.items()} for host in facts["hosts"]],
        }
    return {"engine": ENGINE, "role": "mirror", **_mirror(variables, slave or {}, facts)}


def _mirror(variables: dict, slave: dict, facts: dict) -> dict:
    io = slave.get("Slave_IO_Running") == "Yes"  # "Connecting" is not running
    sql = slave.get("Slave_SQL_Running") == "Yes"
    behind = _int(slave.get("Seconds_Behind_Master"))
    if not slave:
        state = "disconnected"  # read-only, replicating from nowhere
    elif not sql:
        state = "broken"
    elif not io:
        state = "disconnected"
    else:
        state = "streaming" if behind == 0 else "catching-up"
    heartbeat = facts.get("heartbeat")
    if state == "streaming":
        lag = 0.0
    elif heartbeat is not None:
        lag = round(heartbeat["age_seconds"], 3)
    else:
        lag = None if behind is None else float(behind)
    return {
        "state": state,
        "io_running": io,
        "sql_running": sql,
        "seconds_behind_master": behind,
        "gtid_slave_pos": slave.get("Gtid_Slave_Pos") or variables.get("gtid_slave_pos"),
        "gtid_io_pos": slave.get("Gtid_IO_Pos"),
        "last_error": slave.get("Last_SQL_Error") or slave.get("Last_IO_Error") or None,
        "upstream": slave.get("Master_Host"),
        "lag_seconds": lag,
        "lag_bytes": None,
        "read_only": variables["read_only"] == "1",
        "heartbeat_time": heartbeat["beat"] if heartbeat else None,
    }


def _int(text: str | None) -> int | None:
    return int(text) if text not in (None, "") else None
