"""The mirror monitor against this machine's real servers: the local PostgreSQL 15 and
MariaDB (both primaries), and a scratch PostgreSQL primary with a real hot standby made by
pg_basebackup, for the mirror side."""

import contextlib
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dbhelpers import mariadb, psql, unique
from spo_backup import cli, config, manifest, mirror, mirror_postgres
from spo_backup.mirror_config import MariaDB, MirrorConfig, PgBackRest, PostgreSQL

pytestmark = pytest.mark.integration
SOCKET = "/run/mysqld/mysqld.sock"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_SOCKETS = Path("/var/run/postgresql")  # where the engine's psql looks, as on the hosts


@pytest.fixture
def cfg(tmp_path, backup_json) -> config.Config:
    """The backup config of this host, with no sources and the metrics in tmp_path."""
    return config.load(backup_json(metrics_file=str(tmp_path / "textfiles" / "spo_backup.prom")))


@pytest.fixture
def heartbeat_db():
    """A scratch heartbeat database, with its table as the db_mirror role makes it, on both
    local servers; dropped after the test."""
    name = unique("spo_hb")
    psql(f'CREATE DATABASE "{name}";')
    psql("CREATE TABLE public.heartbeat (id int PRIMARY KEY, beat timestamptz NOT NULL);", name)
    mariadb(f"CREATE DATABASE `{name}`;")
    mariadb("CREATE TABLE heartbeat (id INT PRIMARY KEY, beat TIMESTAMP(6) NOT NULL);", name)
    yield name
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);')
    mariadb(f"DROP DATABASE IF EXISTS `{name}`;")


def _local(database: str, **change) -> MirrorConfig:
    return MirrorConfig(
        path=Path("/etc/spo/mirror.json"),
        policy_seconds=600,
        heartbeat_database=database,
        postgresql=change.get("postgresql", PostgreSQL(port=5432)),
        mariadb=change.get("mariadb", MariaDB(socket=SOCKET)),
    )


def test_the_heartbeat_writes_one_row_on_each_local_primary(heartbeat_db) -> None:
    now = datetime(2025, 1, 4, 5, 0, 0, 123456, tzinfo=UTC)
    for moment in (now - timedelta(seconds=10), now):  # the second beat replaces the first
        done = mirror.heartbeat(_local(heartbeat_db), moment)
    assert [(d["engine"], d["role"], d["written"], d["error"]) for d in done] == [
        ("postgresql", "primary", True, None),
        ("mariadb", "primary", True, None),
    ]
    beat = psql("SET TimeZone = 'UTC'; SELECT id, beat FROM public.heartbeat;", heartbeat_db)
    assert beat.split() == ["1", "2025-01-04", "05:00:00.123456+00"]
    beat = mariadb("SET time_zone = '+00:00'; SELECT id, beat FROM heartbeat;", heartbeat_db)
    assert beat.split() == ["1", "2025-01-04", "05:00:00.123456"]


def test_a_missing_heartbeat_table_is_named_with_the_fix() -> None:
    done = mirror.heartbeat(_local(unique("spo_hb_absent")), manifest.utc_now())
    for result in done:
        assert result["written"] is False
        assert "does not exist" in result["error"] and "run the db_mirror role" in result["error"]


def test_local_primaries_report_their_position_and_no_breach(tmp_path, cfg, heartbeat_db) -> None:
    stanza = tmp_path / "repo" / "archive" / "simrs" / "15-1" / "0000000100000000"
    stanza.mkdir(parents=True)
    (stanza / ("000000010000000000000001-" + "a" * 40 + ".gz")).write_bytes(b"wal")
    repo = PgBackRest("simrs", tmp_path / "repo")
    mcfg = _local(heartbeat_db, postgresql=PostgreSQL(5432, repo))
    report = mirror.status(cfg, mcfg, manifest.utc_now())
    assert (report["ok"], report["breaches"], report["host"]) == (True, [], "simrs-db")
    pg, my = report["engines"]
    assert (pg["engine"], pg["role"], pg["ok"]) == ("postgresql", "primary", True)
    assert re.fullmatch(r"[0-9A-F]+/[0-9A-F]+", pg["current_lsn"])
    assert isinstance(pg["replicas"], list) and isinstance(pg["slots"], list)
    assert set(pg["archiver"]) >= {"archived_count", "last_archived_wal", "failed_count"}
    assert pg["archive"]["newest_wal"].startswith("000000010000000000000001-")
    assert pg["archive"]["age_seconds"] < 60
    assert (my["engine"], my["role"], my["ok"]) == ("mariadb", "primary", True)
    server = mariadb("SELECT @@gtid_binlog_pos;").strip()
    assert my["gtid_binlog_pos"] == server and my["replicas"] == []


def test_servers_that_do_not_answer_are_stopped_not_a_crash(tmp_path, cfg) -> None:
    with socket.socket() as probe:  # a port with no PostgreSQL behind it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mcfg = _local("spo", postgresql=PostgreSQL(port), mariadb=MariaDB(str(tmp_path / "none")))
    report = mirror.status(cfg, mcfg, manifest.utc_now())
    assert report["ok"] is False
    assert [e["role"] for e in report["engines"]] == ["stopped", "stopped"]
    pg, my = report["breaches"]
    assert pg.startswith("postgresql: server stopped or not answering: ") and str(port) in pg
    assert my.startswith("mariadb: server stopped or not answering: ") and "none" in my


