"""`spo backup ...`: backups on the hosts."""

from __future__ import annotations

import dataclasses
import json
import sys

import click

from spo import backup_views, tables
from spo.playbook_command import read_task_results, run_and_report
from spo.runner import operator

INFO_PLAYBOOK = "backup_info.yml"
INFO_TASK = "Read the backup catalog and status"  # the task's name in the playbook

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


@backup.command()
@click.option("--host", "host", required=True, help="Host whose sources to back up.")
@click.option(
    "--to",
    "to",
    required=True,
    help="Mount point (or a folder on it) of the external disk, flash disk or share, on the host.",
)
@click.option("--source", "sources", multiple=True, help="Only this source; repeat for more.")
@click.option("--reason", default="manual backup (S1.3)", show_default=True)
@click.pass_context
def manual(ctx: click.Context, host: str, to: str, sources: tuple[str, ...], reason: str) -> None:
    """Manual backup onto outside media mounted on the host (S1.3).

    The folder must be on another disk than the host's system disk and backup folder, so an
    unplugged disk is refused instead of filling the server. Recorded with your name.
    """
    ctx.obj = dataclasses.replace(ctx.obj, limit=host)
    extravars = {
        "backup_now_sources": list(sources),
        "backup_now_kind": "manual",
        "backup_now_by": operator(),
        "backup_now_reason": reason,
        "backup_now_to": to,
    }
    run_and_report(ctx, "backup_now.yml", f"backup manual {host} {to}", extravars)


def _read_hosts(ctx: click.Context, host: str | None, name: str) -> dict[str, dict]:
    """host -> backup_info result, or exit on a failed run."""
    return read_task_results(ctx, INFO_PLAYBOOK, INFO_TASK, name, host)


@backup.command(name="list")
@click.option("--host", help="Only this host (or group).")
@click.option("--source", help="Only this source.")
@click.option("--kind", help="Only this kind (automatic, manual, weekly-full, ...).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def list_(ctx: click.Context, host, source, kind, as_json: bool) -> None:
    """Every backup of the hosts from their manifests: time, kind, size, duration, verified,
    and where its copies are (local, weekly, offsite, monthly targets)."""
    results = _read_hosts(ctx, host, "backup list")
    rows = backup_views.catalog_rows(results, source, kind)
    problems = backup_views.unreadable_places(results)
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(r) for r in rows], indent=2))
    else:
        click.echo(tables.render(backup_views.CATALOG_COLUMNS, rows))
        click.echo(f"\n{len(rows)} backup(s)")
    for absent in backup_views.unreadable_places(results, optional=True):
        click.echo(f"not plugged in: {absent}", err=True)
    for problem in problems:
        click.echo(f"not readable: {problem}", err=True)
    if problems:
        sys.exit(1)


@backup.command()
@click.option("--host", help="Only this host (or group).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def status(ctx: click.Context, host, as_json: bool) -> None:
    """Per source the last automatic, weekly, monthly and manual backup; a manual backup older
    than the policy is flagged and makes the exit status 1 (S1.3)."""
    results = _read_hosts(ctx, host, "backup status")
    rows, limit = backup_views.status_rows(results)
    if as_json:
        click.echo(json.dumps({h: r["status"] for h, r in results.items()}, indent=2))
    else:
        click.echo(tables.render(backup_views.STATUS_COLUMNS, rows))
    overdue = [f"{r.host}/{r.source}" for r in rows if r.overdue]
    if overdue:
        click.echo(
            f"\nbackup manual terlambat / manual backup overdue (> {limit} days): "
            + ", ".join(overdue),
            err=True,
        )
        sys.exit(1)
