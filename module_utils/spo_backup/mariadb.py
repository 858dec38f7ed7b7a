"""MariaDB/MySQL: mariadb-dump (or mysqldump) backups, full or chosen-table restores.

MariaDB cannot hand a snapshot to another session, so the snapshots are lined up instead:
our session pauses commits (``_hold_writes``), opens its own snapshot, starts the dump
processes (``--single-transaction``: each opens its snapshot before writing its first table)
and, once all have begun, resumes writes and counts every table's rows in its own snapshot,
which sees what theirs see. Tables without transactions (MyISAM, Aria: SIMRS Khanza has 34)
have no snapshot, so writes stay paused until they are dumped: the whole dump with one
process; with several (``jobs``), they get a process of their own and the pause ends when
it does.

With ``jobs`` > 1 the other tables are split into groups of about equal size, each dumped
by its own mariadb-dump into its own file (``mariadb_parts``); views, routines and events go
to one more file, loaded last. That is mydumper's method, without a new package.
"""

import contextlib
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from . import mariadb_parts, proc, secrets, verify
from .compress import CODECS, Codec
from .errors import BackupError, ToolError
from .session import END, Connection, Session

_HINT = "check that the server is up and that the login in the inventory can read the database"
_TXN = {"InnoDB"}  # engines with transactions, hence a snapshot
_SECTION = re.compile(
    rb"^-- (Table structure for table|Dumping data for table|.+ for (view|database)) "
)
_TABLE_SECTIONS = (b"Table structure for table", b"Dumping data for table")
PARTS, PARTS_DIR = "sql-parts", "dump.d"
_DUMP_OPTIONS = ("--single-transaction", "--skip-lock-tables", "--hex-blob", "--no-tablespaces")
_SNAPSHOT = (
    "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ; "
    "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY;"
)
_OBJECTS = ("--routines", "--triggers", "--events")  # triggers come with their table anyway


def _tool(*names: str) -> str:
    return next((n for n in names if shutil.which(n)), names[-1])


def client_program() -> str:
    """The MariaDB command-line client: mariadb, or mysql on older systems."""
    return _tool("mariadb", "mysql")


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@contextlib.contextmanager
def login_options(conn: Connection) -> Iterator[tuple[dict[str, str], str]]:
    """Child environment and the ``--defaults-extra-file`` option (must come first in argv)."""
    with secrets.private_dir() as folder:
        options = {
            "user": conn.user,
            "password": conn.password,
            "host": conn.host,
            "port": conn.port,
            "socket": conn.socket,
        }
        path = secrets.mariadb_option_file(folder, options)
        yield proc.child_env(), f"--defaults-extra-file={path}"


def client_session(env, login: str, database: str | None, what: str) -> Session:
    argv = [client_program(), login, "--batch", "--skip-column-names", "--unbuffered"]
    argv += [f"--database={database}"] if database else []
    return Session(argv, env, f"SELECT '{END}';", what, _HINT)


@contextlib.contextmanager
def session(conn: Connection, database: str | None, what: str) -> Iterator[Session]:
    """A client session logged in as ``conn`` (the password in a 0600 option file)."""
    with login_options(conn) as (env, login), client_session(env, login, database, what) as s:
        yield s


def _tables(session: Session) -> dict[str, tuple[str, int]]:
    """Base tables -> (storage engine, estimated size in bytes, to balance parallel dumps)."""
    rows = session.query(
        "SELECT TABLE_NAME, ENGINE, IFNULL(DATA_LENGTH, 0) FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME;"
    )
    return {name: (engine, int(size)) for name, engine, size in rows}


def _counts(session: Session, tables: Iterable[str]) -> dict[str, int]:
    # Names are quoted by _literal/_ident, not pasted raw.
    sql = "\n".join(f"SELECT {_literal(t)}, COUNT(*) FROM {_ident(t)};" for t in tables)  # noqa: S608
    return {name: int(count) for name, count in session.query(sql)} if sql else {}


