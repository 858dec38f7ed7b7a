"""PostgreSQL: pg_dump/pg_dumpall backups and pg_restore restores.

Row counts are exact and belong to the dump: a psql session opens a REPEATABLE READ
transaction, exports its snapshot, hands it to ``pg_dump --snapshot`` and counts every table
in that same snapshot while the dump runs; the transaction stays open until pg_dump is done.
"""

import functools
import subprocess
from pathlib import Path

from . import pg_client, pg_globals, pg_parallel, proc, verify
from .compress import CODECS, Codec
from .errors import BackupError
from .pg_client import HINT
from .session import Connection, Session

CUSTOM, DIRECTORY, PARALLEL = "custom", "directory", pg_parallel.PARALLEL
FORMATS = (CUSTOM, PARALLEL, DIRECTORY)
# Every ordinary table with its exact count; \gexec runs the generated statements in this
# session (so in the exported snapshot) and the server quotes the identifiers.
_COUNT_TABLES = r"""SELECT format('SELECT %L, count(*) FROM ONLY %I.%I',
       n.nspname || '.' || c.relname, n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%' ORDER BY 1 \gexec"""


def _counts(session: Session) -> dict[str, int]:
    # One backend per count: parallel workers only add CPU while the dump holds the cores.
    session.query("SET max_parallel_workers_per_gather = 0;")
    return {name: int(count) for name, count in session.query(_COUNT_TABLES)}


def _database_exists(conn: Connection, env: dict[str, str], database: str) -> bool:
    with pg_client.psql(conn, env, "postgres", f"checking whether database {database} exists") as s:
        # psql variables quote the name as a literal: no SQL built from strings here.
        s.query(rf"\set target '{pg_client.psql_var(database)}'")
        return bool(s.query("SELECT 1 FROM pg_database WHERE datname = :'target';"))


def dump(
    conn: Connection,
    database: str,
    stage: Path,
    codec: Codec,
    fmt: str = CUSTOM,
    jobs: int = 1,
    with_globals: bool = True,
) -> dict:
    """Write the dump (and globals) into ``stage``; return the engine's manifest fields."""
    what = f"backup of PostgreSQL database {database}"
    with pg_client.env(conn) as env, pg_client.psql(conn, env, database, what) as session:
        version = session.query("SHOW server_version;")[0][0]
        encoding, collate, ctype = session.query(
            "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database "
            "WHERE datname = current_database();"
        )[0]
        session.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;")
        snapshot = session.query("SELECT pg_export_snapshot();")[0][0]
        # Asked now: the session is busy counting once the dump starts.
        parts = _parallel_parts(session, jobs) if fmt == PARALLEL else []
        # Side by side: the row counts (in the dump's snapshot, on this session), the dump,
        # and the roles, which do not depend on the snapshot.
        work = {
            "rows": functools.partial(_counts, session),
            "dump": functools.partial(
                _run_pg_dump,
                conn,
                env,
                database,
                snapshot,
                stage,
                codec,
                fmt,
                jobs,
                parts,
                encoding,
            ),
        }
        if with_globals:
            work["globals"] = functools.partial(pg_globals.dump, conn, env, stage, codec)
        done = pg_parallel.side_by_side(work)
        session.query("COMMIT;")
        raw, layout = done["dump"]
        if with_globals and raw is not None:
            raw += done["globals"]
        tool = proc.run(["pg_dump", "--version"], env, what, HINT).strip()
    return {
        "server_version": version,
        "tool": tool,
        "database": database,
        "format": fmt,
        "compression": "pg_dump gzip" if fmt == DIRECTORY else codec.name,
        "raw_bytes": raw,
        "tables": done["rows"],
        "details": {
            "encoding": encoding,
            "collate": collate,
            "ctype": ctype,
            "jobs": jobs,
            **layout,
        },
    }


