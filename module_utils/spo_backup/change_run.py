"""``spo-backup change``: a change of a production database's data, approved through the
S3.9 chain, run on the host that holds the database.

The approvals themselves are checked by the control node against the versioned change
request; the host checks again what it can: the script is the one approved (its sha256).
Then a "pre-change" backup of the database must succeed, and the script runs in one
transaction as the source's restore login (the backup login only reads): the first error
rolls everything back, and the rows each statement touched are recorded. Every attempt,
refused or failed too, leaves a ``change`` record in the history.
"""

import hashlib
import re
import subprocess
import time
from dataclasses import dataclass

from . import history, manifest, mariadb, pg_client, runner
from .config import Config, Source
from .errors import Refused, ToolError

# Statements that would end the one transaction the script runs in, or (in MariaDB) commit
# on their own: a script holding them could be half applied.
_TRANSACTION = re.compile(
    r"^\s*(BEGIN|COMMIT|ROLLBACK|END|START\s+TRANSACTION|SAVEPOINT|RELEASE)\b",
    re.IGNORECASE | re.MULTILINE,
)
_MARIADB_DDL = re.compile(
    r"^\s*(CREATE|ALTER|DROP|TRUNCATE|RENAME|GRANT|REVOKE|LOCK|UNLOCK)\b",
    re.IGNORECASE | re.MULTILINE,
)
# psql's command tags that carry a row count ("INSERT 0 3", "UPDATE 2", "DELETE 0" ...).
_PG_TAG = re.compile(r"^(INSERT \d+|UPDATE|DELETE|MERGE|COPY|SELECT) (\d+)$")
# mariadb -vvv: "Query OK, 2 rows affected (0.000 sec)" or "3 rows in set (0.001 sec)".
_MARIADB_ROWS = re.compile(r"^(?:Query OK, )?(\d+) rows? (?:affected|in set)")
_RULE = "-" * 14


@dataclass(frozen=True)
class Request:
    change_id: str
    source: str
    sql: str
    sql_sha256: str  # the hash the approvers approved
    by: str
    approved_by: tuple[str, ...] = ()  # "role: name" in chain order, for the manifest's reason


def source_for(cfg: Config, engine: str, database: str) -> str:
    """The name of the host's source that backs up ``database`` of ``engine``: the change
    request names the database, the host's configuration knows how to reach and back it up."""
    found = [s.name for s in cfg.sources if s.type == engine and s.database == database]
    if len(found) != 1:
        known = ", ".join(f"{s.database} ({s.type})" for s in cfg.sources if s.database) or "none"
        raise Refused(
            f"{cfg.host} has {'no' if not found else len(found)} backup source(s) for the "
            f"{engine} database {database}; it backs up: {known}",
            "a change is applied only to a database the host backs up (the pre-change backup "
            "comes first): correct the request's host or database",
        )
    return found[0]


def run(cfg: Config, req: Request) -> dict:
    """Apply the change; return its record (also appended to the history)."""
    started, clock = manifest.utc_now(), time.monotonic()
    record = {
        "record": "change",
        "time": manifest.iso(started),
        "site": cfg.site,
        "host": cfg.host,
        "change_id": req.change_id,
        "source": req.source,
        "database": None,
        "sql_sha256": req.sql_sha256,
        "by": req.by,
        "approved_by": list(req.approved_by),
        "pre_change_backup": None,
        "statements": [],
        "rows_total": None,
    }

    def apply() -> None:
        source = _check(cfg, req)
        record["database"] = source.database
        record["pre_change_backup"] = _backup_first(cfg, source, req)
        record["statements"] = execute(source, req.sql)
        record["rows_total"] = sum(s["rows"] or 0 for s in record["statements"])

    return history.conclude(cfg.history_file, record, clock, apply)


def plan(cfg: Config, req: Request) -> dict:
    """What ``run`` would do (check mode): the checks only, nothing run or changed."""
    source = _check(cfg, req)
    return {"source": source.name, "database": source.database, "pre_change_backup": "would run"}


