"""`spo mirror status` tables, breaches and metrics from the hosts' mirror_info results."""

import copy
import json

import pytest
import yaml
from click.testing import CliRunner

from spo import mirror, mirror_views, tables
from spo.main import cli
from spo.paths import PLAYBOOKS
from spo.records import RunRecord

PRIMARY_PG = {
    "engine": "postgresql", "role": "primary", "ok": True, "breaches": [],
    "current_lsn": "1/00000200",
    "replicas": [{"name": "simrs-mirror", "client_addr": "10.88.0.11", "state": "streaming",
                  "replay_lsn": "1/00000100", "lag_bytes": 256, "replay_lag_seconds": 0.2}],
    "slots": [{"name": "spo_simrs_mirror", "active": True, "retained_bytes": 256}],
    "archiver": {"failed_count": 0},
}  # fmt: skip
PRIMARY_MARIADB = {
    "engine": "mariadb", "role": "primary", "ok": True, "breaches": [],
    "gtid_binlog_pos": "0-1-42", "binlog_file": "mysql-bin.000003", "binlog_position": 1234,
    "replicas": [{"server_id": 2, "host": "", "port": 3306, "master_id": 1}],
}  # fmt: skip
MIRROR_PG = {
    "engine": "postgresql", "role": "mirror", "ok": True, "breaches": [], "state": "streaming",
    "receive_lsn": "1/00000180", "replay_lsn": "0/FFFFFF00", "lag_bytes": 7, "lag_seconds": 1.4,
    "last_replay_time": "2026-11-21T10:00:00Z", "heartbeat_time": "2026-11-21T10:00:00Z",
    "upstream": "10.88.0.10",
    "archive": {"newest_wal": "000000010000000100000000", "newest_time": "2026-11-21T09:59:00Z",
                "age_seconds": 61.0},
}  # fmt: skip
MIRROR_MARIADB = {
    "engine": "mariadb", "role": "mirror", "ok": False,
    "breaches": ["replication stopped: Duplicate entry '7' for key 'PRIMARY'"],
    "state": "broken", "io_running": True, "sql_running": False, "seconds_behind_master": None,
    "gtid_slave_pos": "0-1-40", "gtid_io_pos": "0-1-42", "last_error": "Duplicate entry",
    "upstream": "10.88.0.10", "lag_seconds": None, "lag_bytes": None, "read_only": True,
}  # fmt: skip


def _status(host: str, engines: list[dict], breaches=()) -> dict:
    return {"host": host, "site": "lab", "time": "2026-11-21T10:00:01Z", "policy_seconds": 600,
            "ok": not breaches and all(e["ok"] for e in engines), "breaches": list(breaches),
            "engines": engines}  # fmt: skip


RESULTS = {
    "simrs-mirror": {
        "status": _status("simrs-mirror", [MIRROR_PG, MIRROR_MARIADB],
                          ["mariadb mirror: replication stopped: Duplicate entry '7' for key "
                           "'PRIMARY'"]),
        "metrics": "spo_mirror_ok{engine=\"postgresql\"} 1\nspo_mirror_ok{engine=\"mariadb\"} 0\n",
    },
    "simrs-db": {
        "status": _status("simrs-db", [PRIMARY_PG, PRIMARY_MARIADB]),
        "metrics": "spo_mirror_primary{engine=\"postgresql\"} 1",
    },
}  # fmt: skip


def test_lsn_is_the_high_word_shifted_32_bits_plus_the_low_word():
    assert mirror_views.lsn_bytes("0/0") == 0
    assert mirror_views.lsn_bytes("1/00000200") == (1 << 32) + 0x200
    assert mirror_views.lsn_bytes("16/B374D848") == (0x16 << 32) + 0xB374D848


def test_a_row_per_mirror_engine_with_the_primary_apart():
    rows = mirror_views.mirror_rows(RESULTS)
    assert [(r.host, r.engine, r.state, r.ok) for r in rows] == [
        ("simrs-mirror", "postgresql", "streaming", True),
        ("simrs-mirror", "mariadb", "broken", False),
    ]
    [pg, _] = rows
    assert (pg.upstream, pg.lag_seconds, pg.policy_seconds) == ("10.88.0.10", 1.4, 600)
    primaries = mirror_views.primary_rows(RESULTS)
    assert [(p.host, p.engine, p.position, p.replicas) for p in primaries] == [
        ("simrs-db", "postgresql", "1/00000200", ("simrs-mirror",)),
        ("simrs-db", "mariadb", "0-1-42", ("2",)),  # MariaDB knows it by its server id
    ]


