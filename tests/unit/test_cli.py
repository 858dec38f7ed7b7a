"""The `spo` front door: fast help, progress lines, per-host results, run records."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from spo.main import cli
from spo.records import RunRecord, read_records, write_record
from spo.runner import Progress, host_results

LAB_INVENTORY = Path(__file__).resolve().parents[2] / "inventories" / "lab"


def test_help_lists_commands_without_importing_ansible():
    probe = (
        "import sys\n"
        "from spo.main import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('ansible', 'ansible_runner')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    for command in ("backup", "lab", "inventory", "mirror", "ping", "provision", "restore", "runs"):
        assert f"  {command}" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def _event(name, host, task_res=None):
    return {"event": name, "event_data": {"host": host, "res": task_res or {}}}


def test_progress_prints_one_line_per_task_and_host():
    lines = []
    progress = Progress(echo=lines.append)
    progress({"event": "playbook_on_play_start", "event_data": {"play": "Reach every host"}})
    progress(
        {
            "event": "playbook_on_task_start",
            "event_data": {"task": "Check that Ansible reaches the host"},
        }
    )
    progress(_event("runner_on_ok", "simrs-db"))
    progress(_event("runner_on_ok", "nas", {"changed": True}))
    progress(_event("runner_on_unreachable", "ghost", {"msg": "no such container\ndetail"}))
    assert lines[0] == "PLAY  Reach every host"
    assert lines[1].split() == [
        "ok",
        "simrs-db",
        "Check",
        "that",
        "Ansible",
        "reaches",
        "the",
        "host",
    ]
    assert lines[2].split()[:2] == ["changed", "nas"]
    assert lines[3].split()[:2] == ["UNREACHABLE", "ghost"]
    assert lines[3].endswith(": no such container")


def test_host_results_mark_the_worst_outcome_per_host():
    stats = {
        "ok": {"a": 3, "b": 2, "c": 1},
        "changed": {"b": 1},
        "failures": {"c": 1},
        "dark": {"d": 1},
        "skipped": {},
    }
    results = host_results(stats)
    assert {h: r["result"] for h, r in results.items()} == {
        "a": "ok",
        "b": "changed",
        "c": "failed",
        "d": "unreachable",
    }
    assert results["c"]["failed"] == 1 and results["c"]["ok"] == 1


def _record(run_id, started, hosts, rc=0):
    return RunRecord(
        id=run_id,
        command="ping",
        argv=["ping"],
        operator="ops",
        playbook="ping.yml",
        inventory="/inv",
        inventory_commit="abc",
        check=True,
        limit=None,
        started=started,
        artifacts="/a",
        rc=rc,
        status="successful" if rc == 0 else "failed",
        hosts=hosts,
    )


def test_runs_lists_records_and_flags_unreadable_ones(tmp_path):
    ok = {
        "simrs-db": {
            "result": "ok",
            "ok": 2,
            "changed": 0,
            "failed": 0,
            "unreachable": 0,
            "skipped": 0,
        }
    }
    for run_id, started in (
        ("r2", "2026-11-21T10:00:00+00:00"),
        ("r1", "2026-11-20T10:00:00+00:00"),
    ):
        (tmp_path / run_id).mkdir()
        write_record(tmp_path / run_id, _record(run_id, started, ok))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "run.json").write_text("{not json")

    records, problems = read_records(tmp_path)
    assert [r.id for r in records] == ["r1", "r2"]
    assert len(problems) == 1 and "broken" in problems[0]

    result = CliRunner().invoke(cli, ["--runs-dir", str(tmp_path), "runs"])
    assert result.exit_code == 0
    assert "r1" in result.output and "simrs-db=ok" in result.output
    shown = CliRunner().invoke(cli, ["--runs-dir", str(tmp_path), "runs", "show", "r2"])
    assert json.loads(shown.stdout)["started"].startswith("2026-11-21")
    missing = CliRunner().invoke(cli, ["--runs-dir", str(tmp_path), "runs", "show", "zz"])
    assert missing.exit_code != 0 and "no run match" in missing.output


def test_a_run_with_a_failed_host_is_not_ok():
    bad = {
        "nas": {
            "result": "failed",
            "ok": 1,
            "changed": 0,
            "failed": 1,
            "unreachable": 0,
            "skipped": 0,
        }
    }
    assert not _record("x", "t", bad).ok
    assert not _record("x", "t", {}, rc=2).ok


def test_a_playbook_command_refuses_an_inventory_that_breaks_the_policy(tmp_path):
    inventory = tmp_path / "inventory"
    shutil.copytree(LAB_INVENTORY, inventory)
    policy = inventory / "group_vars" / "all" / "spo_policy.yml"
    policy.write_text(policy.read_text().replace("retention_count: 5", "retention_count: 3"))
    runs = tmp_path / "runs"
    result = CliRunner().invoke(cli, ["-i", str(inventory), "--runs-dir", str(runs), "ping"])
    assert result.exit_code != 0
    assert "spo_backup_retention_count" in result.output and "S1.5" in result.output
    assert "nothing was run" in result.output
    assert not runs.exists() or not any(runs.iterdir())


def test_progress_shows_each_item_of_a_looped_report():
    lines = []
    progress = Progress(echo=lines.append)
    progress({"event": "playbook_on_task_start", "event_data": {"task": "Report each backup"}})
    results = [{"msg": "sik: ok, 16 KB"}, {"msg": "simrs: ok, 15 KB"}]
    event = _event("runner_on_ok", "simrs-db", {"results": results})
    event["event_data"]["task_action"] = "ansible.builtin.debug"
    progress(event)
    assert lines[0].split()[:2] == ["ok", "simrs-db"]
    assert [line.strip() for line in lines[1:]] == ["sik: ok, 16 KB", "simrs: ok, 15 KB"]


# --- spo mirror failover / reseed and spo restore, with the playbook run faked -------------


@pytest.fixture
def runs(monkeypatch):
    """Stands in for run_and_report: (limit, playbook, name, extravars) of each run."""
    calls = []

    def fake(ctx, playbook, name, extravars=None):
        calls.append((ctx.obj.limit, playbook, name, extravars))

    for module in ("spo.mirror", "spo.restore"):
        monkeypatch.setattr(f"{module}.run_and_report", fake)
        monkeypatch.setattr(f"{module}.operator", lambda: "sari")
    return calls


@pytest.mark.parametrize(
    "args",
    [
        ["mirror", "failover", "--to", "simrs-mirror", "--reason", "simrs-db disk failed"],
        ["mirror", "reseed", "--host", "simrs-db", "--reason", "fenced after failover"],
    ],
)
def test_failover_and_reseed_refuse_without_yes_and_run_nothing(runs, args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert runs == []
    assert "Tidak ada yang dijalankan" in result.stderr and "Nothing was run" in result.stderr
    assert "add --yes" in result.stderr and "tambahkan --yes" in result.stderr


def test_failover_runs_its_playbook_with_who_and_why_and_says_what_is_next(runs):
    args = ["mirror", "failover", "--to", "simrs-mirror", "--reason", "disk failed", "--yes"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert runs == [(None, "mirror_failover.yml", "mirror failover simrs-mirror", {
        "mirror_failover_to": "simrs-mirror", "mirror_by": "sari", "mirror_reason": "disk failed",
    })]  # fmt: skip
    assert "set db_mirror_primary to simrs-mirror" in result.stdout


def test_reseed_runs_its_playbook_with_who_and_why(runs):
    args = ["mirror", "reseed", "--host", "simrs-db", "--reason", "fenced", "--yes"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert runs == [(None, "mirror_reseed.yml", "mirror reseed simrs-db", {
        "mirror_reseed_host": "simrs-db", "mirror_by": "sari", "mirror_reason": "fenced",
    })]  # fmt: skip


def test_failover_needs_a_reason(runs):
    result = CliRunner().invoke(cli, ["mirror", "failover", "--to", "simrs-mirror", "--yes",
                                      "--reason", " "])  # fmt: skip
    assert result.exit_code == 2 and "must not be empty" in result.output
    assert runs == []


def restore(*args):
    return CliRunner().invoke(cli, ["restore", "--instructed-by", "dr. Rina", *args])


@pytest.mark.parametrize(
    ("given", "passed"),
    [
        ("2025-01-04 13:45", "2025-01-04 13:45:00"),
        ("2025-01-04 13:45:30", "2025-01-04 13:45:30"),
        ("2025-01-04 13:45:30+07:00", "2025-01-04 13:45:30+07:00"),
        ("2025-01-04 13:45 +07", "2025-01-04 13:45:00+07:00"),
        ("2025-01-04 13:45-03:30", "2025-01-04 13:45:00-03:30"),
    ],
)
def test_restore_passes_the_time_normalized_and_who_instructed_it(runs, given, passed):
    result = restore("--point-in-time", given, "--reason", "rows deleted by mistake")
    assert result.exit_code == 0, result.output
    assert runs == [("mirror_servers", "restore_pitr.yml", f"restore point-in-time {passed}", {
        "pitr_time": passed, "pitr_by": "sari", "pitr_instructed_by": "dr. Rina",
        "pitr_reason": "rows deleted by mistake",
    })]  # fmt: skip


@pytest.mark.parametrize(
    "given",
    ["2025-01-04", "2025-01-04T13:45", "04-01-2025 13:45", "2025-02-30 13:45",
     "2025-01-04 24:00", "2025-01-04 13:45:60", "2025-01-04 13:45+7", "2025-01-04 13:45+15:00",
     "2025-01-04 13:45+07:60", "2025-01-04 13:45 WIB", "yesterday"],
)  # fmt: skip
def test_restore_rejects_a_time_it_cannot_read_and_says_what_it_expects(runs, given):
    result = restore("--point-in-time", given)
    assert result.exit_code == 2
    assert runs == []
    assert "'--point-in-time'" in result.stderr
    assert "YYYY-MM-DD HH:MM" in result.stderr and "2025-01-04 13:45:30+07:00" in result.stderr


def test_restore_runs_on_the_host_given_and_needs_who_instructed_it(runs):
    result = restore("--point-in-time", "2025-01-04 13:45", "--host", "simrs-mirror")
    assert result.exit_code == 0, result.output
    [(limit, _, _, extravars)] = runs
    assert (limit, extravars["pitr_reason"]) == ("simrs-mirror", "")
    missing = CliRunner().invoke(cli, ["restore", "--point-in-time", "2025-01-04 13:45"])
    assert missing.exit_code == 2 and "--instructed-by" in missing.stderr
    assert len(runs) == 1


# --- spo restore from a host's backups, with the playbook run faked ---------------------------


@pytest.fixture
def restore_runs(monkeypatch):
    """Stands in for run_playbook in spo.restore: (limit, playbook, command, extravars)."""
    calls = []

    def fake(opts, playbook, command, extravars=None):
        calls.append((opts.limit, playbook, command, extravars))
        return SimpleNamespace(id="restore-1", ok=True, hosts={})

    monkeypatch.setattr("spo.restore.run_playbook", fake)
    monkeypatch.setattr("spo.restore.task_results", lambda _run, _task: {})
    monkeypatch.setattr("spo.restore.summarize", lambda _run: None)
    monkeypatch.setattr("spo.restore.operator", lambda: "sari")
    return calls


def test_restore_from_a_backup_passes_the_choice_and_who_to_the_host(restore_runs):
    result = restore("--host", "simrs-db", "--source", "simrs", "--to-database", "simrs_check",
                     "--table", "pasien", "--table", "kunjungan", "--reason", "audit")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert restore_runs == [("simrs-db", "restore.yml", "restore simrs-db simrs", {
        "restore_source": "simrs", "restore_backup": "", "restore_to_database": "simrs_check",
        "restore_to_path": "", "restore_tables": ["pasien", "kunjungan"], "restore_schemas": [],
        "restore_into_production": False, "restore_jobs": 1,
        "restore_instructed_by": "dr. Rina", "restore_by": "sari", "restore_reason": "audit",
    })]  # fmt: skip
    assert "spo report restore restore-1" in result.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--source", "simrs"], "give --host and --source"),
        (["--host", "simrs-db"], "give --host and --source"),
        (["--host", "h", "--source", "s", "--to-database", "d", "--to-path", "/p"],
         "exclude each other"),
        (["--host", "h", "--source", "s", "--to-database", "d", "--into-production"],
         "leave out --to-database"),
        (["--point-in-time", "2025-01-04 13:45", "--source", "s"], "recovers whole clusters"),
        (["--point-in-time", "2025-01-04 13:45", "--into-production"], "recovers whole clusters"),
    ],
)  # fmt: skip
def test_restore_refuses_contradictory_choices_before_running_anything(restore_runs, args, says):
    result = restore(*args)
    assert result.exit_code == 2 and says in result.output
    assert restore_runs == []
