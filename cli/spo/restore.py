"""`spo restore`: restores on the instruction of the head of SIRS (S3.7).

Two kinds. From the host's own backups (S2.3, S2.4): a database, fully or chosen schemas or
tables, or program files, into another target or, with --into-production, into production
after a safety backup; the host's engine does it and keeps the record that `spo report
restore RUN` renders (S3.8). And PostgreSQL point-in-time recovery from the pgBackRest
repository into a scratch instance on the mirror host, never into a live database.
This command checks what it can here and records who asked for it and why.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from datetime import datetime

import click

from spo.archive import not_blank
from spo.host_data import task_results
from spo.playbook_command import run_and_report, summarize
from spo.runner import operator, run_playbook

PITR_PLAYBOOK = "restore_pitr.yml"
RESTORE_PLAYBOOK = "restore.yml"
RESTORE_TASK = "Restore the backup"  # the task's name in the playbook

# "YYYY-MM-DD HH:MM[:SS]", then optionally a UTC offset "+HH[:MM]" or "-HH[:MM]".
POINT_IN_TIME = re.compile(
    r"(?P<minute>[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2})(?::(?P<second>[0-9]{2}))?"
    r"(?: ?(?P<sign>[+-])(?P<hours>0[0-9]|1[0-4])(?::(?P<minutes>[0-5][0-9]))?)?"
)
EXAMPLES = '"2025-01-04 13:45", "2025-01-04 13:45:30" or "2025-01-04 13:45:30+07:00"'


def point_in_time(_ctx, param: click.Parameter, value: str | None) -> str | None:
    """The time as "YYYY-MM-DD HH:MM:SS", with "+HH:MM" when an offset was given; without one
    the playbook reads it in the site's time zone."""
    if value is None:
        return None
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
    "--host",
    help="The host whose backup to restore; for --point-in-time the mirror "
    "host (default: mirror_servers).",
)
@click.option("--source", help="The source to restore (its name in the host's backup sources).")
@click.option(
    "--backup", "backup_name", help="This backup folder; default the newest that verifies."
)
@click.option("--to-database", help="Restore into this database instead of the source's own.")
@click.option("--to-path", help="Restore program files to this folder instead of their own.")
@click.option("--table", "tables", multiple=True, help="Only this table; repeat for more.")
@click.option("--schema", "schemas", multiple=True, help="Only this PostgreSQL schema; repeat.")
@click.option(
    "--into-production",
    is_flag=True,
    help="Replace the source's own (production) database or folder; a safety backup of it is "
    "made first. Without this flag such a restore is refused.",
)
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option(
    "--point-in-time",
    "pitr_time",
    callback=point_in_time,
    help="Instead: recover PostgreSQL as it was at this time (YYYY-MM-DD HH:MM[:SS] in the "
    "site's time zone, or with a UTC offset +07:00) into a scratch instance on the mirror host.",
)
@click.option(
    "--instructed-by",
    required=True,
    callback=not_blank,
    help="Who instructed the restore (the head of SIRS, S3.7).",
)
@click.option("--reason", callback=not_blank, help="Why, for the record.")
@click.pass_context
def restore(ctx: click.Context, host, source, pitr_time, instructed_by, reason, **choice) -> None:
    """Restore on the instruction of the head of SIRS (S3.7).

    \b
    spo restore --host simrs-db --source simrs --to-database simrs_check --table pasien ...
    spo restore --host simrs-app --source app --into-production --instructed-by ... --reason ...
    spo restore --point-in-time "2026-07-04 10:15" --instructed-by ...

    Every restore is recorded on the host with your name, who instructed it and why;
    `spo report restore RUN` prints its checklist for the head of SIRS (S3.8).
    """
    if pitr_time:
        if source or choice != _NO_CHOICE:
            raise click.UsageError(
                "--point-in-time recovers whole clusters: give no --source, "
                "--backup, --to-*, --table, --schema or --into-production"
            )
        _point_in_time(ctx, pitr_time, instructed_by, reason, host or "mirror_servers")
        return
    if not host or not source:
        raise click.UsageError("give --host and --source (or --point-in-time)")
    if choice["to_database"] and choice["to_path"]:
        raise click.UsageError("--to-database and --to-path exclude each other")
    if choice["into_production"] and (choice["to_database"] or choice["to_path"]):
        raise click.UsageError(
            "--into-production restores into the source's own target: "
            "leave out --to-database/--to-path"
        )
    _from_backup(ctx, host, source, instructed_by, reason, choice)


_NO_CHOICE = {
    "backup_name": None,
    "to_database": None,
    "to_path": None,
    "tables": (),
    "schemas": (),
    "into_production": False,
    "jobs": 1,
}


def _from_backup(ctx, host: str, source: str, instructed_by: str, reason, choice: dict) -> None:
    ctx.obj = dataclasses.replace(ctx.obj, limit=host)
    extravars = {
        "restore_source": source,
        "restore_backup": choice["backup_name"] or "",
        "restore_to_database": choice["to_database"] or "",
        "restore_to_path": choice["to_path"] or "",
        "restore_tables": list(choice["tables"]),
        "restore_schemas": list(choice["schemas"]),
        "restore_into_production": choice["into_production"],
        "restore_jobs": choice["jobs"],
        "restore_instructed_by": instructed_by,
        "restore_by": operator(),
        "restore_reason": reason or "",
    }
    run = run_playbook(
        ctx.obj, RESTORE_PLAYBOOK, command=f"restore {host} {source}", extravars=extravars
    )
    for name, result in sorted(task_results(run, RESTORE_TASK).items()):
        record = result.res.get("record") or {}
        click.echo(
            f"{name}: {record.get('result', 'not run')}: {record.get('backup')} -> "
            f"{record.get('target')}"
        )
        if record.get("safety_backup"):
            click.echo(f"  safety backup first: {record['safety_backup']}")
        if record.get("error"):
            click.echo(f"  {record['error']}")
    summarize(run)
    click.echo(f"checklist: spo report restore {run.id}")
    if not run.ok:
        sys.exit(2 if run.hosts else 1)


def _point_in_time(ctx, pitr_time: str, instructed_by: str, reason, host: str) -> None:
    """The databases as they were at that time are recovered from the pgBackRest repository
    (a full backup and the archived WAL) into a scratch instance on the mirror host."""
    ctx.obj = dataclasses.replace(ctx.obj, limit=host)
    extravars = {
        "pitr_time": pitr_time,
        "pitr_by": operator(),
        "pitr_instructed_by": instructed_by,
        "pitr_reason": reason or "",
    }
    run_and_report(ctx, PITR_PLAYBOOK, f"restore point-in-time {pitr_time}", extravars)
