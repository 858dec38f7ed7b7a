"""The mirror monitor without servers: its config, the evaluation of sample answers of
PostgreSQL and MariaDB against the policy, the WAL archive scan, notices, metrics and the
command line (the servers' answers replaced by samples)."""

import copy
import dataclasses
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from spo_backup import (
    channels,
    cli,
    config,
    mirror,
    mirror_config,
    mirror_mariadb,
    mirror_postgres,
    notify,
)
from spo_backup.config import ConfigError
from spo_backup.errors import ToolError

NOW = datetime(2025, 1, 4, 5, 0, tzinfo=UTC)
POLICY = 600

# The contract the db_mirror role renders (keep in step with its templates/mirror.json.j2).
EXAMPLE = {
    "policy_seconds": 600,
    "heartbeat_database": "spo",
    "postgresql": {
        "port": 5432,
        "pgbackrest": {"stanza": "simrs", "repo_path": "/var/lib/pgbackrest"},
    },
    "mariadb": {"socket": "/run/mysqld/mysqld.sock"},
}


def _ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).isoformat()


@pytest.fixture
def cfg(tmp_path, backup_json) -> config.Config:
    """The backup config of a mirror host: it backs up nothing itself."""
    path = backup_json(
        host="simrs-mirror",
        metrics_file=str(tmp_path / "textfiles" / "spo_backup.prom"),
        notify={"webhook": {"url": "http://127.0.0.1:9/hook"}},
    )
    return config.load(path)


def test_a_host_with_no_sources_has_a_valid_backup_config(cfg) -> None:
    assert cfg.sources == () and cfg.host == "simrs-mirror"


# -- config ----------------------------------------------------------------------------------


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "mirror.json"
    path.write_text(json.dumps(data))
    return path


def test_the_role_s_example_loads(tmp_path) -> None:
    mcfg = mirror_config.load(_write(tmp_path, EXAMPLE))
    assert mcfg.policy_seconds == 600 and mcfg.heartbeat_database == "spo"
    assert mcfg.postgresql.port == 5432
    assert mcfg.postgresql.pgbackrest.archive_dir == Path("/var/lib/pgbackrest/archive/simrs")
    assert mcfg.mariadb.socket == "/run/mysqld/mysqld.sock"


def test_engines_and_the_repository_may_be_absent(tmp_path) -> None:
    data = {**EXAMPLE, "postgresql": {"port": 5433, "pgbackrest": None}, "mariadb": None}
    mcfg = mirror_config.load(_write(tmp_path, data))
    assert mcfg.postgresql.pgbackrest is None and mcfg.mariadb is None
    assert mcfg.postgresql.port == 5433


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("policy_seconds"), "policy_seconds: missing; expected a number of"),
        (
            lambda d: d["postgresql"].update(port="5432"),
            'postgresql.port: expected a port number (1-65535), found "5432"',
        ),
        (
            lambda d: d["postgresql"]["pgbackrest"].update(stanza="../etc"),
            "postgresql.pgbackrest.stanza: expected a stanza name",
        ),
        (
            lambda d: d["mariadb"].update(socket="mysqld.sock"),
            'mariadb.socket: expected an absolute path, found "mysqld.sock"',
        ),
        (
            lambda d: d.update(heartbeat_database="spo; DROP"),
            "heartbeat_database: expected a database name of letters, digits and underscores",
        ),
        (lambda d: d.update(policy=600), "(top level): unknown key(s) policy"),
        (
            lambda d: d.update(postgresql=None, mariadb=None),
            "postgresql and mariadb are both null: there is nothing to monitor",
        ),
    ],
)
def test_config_errors_name_file_key_and_fix(tmp_path, change, message) -> None:
    data = copy.deepcopy(EXAMPLE)
    change(data)
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        mirror_config.load(path)
    assert str(path) in caught.value.what and message in caught.value.what
    assert "run the db_mirror role again" in caught.value.hint


def test_a_missing_mirror_config_says_which_role_writes_it(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"mirror.json does not exist.*db_mirror role"):
        mirror_config.load(tmp_path / "mirror.json")


