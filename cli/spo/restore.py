"""`spo restore`: restores on the instruction of the head of SIRS (S3.7).

For now one kind: PostgreSQL point-in-time recovery from the pgBackRest repository into a
scratch instance on the mirror host, never into a live database. The playbook does the
work; this command checks the time and records who asked for it and why.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime

import click

from spo.archive import not_blank
from spo.playbook_command import run_and_report
from spo.runner import operator

PITR_PLAYBOOK = "restore_pitr.yml"
# "YYYY-MM-DD HH:MM[:SS]", then optionally a UTC offset "+HH[:MM]" or "-HH[:MM]".
POINT_IN_TIME = re.compile(
    r"(?P<minute>[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2})(?::(?P<second>[0-9]{2}))?"
    r"(?: ?(?P<sign>[+-])(?P<hours>0[0-9]|1[0-4])(?::(?P<minutes>[0-5][0-9]))?)?"
)
EXAMPLES = '"2025-01-04 13:45", "2025-01-04 13:45:30" or "2025-01-04 13:45:30+07:00"'


def point_in_time(_ctx, param: click.Parameter, value: str) -> str:
    """The time as "YYYY-MM-DD HH:MM:SS", with "+HH:MM" when an offset was given; without one
    the playbook reads it in the site's time zone."""
    found = POINT_IN_TIME.fullmatch(value.strip())
    if found:
        moment = f"{found['minute']}:{found['second'] or '00'}"
        if found["sign"]:
            moment += f"{found['sign']}{found['hours']}:{found['minutes'] or '00'}"
        try:
            datetime.fromisoformat(moment)  # a real date and time of day
        except ValueError:
            pass
        else:
            return moment
    raise click.BadParameter(
        f"{value!r} is not a time: expected YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS in the "
        f"site's time zone, optionally followed by a UTC offset (+07:00 or +07), "
        f"e.g. {EXAMPLES}",
        param=param,
    )


@click.command()
@click.option(
    "--point-in-time",
    "pitr_time",
    required=True,
    callback=point_in_time,
    help="Recover PostgreSQL as it was at this time: YYYY-MM-DD HH:MM[:SS] in the site's "
    "time zone, or with a UTC offset (+07:00). Required for now: it is the only kind of "
    "restore this command does yet.",
)
@click.option(
    "--instructed-by",
    required=True,
    callback=not_blank,
    help="Who instructed the restore (the head of SIRS, S3.7).",
)
@click.option("--reason", callback=not_blank, help="Why, for the record.")
@click.option(
    "--host",
    default="mirror_servers",
    show_default=True,
    help="The mirror host (or group) to recover on.",
)
@click.pass_context
def restore(ctx: click.Context, pitr_time: str, instructed_by: str, reason, host: str) -> None:
    """Restore on the instruction of the head of SIRS (S3.7).

    For now PostgreSQL point-in-time recovery only, so --point-in-time is required: the
    databases as they were at that time are recovered from the pgBackRest repository (a full
    backup and the archived WAL) into a scratch instance on the mirror host; the live
    databases are never touched. Recorded with your name, who instructed it and why.
    """
    ctx.obj = dataclasses.replace(ctx.obj, limit=host)
    extravars = {
        "pitr_time": pitr_time,
        "pitr_by": operator(),
        "pitr_instructed_by": instructed_by,
        "pitr_reason": reason or "",
    }
    run_and_report(ctx, PITR_PLAYBOOK, f"restore point-in-time {pitr_time}", extravars)
