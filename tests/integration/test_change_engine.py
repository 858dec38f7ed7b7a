"""``spo-backup change`` as the host runs it, against the real local PostgreSQL and MariaDB
(S3.9): a pre-change backup first, the script in one transaction with the rows each statement
touched, a failure rolled back whole, refusals that change nothing, a record every time."""

import hashlib
import json
from pathlib import Path

import pytest

from dbhelpers import mariadb, mariadb_tables, pg_tables, psql
from hosthelpers import NEEDS_ROOT, Host, mount, sources_config

pytestmark = [pytest.mark.integration, NEEDS_ROOT]
APPROVED = ("technical director: dr. Budi", "head of SIRS: Ir. Sari")


@pytest.fixture
def host(tmp_path, nas_dir, pg_db, mariadb_db) -> Host:
    mount(nas_dir)
    return Host(tmp_path, nas_dir, sources_config(tmp_path, pg_db, mariadb_db))


def database(host: Host, name: str) -> str:
    return next(s["database"] for s in host.data["sources"] if s["name"] == name)


def change(host: Host, source: str, sql: str, sha256: str | None = None):
    script = host.root / f"change-{source}.sql"
    script.write_text(sql)
    digest = sha256 or hashlib.sha256(sql.encode()).hexdigest()
    approvals = [arg for who in APPROVED for arg in ("--approved-by", who)]
    done = host.run("change", "--id", "20261207T100000Z-koreksi-nama", "--source", source,
                    "--sql-file", str(script), "--sha256", digest, "--by", "ops", *approvals,
                    "--json")  # fmt: skip
    return done, json.loads(done.stdout)


def test_postgresql_change_backs_up_first_and_counts_the_rows(host):
    db = database(host, "simrs")
    done, record = change(host, "simrs", "UPDATE pasien SET nama = upper(nama) WHERE id <= 25;\n"
                          "DELETE FROM kunjungan WHERE id > 4990;\n"
                          "INSERT INTO lab.hasil VALUES (1, 7.5, 'mg/dL');\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert record["result"] == "ok" and record["error"] is None
    assert record["statements"] == [
        {"statement": "UPDATE", "rows": 25},
        {"statement": "DELETE", "rows": 10},
        {"statement": "INSERT", "rows": 1},
    ]
    assert record["rows_total"] == 36
    assert pg_tables(db)["public.kunjungan"][0] == 4990
    backup = Path(host.data["backup_root"]) / record["pre_change_backup"]
    made = json.loads((backup / "manifest.json").read_text())
    assert made["kind"] == "pre-change" and made["tables"]["public.kunjungan"] == 5000
    assert "20261207T100000Z-koreksi-nama" in made["trigger"]["reason"]
    assert "head of SIRS: Ir. Sari" in made["trigger"]["reason"]
    assert host.history("change")[-1] == {"schema_version": 1, **record}


def test_mariadb_failure_rolls_the_whole_script_back(host):
    db = database(host, "sik")
    before = mariadb_tables(db)
    names = mariadb("SELECT nama FROM pasien WHERE id <= 3;", db)
    done, record = change(host, "sik", "UPDATE pasien SET nama = 'X' WHERE id <= 3;\n"
                          "INSERT INTO pasien (id, nama) VALUES (1, 'duplikat');\n")  # fmt: skip
    assert done.returncode == 1
    assert record["result"] == "failed" and "Duplicate entry" in record["error"]
    assert record["pre_change_backup"], "the backup ran before the script"
    assert mariadb("SELECT nama FROM pasien WHERE id <= 3;", db) == names, "rolled back"
    assert mariadb_tables(db) == before


def test_mariadb_change_counts_rows(host):
    db = database(host, "sik")
    done, record = change(host, "sik", "UPDATE antrian SET poli = 'poli-umum' WHERE no <= 40;\n"
                          "DELETE FROM antrian WHERE no > 1490")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [s["rows"] for s in record["statements"]] == [40, 10]
    assert record["statements"][0]["statement"].startswith("UPDATE antrian")
    assert mariadb_tables(db)["antrian"][0] == 1490


@pytest.mark.parametrize(
    ("source", "sql", "why"),
    [
        ("simrs", "BEGIN;\nUPDATE pasien SET nama = 'x';\nCOMMIT;\n", "BEGIN"),
        ("sik", "ALTER TABLE pasien ADD COLUMN x int;\n", "ALTER commits on its own"),
        ("app", "UPDATE pasien SET nama = 'x';\n", "not a database"),
    ],
)
def test_scripts_that_cannot_run_as_one_transaction_are_refused(host, source, sql, why):
    done, record = change(host, source, sql)
    assert done.returncode == 1
    assert record["result"] == "refused" and why in record["error"]
    assert record["pre_change_backup"] is None and host.history("run") == []


def test_a_script_other_than_the_approved_one_is_refused(host):
    db = database(host, "simrs")
    before = pg_tables(db)
    approved = hashlib.sha256(b"UPDATE pasien SET nama = 'a' WHERE id = 1;\n").hexdigest()
    done, record = change(host, "simrs", "UPDATE pasien SET nama = 'a';\n", approved)
    assert done.returncode == 1 and record["result"] == "refused"
    assert "changed after approval" in record["error"]
    assert pg_tables(db) == before and host.history("run") == []
    assert psql("SELECT count(*) FROM pasien WHERE nama = 'a';", db).strip() == "0"
