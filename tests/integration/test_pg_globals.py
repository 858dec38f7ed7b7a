"""Restoring the cluster's globals (roles) from a backup: a role that exists only in the dump
comes back, roles that exist are kept with their ALTERs applied, other errors fail."""

import uuid
from pathlib import Path

import pytest

from dbhelpers import PG_CONN, PG_SEED, pg_tables, psql, unique
from spo_backup import backup, jobs, pg_globals
from spo_backup.compress import CODECS
from spo_backup.errors import ToolError

pytestmark = pytest.mark.integration


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@pytest.fixture
def pg_roles():
    """Role names the test made or a restore created; dropped after the databases are."""
    made: list[str] = []
    yield made
    for name in made:
        psql(f"DROP ROLE IF EXISTS {_quote(name)};")


def _role(name: str) -> str:
    return psql(
        "SELECT rolcanlogin, rolconnlimit, pg_has_role(oid, 'pg_read_all_data', 'MEMBER') "
        f"FROM pg_roles WHERE rolname = '{name.replace(chr(39), chr(39) * 2)}';"
    ).strip()


def test_restore_globals_recreates_a_role_that_exists_only_in_the_dump(
    dest, pg_roles, pg_db
) -> None:
    role = f'Spo"Kasir {uuid.uuid4().hex[:8]}'  # needs quoting: upper case, quote, space
    pg_roles.append(role)
    psql(f"CREATE ROLE {_quote(role)} LOGIN CONNECTION LIMIT 7;")
    psql(f"GRANT pg_read_all_data TO {_quote(role)};")
    source = pg_db(PG_SEED + f"ALTER TABLE pasien OWNER TO {_quote(role)};")
    expected = pg_tables(source)
    job = jobs.database_job("postgresql", PG_CONN, source, kind="manual")
    folder = Path(backup.run(dest, job)["path"])
    psql(f'DROP DATABASE "{source}" WITH (FORCE);')
    psql(f"DROP ROLE {_quote(role)};")

    without = unique("spo_pg_noroles")
    pg_db.track(without)
    with pytest.raises(ToolError, match="does not exist"):  # the table's owner is missing
        jobs.restore_database(PG_CONN, folder, without)

    target = unique("spo_pg_roles")
    pg_db.track(target)
    result = jobs.restore_database(PG_CONN, folder, target, restore_globals=True)
    pg_roles.extend(r.removeprefix("role ") for r in result["globals"]["created"])
    assert f"role {role}" in result["globals"]["created"]
    assert "role postgres" in result["globals"]["existing"]
    assert _role(role) == "t\t7\tt"  # login, connection limit and membership came back
    owner = psql("SELECT tableowner FROM pg_tables WHERE tablename = 'pasien';", target)
    assert owner.strip() == role
    assert pg_tables(target) == expected

    psql(f"ALTER ROLE {_quote(role)} CONNECTION LIMIT 1;")
    again = unique("spo_pg_roles")
    pg_db.track(again)
    result = jobs.restore_database(PG_CONN, folder, again, restore_globals=True)
    pg_roles.extend(r.removeprefix("role ") for r in result["globals"]["created"])
    assert f"role {role}" in result["globals"]["existing"]  # its CREATE was left out ...
    assert _role(role) == "t\t7\tt"  # ... and its ALTER ROLE applied again
    assert pg_tables(again) == expected


def test_restore_globals_fails_on_any_other_error(tmp_path, pg_roles) -> None:
    missing, after = unique("spo_missing"), unique("spo_after")
    pg_roles += [missing, after]
    script = tmp_path / "globals.sql"
    script.write_text(
        "CREATE ROLE postgres;\n"  # exists: left out, not an error
        f"ALTER ROLE {missing} WITH LOGIN;\n"  # a real error: must stop the restore
        f"CREATE ROLE {after};\n"
    )
    with pytest.raises(ToolError, match=f'role "{missing}" does not exist'):
        pg_globals.apply(PG_CONN, script, CODECS["none"])
    assert psql(f"SELECT count(*) FROM pg_roles WHERE rolname = '{after}';").strip() == "0"
