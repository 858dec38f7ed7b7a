"""Module results per host, read back from a run's ansible-runner artifacts."""

from __future__ import annotations

import json

import pytest

from spo.host_data import events, events_dir, task_results
from spo.records import RunRecord

RUN_ID = "20250104T050000Z-archive-ab12"


def run_record(artifacts) -> RunRecord:
    return RunRecord(
        id=RUN_ID, command="archive add x", argv=[], operator="tester", playbook="p.yml",
        inventory="inv", inventory_commit=None, check=False, limit=None,
        started="2025-01-04T05:00:00+00:00", artifacts=str(artifacts),
    )  # fmt: skip


@pytest.fixture
def run(tmp_path):
    """A run record whose artifacts folder holds events as ansible-runner writes them."""
    record = run_record(tmp_path / "artifacts")
    events_dir(record).mkdir(parents=True)
    return record


def write_event(run, counter, event, host=None, task=None, res=None):
    data = {"task": task, "host": host, "res": res} if host else {"task": task}
    (events_dir(run) / f"{counter}-uuid{counter}.json").write_text(
        json.dumps({"counter": counter, "event": event, "event_data": data})
    )


def test_results_of_the_named_task_per_host(run):
    write_event(run, 1, "playbook_on_task_start", task="Read the manifest")
    write_event(run, 2, "runner_on_ok", "db", "Read the manifest", {"content": "e30="})
    write_event(run, 3, "runner_on_ok", "app", "Another task", {"changed": True})
    write_event(run, 4, "runner_on_failed", "nas", "Read the manifest", {"msg": "not found"})
    write_event(run, 5, "runner_on_unreachable", "mirror", "Read the manifest", {"msg": "gone"})
    write_event(run, 6, "runner_on_skipped", "app", "Read the manifest", {"skipped": True})

    results = task_results(run, "Read the manifest")

    assert sorted(results) == ["db", "mirror", "nas"]
    assert results["db"].ok and results["db"].res == {"content": "e30="}
    assert not results["nas"].ok and results["nas"].res["msg"] == "not found"
    assert results["mirror"].event == "runner_on_unreachable"


def test_events_follow_the_counter_not_the_file_name(run):
    # "10-..." sorts before "9-..." as text; the last result of a host is the one that counts.
    write_event(run, 9, "runner_on_ok", "db", "Read", {"n": 9})
    write_event(run, 10, "runner_on_ok", "db", "Read", {"n": 10})
    assert [e["counter"] for e in events(run)] == [9, 10]
    assert task_results(run, "Read")["db"].res == {"n": 10}


def test_half_written_events_and_odd_results_are_ignored(run):
    (events_dir(run) / "uuid7-partial.json").write_text("{not json")
    write_event(run, 1, "runner_on_ok", "db", "Read", res=None)
    assert task_results(run, "Read")["db"].res == {}
    assert task_results(run, "No such task") == {}


def test_a_run_without_events_has_no_results(tmp_path):
    assert task_results(run_record(tmp_path / "missing"), "Read") == {}