# -- PostgreSQL ------------------------------------------------------------------------------


def _pg_mirror(**change) -> dict:
    """query()'s facts on a standby streaming everything it received."""
    facts = {
        "in_recovery": True,
        "current_lsn": None,
        "receive_lsn": "0/3000148",
        "replay_lsn": "0/3000148",
        "lag_bytes": 0,
        "last_replay_time": _ago(7200),
        "receiver": {"status": "streaming", "sender_host": "10.10.0.11"},
        "replicas": [],
        "slots": [],
        "archiver": {"archived_count": 0},
        "heartbeat": {"beat": _ago(5), "error": None},
    }
    facts.update(change)
    return facts


def _pg_primary() -> dict:
    return {
        "in_recovery": False,
        "current_lsn": "0/3000148",
        "receive_lsn": None,
        "replay_lsn": None,
        "lag_bytes": None,
        "last_replay_time": None,
        "receiver": None,
        "replicas": [
            {
                "name": "simrs-mirror",
                "client_addr": "10.10.0.12",
                "state": "streaming",
                "replay_lsn": "0/3000000",
                "lag_bytes": 328,
                "replay_lag_seconds": 0.0012,
            }
        ],
        "slots": [{"name": "spo_mirror_simrs_mirror", "active": True, "retained_bytes": 328}],
        "archiver": {
            "archived_count": 12,
            "last_archived_wal": "000000010000000000000002",
            "last_archived_time": "2025-01-04T04:59:00.5+00:00",
            "failed_count": 0,
            "last_failed_time": None,
            "last_failed_wal": None,
        },
        "heartbeat": None,
    }


def _pg(facts: dict, archive: dict | None = None) -> dict:
    return mirror.finish(mirror_postgres.evaluate(facts, archive, NOW), POLICY)


def test_an_idle_primary_does_not_look_like_lag() -> None:
    engine = _pg(_pg_mirror(heartbeat={"beat": _ago(3600), "error": None}))
    assert (engine["role"], engine["state"], engine["lag_seconds"]) == ("mirror", "streaming", 0.0)
    assert engine["ok"] is True and engine["breaches"] == []
    assert engine["upstream"] == "10.10.0.11" and engine["lag_bytes"] == 0


def test_a_mirror_replaying_behind_lags_by_the_heartbeat_age() -> None:
    engine = _pg(_pg_mirror(replay_lsn="0/3000000", lag_bytes=328))
    assert (engine["state"], engine["lag_seconds"], engine["lag_bytes"]) == (
        "catching-up",
        5.0,
        328,
    )
    assert engine["heartbeat_time"] == "2025-01-04T04:59:55.000Z" and engine["ok"]


def test_a_broken_stream_lags_by_the_last_beat_and_breaches_past_the_policy() -> None:
    engine = _pg(_pg_mirror(receiver=None, heartbeat={"beat": _ago(720.2), "error": None}))
    assert engine["state"] == "disconnected" and engine["lag_seconds"] == 720.2
    assert engine["breaches"] == ["lag 721 s > policy 600 s"] and not engine["ok"]


def test_without_a_heartbeat_table_the_last_replayed_transaction_counts() -> None:
    absent = {"beat": None, "error": 'database "spo" does not exist'}
    engine = _pg(_pg_mirror(receiver=None, heartbeat=absent, last_replay_time=_ago(90)))
    assert engine["lag_seconds"] == 90.0 and engine["heartbeat_time"] is None and engine["ok"]


def test_a_mirror_that_never_replayed_anything_has_an_unknown_lag() -> None:
    facts = _pg_mirror(receiver={"status": "stopping", "sender_host": None})
    facts.update(heartbeat={"beat": None, "error": "no row"}, last_replay_time=None)
    engine = _pg(facts)
    assert engine["lag_seconds"] is None
    assert engine["breaches"] == ["lag unknown: replication is disconnected"]


def test_a_stopped_server_is_a_state_and_a_breach() -> None:
    engine = _pg({"error": "connection to server on socket failed: No such file or directory"})
    assert (engine["role"], engine["ok"]) == ("stopped", False)
    assert engine["breaches"] == [
        "server stopped or not answering: connection to server on socket failed: No such file "
        "or directory"
    ]


