"""The PostgreSQL cluster's globals (roles, role memberships and settings, tablespaces):
dumped beside every database with ``pg_dumpall --globals-only``, replayed on request.

Replaying runs the file through psql with ON_ERROR_STOP, so any error fails the restore,
except that the CREATE of a role or tablespace that already exists is left out: the target
cluster always has the login role at least, and a second restore must not fail on the
first one's roles. The ALTERs that follow each CREATE still run, so attributes, passwords
and memberships become the backup's.
"""

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from . import pg_client, proc
from .compress import Codec, for_file
from .errors import BackupError
from .session import Connection

PREFIX = "globals.sql"
# The lines pg_dumpall writes to create one role or tablespace; the name is either a bare
# identifier or double-quoted with "" for a quote inside.
_CREATE = re.compile(rb'^CREATE (ROLE|TABLESPACE) ("(?:[^"]|"")+"|[^\s";]+)( OWNER .*)?;\n$')
_EXISTING = """SELECT 'ROLE', rolname FROM pg_catalog.pg_roles
 UNION ALL SELECT 'TABLESPACE', spcname FROM pg_catalog.pg_tablespace;"""
_HINT = (
    "the cluster may now hold part of the backup's roles; fix the cause above and restore "
    "again (roles that exist are kept)"
)


def dump(conn: Connection, env: dict[str, str], stage: Path, codec: Codec) -> int:
    return proc.dump_to_file(
        ["pg_dumpall", *pg_client.conn_args(conn), "--globals-only"],
        env,
        stage / f"{PREFIX}{codec.suffix}",
        codec,
        "backup of PostgreSQL roles and tablespaces (pg_dumpall --globals-only)",
        "this needs a superuser login; use one or set globals: false",
    )


def _name(quoted: bytes) -> str:
    text = quoted.decode("utf-8")
    return text[1:-1].replace('""', '"') if text.startswith('"') else text


def skip_existing(
    chunks: Iterable[bytes], existing: set[tuple[str, str]], report: dict[str, list[str]]
) -> Iterator[bytes]:
    """Drop the CREATE lines of roles and tablespaces in ``existing``; every other line passes.

    ``report`` collects ``created`` and ``existing`` as "role name" / "tablespace name".
    """
    for line in proc.lines(chunks):
        match = _CREATE.match(line)
        if match:
            kind, name = match.group(1).decode(), _name(match.group(2))
            found = (kind, name) in existing
            report["existing" if found else "created"].append(f"{kind.lower()} {name}")
            if found:
                continue
        yield line


def restore(conn: Connection, folder: Path, manifest: dict) -> dict[str, list[str]]:
    """Replay the globals of a (verified) backup into the cluster ``conn`` reaches."""
    name = next((n for n in manifest["files"] if n.startswith(PREFIX)), None)
    if name is None:
        raise BackupError(
            f"backup {folder.name} holds no PostgreSQL globals (it was taken with globals: false)",
            "create the roles by hand, or restore without restore_globals",
        )
    return apply(conn, folder / name, for_file(name))


def apply(conn: Connection, path: Path, codec: Codec) -> dict[str, list[str]]:
    what = f"restore of PostgreSQL roles and tablespaces from {path.name}"
    report: dict[str, list[str]] = {"created": [], "existing": []}
    with pg_client.env(conn) as env:
        with pg_client.psql(conn, env, "postgres", what) as session:
            existing = {(kind, name) for kind, name in session.query(_EXISTING)}
        proc.stream_file(
            path,
            codec,
            [*pg_client.psql_argv(conn, "postgres"), "-f", "-"],
            env,
            what,
            _HINT,
            transform=lambda chunks: skip_existing(chunks, existing, report),
        )
    return report
