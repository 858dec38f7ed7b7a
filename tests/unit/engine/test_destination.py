from pathlib import Path

import pytest

from spo_backup import destination
from spo_backup.errors import DestinationError


def test_backup_refuses_unmounted_destination(tmp_path) -> None:
    nas = tmp_path / "nas"
    nas.mkdir()
    (nas / destination.MARKER).write_text("")  # even the marker cannot stand in for a mount
    with pytest.raises(DestinationError, match="nothing is mounted") as err:
        destination.prepare(nas, mount_point=True)
    assert "nothing was written" in str(err.value)
    assert [p.name for p in nas.iterdir()] == [destination.MARKER]


def test_missing_mount_point_is_refused_not_created(tmp_path) -> None:
    with pytest.raises(DestinationError, match="does not exist"):
        destination.prepare(tmp_path / "usb", mount_point=True)
    assert not (tmp_path / "usb").exists()


def test_mounted_destination_without_marker_is_refused() -> None:
    # /proc is a mount point of its own and never carries our marker.
    with pytest.raises(DestinationError, match="no marker file"):
        destination.check(Path("/proc"), mount_point=True)


def test_plain_destination_is_created(tmp_path) -> None:
    destination.prepare(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir()
