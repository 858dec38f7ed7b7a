"""The weekly restore drill (S3.6) as cron runs it (``python3 -m spo_backup drill``): real
backups of the local MariaDB, PostgreSQL and program files, restored into real scratch
server instances (initdb / mariadb-install-db) that must be gone afterwards."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from dbhelpers import mariadb, psql
from hosthelpers import (
    MODULE_UTILS,
    NEEDS_ROOT,
    PYTHON,
    Host,
    mount,
    notify_config,
    sources_config,
)
from spo_backup import scratch

pytestmark = [pytest.mark.integration, NEEDS_ROOT]
STEPS = ["checksums", "identity", "restore", "integrity"]


def processes_in(folder: Path) -> list[int]:
    """Processes whose command line names a path inside ``folder``."""
    inside, found = str(folder) + "/", []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:  # ended while we looked
            continue
        if inside in argv:
            found.append(int(entry.name))
    return found


@pytest.fixture
def scratch_dir():
    """The drill's scratch_dir, outside pytest's tmp_path: the database users cannot pass
    through that (0700), and their sockets need a short path."""
    base = Path(tempfile.mkdtemp(prefix="spo-drill-", dir="/tmp"))
    base.chmod(0o755)
    yield base / "scratch"  # made by the drill itself
    for pid in processes_in(base):  # a failed test must not leave servers running
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(base)


def assert_nothing_left(scratch: Path) -> None:
    assert not scratch.exists() or list(scratch.iterdir()) == []
    assert processes_in(scratch.parent) == []


@pytest.fixture
def host(tmp_path, nas_dir, pg_db, mariadb_db, scratch_dir):
    """A host with backups of its three sources (sik: MariaDB, simrs: PostgreSQL, app:
    program files), locally and on the NAS."""

    def make(**extra) -> Host:
        mount(nas_dir)
        drill = {"scratch_dir": str(scratch_dir), "from": "local"}
        made = Host(
            tmp_path, nas_dir, sources_config(tmp_path, pg_db, mariadb_db), drill=drill, **extra
        )
        done = made.backup()
        assert done.returncode == 0, done.stderr
        return made

    return make


def drill(host: Host, *args: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    done = host.run("drill", "--json", *args)
    return done, json.loads(done.stdout)


def _manifest(host: Host, source: str) -> dict:
    run = next(r for r in host.history() if r["source"] == source)
    return json.loads(Path(run["manifest"]).read_text())


def test_drill_of_good_backups_passes_with_rto_rpo_and_leaves_nothing(host, scratch_dir) -> None:
    site = host()
    done, records = drill(site, "--triggered-by", "pytest")
    assert done.returncode == 0, done.stderr
    assert [(r["source"], r["result"]) for r in records] == [
        ("sik", "ok"),
        ("simrs", "ok"),
        ("app", "ok"),
    ]
    for record in records:
        made = _manifest(site, record["source"])
        assert [c["name"] for c in record["checks"]] == STEPS
        assert all(c["ok"] for c in record["checks"]), record["checks"]
        assert (record["backup"], record["backup_time"]) == (made["name"], made["started_at"])
        assert record["from"] == "local" and record["triggered_by"] == "pytest"
        assert 0 <= record["rto_seconds"] <= record["duration_seconds"]
        assert 0 <= record["rpo_seconds"] < 600
        assert record["error"] is None and record["record"] == "drill"
        assert record["tables"] == made["tables"]  # every table, every row
    sik, simrs, app = records
    assert len(sik["tables"]) == 3 and sum(simrs["tables"].values()) == 10000
    assert sik["target"].startswith(f"scratch MariaDB instance in {scratch_dir}/my-")
    assert simrs["target"].startswith(f"scratch PostgreSQL instance in {scratch_dir}/pg-")
    assert "is not the production server (postgresql system" in simrs["checks"][1]["detail"]
    assert "amcheck" in simrs["checks"][3]["detail"]
    assert "CHECK TABLE EXTENDED" in sik["checks"][3]["detail"]
    assert app["files"] == 1 and app["tables"] == {}  # index.php; *.log and tmp/* excluded
    assert "tar --diff" in app["checks"][3]["detail"]
    assert [
        {k: v for k, v in r.items() if k != "schema_version"} for r in site.history("drill")
    ] == records
    assert_nothing_left(scratch_dir)
    text = site.run("drill", "--source", "app")
    assert text.returncode == 0 and text.stdout.startswith("app: OK, backup ")
    assert "RTO " in text.stdout and "RPO 0.0 h" in text.stdout


def test_drill_takes_the_nas_copy_when_configured_and_fails_when_it_is_not_mounted(
    host, nas_dir, scratch_dir
) -> None:
    site = host()
    site.data["drill"]["from"] = "nas"
    site.config.write_text(json.dumps(site.data))
    done, [record] = drill(site, "--source", "app")
    assert done.returncode == 0, done.stderr
    assert record["from"] == "nas" and record["result"] == "ok"
    assert record["backup"] in site.offsite("app")
    subprocess.run(["umount", str(nas_dir)], check=True)
    done, [record] = drill(site, "--source", "app")
    assert done.returncode == 1 and record["result"] == "failed"
    assert str(nas_dir) in record["error"] and record["backup"] is None and record["checks"] == []
    assert_nothing_left(scratch_dir)


def test_a_flipped_byte_fails_naming_the_file_and_is_notified(
    host, tmp_path, smtp, webhook, scratch_dir
) -> None:
    site = host(notify=notify_config(smtp, webhook, tmp_path))
    made = _manifest(site, "simrs")
    payload = next(name for name in made["files"] if name.startswith("dump.pgdump"))
    path = Path(site.data["backup_root"]) / made["name"] / payload
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    done = site.run("drill", "--source", "simrs")
    assert done.returncode == 1
    assert done.stdout.startswith(f"simrs: FAILED, backup {made['name']} from local")
    [record] = site.history("drill")
    assert record["result"] == "failed" and record["rto_seconds"] is None
    [check] = record["checks"]
    assert check["name"] == "checksums" and not check["ok"]
    assert f"{payload}: sha256 is" in check["detail"]
    assert record["error"].startswith("checksums: ") and payload in record["error"]
    assert smtp.events() == ["drill-failed"]
    mail = smtp.messages[0]
    assert "UJI RESTORE GAGAL" in mail["Subject"] and "RESTORE DRILL FAILED" in mail["Subject"]
    body = mail.get_content()
    assert payload in body and made["name"] in body and "checksums" in body
    assert "Langkah yang gagal" in body and "spo-backup drill --source simrs" in body
    [post] = webhook.posts
    assert post["body"]["event"] == "drill-failed" and post["body"]["result"] == "failed"
    assert [(n["channel"], n["event"], n["delivered"]) for n in site.history("notification")] == [
        ("email", "drill-failed", True),
        ("webhook", "drill-failed", True),
    ]
    assert_nothing_left(scratch_dir)


def test_a_restore_that_fails_inside_the_scratch_instance_still_removes_it(
    host, scratch_dir
) -> None:
    site = host()
    made = _manifest(site, "sik")
    made["tables"]["pasien"] += 1  # the manifest now claims a row the dump does not hold
    (Path(site.data["backup_root"]) / made["name"] / "manifest.json").write_text(json.dumps(made))
    done, [record] = drill(site, "--source", "sik")
    assert done.returncode == 1
    assert [(c["name"], c["ok"]) for c in record["checks"]] == [
        ("checksums", True),
        ("identity", True),
        ("restore", False),
    ]
    assert "pasien: backup 2001, restored 2000" in record["error"]
    assert_nothing_left(scratch_dir)


def test_a_drill_into_the_production_server_is_refused_and_creates_nothing(
    host, scratch_dir
) -> None:
    site = host()
    done, [pg] = drill(
        site, "--source", "simrs", "--target-host", "127.0.0.1", "--target-port", "5432"
    )
    assert done.returncode == 1
    assert pg["result"] == "refused" and pg["target"].startswith(
        "PostgreSQL server at 127.0.0.1:5432"
    )
    assert [(c["name"], c["ok"]) for c in pg["checks"]] == [
        ("checksums", True),
        ("identity", False),
    ]
    assert "is the production server of source simrs" in pg["error"]
    assert psql("SELECT count(*) FROM pg_database WHERE datname LIKE 'spo_drill%';").strip() == "0"

    done, [my] = drill(site, "--source", "sik", "--target-socket", "/run/mysqld/mysqld.sock")
    assert done.returncode == 1 and my["result"] == "refused"
    assert "is the production server of source sik" in my["error"]
    assert mariadb("SHOW DATABASES LIKE 'spo\\_drill%';").strip() == ""
    assert not scratch_dir.exists()  # no scratch instance either

    mixed = site.run("drill", "--target-host", "127.0.0.1")
    assert mixed.returncode == 2 and "a target server runs one engine" in mixed.stderr


def test_a_killed_drills_instance_is_stopped_and_removed_by_the_next_drill(
    host, scratch_dir
) -> None:
    site = host()
    code = (
        "import sys, time\nfrom pathlib import Path\nfrom spo_backup import scratch\n"
        "with scratch.postgresql(Path(sys.argv[1])) as i:\n"
        "    print(i.folder, flush=True)\n    time.sleep(600)\n"
    )
    killed = subprocess.Popen(
        [PYTHON, "-c", code, str(scratch_dir)],
        env={**os.environ, "PYTHONPATH": str(MODULE_UTILS)},
        stdout=subprocess.PIPE,
        text=True,
    )
    left = Path(killed.stdout.readline().strip())
    server = int((left / "data" / "postmaster.pid").read_text().split()[0])
    killed.kill()  # kill -9: no cleanup ran
    killed.wait()
    assert left.is_dir() and processes_in(left) == [server]
    ended = _ended_pid()
    stale = scratch_dir / f"files-20250101T000000Z-{ended}"
    stale.mkdir()
    (stale / "owner.json").write_text(json.dumps({"pid": ended}))
    alive = scratch_dir / f"files-20250101T000000Z-{os.getpid()}"  # a drill still running
    alive.mkdir()
    (alive / "owner.json").write_text(json.dumps({"pid": os.getpid()}))
    notes = scratch_dir / "notes"  # not a drill's: left alone
    notes.mkdir()

    done, [record] = drill(site, "--source", "simrs")
    assert done.returncode == 0 and record["result"] == "ok", done.stderr
    assert not left.exists() and not stale.exists()
    assert sorted(p.name for p in scratch_dir.iterdir()) == sorted([alive.name, "notes"])
    deadline = time.monotonic() + 10
    while processes_in(scratch_dir.parent) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_in(scratch_dir.parent) == []


def _ended_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_scratch_dir_the_database_user_cannot_reach_fails_clearly(host, tmp_path) -> None:
    site = host()
    site.data["drill"]["scratch_dir"] = str(tmp_path / "drill")  # under pytest's 0700 folder
    site.config.write_text(json.dumps(site.data))
    done, [record] = drill(site, "--source", "simrs")
    assert done.returncode == 1 and record["result"] == "failed"
    assert [(c["name"], c["ok"]) for c in record["checks"]] == [
        ("checksums", True),
        ("identity", False),
    ]
    assert "the postgres user cannot reach" in record["error"] and "chmod o+x" in record["error"]
    assert list((tmp_path / "drill").iterdir()) == []


def on(instance: scratch.Instance, sql: str) -> list[str]:
    """Run ``sql`` on a scratch instance; its output's words."""
    if instance.engine == "postgresql":
        argv = ["psql", "-X", "-A", "-t", "-h", instance.conn.host, "-U", "postgres", "-c", sql]
    else:
        argv = ["mariadb", f"--socket={instance.conn.socket}", "-uroot", "-N", "-e", sql]
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.split()


