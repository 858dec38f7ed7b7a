"""Build the benchmark databases server-side: hospital-like tables (patients, visits,
prescriptions, lab results) filled with random picks from ``bench_words``.

PostgreSQL rows come from ``generate_series`` with word arrays indexed by ``random()``;
MariaDB rows from the Sequence engine's ``seq_A_to_B`` tables with ``ELT(RAND())`` picks.
A marker table records the generator version and scale, so a rerun reuses a database that
is already right and rebuilds one that is not.
"""

# ruff: noqa: S608 -- this module writes SQL; every value in it is a constant or a quoted literal

import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import bench_words as words

GENERATOR_VERSION = "1"
META = "spo_bench_meta"
CHUNK = 200_000  # rows per INSERT ... SELECT: keeps transactions and progress lines short

# Rows at scale 1: PostgreSQL about 1.5 GB on disk with indexes, MariaDB about 0.7 GB.
PG_ROWS = {"pasien": 250_000, "kunjungan": 1_200_000, "resep": 2_400_000, "hasil_lab": 2_000_000}
MY_ROWS = {"pasien": 125_000, "kunjungan": 600_000, "resep": 1_200_000, "hasil_lab": 1_000_000}


def rows_at(base: dict[str, int], scale: float) -> dict[str, int]:
    return {table: max(10, round(n * scale)) for table, n in base.items()}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Runner:
    """Runs SQL text with a command-line client (psql or mariadb) against one server."""

    argv: Sequence[str]
    database_flag: Callable[[str], list[str]]

    def sql(self, text: str, database: str | None = None) -> str:
        argv = [*self.argv, *(self.database_flag(database) if database else [])]
        done = subprocess.run(argv, input=text, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _chunks(total: int) -> list[tuple[int, int]]:
    return [(a, min(a + CHUNK - 1, total)) for a in range(1, total + 1, CHUNK)]


def _fill(
    runner: Runner, database: str, table: str, total: int, statement: Callable[[int, int], str]
) -> None:
    started = time.monotonic()
    for first, last in _chunks(total):
        runner.sql(statement(first, last), database)
        log(f"  {table}: {last:,}/{total:,} rows ({time.monotonic() - started:.0f} s)")


def _marker_ok(found: dict[str, str], scale: float) -> bool:
    return (
        found.get("generator_version") == GENERATOR_VERSION
        and found.get("scale") == repr(float(scale))
        and found.get("complete") == "yes"
    )


# --------------------------------------------------------------------------- PostgreSQL

_PG_ARRAYS = {
    "depan": words.FIRST_NAMES,
    "belakang": words.LAST_NAMES,
    "jalan": words.STREETS,
    "kel": words.VILLAGES,
    "kec": words.DISTRICTS,
    "kota": words.CITIES,
    "goldar": words.BLOOD,
    "asuransi": words.INSURERS,
    "poli": words.CLINICS,
    "gelar": words.DEGREES,
    "dx_kode": [code for code, _name in words.DIAGNOSES],
    "dx_nama": [name for _code, name in words.DIAGNOSES],
    "gejala": words.SYMPTOMS,
    "ket": words.QUALIFIERS,
    "riwayat": words.HISTORY,
    "kata": words.NOTE_WORDS,
    "tindakan": words.PROCEDURES,
    "status": words.VISIT_STATUS,
    "obat": words.DRUGS,
    "dosis": words.DOSES,
    "aturan": words.DIRECTIONS,
    "rx_note": words.RX_NOTES,
    "lab_nama": [t[0] for t in words.LAB_TESTS],
    "lab_satuan": [t[1] for t in words.LAB_TESTS],
    "lab_rujukan": [f"{t[2]:g} - {t[3]:g} {t[1]}" for t in words.LAB_TESTS],
    "lab_note": words.LAB_NOTES,
}
_PG_NUMBERS = {
    "lab_lo": [float(t[2]) for t in words.LAB_TESTS],
    "lab_hi": [float(t[3]) for t in words.LAB_TESTS],
}


def _pg_words() -> str:
    """A one-row CTE ``w`` holding every word list as an array."""
    cols = [f"ARRAY[{', '.join(_q(x) for x in v)}]::text[] AS {k}" for k, v in _PG_ARRAYS.items()]
    cols += [
        f"ARRAY[{', '.join(repr(x) for x in v)}]::float8[] AS {k}" for k, v in _PG_NUMBERS.items()
    ]
    return "WITH w AS (SELECT " + ",\n  ".join(cols) + ")\n"


def _p(name: str) -> str:
    """A random element of word list ``name``, drawn again for every row."""
    return f"w.{name}[1 + floor(random() * cardinality(w.{name}))::int]"


def _rand_int(low: int, high: int) -> str:
    return f"({low} + floor(random() * {high - low + 1}))::int"


def _digits(n: int) -> str:
    return f"lpad(floor(random() * 1e{n})::bigint::text, {n}, '0')"


PG_SCHEMA = f"""
DROP TABLE IF EXISTS hasil_lab, resep, kunjungan, pasien, {META};
CREATE TABLE {META} (k text PRIMARY KEY, v text NOT NULL);
CREATE TABLE pasien (
  id integer PRIMARY KEY, no_rm text NOT NULL, nik char(16), nama text NOT NULL,
  jenis_kelamin char(1), tempat_lahir text, tgl_lahir date, alamat text, kota text,
  telepon text, golongan_darah text, asuransi text, no_peserta text, terdaftar timestamptz);
CREATE TABLE kunjungan (
  id bigint PRIMARY KEY, pasien_id integer NOT NULL, no_rawat text NOT NULL,
  waktu_masuk timestamptz NOT NULL, waktu_keluar timestamptz, poli text, dokter text,
  keluhan text, diagnosis_kode text, diagnosis text, tindakan text, catatan text,
  biaya numeric(14,2), status text);
CREATE TABLE resep (
  id bigint PRIMARY KEY, kunjungan_id bigint NOT NULL, obat text, dosis text, jumlah integer,
  aturan_pakai text, harga numeric(12,2), catatan text, diserahkan timestamptz);
CREATE TABLE hasil_lab (
  id bigint PRIMARY KEY, kunjungan_id bigint NOT NULL, pemeriksaan text,
  nilai double precision, satuan text, nilai_rujukan text, flag char(1), catatan text,
  waktu timestamptz, petugas text);
"""

PG_INDEXES = """
SET maintenance_work_mem = '512MB';
CREATE INDEX pasien_nama ON pasien (nama);
CREATE INDEX pasien_nik ON pasien (nik);
CREATE INDEX kunjungan_pasien ON kunjungan (pasien_id);
CREATE INDEX kunjungan_masuk ON kunjungan (waktu_masuk);
CREATE INDEX kunjungan_dx ON kunjungan (diagnosis_kode);
CREATE INDEX resep_kunjungan ON resep (kunjungan_id);
CREATE INDEX hasil_lab_kunjungan ON hasil_lab (kunjungan_id);
CREATE INDEX hasil_lab_periksa ON hasil_lab (pemeriksaan, waktu);
ALTER TABLE kunjungan ADD FOREIGN KEY (pasien_id) REFERENCES pasien;
ALTER TABLE resep ADD FOREIGN KEY (kunjungan_id) REFERENCES kunjungan;
ALTER TABLE hasil_lab ADD FOREIGN KEY (kunjungan_id) REFERENCES kunjungan;
"""


def _pg_pasien(a: int, b: int, _rows: dict[str, int]) -> str:
    return (
        _pg_words()
        + f"""INSERT INTO pasien
SELECT s.g, 'RM-' || lpad(s.g::text, 8, '0'),
  '12' || {_digits(4)} || to_char(s.lahir, 'DDMMYY') || {_digits(4)},
  {_p("depan")} || CASE WHEN random() < 0.45 THEN ' ' || {_p("depan")} ELSE '' END
    || CASE WHEN random() < 0.85 THEN ' ' || {_p("belakang")} ELSE '' END,
  CASE WHEN random() < 0.52 THEN 'P' ELSE 'L' END, {_p("kota")}, s.lahir,
  'Jl. ' || {_p("jalan")} || ' No. ' || {_rand_int(1, 250)}
    || ', RT ' || lpad({_rand_int(1, 20)}::text, 3, '0')
    || '/RW ' || lpad({_rand_int(1, 12)}::text, 3, '0')
    || ', Kel. ' || {_p("kel")} || ', Kec. ' || {_p("kec")},
  {_p("kota")}, '08' || {_rand_int(11, 99)} || '-' || {_digits(4)} || '-' || {_digits(4)},
  {_p("goldar")}, {_p("asuransi")},
  CASE WHEN random() < 0.75 THEN '000' || {_digits(10)} END,
  timestamptz '2012-01-01 00:00+07' + random() * interval '4700 days'
FROM (SELECT g, date '1935-01-01' + floor(random() * 32000)::int AS lahir
      FROM generate_series({a}, {b}) g) s, w;
"""
    )


def _pg_kunjungan(a: int, b: int, rows: dict[str, int]) -> str:
    return (
        _pg_words()
        + f"""INSERT INTO kunjungan
SELECT s.g, s.pasien_id,
  to_char(s.masuk, 'YYYY/MM/DD') || '/' || lpad((s.g % 1000000)::text, 6, '0'),
  s.masuk, s.masuk + s.lama * interval '1 minute', {_p("poli")},
  'dr. ' || {_p("depan")} || ' ' || {_p("belakang")} || {_p("gelar")},
  {_p("gejala")} || ' ' || {_p("ket")} || ' sejak ' || {_rand_int(1, 14)} || ' hari'
    || CASE WHEN random() < 0.6 THEN ', ' || {_p("gejala")} || ' ' || {_p("ket")} ELSE '' END
    || CASE WHEN random() < 0.35 THEN '; ' || {_p("riwayat")} ELSE '' END,
  w.dx_kode[s.d], w.dx_nama[s.d], {_p("tindakan")},
  'TD ' || {_rand_int(95, 185)} || '/' || {_rand_int(55, 110)} || ' mmHg, N '
    || {_rand_int(55, 125)} || ' x/menit, S ' || round((35.8 + random() * 3.4)::numeric, 1)
    || ' °C. ' || (SELECT string_agg(t.x, ' ') FROM (SELECT {_p("kata")} AS x
                   FROM generate_series(1, 3 + (s.g::bigint * 7919) % 25)) t),
  round((25000 + random() * random() * 5000000)::numeric, -2), {_p("status")}
FROM (SELECT g, 1 + floor(random() * {rows["pasien"]})::int AS pasien_id,
             timestamptz '2019-01-01 07:00+07' + random() * interval '2190 days' AS masuk,
             floor(random() * 600)::int AS lama,
             1 + floor(random() * {len(words.DIAGNOSES)})::int AS d
      FROM generate_series({a}, {b}) g) s, w;
"""
    )


def _pg_resep(a: int, b: int, rows: dict[str, int]) -> str:
    return (
        _pg_words()
        + f"""INSERT INTO resep
SELECT g, 1 + floor(random() * {rows["kunjungan"]})::bigint, {_p("obat")}, {_p("dosis")},
  {_rand_int(1, 60)}, {_p("aturan")}, round((300 + random() * 250000)::numeric, -1),
  CASE WHEN random() < 0.15 THEN {_p("rx_note")} END,
  timestamptz '2019-01-01 08:00+07' + random() * interval '2190 days'
FROM generate_series({a}, {b}) g, w;
"""
    )


def _pg_hasil_lab(a: int, b: int, rows: dict[str, int]) -> str:
    lo, hi = "w.lab_lo[s.p]", "w.lab_hi[s.p]"
    return (
        _pg_words()
        + f"""INSERT INTO hasil_lab
SELECT s.g, s.kid, w.lab_nama[s.p], s.nilai, w.lab_satuan[s.p], w.lab_rujukan[s.p],
  CASE WHEN s.nilai < {lo} THEN 'L' WHEN s.nilai > {hi} THEN 'H' ELSE 'N' END,
  CASE WHEN random() < 0.1 THEN {_p("lab_note")} END,
  timestamptz '2019-01-01 06:00+07' + random() * interval '2190 days',
  {_p("depan")} || ' ' || {_p("belakang")} || ', A.Md.AK'
FROM (SELECT r.g, r.p, r.kid, round(greatest(0, w.lab_lo[r.p] + (w.lab_hi[r.p] - w.lab_lo[r.p])
             * (random() * 1.6 - 0.3))::numeric, 2)::float8 AS nilai
      FROM (SELECT g, 1 + floor(random() * {len(words.LAB_TESTS)})::int AS p,
                   1 + floor(random() * {rows["kunjungan"]})::bigint AS kid
            FROM generate_series({a}, {b}) g) r, w) s, w;
"""
    )


PG_FILLERS = {
    "pasien": _pg_pasien,
    "kunjungan": _pg_kunjungan,
    "resep": _pg_resep,
    "hasil_lab": _pg_hasil_lab,
}


def pg_marker(pg: Runner, database: str) -> dict[str, str]:
    exists = pg.sql(f"SELECT 1 FROM pg_database WHERE datname = {_q(database)};", "postgres")
    if not exists.strip():
        return {}
    found = pg.sql(f"SELECT to_regclass({_q(META)}) IS NOT NULL;", database).strip()
    if found != "t":
        return {}
    lines = pg.sql(f"SELECT k, v FROM {META};", database).splitlines()
    return dict(line.split("\t", 1) for line in lines if "\t" in line)


def build_pg(pg: Runner, database: str, scale: float, rebuild: bool = False) -> dict:
    """Make sure ``database`` holds the generated data at ``scale``; say whether it was built."""
    rows = rows_at(PG_ROWS, scale)
    if not rebuild and _marker_ok(pg_marker(pg, database), scale):
        log(f"PostgreSQL {database}: reusing (generator {GENERATOR_VERSION}, scale {scale:g})")
        return {"built": False, "rows": rows, "build_seconds": None}
    log(f"PostgreSQL {database}: building at scale {scale:g} ({sum(rows.values()):,} rows)")
    started = time.monotonic()
    pg.sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE);', "postgres")
    pg.sql(f"CREATE DATABASE \"{database}\" TEMPLATE template0 ENCODING 'UTF8';", "postgres")
    pg.sql(PG_SCHEMA, database)
    for table, fill in PG_FILLERS.items():
        _fill(pg, database, table, rows[table], lambda a, b, f=fill: f(a, b, rows))
    log("  indexes and foreign keys")
    pg.sql(PG_INDEXES, database)
    log("  VACUUM (FREEZE, ANALYZE) so no dump pays for hint bits")
    pg.sql("VACUUM (FREEZE, ANALYZE);", database)
    pg.sql(
        f"INSERT INTO {META} VALUES ('generator_version', {_q(GENERATOR_VERSION)}),"
        f" ('scale', {_q(repr(float(scale)))}), ('built_at', now()::text),"
        f" ('complete', 'yes');",
        database,
    )
    pg.sql("CHECKPOINT;", database)
    return {"built": True, "rows": rows, "build_seconds": round(time.monotonic() - started, 1)}


