"""Scratch folders of the restore drill without servers: which leftovers the next drill
removes, and reading the PostgreSQL major version."""

import json
import os
import subprocess

import pytest

from spo_backup import scratch
from spo_backup.errors import BackupError


def _ended_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_folders_of_ended_drills_go_and_the_others_stay(tmp_path) -> None:
    ended = _ended_pid()
    dead = tmp_path / f"pg-20250110T210000Z-{os.getpid()}"  # its owner.json says who
    dead.mkdir()
    (dead / scratch.OWNER).write_text(json.dumps({"pid": ended}))
    unnamed = tmp_path / f"files-20250110T210000Z-{ended}.2"  # killed before owner.json
    unnamed.mkdir()
    alive = tmp_path / f"my-20250110T210000Z-{ended}"
    alive.mkdir()
    (alive / scratch.OWNER).write_text(json.dumps({"pid": os.getpid()}))
    (tmp_path / "notes").mkdir()
    (tmp_path / f"pg-20250110T210000Z-{ended}.txt").write_text("not a folder of ours")
    assert scratch.clean_leftovers(tmp_path) == sorted([unnamed.name, dead.name])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [alive.name, "notes", f"pg-20250110T210000Z-{ended}.txt"]
    )
    assert scratch.clean_leftovers(tmp_path / "missing") == []


def test_a_files_folder_is_made_with_its_owner_and_removed_after_an_error(tmp_path) -> None:
    with pytest.raises(RuntimeError), scratch.folder(tmp_path / "drill", "files") as home:
        assert json.loads((home / scratch.OWNER).read_text())["pid"] == os.getpid()
        assert home.name.startswith("files-") and home.name.endswith(f"-{os.getpid()}")
        raise RuntimeError("the drill failed")
    assert list((tmp_path / "drill").iterdir()) == []


def test_postgresql_major_versions_are_read_from_the_tools() -> None:
    assert scratch._major("pg_restore (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)") == "15"
    assert scratch._major("postgres (PostgreSQL) 16.4") == "16"
    with pytest.raises(BackupError):
        scratch._major("pg_restore: unknown")
