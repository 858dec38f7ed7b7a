"""`spo report`: printable reports rendered from real records, in Indonesian or English,
as Markdown or printable HTML: the weekly checklist of backup results (S3.5), the restore
drills (S3.6), the restore checklist for the head of SIRS (S3.8) and the record of a planned
downtime window (S4.1-S4.5).

The weekly and drill reports read the hosts' history records with a playbook run (kept in the
audit trail, and named in the report's footer); the restore checklist reads the result of one
recorded `spo restore` run; the downtime record reads the window's recorded runs (notices and
downtime runs) in the runs directory; the quarterly report of the data bank (S0.4) reads the
storage host's survey of the quarter, the hosts' history and the troubleshooting log. What the
reports say is in report_render (report_downtime for the downtime record, report_quarterly for
the quarterly one) and templates/report.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import click

from spo import (
    change_log,
    history_data,
    quarter_data,
    report_archive,
    report_change,
    report_downtime,
    report_quarterly,
    report_render,
)
from spo.host_data import events_dir, task_results
from spo.records import RunRecord, read_records
from spo.site_vars import site_settings

RESTORE_TASK = "Restore the backup"  # the task of the restore playbook whose result is read
HISTORY_COMMAND = "report"  # the command name history_data.fetch records its run under
WEEK = re.compile(r"(?P<year>[0-9]{4})-?W(?P<week>[0-9]{2})")


class ReportError(click.ClickException):
    """Nothing to render the report from."""

    exit_code = 2


OUTPUT_OPTIONS = (
    click.option(
        "--lang",
        type=click.Choice(report_render.LANGS),
        default="id",
        show_default=True,
        help="Language of the report: id (Bahasa Indonesia) or en (English).",
    ),
    click.option(
        "--format",
        "fmt",
        type=click.Choice(report_render.FORMATS),
        default="md",
        show_default=True,
        help="md (Markdown) or html (printable, A4).",
    ),
    click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the report to this file instead of standard output.",
    ),
)


def output_options(command):
    """--lang, --format and --out, common to every report."""
    for option in reversed(OUTPUT_OPTIONS):
        command = option(command)
    return command


def emit(text: str, out: Path | None, kept: tuple[click.Context, str, str, str, str]) -> None:
    """Print or write the report, and keep a copy on record (report_archive); ``kept`` is
    (context, report kind, its subject, language, format)."""
    ctx, kind, subject, lang, fmt = kept
    report_archive.keep(ctx.obj.runs_dir, kind, subject, lang, fmt, text)
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    click.echo(f"report written to {out}", err=True)


def parse_week(_ctx, param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    """ "2026-W49" -> (2026, 49)."""
    if value is None:
        return None
    found = WEEK.fullmatch(value.strip())
    if found:
        year, week = int(found["year"]), int(found["week"])
        try:
            datetime.fromisocalendar(year, week, 1)
        except ValueError:
            pass
        else:
            return year, week
    raise click.BadParameter(
        f"{value!r} is not an ISO week: expected YYYY-Www, e.g. 2026-W49", param=param
    )


def week_bounds(year: int, week: int, tz: tzinfo) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) of an ISO week, in the site's time."""
    monday = datetime.fromisocalendar(year, week, 1).date()
    start = datetime(monday.year, monday.month, monday.day, tzinfo=tz)
    following = monday + timedelta(days=7)
    return start, datetime(following.year, following.month, following.day, tzinfo=tz)


def reading_run(runs_dir: Path, since: datetime) -> RunRecord | None:
    """The run that just read the history records: the last `report` run started since."""
    records, _ = read_records(runs_dir)
    floor = since.replace(microsecond=0)
    found = [
        r
        for r in records
        if r.command.split()[0] == HISTORY_COMMAND
        and (started := report_render.parse_time(r.started)) is not None
        and started >= floor
    ]
    return found[-1] if found else None


def read_history(ctx: click.Context, since: datetime, kinds: tuple[str, ...], host):
    """The hosts' records since ``since`` and the run that brought them (None if not found);
    the run is recorded as "report <the report's name>"."""
    asked = datetime.now(UTC)
    name = f"{HISTORY_COMMAND} {ctx.info_name}"
    records = history_data.fetch(ctx, since, kinds=kinds, host=host, name=name)
    return records, reading_run(ctx.obj.runs_dir, asked)


def hosts_of(run: RunRecord | None, records: list[dict]) -> tuple[str, ...]:
    if run is not None and run.hosts:
        return tuple(sorted(run.hosts))
    return tuple(sorted({r["host"] for r in records if r.get("host")}))