def pg_size(pg: Runner, database: str) -> dict[str, int]:
    total, tables = pg.sql(
        f"SELECT pg_database_size({_q(database)}), (SELECT sum(pg_table_size(c.oid)) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'r' AND n.nspname = 'public');",
        database,
    ).split()
    return {"database_bytes": int(total), "table_bytes": int(tables)}


# --------------------------------------------------------------------------- MariaDB


def _elt(items: Sequence[str], index: str | None = None) -> str:
    """``ELT`` over ``items``: a fresh random pick per row, or the element at ``index``."""
    index = index or f"1 + FLOOR(RAND() * {len(items)})"
    return f"ELT({index}, {', '.join(_q(str(x)) for x in items)})"


def _my_int(low: int, high: int) -> str:
    return f"({low} + FLOOR(RAND() * {high - low + 1}))"


def _my_digits(n: int) -> str:
    return f"LPAD(FLOOR(RAND() * 1e{n}), {n}, '0')"


def _hashed(tag: str, n: int) -> str:
    """A pseudo-random 1..n fixed per row, so two columns can agree (code and name)."""
    return f"1 + CRC32(CONCAT('{tag}', seq)) % {n}"


MY_SCHEMA = f"""
DROP TABLE IF EXISTS hasil_lab, resep, kunjungan, pasien, {META};
CREATE TABLE {META} (k varchar(40) PRIMARY KEY, v varchar(200) NOT NULL) ENGINE=InnoDB;
CREATE TABLE pasien (
  id int PRIMARY KEY, no_rm varchar(15) NOT NULL, nik char(16), nama varchar(100) NOT NULL,
  jenis_kelamin char(1), tempat_lahir varchar(40), tgl_lahir date, alamat varchar(200),
  kota varchar(40), telepon varchar(20), golongan_darah varchar(3), asuransi varchar(40),
  no_peserta varchar(20), terdaftar datetime) ENGINE=InnoDB;
CREATE TABLE kunjungan (
  id bigint PRIMARY KEY, pasien_id int NOT NULL, no_rawat varchar(20) NOT NULL,
  waktu_masuk datetime NOT NULL, waktu_keluar datetime, poli varchar(60), dokter varchar(100),
  keluhan varchar(300), diagnosis_kode varchar(8), diagnosis varchar(100),
  tindakan varchar(60), catatan text, biaya decimal(14,2), status varchar(40)) ENGINE=InnoDB;
CREATE TABLE resep (
  id bigint PRIMARY KEY, kunjungan_id bigint NOT NULL, obat varchar(80), dosis varchar(20),
  jumlah int, aturan_pakai varchar(60), harga decimal(12,2), catatan varchar(100),
  diserahkan datetime) ENGINE=InnoDB;
CREATE TABLE hasil_lab (
  id bigint PRIMARY KEY, kunjungan_id bigint NOT NULL, pemeriksaan varchar(60), nilai double,
  satuan varchar(20), nilai_rujukan varchar(60), flag char(1), catatan varchar(100),
  waktu datetime, petugas varchar(100)) ENGINE=InnoDB;
"""

