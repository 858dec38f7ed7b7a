"""How the engine reaches PostgreSQL: connection options, the child environment with the
passfile, psql sessions and pg_restore runs. Shared by the dump/restore code of every format
(``postgres``, ``pg_parallel``) and the globals code."""

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from . import proc, secrets
from .compress import Codec
from .errors import ToolError
from .session import END, Connection, Session

HINT = "check that the server is up and that the login in the inventory can read the database"


def conn_args(conn: Connection) -> list[str]:
    args = ["-w"]  # never prompt: a missing password fails instead of hanging cron
    if conn.host:
        args += ["-h", conn.host]
    if conn.port:
        args += ["-p", str(conn.port)]
    if conn.user:
        args += ["-U", conn.user]
    return args


@contextlib.contextmanager
def env(conn: Connection) -> Iterator[dict[str, str]]:
    with secrets.private_dir() as folder:
        extra = {"PGAPPNAME": "spo-backup"}
        if conn.password:
            extra["PGPASSFILE"] = str(secrets.pg_passfile(folder, conn.user or "", conn.password))
        yield proc.child_env(**extra)


def psql_argv(conn: Connection, database: str) -> list[str]:
    """psql that stops at the first error (exit status 3) and reads no ~/.psqlrc."""
    return ["psql", *conn_args(conn), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", database]


def psql(conn: Connection, child_env: dict[str, str], database: str, what: str) -> Session:
    argv = [*psql_argv(conn, database), "-A", "-t", "-F", "\t"]
    return Session(argv, child_env, rf"\echo {END}", what, HINT)


def psql_var(value: str) -> str:
    # Inside a psql single-quoted \set argument, backslash and quote are escaped.
    return value.replace("\\", "\\\\").replace("'", "\\'")


@contextlib.contextmanager
def seekable(path: Path, codec: Codec, jobs: int) -> Iterator[tuple[Path, Codec | None]]:
    """The file for pg_restore: a parallel run needs a plain seekable file, so a compressed
    one is decompressed to scratch space for the restore's duration."""
    if not codec.decompress:
        yield path, None
        return
    if jobs == 1:
        yield path, codec
        return
    with tempfile.TemporaryDirectory(prefix="spo-restore-") as scratch:
        plain = Path(scratch) / "dump.pgdump"
        with open(plain, "xb") as out:
            proc.stream_file(
                path,
                codec,
                None,
                proc.child_env(),
                f"decompressing {path.name}",
                "check free space in the temporary directory",
                watch=out.write,
            )
        yield plain, None


def run_pg_restore(argv: list[str], path: Path, codec: Codec | None, env, what: str) -> None:
    """One pg_restore, from a file or a decompressed stream; its errors are never ignored."""
    hint = (
        "the target database may be half restored: drop it and restore again after fixing "
        "the cause above"
    )
    if codec is None:
        runner = proc.Proc(
            [*argv, str(path)], env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )
        try:
            runner.check(what, hint)
            stderr = runner.stderr()
        finally:
            runner.close()
    else:
        # pg_restore stops reading once it has what it needs (a section, a table of contents):
        # the rest of the stream is drained; its exit status still decides.
        _raw, stderr = proc.stream_file(path, codec, argv, env, what, hint, consumer_may_stop=True)
    if "errors ignored on restore" in stderr:
        raise ToolError(f"{what}: pg_restore reported errors: {stderr[-500:]}", hint)