@click.group()
def report() -> None:
    """Printable reports from the records: weekly backup checklist (S3.5), restore drills
    (S3.6), restore checklist for the head of SIRS (S3.8), planned downtime record (S4),
    quarterly report of the unit data bank (S0.4), a database change's report (S3.9). In
    Bahasa Indonesia (default) or English, as Markdown or printable HTML."""


@report.command()
@click.option(
    "--week",
    callback=parse_week,
    metavar="YYYY-Www",
    help="ISO week, e.g. 2026-W49 (default: the current week in the site's time zone).",
)
@click.option("--host", help="Only this host (or group).")
@output_options
@click.pass_context
def weekly(ctx: click.Context, week, host, lang: str, fmt: str, out: Path | None) -> None:
    """Weekly checklist of backup results (S3.5): every backup of the week per host and
    source, manual and weekly full backups, monthly copies, restore drills and restores,
    with the sign-off fields of the paper form."""
    site, tz = site_settings(Path(ctx.obj.inventory))
    year, number = week or datetime.now(tz).isocalendar()[:2]
    start, end = week_bounds(year, number, tz)
    records, run = read_history(ctx, start, ("run", "calendar", "drill", "restore"), host)
    prov = report_render.Provenance(
        hosts=hosts_of(run, records),
        start=start,
        end=end,
        run_id=run.id if run else None,
        generated=datetime.now(UTC),
    )
    label = f"{year}-W{number:02d}"
    text = report_render.weekly(records, start, end, tz, lang, fmt, prov, label, site)
    emit(text, out, (ctx, "weekly", label, lang, fmt))


@report.command()
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="From this day (YYYY-MM-DD, site time); default: the last 7 days.",
)
@click.option("--host", help="Only this host (or group).")
@output_options
@click.pass_context
def drill(ctx: click.Context, since, host, lang: str, fmt: str, out: Path | None) -> None:
    """Restore drills (S3.6): the latest drill of each host and source, with the backup
    tested, where it came from, every check, the tables restored, RTO and RPO."""
    site, tz = site_settings(Path(ctx.obj.inventory))
    now = datetime.now(UTC)
    start = since.replace(tzinfo=tz) if since else now - timedelta(days=7)
    records, run = read_history(ctx, start, ("drill",), host)
    prov = report_render.Provenance(
        hosts=hosts_of(run, records),
        start=start,
        end=now,
        run_id=run.id if run else None,
        generated=now,
    )
    text = report_render.drill(records, start, now, tz, lang, fmt, prov, site)
    emit(text, out, (ctx, "drill", f"{start:%Y-%m-%d}", lang, fmt))


def find_run(runs_dir: Path, run_id: str) -> RunRecord:
    """One recorded run by its id or a unique prefix of it, like `spo runs show`."""
    records, problems = read_records(runs_dir)
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    exact = [r for r in records if r.id == run_id]
    matches = exact or [r for r in records if r.id.startswith(run_id)]
    if len(matches) != 1:
        found = "no run" if not matches else f"{len(matches)} runs"
        raise ReportError(f"{found} match '{run_id}' in {runs_dir}; see `spo runs`")
    return matches[0]


def restore_records(run: RunRecord) -> dict[str, dict]:
    """host -> the restore record in the result of the run's task "Restore the backup";
    ReportError when there is none."""
    results = task_results(run, RESTORE_TASK)
    found = {
        host: result.res["record"]
        for host, result in results.items()
        if isinstance(result.res.get("record"), dict)
        and result.res["record"].get("record", "restore") == "restore"
    }
    if found:
        return found
    why = [
        f"{host}: {result.event} {str(result.res.get('msg', '')).strip()}".rstrip()
        for host, result in sorted(results.items())
    ]
    raise ReportError(
        f"run {run.id} ({run.command}) has no restore record to report: expected the result "
        f'of the task "{RESTORE_TASK}" with a "record" (a `spo restore` run) in its events '
        f"under {events_dir(run)}"
        + (f"; the task ended without one on {'; '.join(why)}" if why else "; the task never ran")
    )


@report.command(name="restore")
@click.argument("run_id")
@output_options
@click.pass_context
def restore_(ctx: click.Context, run_id: str, lang: str, fmt: str, out: Path | None) -> None:
    """Restore checklist for the head of SIRS (S3.8) of one `spo restore` run (RUN_ID: its id
    or a unique prefix, see `spo runs`): who instructed it, the backup and its checksums, the
    safety backup, the row counts against the backup's manifest, the checks; with the
    sign-off fields and "Mengetahui: Kepala SIRS"."""
    run = find_run(ctx.obj.runs_dir, run_id)
    restores = restore_records(run)
    site, tz = site_settings(Path(ctx.obj.inventory))
    text = report_render.restore(restores, run, tz, lang, fmt, datetime.now(UTC), site)
    emit(text, out, (ctx, "restore", run.id, lang, fmt))