def test_a_primary_reports_its_position_replicas_slots_and_archiver() -> None:
    engine = _pg(_pg_primary())
    assert (engine["role"], engine["ok"], engine["breaches"]) == ("primary", True, [])
    assert engine["current_lsn"] == "0/3000148"
    assert engine["replicas"][0]["name"] == "simrs-mirror"
    assert engine["slots"] == [
        {"name": "spo_mirror_simrs_mirror", "active": True, "retained_bytes": 328}
    ]
    assert engine["archiver"]["last_archived_time"] == "2025-01-04T04:59:00.500Z"
    assert "state" not in engine and "lag_seconds" not in engine


def _archive(age: float | None) -> dict:
    return {
        "folder": "/var/lib/pgbackrest/archive/simrs",
        "newest_wal": None if age is None else "0" * 23 + "2-" + "a" * 40 + ".gz",
        "newest_time": None if age is None else _ago(age),
        "age_seconds": age,
    }


def test_a_stale_or_empty_wal_archive_breaches_on_the_mirror() -> None:
    assert _pg(_pg_mirror(), _archive(45.0))["breaches"] == []
    assert _pg(_pg_mirror(), _archive(900.5))["breaches"] == [
        "newest archived WAL is 901 s old > policy 600 s"
    ]
    assert _pg(_pg_mirror(), _archive(None))["breaches"] == [
        "no archived WAL in /var/lib/pgbackrest/archive/simrs"
    ]


def test_the_archive_of_a_primary_is_reported_not_held_against_it() -> None:
    engine = _pg(_pg_primary(), _archive(900.0))
    assert engine["archive"]["age_seconds"] == 900.0 and engine["ok"]


def _touch(path: Path, age: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"wal")
    moment = (NOW - timedelta(seconds=age)).timestamp()
    os.utime(path, (moment, moment))


def test_the_newest_wal_segment_is_found_by_time_not_name(tmp_path) -> None:
    stanza = tmp_path / "archive" / "simrs"
    old = "000000010000000000000009-" + "1" * 40 + ".gz"
    new = "000000020000000000000003-" + "2" * 40 + ".zst"
    plain = "00000001000000000000000A-" + "3" * 40
    _touch(stanza / "15-1" / "0000000100000000" / old, 300)
    _touch(stanza / "15-1" / "0000000100000000" / plain, 200)
    _touch(stanza / "15-1" / "0000000200000000" / new, 30)
    for name in ("00000002.history", "000000010000000000000002.00000028.backup", "archive.info"):
        _touch(stanza / "15-1" / name, 1)
    found = mirror_postgres.newest_archived_wal(stanza, NOW)
    assert found == {
        "folder": str(stanza),
        "newest_wal": new,
        "newest_time": "2025-01-04T04:59:30.000Z",
        "age_seconds": 30.0,
    }


def test_an_empty_or_missing_archive_has_no_newest_wal(tmp_path) -> None:
    (tmp_path / "archive" / "simrs").mkdir(parents=True)
    for folder in (tmp_path / "archive" / "simrs", tmp_path / "nowhere"):
        found = mirror_postgres.newest_archived_wal(folder, NOW)
        assert (found["newest_wal"], found["newest_time"], found["age_seconds"]) == (None,) * 3


# -- MariaDB ---------------------------------------------------------------------------------


def test_batch_output_is_read_with_its_escapes_and_nulls() -> None:
    text = "Last_Error\tSeconds_Behind_Master\tHost\nDup\\tkey\\nline 2 c:\\\\x\tNULL\t\n"
    assert mirror_mariadb.rows(text) == [
        {"Last_Error": "Dup\tkey\nline 2 c:\\x", "Seconds_Behind_Master": None, "Host": ""}
    ]
    assert mirror_mariadb.rows("") == []


