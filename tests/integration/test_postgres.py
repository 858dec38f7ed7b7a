from pathlib import Path

import pytest

from dbhelpers import PG_CONN, PG_SEED, pg_tables, psql, same_tables, unique
from spo_backup import backup, catalog, jobs, pg_parallel, verify
from spo_backup.errors import BackupError

pytestmark = pytest.mark.integration


@pytest.fixture
def every_table_parted(monkeypatch):
    """The seed's tables are small: let each of them go to a part of a parallel backup."""
    monkeypatch.setattr(pg_parallel, "MIN_PART_TABLE_BYTES", 0)


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
    [
        ("custom", "zstd", 1),
        ("custom", "gzip", 2),
        ("directory", "auto", 2),
        ("parallel", "zstd", 2),
        ("parallel", "gzip", 1),
    ],
)
def test_postgres_round_trip_restores_equal_tables(
    dest, pg_db, every_table_parted, fmt, compression, restore_jobs
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


def test_parallel_backup_spreads_the_tables_over_parts_in_one_snapshot(
    dest, pg_db, every_table_parted
) -> None:
    source = pg_db(PG_SEED)
    data = _dump(dest, source, fmt="parallel", jobs=2)["manifest"]
    parts = data["details"]["parts"]
    assert sorted(parts) == ["data-01.pgdump.zst", "data-02.pgdump.zst"]
    assert sorted(t for held in parts.values() for t in held) == sorted(data["tables"])
    assert set(data["files"]) == {"dump.pgdump.zst", "globals.sql.zst", *parts}
    assert all(data["files"][name]["content"] == "pg-custom" for name in parts)


def test_parallel_partial_restore_of_two_tables_gives_exactly_those(
    dest, pg_db, every_table_parted
) -> None:
    source = pg_db(PG_SEED)
    folder = Path(_dump(dest, source, fmt="parallel", jobs=3)["path"])
    target = unique("spo_pg_partial")
    pg_db.track(target)
    result = jobs.restore_database(PG_CONN, folder, target, tables=["pasien", "hasil"], jobs=2)
    assert result["tables"] == {"lab.hasil": 3000, "public.pasien": 2000}
    same_tables(pg_tables, target, source, {"public.pasien", "lab.hasil"})


def test_parallel_restore_with_replace_rebuilds_the_database(
    dest, pg_db, every_table_parted
) -> None:
    source = pg_db(PG_SEED)
    folder = Path(_dump(dest, source, fmt="parallel", jobs=2)["path"])
    before = pg_tables(source)
    # Changes after the backup, including an object the backup does not know.
    psql(
        "DELETE FROM kunjungan WHERE id > 10; UPDATE pasien SET nama = 'diubah';"
        "CREATE TABLE sementara (x int);",
        source,
    )
    with pytest.raises(BackupError, match="already exists"):
        jobs.restore_database(PG_CONN, folder, source, jobs=2)
    jobs.restore_database(PG_CONN, folder, source, replace=True, jobs=2)
    after = pg_tables(source)
    assert after.pop("public.sementara")[0] == 0  # --clean drops only what the backup holds
    assert after == before
    # The foreign key and the index came back after the parallel data load.
    constraints = psql(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'kunjungan'::regclass "
        "AND contype = 'f';",
        source,
    )
    assert "kunjungan_pasien_id_fkey" in constraints
    assert "kunjungan_waktu_idx" in psql("SELECT indexname FROM pg_indexes;", source)
