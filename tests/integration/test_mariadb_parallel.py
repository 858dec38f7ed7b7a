"""MariaDB parallel dumps (jobs > 1): one mariadb-dump per table group, all in one consistent
snapshot, restored fully or partly with content equal to the source."""

import subprocess
import time
from pathlib import Path

import pytest

from dbhelpers import (
    MARIADB,
    MARIADB_CONN,
    MARIADB_SEED,
    mariadb,
    mariadb_tables,
    same_tables,
    unique,
)
from spo_backup import backup, jobs, verify
from spo_backup.errors import VerifyError

pytestmark = pytest.mark.integration


def _dump(dest, db, workers: int) -> dict:
    job = jobs.database_job("mariadb", MARIADB_CONN, db, kind="manual", jobs=workers)
    return backup.run(dest, job)


def test_parallel_round_trip_restores_equal_tables_views_and_triggers(dest, mariadb_db) -> None:
    source = mariadb_db(MARIADB_SEED)
    result = _dump(dest, source, 3)
    data, folder = result["manifest"], Path(result["path"])
    assert data["format"] == "sql-parts"
    assert data["tables"] == {"antrian": 1500, "kunjungan": 3000, "pasien": 2000}
    parts = data["details"]["parts"]
    assert len(parts) == 3 and sorted(t for g in parts.values() for t in g) == sorted(
        data["tables"]
    )
    assert set(data["files"]) == {*parts, data["details"]["objects"]}
    assert next(iter(parts.values())) == ["antrian"]  # MyISAM: its own process, dumped first
    assert "antrian" in data["details"]["consistency"]
    assert verify.check(folder)["ok"]

    target = unique("spo_my_par")
    mariadb_db.track(target)
    restored = jobs.restore_database(MARIADB_CONN, folder, target, jobs=3)
    assert restored["tables"] == data["tables"]
    assert mariadb_tables(target) == mariadb_tables(source)
    assert mariadb(f"SELECT COUNT(*) FROM `{target}`.v_pasien;").strip() == "2000"
    assert "kunjungan_biaya" in mariadb(f"SHOW TRIGGERS FROM `{target}`;")


def test_parallel_partial_restore_and_verify_name_the_part(dest, mariadb_db) -> None:
    source = mariadb_db(MARIADB_SEED)
    result = _dump(dest, source, 3)
    folder = Path(result["path"])
    target = unique("spo_my_par_partial")
    mariadb_db.track(target)
    jobs.restore_database(MARIADB_CONN, folder, target, tables=["pasien", "antrian"], jobs=2)
    same_tables(mariadb_tables, target, source, {"pasien", "antrian"})
    assert mariadb(f"SHOW FULL TABLES FROM `{target}` WHERE Table_type = 'VIEW';") == ""

    part = next(rel for rel, g in result["manifest"]["details"]["parts"].items() if "pasien" in g)
    damaged = bytearray((folder / part).read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    (folder / part).write_bytes(bytes(damaged))
    with pytest.raises(VerifyError) as err:
        verify.check(folder)
    assert list(err.value.problems) == [part]


WRITER = """
CREATE PROCEDURE pay(rounds INT) BEGIN
  DECLARE i INT DEFAULT 0;
  WHILE i < rounds DO
    START TRANSACTION;
    INSERT INTO debit (amount) VALUES (i);
    INSERT INTO credit (amount) VALUES (i);
    COMMIT;
    SET i = i + 1;
  END WHILE;
END
"""


def test_parallel_workers_share_one_snapshot_while_writes_go_on(dest, mariadb_db) -> None:
    """Every transaction writes one row to each of two tables dumped by different workers:
    equal counts in the backup mean both workers saw the same moment."""
    filler = "REPEAT(MD5(seq), 40)"
    source = mariadb_db(
        "CREATE TABLE debit (id int AUTO_INCREMENT PRIMARY KEY, amount int, pad text) "
        "ENGINE=InnoDB; CREATE TABLE credit LIKE debit;"
        f"INSERT INTO debit (amount, pad) SELECT seq, {filler} FROM seq_1_to_20000;"
        f"INSERT INTO credit (amount, pad) SELECT seq, {filler} FROM seq_1_to_20000;"
    )
    mariadb(f"DELIMITER //\n{WRITER}//\nDELIMITER ;", source)
    writer = subprocess.Popen(
        [*MARIADB, "--unbuffered", source], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    writer.stdin.write(b"SELECT CONNECTION_ID();\nCALL pay(1000000);\n")
    writer.stdin.flush()
    writer_id = int(writer.stdout.readline())
    try:
        time.sleep(0.3)
        before = int(mariadb("SELECT COUNT(*) FROM debit;", source))
        data = _dump(dest, source, 2)["manifest"]
        time.sleep(0.3)
        after = int(mariadb("SELECT COUNT(*) FROM debit;", source))
    finally:
        mariadb(f"KILL {writer_id};")  # the server would run the loop on without its client
        writer.stdin.close()
        writer.wait(timeout=30)
    assert sorted(data["details"]["parts"].values()) == [["credit"], ["debit"]]
    assert data["details"]["consistency"].startswith("one snapshot for every table")
    assert before < data["tables"]["debit"] < after  # writes went on around the dump
    assert data["tables"]["debit"] == data["tables"]["credit"]
    target = unique("spo_my_par_snap")
    mariadb_db.track(target)
    restored = jobs.restore_database(MARIADB_CONN, Path(dest.root / data["name"]), target, jobs=2)
    assert restored["tables"] == data["tables"]  # the data dumped is the data counted