def dump(
    conn: Connection,
    database: str,
    stage: Path,
    codec: Codec,
    jobs: int = 1,
    lock_wait_seconds: int = 60,
) -> dict:
    what = f"backup of MariaDB database {database}"
    hint = "read the message above; " + _HINT
    with login_options(conn) as (env, login), client_session(env, login, database, what) as session:
        version = session.query("SELECT VERSION();")[0][0]
        charset, collation = session.query(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
            "information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE();"
        )[0]
        tables = _tables(session)
        txn = {t: size for t, (engine, size) in tables.items() if engine in _TXN}
        untransactional = sorted(set(tables) - set(txn))
        groups = _groups(tables, txn, untransactional, jobs)
        base = [_tool("mariadb-dump", "mysqldump"), login, *_DUMP_OPTIONS]
        if len(groups) > 1:
            streams = {
                f"{PARTS_DIR}/part-{i:02d}.sql{codec.suffix}": [*base, database, *group]
                for i, group in enumerate(groups, 1)
            }
        else:
            streams = {f"dump.sql{codec.suffix}": [*base, *_OBJECTS, database]}
        # A stream holding tables without a snapshot keeps writes paused until it ends.
        hold = {rel for rel, g in zip(streams, groups, strict=False) if set(g) - set(txn)}
        release = _hold_writes(session, version, lock_wait_seconds, what) if tables else None
        # Ending the pause commits the pausing session's transaction, so the rows are
        # counted by a second session whose snapshot is opened while writes are paused.
        counter = client_session(env, login, database, what)
        counts: dict[str, int] = {}

        def all_ready() -> None:
            counts.update(_counts(counter, untransactional))  # nothing can write them yet
            if release:
                session.query(release)
            counts.update(_counts(counter, txn))  # in the snapshot the dumps share

        with counter:
            counter.query(_SNAPSHOT)
            raw = mariadb_parts.dump_all(streams, env, stage, codec, what, hint, all_ready, hold)
        if len(groups) > 1:
            # Views, routines and events hold no rows: dumped after the pause is over.
            objects = [*base, *_OBJECTS, "--no-data", "--skip-triggers"]
            objects += [f"--ignore-table={database}.{t}" for t in tables]
            raw += proc.dump_to_file(
                [*objects, database], env, stage / _objects(codec), codec, what, hint
            )
        tool = proc.run([base[0], "--version"], env, what, _HINT).strip()
    if not untransactional:
        consistency = "one snapshot for every table; writes paused only while the dumps started"
    elif len(groups) > 1:
        consistency = (
            "writes paused until the tables without transactions were dumped "
            f"({', '.join(untransactional)}); the others in one snapshot"
        )
    else:
        consistency = (
            "writes paused for the whole dump (tables without transactions: "
            f"{', '.join(untransactional)})"
        )
    details = {"charset": charset, "collation": collation, "consistency": consistency}
    if len(groups) > 1:
        parts = dict(zip(streams, groups, strict=True))
        details |= {"jobs": len(groups), "parts": parts, "objects": _objects(codec)}
    return {
        "server_version": version,
        "tool": tool,
        "database": database,
        "format": PARTS if len(groups) > 1 else "sql",
        "compression": codec.name,
        "raw_bytes": raw,
        "tables": dict(sorted(counts.items())),
        "details": details,
    }


def _groups(tables: dict, txn: dict[str, int], untransactional: list[str], jobs: int) -> list:
    """Table groups, one per dump process. With several processes the tables without
    transactions get their own, which is dumped first thing and ends the pause of writes."""
    if jobs <= 1:
        return [sorted(tables)] if tables else []
    if not untransactional:
        return mariadb_parts.balance(txn, jobs)
    return [untransactional, *mariadb_parts.balance(txn, jobs - 1)]


def _objects(codec: Codec) -> str:
    return f"{PARTS_DIR}/objects.sql{codec.suffix}"


def _hold_writes(session: Session, version: str, wait_seconds: int, what: str) -> str:
    """Pause commits server-wide; return the statement that resumes them.

    MariaDB's BACKUP STAGE BLOCK_COMMIT (what mariabackup uses) stops commits and writes to
    tables without transactions, and waits neither for running statements nor for open
    transactions. LOCK TABLES would deadlock with a transaction writing two tables, and
    MariaDB would then kill the application's transaction; FLUSH TABLES WITH READ LOCK
    (MySQL, which lacks backup stages) waits for every running write statement.
    """
    mariadb = "mariadb" in version.lower()
    lock = (
        "BACKUP STAGE START; BACKUP STAGE BLOCK_COMMIT;"
        if mariadb
        else "FLUSH TABLES WITH READ LOCK;"
    )
    session.query(f"SET SESSION lock_wait_timeout = {int(wait_seconds)};")
    try:
        session.query(lock)
    except ToolError as exc:
        raise ToolError(
            f"{what}: could not pause writes within {wait_seconds}s: {exc.what}",
            "another backup (mariabackup, another dump) may hold the server's backup lock: "
            "run again later; if access was denied, grant the backup login RELOAD (with "
            "SELECT, LOCK TABLES, SHOW VIEW, TRIGGER, EVENT)",
        ) from None
    return "BACKUP STAGE END;" if mariadb else "UNLOCK TABLES;"


