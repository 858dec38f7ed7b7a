"""How a parallel PostgreSQL backup spreads tables over its parts (a pure function), and the
psql commands that read and load a part."""

import pytest

from spo_backup import pg_parallel
from spo_backup.errors import BackupError

MB = 1 << 20


def test_biggest_tables_go_first_into_the_lightest_part():
    sizes = [("public.a", 90 * MB), ("public.b", 50 * MB), ("public.c", 40 * MB),
             ("public.d", 10 * MB)]  # fmt: skip
    assert pg_parallel.plan(sizes, 2) == [["public.a", "public.d"], ["public.b", "public.c"]]


def test_small_tables_stay_in_the_main_file():
    sizes = [("public.big", 5 * MB), ("public.tiny", 1000), ("lab.empty", 0)]
    assert pg_parallel.plan(sizes, 4) == [["public.big"]]


def test_one_job_makes_no_parts():
    assert pg_parallel.plan([("public.big", 500 * MB)], 1) == []


def test_patterns_match_exactly_whatever_the_name_holds():
    assert pg_parallel.pattern("public.pasien") == '"public"."pasien"'
    # Dots, capitals, wildcards and quotes are literal inside double quotes.
    assert pg_parallel.pattern('Lab.x*y."q"') == '"Lab"."x*y.""q"""'


PSQL = ["psql", "-X", "-d", "rs"]


def test_a_part_is_read_in_the_snapshot_with_pg_dumps_settings():
    argv = pg_parallel.copy_out(PSQL, "00000003-0000001B-1", "UTF8", 'public."A b" (id)')
    assert argv[: len(PSQL) + 1] == [*PSQL, "-q"]
    assert argv[len(PSQL) + 1 :: 2] == ["-c"] * 5  # one statement group per -c, run in order
    sql = argv[len(PSQL) + 2 :: 2]
    assert sql[0] == "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
    assert sql[1] == "SET TRANSACTION SNAPSHOT '00000003-0000001B-1';"
    assert "SET client_encoding = 'UTF8';" in sql[2] and "SET DateStyle = ISO;" in sql[2]
    assert "SET row_security = off;" in sql[2] and "SET extra_float_digits = 3;" in sql[2]
    assert sql[3:] == ['COPY public."A b" (id) TO STDOUT;', "COMMIT;"]


def test_a_part_loads_in_one_transaction_with_the_same_settings():
    argv = pg_parallel.copy_in(PSQL, "LATIN1", "lab.hasil (a, b)")
    assert argv[: len(PSQL) + 1] == [*PSQL, "--single-transaction"]
    assert argv[-1] == "COPY lab.hasil (a, b) FROM STDIN;"
    assert "SET client_encoding = 'LATIN1';" in argv[-3]


def test_what_goes_into_sql_unquoted_is_checked():
    with pytest.raises(BackupError, match="unexpected snapshot id"):
        pg_parallel.copy_out(PSQL, "x'; DROP TABLE t; --", "UTF8", "t")
    with pytest.raises(BackupError, match="unexpected database encoding"):
        pg_parallel.copy_in(PSQL, "UTF8'", "t")


def test_copy_parts_are_told_from_older_custom_archive_parts():
    assert pg_parallel.is_copy("data-01.copy.zst") and pg_parallel.is_copy("data-12.copy")
    assert not pg_parallel.is_copy("data-01.pgdump.zst")
    assert not pg_parallel.is_copy("dump.pgdump.zst")
