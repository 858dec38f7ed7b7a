"""How a parallel PostgreSQL backup spreads tables over its parts (a pure function)."""

from spo_backup import pg_parallel

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
