"""`spo databank`: the hospital units' central data bank (S0.1-S0.5).

`verify` runs the storage host's integrity check now (the same as its daily job) and prints
each unit's result; it exits 1 when a unit is suspect or its check failed.
"""

from __future__ import annotations

import dataclasses
import json
import sys

import click

from spo.host_data import task_results
from spo.playbook_command import summarize
from spo.runner import run_playbook

PLAYBOOK = "databank_verify.yml"
TASK = "Check the units' files"  # the task's name in the playbook


@click.group()
def databank() -> None:
    """The units' data bank: integrity of their files (S0.3)."""


@databank.command()
@click.option("--unit", "units", multiple=True, help="Only this unit; repeat for more.")
@click.option("--host", default="storage_servers", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the integrity records as JSON.")
@click.pass_context
def verify(ctx: click.Context, units: tuple[str, ...], host: str, as_json: bool) -> None:
    """Hash every file of each unit and compare with the last check: added, changed,
    suspect (changed under the same time, or unreadable) and deleted files."""
    ctx.obj = dataclasses.replace(ctx.obj, limit=host)
    run = run_playbook(ctx.obj, PLAYBOOK, f"databank verify {host}",
                       {"databank_units": list(units)}, to_stderr=as_json)  # fmt: skip
    records = [r for res in task_results(run, TASK).values() for r in res.res.get("records", [])]
    if as_json:
        click.echo(json.dumps(records, indent=2, sort_keys=True))
    else:
        for record in records:
            click.echo(line(record))
        summarize(run)
    if not run.ok:
        sys.exit(1 if records else 2)


def line(record: dict) -> str:
    counts = ", ".join(f"{record.get(f'{k}_count', 0)} {k}" for k in ("added", "changed",
                       "suspect", "deleted"))  # fmt: skip
    text = f"{record['host']} {record['unit']}: {record['result'].upper()} ({counts})"
    for suspect in record.get("suspect", []):
        text += f"\n    SUSPECT {suspect['path']}: {suspect['why']}"
    if record.get("error"):
        text += f"\n    {record['error']}"
    return text