def content_of(_relpath: str) -> str:
    return "mariadb-sql"


def restore(
    conn: Connection,
    folder: Path,
    manifest: dict,
    target: str,
    tables: list[str] | tuple = (),
    replace: bool = False,
    jobs: int = 1,
) -> dict:
    what = f"restore of backup {folder.name} into MariaDB database {target}"
    missing = sorted(set(tables) - set(manifest["tables"]))
    if missing:
        raise BackupError(
            f"{what}: the backup has no table {', '.join(missing)}",
            "check the names: the manifest's tables lists what the backup holds",
        )
    with login_options(conn) as (env, login):
        with client_session(env, login, None, what) as session:
            # The name is quoted by _literal, not pasted raw.
            exists = session.query(f"SHOW DATABASES LIKE {_literal(_like(target))};")
            if exists and not replace:
                raise BackupError(
                    f"{what}: the database {target} already exists",
                    "restore into a new name (S3.6: never the live database for a test), or "
                    "ask for replace to overwrite its tables",
                )
            if not exists:
                details = manifest["details"]
                session.query(
                    f"CREATE DATABASE {_ident(target)} CHARACTER SET "
                    f"{details['charset']} COLLATE {details['collation']};"
                )
        argv = [client_program(), login, "--binary-mode", f"--database={target}"]
        wanted = {t.encode() for t in tables}
        codec = CODECS[manifest["compression"]]

        def load(rel: str, side_by_side: bool = False) -> None:
            proc.stream_file(
                folder / rel,
                codec,
                argv,
                env,
                what,
                "the target database may be half restored: drop it and restore "
                "again after fixing the cause above",
                transform=lambda chunks: restore_lines(chunks, wanted, side_by_side),
            )

        if manifest["format"] == PARTS:
            parts = manifest["details"]["parts"]
            chosen = [rel for rel, group in parts.items() if not tables or set(group) & set(tables)]
            mariadb_parts.load_all(chosen, lambda rel: load(rel, side_by_side=True), jobs)
            if not tables:  # views need their tables; a partial restore has no views
                load(manifest["details"]["objects"])
        else:
            load(next(iter(manifest["files"])))
        chosen_tables = [t for t in manifest["tables"] if not tables or t in tables]
        with client_session(env, login, target, what) as session:
            restored = _counts(session, chosen_tables)
    wanted_counts = {t: manifest["tables"][t] for t in chosen_tables}
    return {"database": target, "tables": verify.restored_counts(wanted_counts, restored, what)}


_TABLE_LOCKS = (b"LOCK TABLES ", b"UNLOCK TABLES;")


def restore_lines(chunks: Iterable[bytes], wanted: set[bytes], side_by_side: bool):
    """What a restore sends the client: only the ``wanted`` tables' sections (all when empty);
    for parts loaded side by side, without mariadb-dump's LOCK TABLES ... UNLOCK TABLES around
    each table's rows. A session holding LOCK TABLES on a parent table fails (error 1100,
    "Table 'child' was not locked with LOCK TABLES") once another part creates a child
    table whose foreign key points at it; the locks only speed up a MyISAM load."""
    if wanted:
        chunks = select_tables(chunks, wanted)  # in lines
    elif side_by_side:
        chunks = proc.lines(chunks)
    # else a whole single stream goes through as it came: re-cutting it into lines costs time.
    if side_by_side:
        return (line for line in chunks if not line.startswith(_TABLE_LOCKS))
    return chunks


def _section_table(line: bytes) -> bytes | None:
    """The table a ``-- Table structure/Dumping data for table `x``` header names."""
    name = line.split(b" for table ", 1)[1].strip()
    return name[1:-1].replace(b"``", b"`")


def select_tables(chunks: Iterable[bytes], wanted: set[bytes]) -> Iterator[bytes]:
    """Keep the dump's session header and the sections (structure, data, triggers) of the
    wanted tables; drop every other table, view, event and routine."""
    keep = True  # the header before the first section sets up the session
    for line in proc.lines(chunks):
        match = _SECTION.match(line)
        if match:
            keep = match.group(1) in _TABLE_SECTIONS and _section_table(line) in wanted
        if keep:
            yield line