MY_INDEXES = """
ALTER TABLE pasien ADD INDEX pasien_nama (nama), ADD INDEX pasien_nik (nik);
ALTER TABLE kunjungan ADD INDEX kunjungan_pasien (pasien_id),
  ADD INDEX kunjungan_masuk (waktu_masuk), ADD INDEX kunjungan_dx (diagnosis_kode);
ALTER TABLE resep ADD INDEX resep_kunjungan (kunjungan_id);
ALTER TABLE hasil_lab ADD INDEX hasil_lab_kunjungan (kunjungan_id),
  ADD INDEX hasil_lab_periksa (pemeriksaan, waktu);
ANALYZE TABLE pasien, kunjungan, resep, hasil_lab;
"""


def _my_pasien(a: int, b: int, _rows: dict[str, int]) -> str:
    return f"""INSERT INTO pasien
SELECT seq, CONCAT('RM-', LPAD(seq, 8, '0')),
  CONCAT('12', {_my_digits(4)}, DATE_FORMAT(lahir, '%d%m%y'), {_my_digits(4)}),
  CONCAT({_elt(words.FIRST_NAMES)}, IF(RAND() < 0.45, CONCAT(' ', {_elt(words.FIRST_NAMES)}), ''),
         IF(RAND() < 0.85, CONCAT(' ', {_elt(words.LAST_NAMES)}), '')),
  IF(RAND() < 0.52, 'P', 'L'), {_elt(words.CITIES)}, lahir,
  CONCAT('Jl. ', {_elt(words.STREETS)}, ' No. ', {_my_int(1, 250)},
         ', RT ', LPAD({_my_int(1, 20)}, 3, '0'), '/RW ', LPAD({_my_int(1, 12)}, 3, '0'),
         ', Kel. ', {_elt(words.VILLAGES)}, ', Kec. ', {_elt(words.DISTRICTS)}),
  {_elt(words.CITIES)},
  CONCAT('08', {_my_int(11, 99)}, '-', {_my_digits(4)}, '-', {_my_digits(4)}),
  {_elt(words.BLOOD)}, {_elt(words.INSURERS)},
  IF(RAND() < 0.75, CONCAT('000', {_my_digits(10)}), NULL),
  TIMESTAMP '2012-01-01 00:00:00' + INTERVAL FLOOR(RAND() * 4700 * 86400) SECOND
FROM (SELECT seq, DATE '1935-01-01' + INTERVAL FLOOR(RAND() * 32000) DAY AS lahir
      FROM seq_{a}_to_{b}) s;
"""


