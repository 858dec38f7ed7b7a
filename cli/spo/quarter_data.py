"""What `spo report quarterly` renders from (S0.4): the quarter's bounds, the storage host's
survey of it (a playbook run kept in the audit trail like every run), and the incidents of
the troubleshooting log open during it."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from pathlib import Path

import click

from spo import incident_log
from spo.playbook_command import read_task_results
from spo.report_render import parse_time

PLAYBOOK = "databank_survey.yml"
TASK = "Read the data bank's figures and security events"
COMMAND = "report quarterly"  # the name the survey run is recorded under
QUARTER = re.compile(r"(?P<year>[0-9]{4})-?Q(?P<quarter>[1-4])", re.IGNORECASE)


def parse_quarter(_ctx, param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    """ "2026-Q4" -> (2026, 4)."""
    if value is None:
        return None
    found = QUARTER.fullmatch(value.strip())
    if found is None:
        raise click.BadParameter(
            f"{value!r} is not a quarter: expected YYYY-Qn, e.g. 2026-Q4", param=param
        )
    return int(found["year"]), int(found["quarter"])


def current(now: datetime) -> tuple[int, int]:
    return now.year, (now.month - 1) // 3 + 1


def bounds(year: int, quarter: int, tz: tzinfo) -> tuple[datetime, datetime]:
    """[first day 00:00, first day of the next quarter 00:00) in the site's time."""
    start = datetime(year, 3 * quarter - 2, 1, tzinfo=tz)
    end = (
        datetime(year + 1, 1, 1, tzinfo=tz)
        if quarter == 4
        else datetime(year, 3 * quarter + 1, 1, tzinfo=tz)
    )
    return start, end


def surveys(ctx: click.Context, since: datetime, until: datetime, host: str) -> dict[str, dict]:
    """Storage host -> its survey of [since, until)."""
    extravars = {"databank_since": since.isoformat(), "databank_until": until.isoformat()}
    results = read_task_results(ctx, PLAYBOOK, TASK, COMMAND, host, extravars=extravars)
    return {name: res["survey"] for name, res in results.items() if "survey" in res}


def incidents(inventory: Path, start: datetime, end: datetime) -> list[incident_log.Incident]:
    """Incidents opened before the end and not resolved before the start, oldest first;
    a damaged record of the log is said on stderr, not skipped in silence."""
    found, findings = incident_log.read_log(inventory)
    for finding in findings:
        click.echo(f"warning: {finding}", err=True)

    kept = []
    for incident in found:
        opened = parse_time(incident.opened.opened_at)
        resolved = parse_time(incident.resolved.resolved_at) if incident.resolved else None
        if opened is not None and opened < end and (resolved is None or resolved >= start):
            kept.append(incident)
    return sorted(kept, key=lambda i: i.opened.opened_at)
