"""What a playbook run brought back from the hosts: the module results of a task, per host,
read from the run's ansible-runner artifacts (every event is kept there, see runner.Progress).

Commands that read something on a host (a manifest, a backup list) run a playbook, then take
the data out of the recorded events here, so the run and its data stay in the audit trail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# The events that end a task on a host, and carry its module result.
RESULT_EVENTS = ("runner_on_ok", "runner_on_failed", "runner_on_unreachable")


@dataclass(frozen=True)
class HostResult:
    host: str
    event: str  # one of RESULT_EVENTS
    res: dict  # the module's result (event_data.res)

    @property
    def ok(self) -> bool:
        return self.event == "runner_on_ok"


def events_dir(record) -> Path:
    """ansible-runner writes the events under <artifact_dir>/<ident>/job_events."""
    return Path(record.artifacts) / record.id / "job_events"


def events(record) -> list[dict]:
    """Every event of a run, in the order Ansible emitted it."""
    found = []
    # Finished events are "<counter>-<uuid>.json"; "<uuid>-partial.json" are half-written.
    for path in events_dir(record).glob("*.json"):
        counter = path.name.split("-", 1)[0]
        if counter.isdigit():
            found.append((int(counter), path))
    return [json.loads(path.read_text(encoding="utf-8")) for _, path in sorted(found)]


def task_results(record, task: str) -> dict[str, HostResult]:
    """host -> the result of the task named ``task`` on that host.

    A host where the task did not run (skipped, or the host failed earlier) is absent; when the
    task ran more than once on a host, the last result counts.
    """
    results = {}
    for event in events(record):
        data = event.get("event_data") or {}
        if event.get("event") in RESULT_EVENTS and data.get("task") == task:
            res = data.get("res") if isinstance(data.get("res"), dict) else {}
            results[data["host"]] = HostResult(data["host"], event["event"], res)
    return results