def _slave(**change) -> dict:
    row = {
        "Master_Host": "10.10.0.11",
        "Slave_IO_Running": "Yes",
        "Slave_SQL_Running": "Yes",
        "Seconds_Behind_Master": "0",
        "Last_Error": "",
        "Last_IO_Error": "",
        "Last_SQL_Error": "",
        "Gtid_IO_Pos": "0-1-1042",
        "Gtid_Slave_Pos": "0-1-1042",
    }
    row.update(change)
    return row


def _my(slave: dict | None, heartbeat: dict | None = None, read_only: str = "1") -> dict:
    variables = {"read_only": read_only, "gtid_binlog_pos": "", "gtid_slave_pos": "0-1-1042"}
    facts = {"variables": variables, "slave": slave, "heartbeat": heartbeat}
    return mirror.finish(mirror_mariadb.evaluate(facts), POLICY)


def test_a_mariadb_mirror_in_step_has_no_lag() -> None:
    engine = _my(_slave(), {"beat": "2025-01-04T04:00:00.000Z", "age_seconds": 3600.0})
    assert (engine["role"], engine["state"], engine["lag_seconds"]) == ("mirror", "streaming", 0.0)
    assert engine["upstream"] == "10.10.0.11" and engine["read_only"] is True
    assert engine["gtid_io_pos"] == "0-1-1042" and engine["lag_bytes"] is None and engine["ok"]


def test_a_mariadb_mirror_behind_lags_by_the_heartbeat_else_by_the_server() -> None:
    behind = _slave(Seconds_Behind_Master="42")
    with_beat = _my(behind, {"beat": "2025-01-04T04:59:10.000Z", "age_seconds": 50.25})
    assert (with_beat["state"], with_beat["lag_seconds"]) == ("catching-up", 50.25)
    assert _my(behind)["lag_seconds"] == 42.0


def test_a_mariadb_mirror_cut_off_from_its_primary_breaches_when_the_beat_gets_old() -> None:
    cut = _slave(Slave_IO_Running="Connecting", Seconds_Behind_Master=None)
    engine = _my(cut, {"beat": "2025-01-04T04:40:00.000Z", "age_seconds": 1200.0})
    assert engine["state"] == "disconnected" and engine["io_running"] is False
    assert engine["breaches"] == ["lag 1200 s > policy 600 s"]
    assert _my(cut)["breaches"] == ["lag unknown: replication is disconnected"]


def test_a_stopped_sql_thread_is_broken_replication_with_its_error() -> None:
    error = "Could not execute Write_rows_v1 event on table sik.pasien; Duplicate entry '7'"
    engine = _my(_slave(Slave_SQL_Running="No", Last_SQL_Error=error, Seconds_Behind_Master=None))
    assert (engine["state"], engine["last_error"]) == ("broken", error)
    assert engine["breaches"] == [f"replication is broken (SQL thread stopped): {error}"]


def test_a_read_only_server_without_replication_is_a_disconnected_mirror() -> None:
    engine = _my(None)
    assert (engine["role"], engine["state"]) == ("mirror", "disconnected")
    assert engine["breaches"] == ["lag unknown: replication is disconnected"]


def test_a_writable_server_without_replication_is_the_primary() -> None:
    facts = {
        "variables": {"read_only": "0", "gtid_binlog_pos": "0-1-1042", "gtid_slave_pos": ""},
        "slave": None,
        "master": {"File": "mariadb-bin.000003", "Position": "1337"},
        "hosts": [{"Server_id": "2", "Host": "simrs-mirror", "Port": "3306", "Master_id": "1"}],
    }
    engine = mirror.finish(mirror_mariadb.evaluate(facts), POLICY)
    assert (engine["role"], engine["ok"], engine["gtid_binlog_pos"]) == (
        "primary",
        True,
        "0-1-1042",
    )
    assert (engine["binlog_file"], engine["binlog_position"]) == ("mariadb-bin.000003", 1337)
    assert engine["replicas"] == [
        {"server_id": "2", "host": "simrs-mirror", "port": "3306", "master_id": "1"}
    ]


# -- the report, notices, metrics ------------------------------------------------------------


def _report(cfg, *engines: dict) -> dict:
    return mirror.report(cfg, POLICY, list(engines), NOW)