def parse_window(_ctx, param: click.Parameter, value: str) -> str:
    if report_downtime.WINDOW_ID.fullmatch(value.strip()):
        return value.strip()
    raise click.BadParameter(
        f"{value!r} is not a window: expected YYYY-MM, e.g. 2026-12 (see `spo downtime plan`)",
        param=param,
    )


@report.command(name="downtime")
@click.argument("window", callback=parse_window)
@output_options
@click.pass_context
def downtime_(ctx: click.Context, window: str, lang: str, fmt: str, out: Path | None) -> None:
    """Record of the planned downtime WINDOW (YYYY-MM, S4.1-S4.5), from its recorded runs:
    the window, every notice and who got it, and each downtime run (forced or not, measured
    downtime against the estimate, per host in order the backups, upgraded packages,
    restarts and health checks, and where it stopped), with the sign-off fields and
    "Mengetahui: Kepala IT"."""
    runs_dir = Path(ctx.obj.runs_dir)
    records, problems = read_records(runs_dir)
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    win = report_downtime.gather(records, window)
    if not win.notices and not win.runs:
        raise ReportError(
            f"no record of downtime window {window} in {runs_dir}: the records are the runs of "
            f"`spo downtime announce --window {window}` (the notices) and `spo downtime run "
            f"--window {window}` (the downtime itself); run them with this --runs-dir"
        )
    site, tz = site_settings(Path(ctx.obj.inventory))
    text = report_downtime.downtime(win, tz, lang, fmt, datetime.now(UTC), runs_dir, site)
    emit(text, out, (ctx, "downtime", window, lang, fmt))


@report.command()
@click.option(
    "--quarter",
    callback=quarter_data.parse_quarter,
    metavar="YYYY-Qn",
    help="The quarter, e.g. 2026-Q4 (default: the current quarter, up to now).",
)
@click.option("--host", default="storage_servers", show_default=True,
              help="The data bank's host (or group).")  # fmt: skip
@output_options
@click.pass_context
def quarterly(ctx: click.Context, quarter, host: str, lang: str, fmt: str, out) -> None:
    """Quarterly report of the unit data bank (S0.4): storage per unit and free space, the
    device's health, security (failed logins, refused accesses, account changes), integrity
    checks, backups, and the troubleshooting log (`spo incident`), with sign-off fields."""
    site, tz = site_settings(Path(ctx.obj.inventory))
    now = datetime.now(UTC)
    year, number = quarter or quarter_data.current(now.astimezone(tz))
    start, end = quarter_data.bounds(year, number, tz)
    if start > now:
        raise ReportError(f"{year}-Q{number} has not begun: name a quarter up to this one")
    until = min(end, now)
    surveys = quarter_data.surveys(ctx, start, until, host)
    records, run = read_history(ctx, start, ("integrity", "run"), None)
    records = [r for r in records if report_render.within(r, start, until)]
    incidents = quarter_data.incidents(Path(ctx.obj.inventory), start, until)
    prov = report_render.Provenance(
        hosts=tuple(sorted(set(surveys) | set(hosts_of(run, records)))),
        start=start,
        end=until,
        run_id=run.id if run else None,
        generated=now,
    )
    label = f"{year}-Q{number}"
    text = report_quarterly.quarterly(surveys, records, incidents, start, until, tz, lang, fmt,
                                      prov, label, site)  # fmt: skip
    emit(text, out, (ctx, "quarterly", label, lang, fmt))


@report.command(name="change")
@click.argument("change_id")
@output_options
@click.pass_context
def change_(ctx: click.Context, change_id: str, lang: str, fmt: str, out: Path | None) -> None:
    """Report of one database change (S3.9; CHANGE_ID: its id or a unique prefix, see `spo
    change list`): the request and its SQL, every approval of the chain in order, the
    pre-change backup, the statements with their rows, the result; with sign-off fields."""
    inventory = Path(ctx.obj.inventory)
    try:
        found = change_log.find(inventory, change_id)
    except change_log.ChangeError as exc:
        raise ReportError(str(exc)) from None
    site, tz = site_settings(inventory)
    text = report_change.report(found, tz, lang, fmt, datetime.now(UTC), site)
    emit(text, out, (ctx, "change", found.request.id, lang, fmt))
