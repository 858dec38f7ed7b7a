"""Passwords reach the tools only through files only root (the run) can read.

A private 0700 directory is created for the run and removed after it; inside, a 0600
passfile (PostgreSQL, found through PGPASSFILE: a path, not a secret) or an option file
(MariaDB, ``--defaults-extra-file``). Never argv, never PGPASSWORD/MYSQL_PWD, never logs.
"""

import contextlib
import getpass
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .atomic import pid_alive
from .errors import BackupError

PREFIX = "spo-backup-"


@contextlib.contextmanager
def private_dir() -> Iterator[Path]:
    clean_stale()
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))  # mkdtemp makes it 0700
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def clean_stale() -> list[str]:
    """Remove private dirs (and the password files in them) of runs killed with kill -9."""
    removed = []
    for entry in Path(tempfile.gettempdir()).glob(f"{PREFIX}*-*"):
        pid = entry.name[len(PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and entry.owner() == getpass.getuser() and not pid_alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _write_private(path: Path, text: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def _single_line(password: str, what: str) -> None:
    if "\n" in password or "\r" in password:
        raise BackupError(
            f"the {what} password contains a line break, which its password file cannot hold",
            "change the password to one without line breaks",
        )


def pg_passfile(folder: Path, user: str, password: str) -> Path:
    """A .pgpass line matching any host/port/database for ``user``."""
    _single_line(password, "PostgreSQL")

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace(":", "\\:")

    return _write_private(folder / "pgpass", f"*:*:*:{escape(user)}:{escape(password)}\n")


def mariadb_option_file(folder: Path, options: dict[str, str | int | None]) -> Path:
    """A ``[client]`` option file; values are double-quoted with backslash escapes."""
    lines = ["[client]"]
    for key, value in options.items():
        if value is None or value == "":
            continue
        text = str(value)
        _single_line(text, "MariaDB")
        quoted = text.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'{key}="{quoted}"')
    return _write_private(folder / "my.cnf", "\n".join(lines) + "\n")
