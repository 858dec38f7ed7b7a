import json
import signal
from pathlib import Path

import pytest

from dbhelpers import PG_CONN, PG_SEED, pg_tables, psql, same_tables, unique
from spo_backup import (
    backup,
    catalog,
    jobs,
    manifest,
    pg_client,
    pg_parallel,
    postgres,
    proc,
    verify,
)
from spo_backup.compress import CODECS
from spo_backup.errors import BackupError, ToolError, VerifyError

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
    # One file of COPY text per table, numbered in the order of the streams.
    assert sorted(parts) == [f"data-{n:02d}.copy.zst" for n in range(1, len(data["tables"]) + 1)]
    assert sorted(t for held in parts.values() for t in held) == sorted(data["tables"])
    assert all(len(held) == 1 for held in parts.values())
    assert set(data["files"]) == {"dump.pgdump.zst", "globals.sql.zst", *parts}
    assert all(data["files"][name]["content"] == "pg-copy" for name in parts)
    assert sorted(data["details"]["copy"].values()) == [
        "lab.hasil (kunjungan_id, nilai, satuan)",
        "public.kunjungan (id, pasien_id, waktu, biaya)",
        "public.pasien (id, nama, lahir, foto, catatan)",
    ]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"tables": ["pasien", "hasil"]}, {"lab.hasil": 3000, "public.pasien": 2000}),
        ({"schemas": ["lab"]}, {"lab.hasil": 3000}),  # only the parts of that schema load
    ],
)
def test_parallel_partial_restore_gives_exactly_the_chosen_tables(
    dest, pg_db, every_table_parted, choice, expected
) -> None:
    source = pg_db(PG_SEED)
    folder = Path(_dump(dest, source, fmt="parallel", jobs=3)["path"])
    target = unique("spo_pg_partial")
    pg_db.track(target)
    result = jobs.restore_database(PG_CONN, folder, target, jobs=2, **choice)
    assert result["tables"] == expected
    assert set(pg_tables(target)) == set(expected)
    same_tables(pg_tables, target, source, set(expected))


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


# One table over the part threshold, and small tables that stay in the main file with more
# data than a pipe holds: pg_restore reads only part of each stream it is given.
BIG_AND_SMALL = """
CREATE TABLE besar AS SELECT g AS id, md5(g::text) || repeat('x', 200) AS isi
  FROM generate_series(1, 20000) g;
""" + "".join(
    f"CREATE TABLE kecil_{n} AS SELECT g AS id, md5((g * {n})::text) || repeat('y', 200) AS isi "
    "FROM generate_series(1, 3000) g;\n"
    for n in range(1, 5)
)


def test_parallel_round_trip_with_a_main_file_bigger_than_a_pipe(dest, pg_db) -> None:
    source = pg_db(BIG_AND_SMALL)
    made = _dump(dest, source, fmt="parallel", jobs=2)
    data = made["manifest"]
    assert data["details"]["parts"] == {"data-01.copy.zst": ["public.besar"]}
    target = unique("spo_pg_restored")
    pg_db.track(target)
    restored = jobs.restore_database(PG_CONN, Path(made["path"]), target, jobs=2)
    assert restored["tables"] == data["tables"]
    assert pg_tables(target) == pg_tables(source)


def test_a_pg_restore_that_fails_early_is_reported_not_waited_for(dest, pg_db) -> None:
    source = pg_db(BIG_AND_SMALL)
    folder = Path(_dump(dest, source)["path"])  # custom format: one big stream
    target = pg_db("CREATE TABLE besar (id int);")  # the first CREATE TABLE fails
    argv = ["pg_restore", "-h", "127.0.0.1", "-U", "postgres", "-d", target, "--exit-on-error"]
    codec = CODECS["zstd"]
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("the restore hung"))
    signal.alarm(60)
    try:
        with pytest.raises(ToolError, match='relation "besar" already exists'):
            pg_client.run_pg_restore(
                argv, folder / "dump.pgdump.zst", codec, proc.child_env(), "restore"
            )
    finally:
        signal.alarm(0)


def test_a_reader_that_stops_early_unasked_is_an_error_not_a_hang(dest, pg_db) -> None:
    folder = Path(_dump(dest, pg_db(BIG_AND_SMALL))["path"])
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("the stream hung"))
    signal.alarm(60)
    try:
        with pytest.raises(ToolError, match="zstd exited with status -13"):
            proc.stream_file(
                folder / "dump.pgdump.zst", CODECS["zstd"], ["head", "-c", "1"],
                proc.child_env(), "reading", "hint",
            )  # fmt: skip
    finally:
        signal.alarm(0)


# What pg_dump takes care of and a part of COPY text must too: a quoted mixed-case name, a
# dropped column, a generated column (computed again on restore), and a database whose own
# DateStyle and float settings would change the text of dates and floats.
AWKWARD = """
CREATE TABLE "Data Pasien" (id int, dibuang text, "Nama Lengkap" text, lahir date,
  berat double precision, umur_hari int GENERATED ALWAYS AS (id * 2) STORED);
ALTER TABLE "Data Pasien" DROP COLUMN dibuang;
INSERT INTO "Data Pasien" (id, "Nama Lengkap", lahir, berat)
  SELECT g, 'Nama ' || g, date '2001-02-03' + g, g / 7.0 FROM generate_series(1, 500) g;
"""


