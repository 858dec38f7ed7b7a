"""`spo runs`: the recorded runs, newest last, and one run in full."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from spo.records import read_records


def _load(ctx: click.Context):
    records, problems = read_records(ctx.obj.runs_dir)
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    return records


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def runs(ctx: click.Context, as_json: bool) -> None:
    """List recorded runs: when, who, what, where, and each host's result."""
    if ctx.invoked_subcommand:
        return
    records = _load(ctx)
    if as_json:
        click.echo(json.dumps([asdict(r) for r in records], indent=2))
        return
    if not records:
        click.echo(f"no runs recorded in {ctx.obj.runs_dir}")
        return
    for r in records:
        hosts = " ".join(f"{h}={v['result']}" for h, v in sorted(r.hosts.items()))
        mode = " check" if r.check else ""
        click.echo(
            f"{r.id:<40} {r.started:<25} {r.operator:<10} {r.command}{mode:<6} "
            f"{r.status:<10} {r.duration_seconds}s  {hosts}"
        )


@runs.command()
@click.argument("run_id")
@click.pass_context
def show(ctx: click.Context, run_id: str) -> None:
    """Print one run's full record (an id or a unique prefix of it)."""
    matches = [r for r in _load(ctx) if r.id.startswith(run_id)]
    if len(matches) != 1:
        found = "no run" if not matches else f"{len(matches)} runs"
        raise click.ClickException(
            f"{found} match '{run_id}' in {ctx.obj.runs_dir}; see `spo runs`"
        )
    click.echo(json.dumps(asdict(matches[0]), indent=2))