def _my_kunjungan(a: int, b: int, rows: dict[str, int]) -> str:
    dx = _hashed("dx", len(words.DIAGNOSES))
    note_words = ", ".join(
        [_elt(words.NOTE_WORDS)] * 3 + [f"IF(RAND() < 0.5, {_elt(words.NOTE_WORDS)}, NULL)"] * 24
    )
    masuk = (
        "TIMESTAMP '2019-01-01 07:00:00' + INTERVAL (CRC32(CONCAT('in', seq)) % 189216000) SECOND"
    )
    return f"""INSERT INTO kunjungan
SELECT seq, 1 + FLOOR(RAND() * {rows["pasien"]}),
  CONCAT(DATE_FORMAT({masuk}, '%Y/%m/%d'), '/', LPAD(seq % 1000000, 6, '0')),
  {masuk}, {masuk} + INTERVAL FLOOR(RAND() * 600) MINUTE, {_elt(words.CLINICS)},
  CONCAT('dr. ', {_elt(words.FIRST_NAMES)}, ' ', {_elt(words.LAST_NAMES)}, {_elt(words.DEGREES)}),
  CONCAT({_elt(words.SYMPTOMS)}, ' ', {_elt(words.QUALIFIERS)}, ' sejak ', {_my_int(1, 14)},
         ' hari',
         IF(RAND() < 0.6, CONCAT(', ', {_elt(words.SYMPTOMS)}, ' ', {_elt(words.QUALIFIERS)}), ''),
         IF(RAND() < 0.35, CONCAT('; ', {_elt(words.HISTORY)}), '')),
  {_elt([c for c, _n in words.DIAGNOSES], dx)}, {_elt([n for _c, n in words.DIAGNOSES], dx)},
  {_elt(words.PROCEDURES)},
  CONCAT('TD ', {_my_int(95, 185)}, '/', {_my_int(55, 110)}, ' mmHg, N ', {_my_int(55, 125)},
         ' x/menit, S ', ROUND(35.8 + RAND() * 3.4, 1), ' °C. ', CONCAT_WS(' ', {note_words})),
  ROUND(25000 + RAND() * RAND() * 5000000, -2), {_elt(words.VISIT_STATUS)}
FROM seq_{a}_to_{b};
"""


