import os
import subprocess
import sys

import pytest

from spo_backup import atomic, catalog, manifest


def _complete(folder) -> None:
    (folder / "payload").write_bytes(b"data")
    atomic.write_json(
        folder / manifest.FILENAME,
        {
            "schema": manifest.SCHEMA,
            "status": "complete",
            "host": "h",
            "source": "s",
            "kind": "manual",
            "started_at": "2025-01-01T00:00:00.000Z",
        },
    )


def test_staging_is_removed_when_the_backup_fails(tmp_path) -> None:
    with pytest.raises(RuntimeError), atomic.staging(tmp_path, "x_h_s_manual") as stage:
        _complete(stage.path)
        raise RuntimeError("dump died")
    assert list(tmp_path.iterdir()) == []


def test_staging_is_invisible_until_commit(tmp_path) -> None:
    with atomic.staging(tmp_path, "20250101T000000.000Z_h_s_manual") as stage:
        _complete(stage.path)
        assert catalog.list_backups(tmp_path) == ([], {})
        final = stage.commit()
    assert [p.name for p in tmp_path.iterdir()] == ["20250101T000000.000Z_h_s_manual"]
    assert [b.path for b in catalog.list_backups(tmp_path)[0]] == [final]


def test_commit_refuses_to_overwrite_a_backup(tmp_path) -> None:
    (tmp_path / "n_h_s_manual").mkdir()
    with (
        pytest.raises(Exception, match="already exists"),
        atomic.staging(tmp_path, "n_h_s_manual") as stage,
    ):
        stage.commit()


def test_clean_leftovers_removes_only_dead_runs_of_this_host(tmp_path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    for name in (
        f".tmp-{dead}-t_myhost_s_manual",
        f".tmp-{os.getpid()}-t_myhost_s_manual",
        f".tmp-{dead}-t_otherhost_s_manual",
        f".del-{dead}-t_myhost_s_manual",
    ):
        (tmp_path / name).mkdir()
    removed = atomic.clean_leftovers(tmp_path, "myhost")
    assert sorted(removed) == [f".del-{dead}-t_myhost_s_manual", f".tmp-{dead}-t_myhost_s_manual"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f".tmp-{os.getpid()}-t_myhost_s_manual", f".tmp-{dead}-t_otherhost_s_manual"]
    )


def test_remove_hides_the_backup_before_deleting(tmp_path) -> None:
    folder = tmp_path / "20250101T000000.000Z_h_s_manual"
    folder.mkdir()
    _complete(folder)
    atomic.remove(folder)
    assert list(tmp_path.iterdir()) == []


def test_write_json_replaces_whole_file(tmp_path) -> None:
    path = tmp_path / "m.json"
    atomic.write_json(path, {"a": 1})
    atomic.write_json(path, {"b": 2})
    assert path.read_text() == '{\n  "b": 2\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]