def test_the_report_is_ok_only_without_breaches_and_names_the_engine(cfg) -> None:
    good = _report(cfg, mirror_postgres.evaluate(_pg_mirror(), None, NOW))
    assert (good["ok"], good["breaches"], good["host"], good["site"]) == (
        True,
        [],
        "simrs-mirror",
        "RSUD Uji",
    )
    assert good["time"] == "2025-01-04T05:00:00.000Z" and good["policy_seconds"] == 600
    bad = _report(cfg, mirror_mariadb.evaluate({"error": "Can't connect to local server"}))
    assert bad["ok"] is False
    assert bad["breaches"] == [
        "mariadb: server stopped or not answering: Can't connect to local server"
    ]


@pytest.fixture
def webhook(monkeypatch) -> list[dict]:
    """The webhook channel, faked: the bodies it would have posted."""
    posted = []
    monkeypatch.setattr(channels, "post_webhook", lambda _hook, body: posted.append(body))
    return posted


def _lagging(cfg, seconds: float) -> dict:
    facts = _pg_mirror(receiver=None, heartbeat={"beat": _ago(seconds), "error": None})
    return _report(cfg, mirror_postgres.evaluate(facts, None, NOW))


def test_a_notice_goes_out_when_the_policy_breaks_and_when_it_holds_again(cfg, webhook) -> None:
    assert mirror.tell(cfg, _lagging(cfg, 10), NOW) == []  # first check, ok: nothing
    later = NOW + timedelta(minutes=5)
    [attempt] = mirror.tell(cfg, _lagging(cfg, 900), later)
    assert attempt == {
        "channel": "webhook",
        "event": "mirror-breach",
        "source": None,
        "delivered": True,
        "error": None,
    }
    assert mirror.tell(cfg, _lagging(cfg, 1200), later + timedelta(minutes=5)) == []
    [recovered] = mirror.tell(cfg, _lagging(cfg, 3), later + timedelta(minutes=10))
    assert recovered["event"] == "mirror-recovered"
    breach, back = webhook
    assert (breach["event"], breach["result"], back["event"], back["result"]) == (
        "mirror-breach",
        "failed",
        "mirror-recovered",
        "ok",
    )
    assert "- postgresql: lag 900 s > policy 600 s" in breach["text_en"]
    assert "- postgresql: tertinggal 900 detik, melebihi batas 600 detik" in breach["text_id"]
    assert breach["text_id"].startswith("[SPO] MASALAH MIRROR di simrs-mirror (RSUD Uji)")
    assert "- postgresql: mirror, disconnected, lag 3 s" in back["text_en"]
    assert notify.local_time(later) in back["text_en"]  # since when it was breached
    state = json.loads((cfg.state_dir / "mirror.json").read_text())
    assert state["result"] == "ok"
    notices = [json.loads(line) for line in cfg.history_file.read_text().splitlines()]
    assert [n["event"] for n in notices] == ["mirror-breach", "mirror-recovered"]


def test_a_first_check_in_breach_is_told(cfg, webhook) -> None:
    [attempt] = mirror.tell(cfg, _lagging(cfg, 900), NOW)
    assert attempt["event"] == "mirror-breach" and len(webhook) == 1


def test_an_undeliverable_notice_is_reported_not_raised(cfg, monkeypatch) -> None:
    def refuse(_hook, _body) -> None:
        raise channels.DeliveryError("webhook http://127.0.0.1:9/hook failed: refused")

    monkeypatch.setattr(channels, "post_webhook", refuse)
    [attempt] = mirror.tell(cfg, _lagging(cfg, 900), NOW)
    assert attempt["delivered"] is False and "refused" in attempt["error"]


def test_recovery_notices_follow_the_notify_events(cfg, webhook) -> None:
    quiet = dataclasses.replace(cfg, notify=dataclasses.replace(cfg.notify, on=("failure",)))
    assert len(mirror.tell(quiet, _lagging(quiet, 900), NOW)) == 1
    assert mirror.tell(quiet, _lagging(quiet, 3), NOW + timedelta(minutes=5)) == []
    assert [body["event"] for body in webhook] == ["mirror-breach"]


