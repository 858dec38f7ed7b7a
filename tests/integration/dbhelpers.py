"""Helpers and fixtures of the integration tests (real servers on loopback).

Real PostgreSQL (127.0.0.1:5432, trust, superuser postgres) and MariaDB (local socket, root)
on this machine. Every test makes its own uniquely named databases and drops them after."""

import subprocess
import uuid
from pathlib import Path

import pytest

from spo_backup import backup, session

PSQL = [
    "psql",
    "-X",
    "-q",
    "-A",
    "-t",
    "-F",
    "\t",
    "-v",
    "ON_ERROR_STOP=1",
    "-h",
    "127.0.0.1",
    "-U",
    "postgres",
]
MARIADB = ["mariadb", "-uroot", "--batch", "--skip-column-names"]
PG_CONN = session.Connection(host="127.0.0.1", port=5432, user="postgres")
MARIADB_CONN = session.Connection(user="root")


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def psql(sql: str, db: str = "postgres") -> str:
    return subprocess.run(
        [*PSQL, "-d", db], input=sql, capture_output=True, text=True, check=True
    ).stdout


def mariadb(sql: str, db: str | None = None) -> str:
    argv = [*MARIADB, f"--database={db}"] if db else MARIADB
    return subprocess.run(argv, input=sql, capture_output=True, text=True, check=True).stdout


def pg_tables(db: str) -> dict[str, tuple[int, str]]:
    """Row count and an md5 of every row's text, per table: equal means equal content."""
    names = psql(
        "SELECT schemaname || '.' || tablename, format('%I.%I', schemaname, tablename) "
        "FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1;",
        db,
    ).splitlines()
    result = {}
    for name, quoted in (line.split("\t") for line in names):
        count, digest = psql(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY "
            f"t::text), '')) FROM {quoted} t;",
            db,
        ).split()
        result[name] = (int(count), digest)
    return result


def mariadb_tables(db: str) -> dict[str, tuple[int, str]]:
    names = mariadb(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
        f"'{db}' AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1;"
    ).split()
    sql = "".join(f"SELECT COUNT(*) FROM `{n}`; CHECKSUM TABLE `{n}` EXTENDED;" for n in names)
    lines = mariadb(sql, db).splitlines() if names else []
    counts, checksums = lines[0::2], lines[1::2]
    return {n: (int(c), k.split("\t")[1]) for n, c, k in zip(names, counts, checksums, strict=True)}


def _databases(prefix: str, create: str, drop: str, run):
    """A maker of uniquely named databases (``make(seed_sql)``; ``make.track(name)`` for
    ones a test creates itself), all dropped after the test."""
    made = []

    def make(sql: str = "") -> str:
        name = unique(prefix)
        run(create.format(name=name))
        made.append(name)
        if sql:
            run(sql, name)
        return name

    make.track = made.append
    yield make
    for name in made:
        run(drop.format(name=name))


def same_tables(tables_of, target: str, source: str, names: set[str]) -> None:
    """``target`` holds exactly the tables ``names``, each with the source's rows."""
    source_tables = tables_of(source)
    assert tables_of(target) == {name: source_tables[name] for name in names}


@pytest.fixture
def pg_db():
    yield from _databases(
        "spo_pg",
        'CREATE DATABASE "{name}";',
        'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);',
        psql,
    )


@pytest.fixture
def mariadb_db():
    yield from _databases(
        "spo_my",
        "CREATE DATABASE `{name}` CHARACTER SET latin1;",
        "DROP DATABASE IF EXISTS `{name}`;",
        mariadb,
    )


@pytest.fixture
def dest(tmp_path) -> backup.Destination:
    return backup.Destination(tmp_path / "backups")


PG_SEED = """
CREATE SCHEMA lab;
CREATE TABLE pasien (id serial PRIMARY KEY, nama text NOT NULL, lahir date, foto bytea,
                     catatan text);
CREATE TABLE kunjungan (id bigserial PRIMARY KEY, pasien_id int REFERENCES pasien(id),
                        waktu timestamptz, biaya numeric(12,2));
CREATE TABLE lab.hasil (kunjungan_id bigint, nilai double precision, satuan varchar(10));
CREATE INDEX ON kunjungan (waktu);
INSERT INTO pasien (nama, lahir, foto, catatan)
  SELECT 'Pasien ' || g || ' Sehat Selalu ☺', date '1950-01-01' + g, decode(md5(g::text), 'hex'),
         CASE WHEN g % 7 = 0 THEN NULL ELSE E'baris\\nkedua\\t' || g END
  FROM generate_series(1, 2000) g;
INSERT INTO kunjungan (pasien_id, waktu, biaya)
  SELECT 1 + g % 2000, timestamptz '2025-01-01 08:00+07' + g * interval '17 minutes', g * 1.25
  FROM generate_series(1, 5000) g;
INSERT INTO lab.hasil SELECT g, g / 3.0, 'mg/dL' FROM generate_series(1, 3000) g;
"""

MARIADB_SEED = """
CREATE TABLE pasien (id int PRIMARY KEY AUTO_INCREMENT, nama varchar(100), foto blob,
                     catatan text) ENGINE=InnoDB;
CREATE TABLE antrian (no int, poli varchar(20)) ENGINE=MyISAM;
CREATE TABLE kunjungan (id int PRIMARY KEY, pasien_id int, biaya decimal(12,2),
                        FOREIGN KEY (pasien_id) REFERENCES pasien(id)) ENGINE=InnoDB;
CREATE VIEW v_pasien AS SELECT id, nama FROM pasien;
CREATE TRIGGER kunjungan_biaya BEFORE INSERT ON kunjungan FOR EACH ROW
  SET NEW.biaya = IFNULL(NEW.biaya, 0);
INSERT INTO pasien (nama, foto, catatan)
  SELECT CONCAT('Pasien ', seq, ' Ñandú'), UNHEX(MD5(seq)), IF(seq % 7 = 0, NULL,
         CONCAT('baris\\nkedua\\t', CHAR(1), seq)) FROM seq_1_to_2000;
INSERT INTO antrian SELECT seq, CONCAT('poli-', seq % 9) FROM seq_1_to_1500;
INSERT INTO kunjungan SELECT seq, 1 + seq % 2000, seq * 1.25 FROM seq_1_to_3000;
"""

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures"
KHANZA = FIXTURES / "simrs-khanza-subset.sql"


@pytest.fixture
def khanza_db(mariadb_db) -> str:
    """A database loaded with the SIMRS Khanza fixture (238 tables, 34 of them MyISAM)."""
    if not KHANZA.is_file():
        pytest.skip(f"the SIMRS Khanza fixture is not at {KHANZA} (../shared/fixtures)")
    name = mariadb_db()
    with open(KHANZA, "rb") as sql:
        subprocess.run([*MARIADB, name], stdin=sql, check=True)
    return name
