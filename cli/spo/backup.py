"""`spo backup ...`: backups on the hosts."""

from __future__ import annotations

import dataclasses

import click

from spo.playbook_command import run_and_report
from spo.runner import operator

# Kinds an operator may start by hand; the calendar kinds come from their own jobs.
ON_DEMAND_KINDS = ("manual", "automatic", "pre-change")


@click.group()
def backup() -> None:
    """Backups on the hosts (S1, S2)."""


@backup.command()
@click.option("--host", "host", required=True, help="Host (or group) to back up.")
@click.option("--source", "sources", multiple=True, help="Only this source; repeat for more.")
@click.option("--kind", type=click.Choice(ON_DEMAND_KINDS), default="manual", show_default=True)
@click.option("--reason", default="on demand", show_default=True, help="Why, for the record.")
@click.pass_context
def now(ctx: click.Context, host: str, sources: tuple[str, ...], kind: str, reason: str) -> None:
    """Back up now: the host's own pipeline, the same as its cron job runs."""
    ctx.obj = dataclasses.replace(ctx.obj, limit=host)
    extravars = {
        "backup_now_sources": list(sources),
        "backup_now_kind": kind,
        "backup_now_by": f"spo backup now ({operator()})",
        "backup_now_reason": reason,
    }
    run_and_report(ctx, "backup_now.yml", f"backup now {host}", extravars)