def test_metrics_say_what_the_report_says(cfg) -> None:
    mirror_pg = mirror_postgres.evaluate(
        _pg_mirror(replay_lsn="0/3000000", lag_bytes=328), _archive(45.5), NOW
    )
    stopped = mirror_mariadb.evaluate({"error": "Can't connect"})
    text = mirror.metrics_text(_report(cfg, mirror_pg, stopped))
    lines = set(text.splitlines())
    assert {
        'spo_mirror_up{engine="postgresql"} 1',
        'spo_mirror_up{engine="mariadb"} 0',
        'spo_mirror_lag_seconds{engine="postgresql"} 5.0',
        'spo_mirror_lag_bytes{engine="postgresql"} 328',
        "spo_mirror_wal_archive_age_seconds 45.5",
        "spo_mirror_policy_seconds 600",
        "spo_mirror_ok 0",
        "# TYPE spo_mirror_ok gauge",
    } <= lines
    assert not any(line.startswith('spo_mirror_lag_seconds{engine="mariadb"') for line in lines)


def test_a_primary_is_up_while_a_replica_streams_from_it(cfg) -> None:
    primary = mirror_postgres.evaluate(_pg_primary(), None, NOW)
    assert 'spo_mirror_up{engine="postgresql"} 1' in mirror.metrics_text(_report(cfg, primary))
    primary["replicas"] = []
    assert 'spo_mirror_up{engine="postgresql"} 0' in mirror.metrics_text(_report(cfg, primary))


# -- the command line ------------------------------------------------------------------------


@pytest.fixture
def host(tmp_path, cfg, monkeypatch) -> list[str]:
    """The command's options, with the servers' answers replaced by samples."""
    data = {**EXAMPLE, "postgresql": {"port": 5432, "pgbackrest": None}}
    monkeypatch.setattr(mirror_postgres, "query", lambda _port, _db: _pg_mirror())
    monkeypatch.setattr(mirror_mariadb, "query", lambda _socket, _db: {"error": "Can't connect"})
    return ["--config", str(cfg.path), "--mirror-config", str(_write(tmp_path, data))]


def test_mirror_status_prints_writes_metrics_and_fails_on_a_breach(host, cfg, capsys) -> None:
    config_option, mirror_option = host[:2], host[2:]
    status = [*config_option, "mirror", "status", *mirror_option]
    assert cli.main([*status, "--json"]) == cli.FAILED
    report = json.loads(capsys.readouterr().out)
    assert [e["role"] for e in report["engines"]] == ["mirror", "stopped"]
    assert report["breaches"] == ["mariadb: server stopped or not answering: Can't connect"]
    textfile = cfg.metrics_file.parent / "spo_mirror.prom"
    assert "spo_mirror_ok 0" in textfile.read_text()
    assert cli.main(status) == cli.FAILED
    out = capsys.readouterr().out
    assert "mirror on simrs-mirror (RSUD Uji): BREACH, policy 600 s" in out
    assert "postgresql: mirror, streaming, lag 0.0 s, from 10.10.0.11" in out
    assert "BREACH: server stopped or not answering: Can't connect" in out


def test_mirror_heartbeat_fails_when_an_engine_cannot_beat(host, monkeypatch, capsys) -> None:
    def written(_port, _db, now) -> dict:
        return {"role": "primary", "written": True, "beat": now.isoformat()}

    def no_table(socket, database, _now) -> dict:
        raise ToolError(f"on {socket}: mariadb exited with status 1: Unknown database '{database}'")

    monkeypatch.setattr(mirror_postgres, "write_heartbeat", written)
    monkeypatch.setattr(mirror_mariadb, "write_heartbeat", no_table)
    assert cli.main(["mirror", "heartbeat", *host[2:]]) == cli.FAILED
    err = capsys.readouterr().err
    assert "mariadb heartbeat: the database spo or its table heartbeat does not exist" in err
    assert "what to do: run the db_mirror role" in err
    assert "postgresql" not in err
    monkeypatch.setattr(mirror_mariadb, "write_heartbeat", written)
    assert cli.main(["mirror", "heartbeat", *host[2:]]) == 0
