from spo_backup.pg_globals import skip_existing

GLOBALS = b"""\\restrict abc
SET standard_conforming_strings = on;
CREATE ROLE postgres;
ALTER ROLE postgres WITH SUPERUSER INHERIT LOGIN;
CREATE ROLE "Kasir ""Shift"" 1";
ALTER ROLE "Kasir ""Shift"" 1" WITH NOSUPERUSER LOGIN CONNECTION LIMIT 3;
CREATE ROLE dokter;
ALTER ROLE dokter WITH NOLOGIN;
COMMENT ON ROLE dokter IS 'CREATE ROLE postgres;';
GRANT dokter TO "Kasir ""Shift"" 1" GRANTED BY postgres;
CREATE TABLESPACE arsip OWNER postgres LOCATION '/srv/arsip';
CREATE ROLE postgres_reader;
\\unrestrict abc
"""


def _run(existing: set[tuple[str, str]], chunk: int = 7) -> tuple[bytes, dict]:
    chunks = [GLOBALS[i : i + chunk] for i in range(0, len(GLOBALS), chunk)]
    report: dict[str, list[str]] = {"created": [], "existing": []}
    return b"".join(skip_existing(chunks, existing, report)), report


def test_create_of_an_existing_role_or_tablespace_is_left_out_and_alter_kept() -> None:
    out, report = _run({("ROLE", "postgres"), ("ROLE", 'Kasir "Shift" 1'), ("TABLESPACE", "arsip")})
    assert b"CREATE ROLE postgres;\n" not in out
    assert b'CREATE ROLE "Kasir ""Shift"" 1";' not in out
    assert b"CREATE TABLESPACE" not in out
    assert b"ALTER ROLE postgres WITH SUPERUSER INHERIT LOGIN;\n" in out
    assert b"CONNECTION LIMIT 3;\n" in out and b"GRANT dokter TO" in out
    assert b"CREATE ROLE dokter;\n" in out and b"CREATE ROLE postgres_reader;\n" in out
    assert b"COMMENT ON ROLE dokter IS 'CREATE ROLE postgres;';\n" in out  # not a CREATE line
    assert report == {
        "created": ["role dokter", "role postgres_reader"],
        "existing": ["role postgres", 'role Kasir "Shift" 1', "tablespace arsip"],
    }


def test_nothing_existing_passes_the_file_unchanged() -> None:
    out, report = _run(set(), chunk=1)
    assert out == GLOBALS
    assert report["existing"] == []
