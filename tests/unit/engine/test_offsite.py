import shutil
from pathlib import Path

import pytest

from spo_backup import catalog, destination, offsite, prune
from spo_backup.config import Offsite
from spo_backup.errors import DestinationError, VerifyError

KEEP_FIVE = prune.Policy(keep_last=5)


def _names(root: Path) -> list[str]:
    return [b.name for b in catalog.list_backups(root)[0]]


def test_missing_backups_are_copied_and_extra_ones_pruned(tmp_path, make_backup) -> None:
    local, nas = tmp_path / "local", Offsite("nas", tmp_path / "nas" / "db1", None)
    made = [make_backup(local).name for _ in range(3)]
    first = offsite.sync(local, nas, "simrs-db", "sik", KEEP_FIVE)
    assert first["copied"] == made and first["count"] == 3
    made += [make_backup(local).name for _ in range(4)]
    catalog.apply_prune(local, KEEP_FIVE, dry_run=False)
    second = offsite.sync(local, nas, "simrs-db", "sik", KEEP_FIVE)
    assert second["copied"] == made[3:]  # only what the offsite lacked
    assert _names(nas.path) == _names(local) == made[2:]
    assert sorted(second["removed"]) == made[:2] and second["count"] == 5


def test_only_the_given_source_and_host_are_copied(tmp_path, make_backup) -> None:
    local, nas = tmp_path / "local", Offsite("nas", tmp_path / "nas", None)
    mine = make_backup(local, "sik").name
    make_backup(local, "app")
    make_backup(local, "sik", host="other-host")
    assert offsite.sync(local, nas, "simrs-db", "sik", KEEP_FIVE)["copied"] == [mine]


def test_a_copy_damaged_on_arrival_is_not_published(tmp_path, make_backup, monkeypatch) -> None:
    local, nas = tmp_path / "local", Offsite("nas", tmp_path / "nas", None)
    folder = make_backup(local)
    real_copy = shutil.copyfile

    def flaky_copy(src, dst):
        real_copy(src, dst)
        if Path(dst).name == "data.txt":
            Path(dst).write_bytes(b"dat4")  # a bit flipped on the way

    monkeypatch.setattr(shutil, "copyfile", flaky_copy)
    with pytest.raises(VerifyError, match=r"arrived damaged: data\.txt: sha256 is") as err:
        offsite.sync(local, nas, "simrs-db", "sik", KEEP_FIVE)
    assert folder.name in str(err.value)
    assert list(nas.path.iterdir()) == []  # not even the hidden staging folder


def test_folders_without_a_manifest_are_reported_never_counted_nor_deleted(
    tmp_path, make_backup
) -> None:
    local, nas = tmp_path / "local", Offsite("nas", tmp_path / "nas", None)
    stranger = nas.path / "20200101T000000.000Z_simrs-db_sik_automatic"
    stranger.mkdir(parents=True)
    for _ in range(6):
        make_backup(local)
    result = offsite.sync(local, nas, "simrs-db", "sik", KEEP_FIVE)
    assert list(result["unrecognised"]) == [stranger.name]
    assert "not a complete backup" in result["unrecognised"][stranger.name]
    assert result["count"] == 5 and stranger.is_dir()


def test_unmounted_offsite_fails_naming_the_mount_point_and_writes_nothing(
    tmp_path, make_backup
) -> None:
    local, mount_point = tmp_path / "local", tmp_path / "mnt"
    mount_point.mkdir()
    (mount_point / destination.MARKER).write_text("")
    make_backup(local)
    nas = Offsite("nas", mount_point / "spo" / "simrs-db", mount_point)
    with pytest.raises(DestinationError) as err:
        offsite.sync(local, nas, "simrs-db", "sik", KEEP_FIVE)
    assert str(err.value).startswith(f"offsite nas: the backup destination {mount_point} is")
    assert "nothing is mounted" in str(err.value)
    assert [p.name for p in mount_point.iterdir()] == [destination.MARKER]
    assert not offsite.reachable(nas)