def test_the_command_checks_and_beats_on_this_host(tmp_path, cfg, heartbeat_db, capsys) -> None:
    settings = {
        "policy_seconds": 600,
        "heartbeat_database": heartbeat_db,
        "postgresql": {"port": 5432, "pgbackrest": None},
        "mariadb": {"socket": SOCKET},
    }
    path = tmp_path / "mirror.json"
    path.write_text(json.dumps(settings))
    assert cli.main(["mirror", "heartbeat", "--mirror-config", str(path)]) == 0
    status = ["--config", str(cfg.path), "mirror", "status", "--mirror-config", str(path)]
    assert cli.main([*status, "--json", "--notify"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["notices"] == []
    text = (tmp_path / "textfiles" / "spo_mirror.prom").read_text()
    assert "spo_mirror_ok 1" in text and 'spo_mirror_up{engine="mariadb"} 0' in text


# -- a real hot standby ----------------------------------------------------------------------


def _free_port() -> int:
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if not (PG_SOCKETS / f".s.PGSQL.{port}").exists():
            return port


def _as_postgres(*argv: object) -> None:
    subprocess.run(
        ["runuser", "-u", "postgres", "--", *map(str, argv)],
        cwd="/",
        check=True,
        capture_output=True,
        timeout=60,
    )


class Cluster:
    """A scratch PostgreSQL server on its own port (socket only), as the OS user postgres."""

    def __init__(self, data: Path, port: int) -> None:
        self.data, self.port = data, port

    def start(self) -> None:
        _as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.data / "log", "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            _as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def sql(self, statement: str, database: str = "postgres") -> str:
        return mirror_postgres.psql(self.port, database, statement, "scratch cluster")


@pytest.fixture
def standby():
    """(primary, standby): a scratch primary and a hot standby streaming from it, both
    stopped and removed after the test."""
    if os.geteuid() != 0 or not (PG_BIN / "initdb").exists():
        pytest.skip("needs root and PostgreSQL 15's server programs")
    base = Path(tempfile.mkdtemp(prefix="spo-standby-"))
    owner = pwd.getpwnam("postgres")
    os.chown(base, owner.pw_uid, owner.pw_gid)
    primary = Cluster(base / "primary", _free_port())
    replica = Cluster(base / "standby", _free_port())
    try:
        _as_postgres(PG_BIN / "initdb", "-D", primary.data, "-A", "trust", "-U", "postgres", "-N")
        with open(primary.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {primary.port}\nlisten_addresses = ''\n"
                f"unix_socket_directories = '{PG_SOCKETS}'\nfsync = off\n"
            )
        primary.start()
        _as_postgres(
            PG_BIN / "pg_basebackup",
            *("-h", PG_SOCKETS, "-p", primary.port, "-U", "postgres"),
            *("-D", replica.data, "-R", "-X", "stream", "-N", "-c", "fast"),
        )
        with open(replica.data / "postgresql.auto.conf", "a") as conf:
            conf.write(f"port = {replica.port}\n")
        replica.start()
        yield primary, replica
    finally:
        for cluster in (replica, primary):
            with contextlib.suppress(subprocess.SubprocessError):  # one that never started
                cluster.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)


def _wait_for(check, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_a_real_standby_streams_without_lag_then_shows_the_broken_stream(cfg, standby) -> None:
    primary, replica = standby
    primary.sql('CREATE DATABASE "spo";')
    primary.sql(
        "CREATE TABLE public.heartbeat (id int PRIMARY KEY, beat timestamptz NOT NULL)", "spo"
    )
    on_primary = MirrorConfig(Path("/etc/spo/mirror.json"), 600, "spo", PostgreSQL(primary.port))
    on_standby = MirrorConfig(Path("/etc/spo/mirror.json"), 600, "spo", PostgreSQL(replica.port))
    beat = manifest.utc_now()
    [done] = mirror.heartbeat(on_primary, beat)
    assert (done["role"], done["written"], done["error"]) == ("primary", True, None)
    [skipped] = mirror.heartbeat(on_standby, beat)
    assert (skipped["role"], skipped["written"], skipped["error"]) == ("mirror", False, None)

    def replayed() -> dict | None:
        report = mirror.status(cfg, on_standby, manifest.utc_now())
        engine = report["engines"][0]
        caught_up = engine.get("heartbeat_time") == manifest.iso(beat)
        return report if caught_up and engine.get("state") == "streaming" else None

    report = _wait_for(replayed)
    assert report, mirror.status(cfg, on_standby, manifest.utc_now())
    [engine] = report["engines"]
    assert (engine["role"], engine["state"], engine["lag_seconds"]) == ("mirror", "streaming", 0.0)
    assert engine["lag_bytes"] == 0 and engine["receive_lsn"] == engine["replay_lsn"]
    assert engine["upstream"] == str(PG_SOCKETS) and report["ok"] is True
    [sender] = mirror.status(cfg, on_primary, manifest.utc_now())["engines"]
    assert sender["role"] == "primary" and [r["state"] for r in sender["replicas"]] == ["streaming"]

    primary.stop("fast")  # the stream breaks: the standby is left with the last beat

    def cut_off() -> dict | None:
        report = mirror.status(cfg, on_standby, beat + timedelta(seconds=700))
        return report if report["engines"][0]["state"] == "disconnected" else None

    report = _wait_for(cut_off)
    assert report, mirror.status(cfg, on_standby, manifest.utc_now())
    assert report["engines"][0]["lag_seconds"] == 700.0
    assert report["breaches"] == ["postgresql: lag 700 s > policy 600 s"]