def test_lag_bytes_come_from_the_primarys_lsn_when_the_primary_was_read():
    [pg, mariadb] = mirror_views.mirror_rows(RESULTS)
    assert pg.lag_bytes == (1 << 32) + 0x200 - 0xFFFFFF00  # across the 4 GiB boundary
    assert mariadb.lag_bytes is None  # MariaDB has no byte figure
    alone = {"simrs-mirror": RESULTS["simrs-mirror"]}  # spo mirror status --host simrs-mirror
    assert mirror_views.mirror_rows(alone)[0].lag_bytes == 7


def test_the_primary_is_found_by_its_name_as_upstream_too():
    results = copy.deepcopy(RESULTS)
    results["simrs-db"]["status"]["engines"][0]["replicas"] = []  # the stream is down
    assert mirror_views.mirror_rows(results)[0].lag_bytes == 7
    results["simrs-mirror"]["status"]["engines"][0]["upstream"] = "simrs-db"
    assert mirror_views.mirror_rows(results)[0].lag_bytes == (1 << 32) + 0x200 - 0xFFFFFF00


def test_a_mirror_read_after_its_primary_is_never_a_negative_lag():
    results = copy.deepcopy(RESULTS)
    results["simrs-mirror"]["status"]["engines"][0]["replay_lsn"] = "1/00000300"
    assert mirror_views.mirror_rows(results)[0].lag_bytes == 0


def test_the_wal_archive_age_shows_on_postgresql_rows_only():
    results = copy.deepcopy(RESULTS)
    # The repository on another host than the mirror: its age still shows on the mirror's row.
    archive = results["simrs-mirror"]["status"]["engines"][0].pop("archive")
    results["simrs-db"]["status"]["engines"][0]["archive"] = archive
    [pg, mariadb] = mirror_views.mirror_rows(results)
    assert (pg.archive_age_seconds, mariadb.archive_age_seconds) == (61.0, None)
    del results["simrs-db"]["status"]["engines"][0]["archive"]
    assert mirror_views.mirror_rows(results)[0].archive_age_seconds is None


def test_the_table_flags_a_breach_with_its_text_in_both_languages():
    text = tables.render(mirror_views.MIRROR_COLUMNS, mirror_views.mirror_rows(RESULTS))
    heading, pg, mariadb = text.splitlines()
    assert heading.startswith("Server / Host  Mesin / Engine  Keadaan / State")
    assert pg.endswith("OK") and "61 s" in pg and "600 s" in pg and "10.88.0.10" in pg
    assert mariadb.endswith("MELANGGAR / BREACH: replication stopped: Duplicate entry '7' for "
                            "key 'PRIMARY'")  # fmt: skip
    assert " - " in mariadb  # no byte figure, no archive age
    primaries = tables.render(mirror_views.PRIMARY_COLUMNS, mirror_views.primary_rows(RESULTS))
    assert primaries.splitlines()[1].split() == ["simrs-db", "postgresql", "1/00000200", "1:",
                                                 "simrs-mirror", "OK"]  # fmt: skip


def test_a_stopped_engine_is_a_mirror_row_in_breach():
    results = copy.deepcopy(RESULTS)
    stopped = {"engine": "postgresql", "role": "stopped", "ok": False,
               "breaches": ["postgresql is not running"]}  # fmt: skip
    results["simrs-mirror"]["status"]["engines"][0] = stopped
    results["simrs-mirror"]["status"]["breaches"] = []
    [row, _] = mirror_views.mirror_rows(results)
    assert (row.state, row.ok, row.lag_bytes, row.upstream) == ("stopped", False, None, None)
    assert mirror_views.breach_lines(results) == [
        "simrs-mirror postgresql: postgresql is not running",
        "simrs-mirror mariadb: replication stopped: Duplicate entry '7' for key 'PRIMARY'",
    ]


