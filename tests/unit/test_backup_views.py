"""`spo backup list` and `spo backup status` tables from the hosts' backup_info results."""

from spo import backup_views, tables


def _backup(name: str, kind: str, verified: bool = True) -> dict:
    return {"name": name, "host": "simrs-db", "source": name.split("_")[2], "kind": kind,
            "time": name[:8] + "T010000Z", "bytes": 2048, "duration_seconds": 3.2,
            "verified": verified, "pinned": None}  # fmt: skip


RESULTS = {
    "simrs-db": {
        "places": [
            {"where": "local", "path": "/var/backups/spo", "error": None,
             "backups": [_backup("20261120_simrs-db_sik_automatic", "automatic"),
                         _backup("20261121_simrs-db_simrs_automatic", "automatic")]},
            {"where": "weekly", "path": "/var/backups/spo/weekly", "error": None,
             "backups": [_backup("20261121_simrs-db_sik_weekly-full", "weekly-full")]},
            {"where": "offsite nas", "path": "/mnt/nas/simrs-db", "error": None,
             "backups": [_backup("20261120_simrs-db_sik_automatic", "automatic", verified=False)]},
            {"where": "monthly external", "path": "/media/external/spo", "error": "not mounted",
             "optional": True, "backups": []},
            {"where": "offsite nas2", "path": "/mnt/nas2", "error": "not mounted",
             "backups": []},
        ],
        "status": {
            "manual_max_age_days": 3,
            "sources": [
                {"source": "sik", "last": {"automatic": {"time": "2026-11-21T01:00:00Z"},
                                           "weekly-full": None, "manual": None},
                 "monthly_copy": None, "manual_age_days": None, "manual_overdue": True},
                {"source": "simrs", "last": {"automatic": None, "weekly-full": None,
                                             "manual": {"time": "2026-11-20T01:00:00Z"}},
                 "monthly_copy": {"month": "2026-10", "completed": "2026-11-01T00:00:00Z"},
                 "manual_age_days": 1.5, "manual_overdue": False},
            ],
        },
    }
}  # fmt: skip


def test_a_backup_is_one_row_with_every_place_its_copies_are():
    rows = backup_views.catalog_rows(RESULTS)
    assert [(r.name, r.places) for r in rows] == [
        ("20261120_simrs-db_sik_automatic", ("local", "offsite nas")),
        ("20261121_simrs-db_sik_weekly-full", ("weekly",)),
        ("20261121_simrs-db_simrs_automatic", ("local",)),
    ]
    assert rows[0].verified is False  # a copy that failed its check taints the row


def test_the_list_filters_by_source_and_kind():
    assert [r.kind for r in backup_views.catalog_rows(RESULTS, source="sik")] == [
        "automatic",
        "weekly-full",
    ]
    assert [r.source for r in backup_views.catalog_rows(RESULTS, kind="automatic")] == [
        "sik",
        "simrs",
    ]


def test_an_unmounted_place_is_named_with_its_error_and_an_absent_disk_apart():
    required = backup_views.unreadable_places(RESULTS)
    assert required == ["simrs-db: offsite nas2 /mnt/nas2: not mounted"]
    assert backup_views.unreadable_places(RESULTS, optional=True) == [
        "simrs-db: monthly external /media/external/spo: not mounted"
    ]


def test_the_status_table_flags_an_overdue_manual_backup_in_both_languages():
    rows, limit = backup_views.status_rows(RESULTS)
    text = tables.render(backup_views.STATUS_COLUMNS, rows)
    sik, simrs = text.splitlines()[1:]
    assert limit == 3
    assert "belum pernah / never  TERLAMBAT / OVERDUE" in sik
    assert "OVERDUE" not in simrs and "(1.5 d)" in simrs and "2026-10 selesai / done" in simrs
    assert text.splitlines()[0].startswith("Server / Host  Sumber / Source")