def test_a_drill_into_a_named_drill_server_restores_there_and_drops_its_database(
    host, scratch_dir
) -> None:
    site = host()
    operator = scratch_dir.parent / "operator"  # stands in for a dedicated drill server
    with scratch.postgresql(operator) as pg, scratch.mariadb(operator) as my:
        on(pg, "CREATE DATABASE spo_drill_simrs")  # a killed drill's copy: dropped first
        done, [record] = drill(site, "--source", "simrs", "--target-socket", pg.conn.host)
        assert done.returncode == 0 and record["result"] == "ok", done.stderr
        assert record["target"] == f"PostgreSQL server at {pg.conn.host} (named by the operator)"
        assert record["tables"] == _manifest(site, "simrs")["tables"]
        assert "spo_drill_simrs" not in on(pg, "SELECT datname FROM pg_database")

        done, [record] = drill(site, "--source", "sik", "--target-socket", my.conn.socket)
        assert done.returncode == 0 and record["result"] == "ok", done.stderr
        assert f"({my.identity}) is not the production server" in record["checks"][1]["detail"]
        assert "spo_drill_sik" not in on(my, "SHOW DATABASES")
    assert not scratch_dir.exists()  # no scratch instance was made for a named server


def test_the_simrs_khanza_database_drills_clean(tmp_path, nas_dir, khanza_db, scratch_dir) -> None:
    """238 tables, 34 of them MyISAM: CHECK TABLE EXTENDED of every one of them."""
    mount(nas_dir)
    source = {"name": "sik", "type": "mariadb", "database": khanza_db, "login_user": "root"}
    site = Host(tmp_path, nas_dir, [source], drill={"scratch_dir": str(scratch_dir)})
    assert site.backup().returncode == 0
    done, [record] = drill(site)
    assert done.returncode == 0 and record["result"] == "ok", done.stderr
    assert len(record["tables"]) == 238 and record["tables"] == _manifest(site, "sik")["tables"]
    assert_nothing_left(scratch_dir)