def _parallel_parts(session: Session, jobs: int) -> list[list[tuple[str, str]]]:
    """The big tables spread over ``jobs`` streams, each with its COPY target."""
    found = {f"{s}.{t}": (int(n), to) for s, t, n, to in session.query(pg_parallel.TABLE_SIZES)}
    plan = pg_parallel.plan([(name, size) for name, (size, _to) in found.items()], jobs)
    return [[(name, found[name][1]) for name in part] for part in plan]


def _run_pg_dump(conn, env, database, snapshot, stage, codec, fmt, jobs, parts, encoding):
    """Run the dump in the chosen format; return (raw bytes or None, parallel layout)."""
    what = f"backup of PostgreSQL database {database}"
    argv = ["pg_dump", *pg_client.conn_args(conn), "--snapshot", snapshot, "-d", database]
    hint = "read the pg_dump message above; " + HINT
    if fmt == CUSTOM:
        # -Z0: pg_dump's own gzip is single-threaded; our codec compresses the stream instead.
        argv += ["--format=custom", "-Z0"]
        out = stage / f"{pg_parallel.MAIN}{codec.suffix}"
        return proc.dump_to_file(argv, env, out, codec, what, hint), {}
    if fmt == PARALLEL:
        psql = pg_client.psql_argv(conn, database)
        copy = functools.partial(pg_parallel.copy_out, psql, snapshot, encoding)
        return pg_parallel.dump(argv, copy, env, stage, codec, parts, what)
    if fmt == DIRECTORY:
        # Big databases: one file per table, written in parallel and gzip-compressed by
        # pg_dump itself (PostgreSQL 15 cannot hand them to zstd), restorable with --jobs.
        argv += ["--format=directory", "--jobs", str(jobs), "-f", str(stage / "dump.d")]
        runner = proc.Proc(argv, env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        try:
            runner.check(what, hint)
        finally:
            runner.close()
        return None, {}  # raw size is measured by verification, which decompresses every file
    raise BackupError(f"unknown PostgreSQL dump format {fmt!r}", f"use one of {', '.join(FORMATS)}")


def content_of(relpath: str) -> str:
    """What a payload file holds, for verification."""
    if relpath.startswith("globals.sql"):
        return "pg-globals"
    if pg_parallel.is_copy(relpath):
        return "pg-copy"
    if relpath.startswith(("dump.pgdump", "data-")):
        return "pg-custom"
    if relpath == "dump.d/toc.dat":
        return "pg-toc"
    return "pg-data"


def restore(
    conn: Connection,
    folder: Path,
    manifest: dict,
    target: str,
    schemas: list[str] | tuple = (),
    tables: list[str] | tuple = (),
    replace: bool = False,
    jobs: int = 1,
    no_owner: bool = False,
    restore_globals: bool = False,
) -> dict:
    """Restore a backup into ``target`` (created when missing); return the counts it has.

    With ``restore_globals`` the backup's roles are replayed first, so the restored objects
    find their owners and grantees.
    """
    what = f"restore of backup {folder.name} into PostgreSQL database {target}"
    # pg_restore silently skips a name it does not find: a typo would restore nothing.
    held = {"table": {n.split(".", 1)[1] for n in manifest["tables"]},
            "schema": {n.split(".", 1)[0] for n in manifest["tables"]}}  # fmt: skip
    for kind, asked in (("table", tables), ("schema", schemas)):
        missing = sorted(set(asked) - held[kind])
        if missing:
            raise BackupError(
                f"{what}: the backup has no {kind} {', '.join(missing)}",
                "check the names: the manifest's tables lists what the backup holds",
            )
    with pg_client.env(conn) as env:
        exists = _database_exists(conn, env, target)
        if exists and not replace:
            raise BackupError(
                f"{what}: the database {target} already exists",
                "restore into a new name (S3.6: never the live database for a test), or "
                "ask for replace to overwrite its objects",
            )
        roles = pg_globals.restore(conn, folder, manifest) if restore_globals else None
        if not exists:
            _create_database(conn, env, target, manifest["details"])
        if schemas or tables:
            _create_schemas(conn, env, target, _wanted(manifest["tables"], schemas, tables))
        # What to restore, apart from where: the same for every pg_restore of the backup.
        choice = [f"--schema={s}" for s in schemas] + [f"--table={t}" for t in tables]
        if no_owner:
            choice += ["--no-owner", "--no-privileges"]
        wanted = functools.partial(_chosen, schemas=schemas, tables=tables)
        _restore_payload(conn, env, target, choice, folder, manifest, jobs, replace, wanted, what)
        with pg_client.psql(conn, env, target, what) as session:
            restored = _counts(session)
    result = {
        "database": target,
        "tables": verify.restored_counts(
            _wanted(manifest["tables"], schemas, tables), restored, what
        ),
    }
    return {**result, "globals": roles} if restore_globals else result


def _create_schemas(conn: Connection, env: dict[str, str], db: str, wanted: dict) -> None:
    """A partial pg_restore creates no schema: make those the chosen tables live in."""
    with pg_client.psql(conn, env, db, f"creating schemas in {db}") as s:
        for schema in sorted({name.split(".", 1)[0] for name in wanted}):
            s.query(rf"\set schema '{pg_client.psql_var(schema)}'")
            s.query('CREATE SCHEMA IF NOT EXISTS :"schema";')


def _chosen(name: str, schemas=(), tables=()) -> bool:
    """Whether the table ``schema.table`` is part of a restore of these schemas and tables."""
    schema, table = name.split(".", 1)
    return (not schemas or schema in schemas) and (not tables or table in tables)


def _wanted(recorded: dict[str, int], schemas=(), tables=()) -> dict[str, int]:
    return {name: rows for name, rows in recorded.items() if _chosen(name, schemas, tables)}


def _create_database(conn: Connection, env: dict[str, str], name: str, details: dict) -> None:
    with pg_client.psql(conn, env, "postgres", f"creating database {name}") as s:
        for var, value in (
            ("db", name),
            ("enc", details["encoding"]),
            ("coll", details["collate"]),
            ("ctype", details["ctype"]),
        ):
            s.query(rf"\set {var} '{pg_client.psql_var(value)}'")
        s.query(
            "CREATE DATABASE :\"db\" TEMPLATE template0 ENCODING :'enc' "
            "LC_COLLATE :'coll' LC_CTYPE :'ctype';"
        )


def _restore_payload(conn, env, target, choice, folder, manifest, jobs, replace, wanted, what):
    """Run pg_restore over the backup's payload in the way its format needs; ``wanted``
    picks the tables of a parallel backup's parts."""
    argv = ["pg_restore", *pg_client.conn_args(conn), "-d", target, "--exit-on-error", *choice]

    def run(args: list[str], path: Path, codec: Codec | None) -> None:
        pg_client.run_pg_restore(args, path, codec, env, what)

    fmt = manifest["format"]
    if fmt == PARALLEL:
        codec = CODECS[manifest["compression"]]
        psql = pg_client.psql_argv(conn, target)
        if replace:  # what --clean would drop, before anything is created
            script = pg_parallel.drop_statements(choice, folder, codec, env)
            proc.run(psql, env, what, HINT, script)

        def copy(into: str, path: Path, codec: Codec) -> None:
            # One transaction per part: a part that fails leaves its table empty, not half full.
            hint = "the target database is half restored: drop it and restore again"
            load = pg_parallel.copy_in(psql, manifest["details"]["encoding"], into)
            proc.stream_file(path, codec, load, env, what, hint)

        pg_parallel.restore(argv, folder, manifest, codec, jobs, run, copy, wanted)
        return
    argv = [*argv, "--clean", "--if-exists"] if replace else argv
    argv += ["--jobs", str(jobs)] if jobs > 1 else ["--single-transaction"]
    if fmt == DIRECTORY:
        run(argv, folder / "dump.d", None)
        return
    name = next(n for n in manifest["files"] if n.startswith(pg_parallel.MAIN))
    with pg_client.seekable(folder / name, CODECS[manifest["compression"]], jobs) as payload:
        run(argv, *payload)
