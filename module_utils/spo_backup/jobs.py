"""The engine's entry points for callers (Ansible modules, the ``spo-backup`` command):
build a backup job per source type, and restore whatever a manifest says a backup holds."""

from pathlib import Path

from . import catalog, compress, files, manifest, mariadb, postgres, verify
from .backup import Job
from .errors import BackupError
from .session import Connection


def database_job(
    engine: str,
    conn: Connection,
    database: str,
    source: str | None = None,
    kind: str = "automatic",
    compression: str = "auto",
    fmt: str = "custom",
    jobs: int = 1,
    with_globals: bool = True,
    triggered_by: str = "unknown",
    reason: str = "",
) -> Job:
    codec = compress.choose(compression)
    if engine == "postgresql":

        def write(stage: Path) -> dict:
            return postgres.dump(conn, database, stage, codec, fmt, jobs, with_globals)

        content_of = postgres.content_of
    elif engine == "mariadb":

        def write(stage: Path) -> dict:
            return mariadb.dump(conn, database, stage, codec, jobs)

        content_of = mariadb.content_of
    else:
        raise BackupError(f"unknown database engine {engine!r}", "use postgresql or mariadb")
    return Job(
        source or catalog.slug(database, "source"),
        engine,
        kind,
        write,
        content_of,
        triggered_by,
        reason,
    )


def files_job(
    path: Path,
    source: str,
    excludes: list[str] | tuple = (),
    kind: str = "automatic",
    compression: str = "auto",
    triggered_by: str = "unknown",
    reason: str = "",
) -> Job:
    codec = compress.choose(compression)
    return Job(
        source,
        "files",
        kind,
        lambda stage: files.dump(path, stage, codec, excludes),
        files.content_of,
        triggered_by,
        reason,
    )


def load_verified(folder: Path, source_types: tuple[str, ...]) -> dict:
    """The manifest of a backup that passed verification now: never restore a damaged one."""
    data = manifest.read(folder)
    if data["source_type"] not in source_types:
        raise BackupError(
            f"backup {folder.name} holds {data['source_type']}, not {' or '.join(source_types)}",
            "pick a backup of the right kind",
        )
    verify.check_payload(folder, data)
    return data


def restore_database(
    conn: Connection,
    folder: Path,
    target: str,
    tables=(),
    schemas=(),
    replace: bool = False,
    jobs: int = 1,
    restore_globals: bool = False,
) -> dict:
    data = load_verified(folder, ("postgresql", "mariadb"))
    if data["source_type"] == "postgresql":
        return postgres.restore(
            conn,
            folder,
            data,
            target,
            schemas,
            tables,
            replace,
            jobs,
            restore_globals=restore_globals,
        )
    if schemas:
        raise BackupError("MariaDB has no schemas inside a database", "choose tables instead")
    if restore_globals:
        raise BackupError(
            "a MariaDB backup holds no server-wide users or grants to restore",
            "create the users by hand, or restore without restore_globals",
        )
    return mariadb.restore(conn, folder, data, target, tables, replace, jobs)
