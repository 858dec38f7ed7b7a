"""What must never happen: a damaged, cut-short or misplaced backup that looks valid, two runs
at once, a password where another process or a log can see it."""

import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from dbhelpers import MARIADB_SEED, PG_CONN, PG_SEED, PSQL, mariadb, psql
from spo_backup import backup, catalog, destination, jobs, session, verify
from spo_backup.errors import DestinationError, DestinationFull, LockHeld, VerifyError

pytestmark = pytest.mark.integration
MODULE_UTILS = str(Path(__file__).resolve().parents[2] / "module_utils")
RUN_DUMP = """
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from spo_backup import backup, jobs, session
conn = session.Connection(host="127.0.0.1", user="postgres")
job = jobs.database_job("postgresql", conn, sys.argv[3])
backup.run(backup.Destination(Path(sys.argv[2])), job)
"""


def _pg_dump(dest, db, **options) -> dict:
    return backup.run(dest, jobs.database_job("postgresql", PG_CONN, db, **options))


def _processes(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _wait_for(condition, what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class TableLock:
    """Hold ACCESS EXCLUSIVE on a table so a pg_dump of its database waits mid-run."""

    def __init__(self, db: str, table: str) -> None:
        self.proc = subprocess.Popen([*PSQL, "-d", db], stdin=subprocess.PIPE, text=True)
        self.proc.stdin.write(
            f"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE;\n"
            r"\! touch " + f"/tmp/{db}.locked\n"
        )
        self.proc.stdin.flush()
        _wait_for(lambda: Path(f"/tmp/{db}.locked").exists(), "the table lock")
        Path(f"/tmp/{db}.locked").unlink()

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("ROLLBACK;\n")
            self.proc.stdin.close()
            self.proc.wait()


@pytest.fixture
def blocked_dump(tmp_path, pg_db):
    """A real engine run in its own process, stuck inside pg_dump behind a table lock."""
    db = pg_db(PG_SEED)
    root = tmp_path / "backups"
    held = TableLock(db, "kunjungan")
    run = subprocess.Popen(
        [sys.executable, "-c", RUN_DUMP, MODULE_UTILS, str(root), db], stderr=subprocess.PIPE
    )
    _wait_for(
        lambda: any(p.name.startswith(".tmp-") for p in root.glob(".*")) and _processes("pg_dump"),
        "the dump to start",
    )
    yield run, root, db
    held.release()
    if run.poll() is None:
        run.kill()
    run.wait()


def test_verify_names_the_file_with_one_flipped_byte(dest, pg_db) -> None:
    result = _pg_dump(dest, pg_db(PG_SEED))
    payload = Path(result["path"]) / "dump.pgdump.zst"
    data = bytearray(payload.read_bytes())
    data[len(data) // 2] ^= 0x01
    payload.write_bytes(bytes(data))
    with pytest.raises(VerifyError, match=r"dump\.pgdump\.zst: sha256 is") as err:
        verify.check(Path(result["path"]))
    assert list(err.value.problems) == ["dump.pgdump.zst"]
    assert "globals.sql.zst" not in str(err.value)


def test_damaged_stream_is_caught_even_with_a_matching_checksum(dest, pg_db) -> None:
    """A damaged file whose manifest was rewritten to match still fails to decompress."""
    result = _pg_dump(dest, pg_db(PG_SEED))
    folder = Path(result["path"])
    payload = folder / "dump.pgdump.zst"
    data = bytearray(payload.read_bytes())
    data[len(data) // 2] ^= 0xFF
    payload.write_bytes(bytes(data))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["dump.pgdump.zst"]["sha256"] = verify.manifest.sha256_file(payload)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(VerifyError, match=r"dump\.pgdump\.zst: not readable"):
        verify.check(folder)


def test_concurrent_second_run_is_refused_naming_the_first(blocked_dump) -> None:
    run, root, db = blocked_dump
    with pytest.raises(LockHeld, match=f"pid {run.pid} on host") as err:
        backup.run(backup.Destination(root), jobs.database_job("postgresql", PG_CONN, db))
    assert "started 20" in str(err.value)


def test_kill_9_during_dump_leaves_no_valid_backup_and_next_run_cleans(tmp_path, pg_db) -> None:
    db = pg_db(PG_SEED)
    root = tmp_path / "backups"
    held = TableLock(db, "kunjungan")
    run = subprocess.Popen([sys.executable, "-c", RUN_DUMP, MODULE_UTILS, str(root), db])
    try:
        _wait_for(
            lambda: (
                any(p.name.startswith(".tmp-") for p in root.glob(".*")) and _processes("pg_dump")
            ),
            "the dump to start",
        )
        run.send_signal(signal.SIGKILL)
        run.wait()
        leftovers = [p.name for p in root.iterdir() if p.name.startswith(".tmp-")]
        assert leftovers
        assert list(Path("/tmp").glob(f"spo-backup-{run.pid}-*"))  # its private dir, left
        assert catalog.list_backups(root) == ([], {})
    finally:
        held.release()
    result = _pg_dump(backup.Destination(root), db)
    assert result["cleaned"] == leftovers
    assert result["stale_lock"]["pid"] == run.pid
    assert [b.name for b in catalog.list_backups(root)[0]] == [Path(result["path"]).name]
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp-")]
    assert not list(Path("/tmp").glob(f"spo-backup-{run.pid}-*"))  # its private dir too


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "usb"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "spo-test", str(mount)], check=True)
    (mount / destination.MARKER).write_text("usb disk 1\n")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_full_destination_leaves_nothing_valid(small_disk, pg_db) -> None:
    db = pg_db(
        "CREATE TABLE big AS SELECT g, md5(g::text) || md5((g * 7)::text) AS t "
        "FROM generate_series(1, 200000) g;"
    )
    dest = backup.Destination(small_disk, mount_point=True)
    with pytest.raises(DestinationFull, match="ran out of space") as err:
        _pg_dump(dest, db)
    assert "free space" in str(err.value)
    assert catalog.list_backups(small_disk) == ([], {})
    assert sorted(p.name for p in small_disk.iterdir()) == [
        ".lock-" + catalog.slug(db, "s"),
        destination.MARKER,
    ]


def test_unmounted_destination_is_refused_with_nothing_written(tmp_path, pg_db) -> None:
    nas = tmp_path / "nas"
    nas.mkdir()
    (nas / destination.MARKER).write_text("")
    with pytest.raises(DestinationError, match="nothing is mounted"):
        _pg_dump(backup.Destination(nas, mount_point=True), pg_db(PG_SEED))
    assert [p.name for p in nas.iterdir()] == [destination.MARKER]


def test_mounted_disk_without_marker_is_refused(small_disk, pg_db) -> None:
    (small_disk / destination.MARKER).unlink()
    with pytest.raises(DestinationError, match="wrong disk"):
        _pg_dump(backup.Destination(small_disk, mount_point=True), pg_db(PG_SEED))
    assert list(small_disk.iterdir()) == []


class ProcWatch:
    """Scan every process's argv and environment for a secret while a dump runs."""

    def __init__(self, secret: str, tools: set[str]) -> None:
        self.secret = secret.encode()
        self.tools = tools
        self.seen_tools: set[str] = set()
        self.leaks: list[str] = []
        self.running = True
        self.thread = threading.Thread(target=self._scan, daemon=True)  # never hangs a failed test
        self.thread.start()

    def _scan(self) -> None:
        while self.running:
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    comm = (entry / "comm").read_text().strip()
                    for part in ("cmdline", "environ"):
                        if self.secret in (entry / part).read_bytes():
                            self.leaks.append(f"{comm} {part}")
                except OSError:
                    continue
                if comm in self.tools:
                    self.seen_tools.add(comm)

    def stop(self) -> None:
        self.running = False
        self.thread.join()


def test_postgres_password_never_in_proc_or_results(dest, pg_db) -> None:
    password = f"Rahasia:{uuid.uuid4().hex}"
    role = f"spo_pw_{uuid.uuid4().hex[:8]}"
    psql(f"CREATE ROLE {role} LOGIN PASSWORD '{password}';")
    try:
        psql(f"GRANT pg_read_all_data TO {role};")
        db = pg_db(PG_SEED)
        conn = session.Connection(host="127.0.0.1", user=role, password=password)
        held = TableLock(db, "kunjungan")
        watch = ProcWatch(password, {"pg_dump", "psql"})
        result = {}

        def run() -> None:
            try:
                result.update(
                    backup.run(dest, jobs.database_job("postgresql", conn, db, with_globals=False))
                )
            except Exception as exc:  # reported by the assertions below
                result["error"] = exc

        runner = threading.Thread(target=run)
        runner.start()
        _wait_for(
            lambda: {"pg_dump", "psql"} <= watch.seen_tools or "error" in result,
            "pg_dump and psql to run",
        )
        passfiles = list(Path("/tmp").glob("spo-backup-*/pgpass"))
        assert passfiles and all(oct(p.stat().st_mode)[-3:] == "600" for p in passfiles)
        time.sleep(0.3)
        held.release()
        runner.join()
        watch.stop()
    finally:
        psql(f"DROP ROLE IF EXISTS {role};")
    assert "error" not in result
    assert watch.leaks == []
    assert result["manifest"]["tables"]["public.kunjungan"] == 5000
    assert password not in json.dumps(result)
    assert not [p for p in passfiles if p.exists()]


def test_mariadb_password_never_in_proc_or_results(dest, mariadb_db) -> None:
    password = f"Rahasia\"'{uuid.uuid4().hex}"
    user = f"spo_pw_{uuid.uuid4().hex[:8]}"
    db = mariadb_db(
        MARIADB_SEED + "CREATE TABLE besar ENGINE=InnoDB AS SELECT seq, "
        "MD5(seq) a, MD5(seq + 1) b FROM seq_1_to_400000;"
    )
    quoted = password.replace("\\", "\\\\").replace("'", "\\'")
    mariadb(
        f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{quoted}'; GRANT SELECT, "
        f"LOCK TABLES, SHOW VIEW, TRIGGER, EVENT ON `{db}`.* TO '{user}'@'127.0.0.1'; "
        f"GRANT RELOAD ON *.* TO '{user}'@'127.0.0.1';"  # BACKUP STAGE pauses commits
    )
    watch = ProcWatch(password, {"mariadb-dump", "mariadb"})
    try:
        conn = session.Connection(host="127.0.0.1", port=3306, user=user, password=password)
        result = backup.run(dest, jobs.database_job("mariadb", conn, db, jobs=2))
    finally:
        watch.stop()
        mariadb(f"DROP USER '{user}'@'127.0.0.1';")
    assert {"mariadb-dump", "mariadb"} <= watch.seen_tools
    assert watch.leaks == []
    assert result["manifest"]["tables"]["besar"] == 400000
    assert password not in json.dumps(result)
