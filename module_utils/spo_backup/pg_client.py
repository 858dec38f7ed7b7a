"""How the engine reaches PostgreSQL: connection options, the child environment with the
passfile, and psql sessions. Shared by the dump/restore (``postgres``) and globals code."""

import contextlib
from collections.abc import Iterator

from . import proc, secrets
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
