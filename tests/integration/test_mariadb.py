from pathlib import Path

import pytest

from dbhelpers import (
    MARIADB_CONN,
    MARIADB_SEED,
    mariadb,
    mariadb_tables,
    same_tables,
    unique,
)
from spo_backup import backup, jobs, verify
from spo_backup.errors import BackupError

pytestmark = pytest.mark.integration


def _dump(dest, db) -> dict:
    job = jobs.database_job("mariadb", MARIADB_CONN, db, kind="manual", triggered_by="pytest")
    return backup.run(dest, job)


def test_mariadb_round_trip_restores_equal_tables(dest, mariadb_db) -> None:
    source = mariadb_db(MARIADB_SEED)
    result = _dump(dest, source)
    data = result["manifest"]
    assert data["tables"] == {"antrian": 1500, "kunjungan": 3000, "pasien": 2000}
    assert "antrian" in data["details"]["consistency"]  # MyISAM: locked for the whole dump
    assert verify.check(Path(result["path"]))["ok"]
    target = unique("spo_my_restored")
    mariadb_db.track(target)
    restored = jobs.restore_database(MARIADB_CONN, Path(result["path"]), target)
    assert restored["tables"] == data["tables"]
    assert mariadb_tables(target) == mariadb_tables(source)
    assert mariadb(f"SELECT COUNT(*) FROM `{target}`.v_pasien;").strip() == "2000"
    assert "kunjungan_biaya" in mariadb(f"SHOW TRIGGERS FROM `{target}`;")


def test_partial_restore_of_two_tables_gives_exactly_those(dest, mariadb_db) -> None:
    source = mariadb_db(MARIADB_SEED)
    folder = Path(_dump(dest, source)["path"])
    target = unique("spo_my_partial")
    mariadb_db.track(target)
    jobs.restore_database(MARIADB_CONN, folder, target, tables=["pasien", "antrian"])
    same_tables(mariadb_tables, target, source, {"pasien", "antrian"})
    assert mariadb(f"SHOW FULL TABLES FROM `{target}` WHERE Table_type = 'VIEW';") == ""


def test_innodb_only_database_is_not_locked_for_the_whole_dump(dest, mariadb_db) -> None:
    source = mariadb_db("CREATE TABLE t (a int) ENGINE=InnoDB; INSERT INTO t VALUES (1), (2);")
    data = _dump(dest, source)["manifest"]
    assert data["tables"] == {"t": 2}
    assert data["details"]["consistency"].startswith("one snapshot for every table")


def test_restore_refuses_existing_database_without_replace(dest, mariadb_db) -> None:
    source = mariadb_db(MARIADB_SEED)
    folder = Path(_dump(dest, source)["path"])
    mariadb("DELETE FROM kunjungan;", source)
    with pytest.raises(BackupError, match="already exists"):
        jobs.restore_database(MARIADB_CONN, folder, source)
    jobs.restore_database(MARIADB_CONN, folder, source, tables=["kunjungan"], replace=True)
    assert mariadb("SELECT COUNT(*) FROM kunjungan;", source).strip() == "3000"


@pytest.mark.parametrize(
    ("workers", "fmt", "consistency"),
    [
        (1, "sql", "writes paused for the whole dump"),
        (4, "sql-parts", "writes paused until the tables without transactions were dumped"),
    ],
)
def test_simrs_khanza_round_trip_keeps_latin1_and_binary_values(
    dest, khanza_db, mariadb_db, workers, fmt, consistency
) -> None:
    source = khanza_db
    job = jobs.database_job("mariadb", MARIADB_CONN, source, kind="manual", jobs=workers)
    result = backup.run(dest, job)
    data = result["manifest"]
    assert len(data["tables"]) == 238 and sum(data["tables"].values()) == 3707
    assert data["format"] == fmt and data["details"]["consistency"].startswith(consistency)
    target = unique("spo_my_khanza")
    mariadb_db.track(target)
    jobs.restore_database(MARIADB_CONN, Path(result["path"]), target, jobs=workers)
    assert mariadb_tables(target) == mariadb_tables(source)
    assert mariadb(f"SELECT HEX(passworde) FROM `{target}`.admin;") == mariadb(
        f"SELECT HEX(passworde) FROM `{source}`.admin;"
    )