def _my_resep(a: int, b: int, rows: dict[str, int]) -> str:
    return f"""INSERT INTO resep
SELECT seq, 1 + FLOOR(RAND() * {rows["kunjungan"]}), {_elt(words.DRUGS)}, {_elt(words.DOSES)},
  {_my_int(1, 60)}, {_elt(words.DIRECTIONS)}, ROUND(300 + RAND() * 250000, -1),
  IF(RAND() < 0.15, {_elt(words.RX_NOTES)}, NULL),
  TIMESTAMP '2019-01-01 08:00:00' + INTERVAL FLOOR(RAND() * 189216000) SECOND
FROM seq_{a}_to_{b};
"""


def _my_hasil_lab(a: int, b: int, rows: dict[str, int]) -> str:
    p = _hashed("lab", len(words.LAB_TESTS))
    lo = _elt([t[2] for t in words.LAB_TESTS], p)
    hi = _elt([t[3] for t in words.LAB_TESTS], p)
    # The value is a hash of the row too, so the H/L/N flag can be computed from it again.
    spread = "((CRC32(CONCAT('v', seq)) % 1000) / 625 - 0.3)"
    value = f"ROUND(GREATEST(0, {lo} + ({hi} - {lo}) * {spread}), 2)"
    return f"""INSERT INTO hasil_lab
SELECT seq, 1 + FLOOR(RAND() * {rows["kunjungan"]}), {_elt([t[0] for t in words.LAB_TESTS], p)},
  {value}, {_elt([t[1] for t in words.LAB_TESTS], p)},
  {_elt([f"{t[2]:g} - {t[3]:g} {t[1]}" for t in words.LAB_TESTS], p)},
  CASE WHEN {value} < {lo} THEN 'L' WHEN {value} > {hi} THEN 'H' ELSE 'N' END,
  IF(RAND() < 0.1, {_elt(words.LAB_NOTES)}, NULL),
  TIMESTAMP '2019-01-01 06:00:00' + INTERVAL FLOOR(RAND() * 189216000) SECOND,
  CONCAT({_elt(words.FIRST_NAMES)}, ' ', {_elt(words.LAST_NAMES)}, ', A.Md.AK')
FROM seq_{a}_to_{b};
"""


