"""`spo lab up|down|status`: the built-in lab of real Linux hosts."""

from __future__ import annotations

import json
import sys

import click

from spo import labctl


def _spec(ctx: click.Context) -> labctl.LabSpec:
    try:
        return labctl.load_spec(ctx.obj.inventory)
    except labctl.LabError as exc:
        raise click.ClickException(str(exc)) from exc


def _do(step) -> None:
    try:
        step()
    except labctl.LabError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def lab() -> None:
    """The built-in lab: podman containers with systemd, one per inventory host."""


@lab.command()
@click.pass_context
def up(ctx: click.Context) -> None:
    """Build the image if its recipe changed and start every lab host (idempotent)."""
    spec = _spec(ctx)
    _do(lambda: labctl.up(spec, click.echo))


@lab.command()
@click.pass_context
def seed(ctx: click.Context) -> None:
    """Load synthetic SIMRS data and a stand-in application into the lab."""
    from spo.playbook_command import run_and_report  # noqa: PLC0415

    run_and_report(ctx, "sample_data.yml", "lab seed")


@lab.command()
def image() -> None:
    """Build the lab image if its recipe changed; tag it localhost/spo-lab:current."""
    _do(lambda: labctl.ensure_image(click.echo))


@lab.command()
@click.pass_context
def down(ctx: click.Context) -> None:
    """Remove the lab's containers and network (the image stays cached)."""
    spec = _spec(ctx)
    _do(lambda: labctl.down(spec, click.echo))


@lab.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show each lab host's container and systemd state; exit 1 unless all run."""
    spec = _spec(ctx)
    rows = []
    _do(lambda: rows.extend(labctl.status(spec)))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        for row in rows:
            click.echo(
                f"{row['host']:<14} {row['container']:<22} {row['ip']:<15} "
                f"{row['state']:<10} systemd {row['systemd']}"
            )
    if any(row["systemd"] not in ("running", "degraded") for row in rows):
        sys.exit(1)
