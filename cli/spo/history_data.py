"""The hosts' history records, brought back by a playbook run (kept in the audit trail like
every run) for the reports to be rendered from."""

from __future__ import annotations

from datetime import datetime

import click

from spo.playbook_command import read_task_results

PLAYBOOK = "history_read.yml"
TASK = "Read the history records"


def fetch(
    ctx: click.Context,
    since: datetime | None,
    kinds: tuple[str, ...] = (),
    host: str | None = None,
    name: str = "report",
) -> list[dict]:
    """Every host's records of ``kinds`` (all when empty) since ``since``, oldest first; each
    carries the host it came from as ``host`` (the engine writes it too). The reading run is
    recorded under the command ``name``."""
    extravars = {"spo_history_records": list(kinds)}
    if since is not None:
        extravars["spo_history_since"] = since.isoformat()
    results = read_task_results(ctx, PLAYBOOK, TASK, name, host, extravars=extravars)
    records = [
        {**record, "host": record.get("host") or res.get("host") or name}
        for name, res in results.items()
        for record in res.get("records", [])
    ]
    return sorted(records, key=lambda r: r.get("time", ""))
