"""`spo drill`: the weekly restore drill on demand (S3.6).

The hosts do it (module backup_drill, the same code as their Friday cron job); this prints
each source's result with the time to restore (RTO) and the age of the restored data (RPO),
and exits non-zero when a drill failed. `spo report drill` renders the records.
"""

from __future__ import annotations

import dataclasses
import json
import sys

import click

from spo.host_data import task_results
from spo.playbook_command import summarize
from spo.runner import operator, run_playbook

PLAYBOOK = "drill.yml"
TASK = "Drill the sources"  # the task's name in the playbook


@click.command()
@click.option("--host", default="db_servers:app_servers", show_default=True,
              help="Host (or group) whose backups to drill.")  # fmt: skip
@click.option("--source", "sources", multiple=True, help="Only this source; repeat for more.")
@click.option("--json", "as_json", is_flag=True, help="Print the drill records as JSON.")
@click.pass_context
def drill(ctx: click.Context, host: str, sources: tuple[str, ...], as_json: bool) -> None:
    """Test-restore the newest backups into scratch targets, never the live ones (S3.6)."""
    ctx.obj = dataclasses.replace(ctx.obj, limit=host)
    extravars = {"drill_sources": list(sources), "drill_by": f"spo drill ({operator()})"}
    run = run_playbook(ctx.obj, PLAYBOOK, f"drill {host}", extravars, to_stderr=as_json)
    records = [
        record
        for _host, result in sorted(task_results(run, TASK).items())
        for record in result.res.get("drills", [])
    ]
    if as_json:
        click.echo(json.dumps(records, indent=2, sort_keys=True))
    else:
        for record in records:
            click.echo(line(record))
        summarize(run)
        click.echo("report: spo report drill --lang id|en")
    if not run.ok:
        sys.exit(2 if not records else 1)


def line(record: dict) -> str:
    """One source's drill in one line: result, backup, RTO, RPO, and the failing check."""
    text = f"{record['host']} {record['source']}: {record['result'].upper()}"
    text += f", backup {record.get('backup') or 'none'}"
    if record.get("rto_seconds") is not None:
        text += f", RTO {record['rto_seconds']:.1f} s"
    if record.get("rpo_seconds") is not None:
        text += f", RPO {record['rpo_seconds'] / 3600:.1f} h"
    failed = [c for c in record.get("checks", []) if not c["ok"]]
    if failed:
        text += f"; {failed[0]['name']} failed: {failed[0]['detail']}"
    elif record.get("error"):
        text += f"; {record['error']}"
    return text
