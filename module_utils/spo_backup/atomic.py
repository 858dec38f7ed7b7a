"""Nothing half-written ever looks valid.

A backup is built in a hidden ``.tmp-<pid>-<name>`` directory, every file and directory is
fsynced, and only then is it renamed to its final name (and the parent directory fsynced, so
the rename itself survives a power cut). A run killed before that leaves only the hidden
directory, which listings ignore and the next run of the same host removes.
"""

import contextlib
import json
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

from .errors import BackupError

STAGING = ".tmp-"
DOOMED = ".del-"  # a backup being deleted: renamed first, so it stops looking valid at once


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


def write_json(path: Path, data: dict) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` atomically: temporary sibling, fsync, rename, fsync the directory.

    The temporary name ends in ``.part`` so globbing readers (node_exporter reads ``*.prom``)
    never see a half-written file.
    """
    tmp = path.with_name(f"{STAGING}{os.getpid()}-{path.name}.part")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


class Staging:
    """The hidden directory a backup is written in; ``commit`` publishes it under its name."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.name = name
        self.path = root / f"{STAGING}{os.getpid()}-{name}"
        self.final = root / name
        self.committed = False

    def commit(self) -> Path:
        if self.final.exists():
            raise BackupError(
                f"a backup named {self.name} already exists in {self.root}",
                "another run used the same name; run the backup again",
            )
        fsync_tree(self.path)
        os.rename(self.path, self.final)
        fsync_dir(self.root)
        self.committed = True
        return self.final


@contextlib.contextmanager
def staging(root: Path, name: str) -> Iterator[Staging]:
    """Yield a Staging; unless it was committed, remove it whatever happened."""
    stage = Staging(root, name)
    stage.path.mkdir(mode=0o750)
    try:
        yield stage
    finally:
        if not stage.committed:
            shutil.rmtree(stage.path, ignore_errors=True)


def remove(path: Path) -> None:
    """Delete a backup directory so that it stops looking valid before any file goes."""
    doomed = path.with_name(f"{DOOMED}{os.getpid()}-{path.name}")
    os.rename(path, doomed)
    fsync_dir(path.parent)
    shutil.rmtree(doomed)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, belongs to someone else
    return True


def clean_leftovers(root: Path, host: str | None = None) -> list[str]:
    """Remove what dead runs of this host left in ``root``; return the names removed.

    Staging directories of other hosts (a shared NAS) or of live processes are left alone.
    """
    host = host or socket.gethostname()
    removed = []
    for entry in sorted(root.iterdir()):
        name = entry.name
        if not entry.is_dir() or not name.startswith((STAGING, DOOMED)):
            continue
        pid_text, _, backup_name = name[len(STAGING) :].partition("-")
        parts = backup_name.split("_")
        owner = parts[1] if len(parts) == 4 else None
        dead = pid_text.isdigit() and not pid_alive(int(pid_text))
        if name.startswith(DOOMED) or (owner == host and dead):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(name)
    return removed
