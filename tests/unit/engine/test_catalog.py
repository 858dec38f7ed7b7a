from datetime import UTC, datetime

import pytest

from spo_backup import atomic, catalog, lock, manifest, prune
from spo_backup.errors import BackupError, LockHeld


def test_backup_names_sort_by_time_and_parse_back() -> None:
    early = catalog.backup_name(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), "db1", "sik", "manual")
    late = catalog.backup_name(datetime(2025, 1, 10, tzinfo=UTC), "db1", "sik", "automatic")
    assert early == "20250102T030405.000Z_db1_sik_manual"
    assert sorted([late, early]) == [early, late]


@pytest.mark.parametrize("bad", ["my_db", "", "../x", "a b"])
def test_source_names_that_break_folder_names_are_refused(bad) -> None:
    with pytest.raises(BackupError, match="letters, digits"):
        catalog.backup_name(datetime(2025, 1, 1, tzinfo=UTC), "h", bad, "manual")


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(BackupError, match="weekly-full"):
        catalog.backup_name(datetime(2025, 1, 1, tzinfo=UTC), "h", "s", "hourly")


def test_host_label_makes_any_hostname_usable() -> None:
    assert catalog.host_label("simrs_db.rs.local") == "simrs-db.rs.local"


def _backup(root, name, started, status="complete"):
    folder = root / name
    folder.mkdir()
    atomic.write_json(
        folder / manifest.FILENAME,
        {
            "schema": 1,
            "status": status,
            "host": "h",
            "source": "s",
            "kind": "manual",
            "started_at": started,
        },
    )


def test_listing_orders_by_manifest_time_and_skips_incomplete(tmp_path) -> None:
    _backup(tmp_path, "20250301T000000.000Z_h_s_manual", "2025-01-01T00:00:00Z")
    _backup(tmp_path, "20250101T000000.000Z_h_s_manual", "2025-02-01T00:00:00Z")
    _backup(tmp_path, "20250401T000000.000Z_h_s_manual", "2025-03-01T00:00:00Z", status="x")
    (tmp_path / ".tmp-1-20250501T000000.000Z_h_s_manual").mkdir()
    (tmp_path / "20250601T000000.000Z_h_s_manual").mkdir()
    backups, skipped = catalog.list_backups(tmp_path)
    assert [b.name for b in backups] == [
        "20250301T000000.000Z_h_s_manual",
        "20250101T000000.000Z_h_s_manual",
    ]
    assert set(skipped) == {"20250401T000000.000Z_h_s_manual", "20250601T000000.000Z_h_s_manual"}
    assert "not a complete backup" in skipped["20250601T000000.000Z_h_s_manual"]


def test_pinned_backup_is_reported_pinned(tmp_path) -> None:
    _backup(tmp_path, "20250301T000000.000Z_h_s_manual", "2025-03-01T00:00:00Z")
    catalog.pin(tmp_path / "20250301T000000.000Z_h_s_manual", "monthly copy 2025-03")
    assert catalog.list_backups(tmp_path)[0][0].pinned == "monthly copy 2025-03"


def test_unpin_lets_prune_decide_again(tmp_path) -> None:
    folder = tmp_path / "20250301T000000.000Z_h_s_manual"
    _backup(tmp_path, folder.name, "2025-03-01T00:00:00Z")
    catalog.pin(folder, "monthly copy 2025-03")
    assert catalog.unpin(folder) is True
    assert catalog.unpin(folder) is False
    assert catalog.load(folder).pinned is None


def test_pin_is_refused_while_a_prune_holds_the_lock(tmp_path) -> None:
    folder = tmp_path / "20250301T000000.000Z_h_s_manual"
    _backup(tmp_path, folder.name, "2025-03-01T00:00:00Z")
    with lock.hold(tmp_path, "prune", purpose="prune"), pytest.raises(LockHeld, match="prune"):
        catalog.pin(folder, "monthly copy 2025-03")
    assert catalog.load(folder).pinned is None


def test_prune_of_a_missing_root_removes_nothing(tmp_path) -> None:
    result = catalog.apply_prune(tmp_path / "none", prune.Policy(), dry_run=False)
    assert result["removed"] == [] and result["decisions"] == []
