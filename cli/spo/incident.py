"""`spo incident`: the troubleshooting log (S0.4, S2.5) - problems met on the hosts and how
they were resolved, kept as versioned files in the inventory for the quarterly report."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from spo import incident_log as log
from spo.archive import not_blank
from spo.runner import inventory_commit, operator


def _run(step, *args):
    try:
        return step(*args)
    except log.IncidentError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def incident() -> None:
    """The troubleshooting log: problems and their resolution (S0.4)."""


@incident.command()
@click.option("--host", required=True, callback=not_blank, help="The host (or 'network', a unit).")
@click.option("--category", type=click.Choice(log.CATEGORIES), required=True)
@click.option("--problem", required=True, callback=not_blank, help="What went wrong.")
@click.option("--resolution", callback=not_blank, help="How it was resolved, if it already is.")
@click.pass_context
def add(ctx: click.Context, host: str, category: str, problem: str, resolution) -> None:
    """Record a problem (and its resolution, when it is already resolved)."""
    root = Path(ctx.obj.inventory)
    opened = _run(log.open_incident, root, host, category, problem, operator(),
                  inventory_commit(root))  # fmt: skip
    click.echo(f"incident {opened.id} recorded")
    if resolution:
        _run(log.resolve, root, opened.id, resolution, operator())
        click.echo(f"incident {opened.id} resolved")
    click.echo("commit the new file(s) under incidents/ to the site's git repository")


@incident.command()
@click.argument("incident_id")
@click.option("--resolution", required=True, callback=not_blank, help="How it was resolved.")
@click.pass_context
def resolve(ctx: click.Context, incident_id: str, resolution: str) -> None:
    """Record how an open incident was resolved."""
    root = Path(ctx.obj.inventory)
    found = {i.opened.id: i for i in log.read_log(root)[0]}
    if incident_id in found and not found[incident_id].open:
        raise click.ClickException(f"incident {incident_id} is already resolved")
    _run(log.resolve, root, incident_id, resolution, operator())
    click.echo(f"incident {incident_id} resolved")


@incident.command(name="list")
@click.option("--open", "only_open", is_flag=True, help="Only the incidents not resolved yet.")
@click.option("--json", "as_json", is_flag=True, help="Print the incidents as JSON.")
@click.pass_context
def list_(ctx: click.Context, only_open: bool, as_json: bool) -> None:
    """The incidents, oldest first; exits 2 when a record file is not valid."""
    incidents, findings = log.read_log(Path(ctx.obj.inventory))
    shown = [i for i in incidents if i.open or not only_open]
    if as_json:
        items = [{**asdict(i.opened), "resolved": asdict(i.resolved) if i.resolved else None}
                 for i in shown]  # fmt: skip
        click.echo(json.dumps(items, indent=2))
    else:
        for i in shown:
            state = f"resolved {i.resolved.resolved_at}" if i.resolved else "OPEN"
            click.echo(f"{i.opened.id}  {i.opened.host}  {i.opened.category}  {state}")
            click.echo(f"    {i.opened.problem}")
            if i.resolved:
                click.echo(f"    -> {i.resolved.resolution}")
    for finding in findings:
        click.echo(finding.text(), err=True)
    if findings:
        sys.exit(2)
