"""The `spo` front door: fast help, progress lines, per-host results, run records."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

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
    for command in ("backup", "lab", "inventory", "ping", "provision", "runs"):
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