MY_FILLERS = {
    "pasien": _my_pasien,
    "kunjungan": _my_kunjungan,
    "resep": _my_resep,
    "hasil_lab": _my_hasil_lab,
}


def my_marker(my: Runner, database: str) -> dict[str, str]:
    found = my.sql(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
        f"TABLE_SCHEMA = {_q(database)} AND TABLE_NAME = {_q(META)};"
    ).strip()
    if found != "1":
        return {}
    lines = my.sql(f"SELECT k, v FROM {META};", database).splitlines()
    return dict(line.split("\t", 1) for line in lines if "\t" in line)


def build_my(my: Runner, database: str, scale: float, rebuild: bool = False) -> dict:
    rows = rows_at(MY_ROWS, scale)
    if not rebuild and _marker_ok(my_marker(my, database), scale):
        log(f"MariaDB {database}: reusing (generator {GENERATOR_VERSION}, scale {scale:g})")
        return {"built": False, "rows": rows, "build_seconds": None}
    log(f"MariaDB {database}: building at scale {scale:g} ({sum(rows.values()):,} rows)")
    started = time.monotonic()
    my.sql(f"DROP DATABASE IF EXISTS `{database}`;")
    my.sql(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;")
    my.sql(MY_SCHEMA, database)
    for table, fill in MY_FILLERS.items():
        _fill(my, database, table, rows[table], lambda a, b, f=fill: f(a, b, rows))
    log("  indexes")
    my.sql(MY_INDEXES, database)
    my.sql(
        f"INSERT INTO {META} VALUES ('generator_version', {_q(GENERATOR_VERSION)}),"
        f" ('scale', {_q(repr(float(scale)))}), ('built_at', NOW()), ('complete', 'yes');",
        database,
    )
    return {"built": True, "rows": rows, "build_seconds": round(time.monotonic() - started, 1)}


def my_size(my: Runner, database: str) -> dict[str, int]:
    data, index = my.sql(
        "SELECT SUM(DATA_LENGTH), SUM(INDEX_LENGTH) FROM information_schema.TABLES "
        f"WHERE TABLE_SCHEMA = {_q(database)};"
    ).split()
    return {"database_bytes": int(data) + int(index), "table_bytes": int(data)}