def test_breach_lines_name_each_breach_once_and_only_for_hosts_not_ok():
    assert mirror_views.breach_lines(RESULTS) == [
        "simrs-mirror: mariadb mirror: replication stopped: Duplicate entry '7' for key 'PRIMARY'"
    ]
    results = copy.deepcopy(RESULTS)
    results["simrs-mirror"]["status"] = _status("simrs-mirror", [], ["WAL archive 900 s old"])
    assert mirror_views.breach_lines(results) == ["simrs-mirror: WAL archive 900 s old"]
    results["simrs-mirror"]["status"]["breaches"] = []
    assert mirror_views.breach_lines(results) == [
        "simrs-mirror: tidak OK tanpa alasan / not OK, no reason given"
    ]


def test_metrics_of_every_host_follow_a_host_comment():
    assert mirror_views.metrics_text(RESULTS) == (
        "# host: simrs-db\n"
        'spo_mirror_primary{engine="postgresql"} 1\n'
        "# host: simrs-mirror\n"
        'spo_mirror_ok{engine="postgresql"} 1\n'
        'spo_mirror_ok{engine="mariadb"} 0\n'
    )


# --- the command, with the playbook run faked ----------------------------------------------


@pytest.fixture
def read(monkeypatch):
    """Stands in for the playbook run: the hosts' results, and the calls it had."""
    calls = []

    def fake(ctx, playbook, task, name, host=None, exit_status=None):
        calls.append((playbook, task, name, host, exit_status))
        return copy.deepcopy(RESULTS)

    monkeypatch.setattr("spo.mirror.read_task_results", fake)
    return calls


def test_status_prints_both_tables_and_exits_1_on_a_breach(read):
    result = CliRunner().invoke(cli, ["mirror", "status", "--host", "db_servers"])
    assert result.exit_code == 1
    assert read == [("mirror_status.yml", "Read the mirror status", "mirror status",
                     "db_servers", 2)]  # fmt: skip
    assert "Arsip WAL / WAL age" in result.stdout
    assert "Primer / Primary" in result.stdout and "0-1-42" in result.stdout
    assert "mirroring breaches the policy" in result.stderr
    assert "  simrs-mirror: mariadb mirror: replication stopped" in result.stderr
    assert "breaches the policy" not in result.stdout


def test_status_exits_0_when_every_host_is_ok(read, monkeypatch):
    healthy = {"simrs-db": copy.deepcopy(RESULTS["simrs-db"])}
    monkeypatch.setattr("spo.mirror.read_task_results", lambda *args, **kwargs: healthy)
    result = CliRunner().invoke(cli, ["mirror", "status"])
    assert result.exit_code == 0, result.output
    assert not result.stderr


def test_status_json_is_each_hosts_status(read):
    result = CliRunner().invoke(cli, ["mirror", "status", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {h: r["status"] for h, r in RESULTS.items()}


def test_status_metrics_are_every_hosts_metrics(read):
    result = CliRunner().invoke(cli, ["mirror", "status", "--metrics"])
    assert result.stdout == mirror_views.metrics_text(RESULTS)
    both = CliRunner().invoke(cli, ["mirror", "status", "--metrics", "--json"])
    assert both.exit_code == 2 and len(read) == 1, "refused before anything ran"


def test_status_exits_2_when_the_hosts_could_not_be_read(tmp_path, monkeypatch):
    def failed_run(opts, playbook, command, extravars=None, to_stderr=False):
        assert (playbook, opts.limit, to_stderr) == ("mirror_status.yml", "simrs-mirror", True)
        return RunRecord(
            id="run1", command=command, argv=[], operator="sari", playbook=playbook,
            inventory="inv", inventory_commit=None, check=False, limit=opts.limit,
            started="2026-11-21T10:00:00+00:00", artifacts=str(tmp_path), rc=2,
            status="failed", hosts={},
        )  # fmt: skip

    monkeypatch.setattr("spo.playbook_command.run_playbook", failed_run)
    result = CliRunner().invoke(cli, ["mirror", "status", "--host", "simrs-mirror"])
    assert result.exit_code == 2, "1 would read as a breach"
    assert "run run1 FAILED" in result.stdout


def test_the_playbook_reads_the_status_in_the_task_the_command_looks_for():
    [play] = yaml.safe_load((PLAYBOOKS / mirror.STATUS_PLAYBOOK).read_text())
    [task] = [t for t in play["tasks"] if t["name"] == mirror.STATUS_TASK]
    assert "mirror_info" in task