def _check(cfg: Config, req: Request) -> Source:
    source = cfg.source(req.source)
    if source.type not in ("postgresql", "mariadb"):
        raise Refused(f"source {source.name} is {source.type}, not a database",
                      "name the database source the change is for")  # fmt: skip
    actual = hashlib.sha256(req.sql.encode()).hexdigest()
    if actual != req.sql_sha256:
        raise Refused(
            f"change {req.change_id}: the script's sha256 is {actual}, the approved one "
            f"{req.sql_sha256}",
            "the script changed after approval: request the change again",
        )
    if (found := _TRANSACTION.search(req.sql)) is not None:
        raise Refused(
            f"change {req.change_id}: the script holds {found[1].upper()}; it runs in one "
            "transaction of its own",
            "remove the transaction statements from the script and request it again",
        )
    if source.type == "mariadb" and (found := _MARIADB_DDL.search(req.sql)) is not None:
        raise Refused(
            f"change {req.change_id}: {found[1].upper()} commits on its own in MariaDB, so the "
            "script could not be rolled back as a whole",
            "apply structure changes in a planned downtime; request data changes alone",
        )
    return source


def _backup_first(cfg: Config, source: Source, req: Request) -> str:
    """The pre-change backup; nothing runs unless it succeeded."""
    why = f"before change {req.change_id}"
    if req.approved_by:
        why += f" (approved by {'; '.join(req.approved_by)})"
    target = runner.Target(cfg.backup_root, None)
    made = runner.run(cfg, [source.name], "pre-change", req.by, why, target)[0]
    if made["result"] != "ok":
        raise Refused(
            f"the pre-change backup of {source.name} failed, nothing was changed: {made['error']}",
            "fix its cause, then apply the change again",
        )
    return made["backup"]


def execute(source: Source, sql: str) -> list[dict]:
    """Run the script in one transaction as the restore login; the statements with the rows
    each touched. Any error rolls back all of it and raises ToolError with the server's
    message."""
    conn = runner.connection(source, restore=True)
    if source.type == "postgresql":
        with pg_client.env(conn) as env:
            argv = ["psql", *pg_client.conn_args(conn), "-X", "-v", "ON_ERROR_STOP=1",
                    "--single-transaction", "-d", source.database, "-f", "-"]  # fmt: skip
            out = _client(argv, env, sql, source)
        return pg_statements(out)
    with mariadb.login_options(conn) as (env, login):
        argv = [mariadb.client_program(), login, "--batch", "-vvv", f"--database={source.database}"]
        script = f"SET autocommit=0;\nSTART TRANSACTION;\n{sql.rstrip().rstrip(';')};\nCOMMIT;\n"
        out = _client(argv, env, script, source)
    return mariadb_statements(out)


def _client(argv: list[str], env: dict, script: str, source: Source) -> str:
    done = subprocess.run(argv, input=script, capture_output=True, text=True, env=env,
                          check=False)  # fmt: skip
    if done.returncode != 0:
        raise ToolError(
            f"the change failed on {source.database} and was rolled back: "
            f"{done.stderr.strip() or f'{argv[0]} exited {done.returncode}'}",
            "correct the script and request the change again; nothing was changed",
        )
    return done.stdout


def pg_statements(out: str) -> list[dict]:
    """psql's command tags -> [{"statement": "UPDATE", "rows": 2}, ...]."""
    found = []
    for line in out.splitlines():
        if (tag := _PG_TAG.match(line.strip())) is not None:
            found.append({"statement": tag[1].split()[0], "rows": int(tag[2])})
    return found


def mariadb_statements(out: str) -> list[dict]:
    """mariadb -vvv's echo of each statement and its count, without the transaction's own."""
    found: list[dict] = []
    blocks = out.split(f"{_RULE}\n")
    # The output alternates: "", statement, result, statement, result ...
    for statement, result in zip(blocks[1::2], blocks[2::2], strict=False):
        text = statement.strip()
        if re.fullmatch(r"(SET autocommit=0|START TRANSACTION|COMMIT)", text):
            continue
        counted = next((m for m in map(_MARIADB_ROWS.match, result.split("\n")) if m), None)
        found.append({"statement": text[:200], "rows": int(counted[1]) if counted else None})
    return found
