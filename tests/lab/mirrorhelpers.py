"""Reading and writing the lab's databases for the mirror tests (S3.3)."""

from __future__ import annotations

import json
import time

import pytest

from labhelpers import lab_exec, podman

# Written on the primary by the tests, read back on the mirror.
PG_TABLE = "spo_test_mirror"
MARIADB_TABLE = "sik.spo_test_mirror"


def psql(host: str, sql: str, db: str = "simrs", port: int = 5432) -> str:
    """One SQL statement through psql as postgres; its unaligned result."""
    return lab_exec(
        host, "runuser", "-u", "postgres", "--",
        "psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-p", str(port), "-d", db,
        "-c", sql,
    ).stdout.strip()  # fmt: skip


def mariadb(host: str, sql: str) -> str:
    return lab_exec(host, "mariadb", "--batch", "--skip-column-names", "-e", sql).stdout.strip()


def make_tables(primary: str) -> None:
    psql(primary, f"CREATE TABLE IF NOT EXISTS {PG_TABLE} (id int PRIMARY KEY, note text)")
    mariadb(primary, f"CREATE TABLE IF NOT EXISTS {MARIADB_TABLE} (id INT PRIMARY KEY, note TEXT)")


def write_row(primary: str, row_id: int, note: str) -> None:
    psql(primary, f"INSERT INTO {PG_TABLE} VALUES ({row_id}, '{note}')")
    mariadb(primary, f"INSERT INTO {MARIADB_TABLE} VALUES ({row_id}, '{note}')")


def ids(host: str, low: int, high: int) -> tuple[set[int], set[int]]:
    """The test rows with low <= id < high on the host, in PostgreSQL and in MariaDB."""
    where = f"WHERE id >= {low} AND id < {high}"
    pg = psql(host, f"SELECT id FROM {PG_TABLE} {where}")
    maria = mariadb(host, f"SELECT id FROM {MARIADB_TABLE} {where}")
    return {int(i) for i in pg.split()}, {int(i) for i in maria.split()}


def next_id(primary: str) -> int:
    """A block of ids no earlier test used."""
    top = psql(primary, f"SELECT coalesce(max(id), 0) FROM {PG_TABLE}")
    return (int(top) // 1000 + 1) * 1000


def wait_for(check, timeout: float, what: str, every: float = 1.0):
    """Call check until it returns something true; fail naming what did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {result!r})")
        time.sleep(every)


def host_status(host: str) -> dict:
    """The host's own mirror check, as its cron job runs it (exit 1 on a breach)."""
    proc = lab_exec(host, "/usr/local/sbin/spo-backup", "mirror", "status", "--json", check=False)
    return json.loads(proc.stdout)


def engine(report: dict, name: str) -> dict:
    return next(e for e in report["engines"] if e["engine"] == name)


def booted(host: str) -> bool:
    proc = podman("exec", f"spo-lab-{host}", "systemctl", "is-system-running")
    return proc.stdout.strip() in ("running", "degraded")


def streaming(mirror: str) -> bool:
    report = host_status(mirror)
    return all(e.get("state") == "streaming" for e in report["engines"])


# Once per module, at its start: the failover tests change which host is primary.
@pytest.fixture(scope="module")
def mirrored(provisioned):
    """The provisioned lab with simrs-db streaming to simrs-mirror and the test tables made."""
    make_tables("simrs-db")
    wait_for(lambda: streaming("simrs-mirror"), 60, "the mirror streams")
    return provisioned
