from pathlib import Path

import pytest

from dbhelpers import PG_CONN, PG_SEED, pg_tables, psql, same_tables, unique
from spo_backup import backup, catalog, jobs, verify
from spo_backup.errors import BackupError

pytestmark = pytest.mark.integration


def _dump(dest, db, **options) -> dict:
    job = jobs.database_job(
        "postgresql",
        PG_CONN,
        db,
        kind="manual",
        triggered_by="pytest",
        reason="round trip",
        **options,
    )
    return backup.run(dest, job)


@pytest.mark.parametrize(
    ("fmt", "compression", "restore_jobs"),
    [("custom", "zstd", 1), ("custom", "gzip", 2), ("directory", "auto", 2)],
)
def test_postgres_round_trip_restores_equal_tables(
    dest, pg_db, fmt, compression, restore_jobs
) -> None:
    source = pg_db(PG_SEED)
    result = _dump(dest, source, fmt=fmt, compression=compression, jobs=2)
    folder = Path(result["path"])
    data = result["manifest"]
    assert data["tables"] == {"lab.hasil": 3000, "public.kunjungan": 5000, "public.pasien": 2000}
    assert data["verified_at"] and data["raw_bytes"] > data["stored_bytes"] > 0
    assert {
        "trigger",
        "started_at",
        "ended_at",
        "duration_seconds",
        "server_version",
        "tool",
        "database",
        "kind",
        "status",
        "files",
    } <= set(data)
    assert verify.check(folder)["ok"]
    assert [b.path for b in catalog.list_backups(dest.root)[0]] == [folder]

    target = unique("spo_pg_restored")
    pg_db.track(target)
    restored = jobs.restore_database(PG_CONN, folder, target, jobs=restore_jobs)
    assert restored["tables"] == data["tables"]
    assert pg_tables(target) == pg_tables(source)


def test_partial_restore_of_two_tables_gives_exactly_those(dest, pg_db) -> None:
    source = pg_db(PG_SEED)
    folder = Path(_dump(dest, source)["path"])
    target = unique("spo_pg_partial")
    pg_db.track(target)
    result = jobs.restore_database(PG_CONN, folder, target, tables=["pasien", "hasil"])
    assert result["tables"] == {"lab.hasil": 3000, "public.pasien": 2000}
    same_tables(pg_tables, target, source, {"public.pasien", "lab.hasil"})


def test_partial_restore_by_schema_and_table(dest, pg_db) -> None:
    source = pg_db(PG_SEED)
    folder = Path(_dump(dest, source)["path"])
    target = unique("spo_pg_partial")
    pg_db.track(target)
    jobs.restore_database(
        PG_CONN, folder, target, schemas=["public"], tables=["pasien", "kunjungan"]
    )
    same_tables(pg_tables, target, source, {"public.pasien", "public.kunjungan"})


def test_restore_never_overwrites_without_replace(dest, pg_db) -> None:
    source = pg_db(PG_SEED)
    folder = Path(_dump(dest, source)["path"])
    psql("DELETE FROM kunjungan WHERE id > 10; INSERT INTO pasien (nama) VALUES ('baru');", source)
    with pytest.raises(BackupError, match="already exists"):
        jobs.restore_database(PG_CONN, folder, source)
    assert psql("SELECT count(*) FROM kunjungan;", source).strip() == "10"
    jobs.restore_database(PG_CONN, folder, source, replace=True)
    assert psql("SELECT count(*) FROM kunjungan;", source).strip() == "5000"
    assert psql("SELECT count(*) FROM pasien;", source).strip() == "2000"
