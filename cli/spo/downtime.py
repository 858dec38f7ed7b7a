"""`spo downtime`: the planned server downtime of April, July and December (S4.1-S4.5).

`plan` shows the coming windows from the inventory's calendar; `announce` tells every
department (S4.2) through the notifier host, by email and webhook, in Indonesian and English,
and the run keeps who was told and when. The calendar is computed here, once, so the plan and
the notices say the same date.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from spo import downtime_calendar as cal
from spo.archive import not_blank
from spo.host_data import events, task_results
from spo.inventory.loader import load_inventory
from spo.playbook_command import summarize
from spo.runner import operator, run_playbook
from spo.site_vars import site_settings

ANNOUNCE_PLAYBOOK = "downtime_announce.yml"
RUN_PLAYBOOK = "downtime_run.yml"
NOTICE_TASK = "Send the notice"  # the task's name in the playbook
DAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


@dataclasses.dataclass(frozen=True)
class Site:
    policy: cal.Policy
    variables: dict  # group all's merged variables
    order: list[tuple[str, list[str]]]  # (group, its hosts) in the order they go down


def site(inventory: Path) -> Site:
    """The calendar, the departments and the host order of the inventory, or a usage error
    naming the key to fix."""
    loaded = load_inventory(inventory)
    found = loaded.merged_vars()
    _, tz = site_settings(inventory)
    try:
        policy = cal.Policy.from_vars(found, tz)
    except cal.CalendarError as exc:
        raise click.UsageError(f"{inventory}: {exc}") from None
    order = []
    for group in found.get("spo_downtime_order") or []:
        if group not in loaded.groups:
            raise click.UsageError(
                f"{inventory}: spo_downtime_order names the group {group!r}, which hosts.yml "
                f"does not have: use some of {', '.join(sorted(loaded.named_groups()))}"
            )
        order.append((group, sorted(loaded.groups[group].hosts)))
    return Site(policy, dict(found), order)


def window_facts(here: Site, win: cal.Window) -> dict:
    """The window as every notice and record carries it."""
    return {
        "id": win.id,
        "start": win.start.isoformat(),
        "estimate_min": win.estimate_min,
        "estimate_max": win.estimate_max,
        "services": list(here.variables.get("spo_downtime_services") or []),
        "hosts": [host for _group, hosts in here.order for host in hosts],
    }


def chosen(here: Site, window_id: str) -> cal.Window:
    try:
        return cal.window(here.policy, window_id)
    except cal.CalendarError as exc:
        raise click.BadParameter(str(exc), param_hint="--window") from None


@click.group()
def downtime() -> None:
    """Planned server downtime in April, July and December (S4)."""


@downtime.command()
@click.option("--count", type=click.IntRange(1, 12), default=3, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the windows as JSON.")
@click.pass_context
def plan(ctx: click.Context, count: int, as_json: bool) -> None:
    """The coming downtime windows: date, time, estimate, hosts in order (S4.1)."""
    here = site(Path(ctx.obj.inventory))
    windows = cal.upcoming(here.policy, datetime.now(UTC), count)
    if as_json:
        click.echo(json.dumps([window_facts(here, w) for w in windows], indent=2))
        return
    for win in windows:
        day = f"{DAYS_ID[win.start.weekday()]} / {win.start:%A}"
        click.echo(
            f"{win.id}  {win.start:%Y-%m-%d} ({day})  {win.start:%H:%M}-{win.end:%H:%M} "
            f"{win.start:%z}  estimate {win.estimate_min}-{win.estimate_max} min"
        )
        for number, (group, hosts) in enumerate(here.order, 1):
            click.echo(f"    {number}. {group}: {', '.join(hosts) or '(no hosts)'}")
    departments = here.variables.get("spo_departments") or []
    click.echo(f"told beforehand (S4.2): {', '.join(d['name'] for d in departments) or 'nobody'}")


@downtime.command()
@click.option(
    "--window", "window_id", required=True, help="The window, YYYY-MM (spo downtime plan)."
)
@click.option("--starting-now", is_flag=True, help="Send the 'starting now' notice instead.")
@click.option("--notifier", default="mirror_servers", show_default=True,
              help="Host (or group: its first host) that sends the notices.")  # fmt: skip
@click.pass_context
def announce(ctx: click.Context, window_id: str, starting_now: bool, notifier: str) -> None:
    """Tell every department of the window (S4.2), by email and webhook, in both languages."""
    here = site(Path(ctx.obj.inventory))
    win = chosen(here, window_id)
    departments = here.variables.get("spo_departments") or []
    if not departments:
        raise click.UsageError("spo_departments is empty: nobody to tell (S4.2)")
    kind = "starting" if starting_now else "announce"
    send(ctx, notifier, kind, window_facts(here, win), departments)


def send(
    ctx, notifier: str, kind: str, window: dict, departments: list, error: str = "", reason=""
) -> None:
    """Run the notice playbook; print one line per delivery; exit non-zero on a failed run."""
    ctx.obj = dataclasses.replace(ctx.obj, limit=notifier)
    extravars = {
        "downtime_notifier": notifier,
        "downtime_kind": kind,
        "downtime_window": window,
        "downtime_departments": departments,
        "downtime_by": operator(),
        "downtime_error": error,
        "downtime_reason": reason or "",
    }
    run = run_playbook(ctx.obj, ANNOUNCE_PLAYBOOK, f"downtime {kind} {window['id']}", extravars)
    for _host, result in sorted(task_results(run, NOTICE_TASK).items()):
        for d in result.res.get("deliveries", []):
            state = "delivered" if d["delivered"] else f"NOT delivered: {d['error']}"
            click.echo(f"{d['department']}: {d['channel']} {d.get('to') or ''}: {state}")
    summarize(run)
    if not run.ok:
        sys.exit(2 if run.hosts else 1)


@downtime.command(name="run")
@click.option(
    "--window", "window_id", required=True, help="The window, YYYY-MM (spo downtime plan)."
)
@click.option("--force", is_flag=True, help="Run outside the window (needs --reason).")
@click.option("--reason", callback=not_blank, help="Why, for the record (required with --force).")
@click.option("--notifier", default="mirror_servers", show_default=True,
              help="Host (or group: its first host) that sends the notices.")  # fmt: skip
@click.pass_context
def run_window(ctx: click.Context, window_id: str, force: bool, reason, notifier: str) -> None:
    """Run the planned downtime (S4.3, S4.4): checks, backups, update and restart host by host.

    Refused outside the window unless --force --reason. The departments are told it starts;
    any failure stops the run, leaves the remaining hosts untouched and tells IT; only a run
    that passed every check ends with the "back in service" notice (S4.5).
    """
    here = site(Path(ctx.obj.inventory))
    win = chosen(here, window_id)
    now = datetime.now(UTC)
    if not cal.inside(here.policy, win, now) and not force:
        opens = win.start - timedelta(minutes=here.policy.early_minutes)
        closes = win.end + timedelta(minutes=here.policy.late_minutes)
        raise click.UsageError(
            f"now ({now.astimezone(win.start.tzinfo):%Y-%m-%d %H:%M}) is outside window {win.id}: "
            f"a run may start from {opens:%Y-%m-%d %H:%M} to {closes:%H:%M} {win.start:%z}. "
            "Wait for the window, or give --force --reason WHY (recorded)"
        )
    if force and not reason:
        raise click.UsageError("--force needs --reason: why the downtime runs outside its window")
    facts = window_facts(here, win)
    departments = here.variables.get("spo_departments") or []
    rehearsal = ctx.obj.check  # check mode: every step says what it would do; nobody is told
    if not rehearsal:
        send(ctx, notifier, "starting", facts, departments, reason=reason)
    clock = time.monotonic()
    ctx.obj = dataclasses.replace(ctx.obj, limit=None)
    extravars = {
        "downtime_window": facts,
        "downtime_hosts": facts["hosts"],
        "downtime_by": f"spo downtime run ({operator()})",
        "downtime_reason": reason or "",
    }
    record = run_playbook(ctx.obj, RUN_PLAYBOOK, f"downtime run {win.id}", extravars)
    summarize(record)
    minutes = round((time.monotonic() - clock) / 60, 1)
    if rehearsal:
        click.echo("check mode: nothing was changed and nobody was told")
        sys.exit(0 if record.ok else 1)
    if record.ok:
        click.echo(f"downtime {minutes} min (estimate {win.estimate_min}-{win.estimate_max} min)")
        done = {**facts, "measured_minutes": minutes}
        send(ctx, notifier, "back-in-service", done, departments, reason=reason)
        return
    failed = "; ".join(failures(record)) or f"run {record.id} failed"
    send(ctx, notifier, "failed", facts, [], error=failed, reason=reason)
    click.echo(f"STOPPED: {failed}; IT was told, the departments were not told it is back")
    sys.exit(1)


@downtime.command()
@click.option("--window", "window_id", required=True, help="The window, YYYY-MM.")
@click.option("--minutes", type=click.FloatRange(0), help="The measured downtime, for the notice.")
@click.option("--notifier", default="mirror_servers", show_default=True)
@click.pass_context
def finish(ctx: click.Context, window_id: str, minutes, notifier: str) -> None:
    """Tell every department the systems are back in service (S4.5), after a downtime that
    was finished by hand."""
    here = site(Path(ctx.obj.inventory))
    facts = window_facts(here, chosen(here, window_id))
    if minutes is not None:
        facts["measured_minutes"] = minutes
    send(ctx, notifier, "back-in-service", facts, here.variables.get("spo_departments") or [])


def failures(record) -> list[str]:
    """Each failed task of a run as "host: task: message", from its recorded events."""
    found = []
    for event in events(record):
        data = event.get("event_data") or {}
        if event.get("event") in ("runner_on_failed", "runner_on_unreachable"):
            res = data.get("res") if isinstance(data.get("res"), dict) else {}
            found.append(f"{data.get('host')}: {data.get('task')}: {res.get('msg', '')}".strip())
    return found