def test_parallel_round_trip_of_awkward_tables_under_other_settings(
    dest, pg_db, every_table_parted
) -> None:
    source = pg_db(AWKWARD)
    psql(f"ALTER DATABASE {source} SET DateStyle = 'SQL, DMY';", source)
    psql(f"ALTER DATABASE {source} SET extra_float_digits = -3;", source)
    made = _dump(dest, source, fmt="parallel", jobs=2)
    data = made["manifest"]
    assert data["details"]["copy"] == {
        "data-01.copy.zst": 'public."Data Pasien" (id, "Nama Lengkap", lahir, berat)'
    }
    target = unique("spo_pg_awkward")
    pg_db.track(target)
    psql(f"CREATE DATABASE {target};")
    psql(f"ALTER DATABASE {target} SET DateStyle = 'SQL, MDY';")
    restored = jobs.restore_database(PG_CONN, Path(made["path"]), target, jobs=2, replace=True)
    assert restored["tables"] == {"public.Data Pasien": 500}
    # Compared as text under the same settings: a day and month swapped, or a float rounded
    # on the way, would differ.
    psql(f"ALTER DATABASE {target} SET DateStyle = 'SQL, DMY';")
    psql(f"ALTER DATABASE {target} SET extra_float_digits = 3;")
    psql(f"ALTER DATABASE {source} SET extra_float_digits = 3;")
    assert pg_tables(target) == pg_tables(source)
    check = 'SELECT lahir, berat, umur_hari FROM "Data Pasien" WHERE id = 7;'
    assert psql(check, target) == psql(check, source) == "10/02/2001\t1\t14\n"


def _rewrite_part(folder: Path, name: str, edit, scratch: Path) -> None:
    """Replace a part's decompressed text by ``edit(text)``, compressed again."""
    codec = CODECS["zstd"]
    env = proc.child_env()
    _raw, text = proc.stream_file(folder / name, codec, ["cat"], env, "reading", "hint")
    (folder / name).unlink()
    plain = scratch / "edited.sql"
    plain.write_text(edit(text))
    proc.dump_to_file(["cat", str(plain)], env, folder / name, codec, "writing", "hint")
    plain.unlink()


def test_a_part_that_fails_to_load_fails_the_restore(dest, pg_db, tmp_path) -> None:
    source = pg_db(BIG_AND_SMALL)
    made = _dump(dest, source, fmt="parallel", jobs=2)
    folder, data = Path(made["path"]), made["manifest"]

    def bad(text: str) -> str:  # a row psql's COPY cannot load: the id column is an integer
        return "satu\t" + text.split("\t", 1)[1]

    _rewrite_part(folder, "data-01.copy.zst", bad, tmp_path)
    target = unique("spo_pg_badpart")
    pg_db.track(target)
    with pytest.raises(ToolError, match='invalid input syntax for type integer: "satu"'):
        postgres.restore(PG_CONN, folder, data, target, jobs=2)
    # The part ran in one transaction: its table stayed empty, not half loaded.
    assert psql("SELECT count(*) FROM besar;", target).strip() == "0"


def test_verify_counts_the_rows_of_a_part(dest, pg_db, tmp_path) -> None:
    folder = Path(_dump(dest, pg_db(BIG_AND_SMALL), fmt="parallel", jobs=2)["path"])
    assert verify.check(folder)["ok"]

    def last_row_lost(text: str) -> str:
        return text[: text.rstrip("\n").rfind("\n") + 1]

    # A part cut short at a row's end, with a manifest rewritten to match its checksum.
    _rewrite_part(folder, "data-01.copy.zst", last_row_lost, tmp_path)
    data = json.loads((folder / "manifest.json").read_text())
    data["files"]["data-01.copy.zst"]["sha256"] = manifest.sha256_file(folder / "data-01.copy.zst")
    (folder / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(VerifyError, match="holds 19999 rows, the manifest counted 20000") as err:
        verify.check(folder)
    assert list(err.value.problems) == ["data-01.copy.zst"]


def test_parallel_backups_with_custom_archive_parts_still_restore(dest, pg_db) -> None:
    """Until December 2026 each part was a pg_dump custom archive (data-NN.pgdump.*)."""
    source = pg_db(BIG_AND_SMALL)
    made = _dump(dest, source, fmt="parallel", jobs=2)
    folder, data = Path(made["path"]), made["manifest"]
    (folder / "data-01.copy.zst").unlink()
    old = ["pg_dump", *pg_client.conn_args(PG_CONN), "-d", source, "--format=custom", "-Z0"]
    old += ["--section=data", "--table=public.besar"]
    codec = CODECS["zstd"]
    proc.dump_to_file(old, proc.child_env(), folder / "data-01.pgdump.zst", codec, "dump", "hint")
    data["details"]["parts"] = {"data-01.pgdump.zst": ["public.besar"]}
    data["files"] = manifest.describe_files(folder, postgres.content_of)
    assert data["files"]["data-01.pgdump.zst"]["content"] == "pg-custom"
    target = unique("spo_pg_oldparts")
    pg_db.track(target)
    assert postgres.restore(PG_CONN, folder, data, target, jobs=2)["tables"] == data["tables"]
    assert pg_tables(target) == pg_tables(source)
