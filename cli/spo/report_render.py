"""Printable reports rendered from records (pure functions: records in, text out; no Ansible,
no click): the weekly checklist of backup results (S3.5), the restore drills (S3.6) and the
restore checklist for the head of SIRS (S3.8).

Each builder fills a ``Document`` with texts already in the chosen language; the two templates
in templates/report (Markdown and HTML) lay out any document, whatever the report or language.
Every text of both languages is in templates/report/texts.yml, side by side.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import jinja2
import yaml

from spo.backup_views import size as _size

TEMPLATES = Path(__file__).parent / "templates" / "report"
LANGS = ("id", "en")
FORMATS = ("md", "html")
OK, FAIL, NA = "\u2714", "\u2718", "\u2013"  # check mark, ballot x, en dash
DASH = " \u2013 "  # between the two ends of a period
BLANK = "______________"  # room to write on the printed form

# Checks of a restore record that belong to an item of the restore checklist, by the names
# the engine gives them (module_utils/spo_backup/restore_run.py; "checksums" and "identity"
# as drills name them). Any other check (integrity, an application or service check) gets an
# item of its own.
VERIFIED = ("verified", "checksums", "identity")
RESTORED, SAFETY, ROWS, FILES = "restore", "safety backup", "row counts", "files"


# -- texts ---------------------------------------------------------------------------------


@functools.cache
def catalogue() -> dict[str, dict[str, str]]:
    """key -> {"id": ..., "en": ...}: every text of the reports."""
    return yaml.safe_load((TEMPLATES / "texts.yml").read_text(encoding="utf-8"))


class Texts:
    """The texts of one language: ``t("key", name=value)``."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGS:
            raise ValueError(f"language {lang!r}: expected one of {', '.join(LANGS)}")
        self.lang = lang

    def __call__(self, key: str, **values: object) -> str:
        text = catalogue()[key][self.lang]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in catalogue()

    def word(self, prefix: str, value: object) -> str:
        """The translated word for a value (a kind, a job, a result), else the value itself."""
        key = f"{prefix}_{value}"
        return self(key) if self.has(key) else str(value if value not in (None, "") else "-")


# -- values --------------------------------------------------------------------------------


def parse_time(value: object) -> datetime | None:
    """An engine time ("2026-12-05T05:00:01.123Z") as an aware datetime; None if it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def clock(value: datetime | str | None, tz: tzinfo) -> str:
    """A time as the site reads it: "YYYY-MM-DD HH:MM" in its local time zone."""
    moment = parse_time(value) if not isinstance(value, datetime) else value
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else "-"


def zone_label(tz: tzinfo, moment: datetime) -> str:
    """The zone the times are in, as "Asia/Jakarta, UTC+07:00"."""
    local = moment.astimezone(tz)
    offset = local.strftime("%z")
    name = getattr(tz, "key", None) or local.tzname() or ""
    utc = f"UTC{offset[:3]}:{offset[3:]}"
    return utc if name in ("", utc) else f"{name}, {utc}"


def size(count: object) -> str:
    return _size(count) if isinstance(count, int | float) else "-"


def duration(seconds: object, t: Texts) -> str:
    """Seconds in the largest two units: "42 s", "3 min 12 s", "5 h 3 min", "2 d 4 h"."""
    if not isinstance(seconds, int | float):
        return "-"
    if seconds < 60:
        shown = f"{seconds:.1f}" if seconds < 10 and seconds != int(seconds) else f"{seconds:.0f}"
        return f"{shown} {t('unit_s')}"
    rest = round(seconds)
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "unit_d"), (hours, "unit_h"), (minutes, "unit_min"), (secs, "unit_s")]
    first = next(i for i, (n, _) in enumerate(parts) if n)
    return " ".join(f"{n} {t(unit)}" for n, unit in parts[first : first + 2] if n)


def columns(t: Texts, *keys: str) -> list[str]:
    return [t(f"col_{key}") for key in keys]


def mark(ok: bool | None) -> str:
    return NA if ok is None else OK if ok else FAIL


def result(value: object, t: Texts) -> str:
    """A record's result with its mark: "\u2714 berhasil", "\u2718 GAGAL"."""
    ok = True if value == "ok" else None if value in ("pending", None, "") else False
    return f"{mark(ok)} {t.word('result', value)}"


def yes_no(value: object, t: Texts) -> str:
    return t("answer_yes") if value else t("answer_no")


def names(values: Iterable[object]) -> str:
    return ", ".join(str(v) for v in values) or "-"


def text(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


# -- the document --------------------------------------------------------------------------


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    empty: str = ""  # said instead of the table when it has no rows
    caption: str = ""


@dataclass
class Section:
    title: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    note: str = ""


@dataclass
class Signer:
    role: str
    name: str = ""


@dataclass
class Document:
    lang: str
    title: str
    site: str
    subtitle: str
    fields: list[tuple[str, str]]
    sections: list[Section]
    signers: list[Signer]
    labels: dict[str, str]  # the sign-off block's headings
    footer: list[str]
    notice: str = ""  # a sentence above everything (an empty week, a failed restore)
    verdict: str = ""


@dataclass(frozen=True)
class Provenance:
    """Where a report's records came from, for its footer."""

    hosts: tuple[str, ...]
    start: datetime | None
    end: datetime | None
    run_id: str | None
    generated: datetime


def _md_cell(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_row(cells: Iterable[object]) -> str:
    """One row of a Markdown table: "| a | b |"."""
    return "| " + " | ".join(_md_cell(c) for c in cells) + " |"


def _md_rule(cells: Iterable[object]) -> str:
    """The line under a Markdown table's heading."""
    return "|" + "|".join(" --- " for _ in cells) + "|"


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html.j2"], default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=_md_cell, mdrow=_md_row, mdrule=_md_rule)
    env.globals.update(OK=OK, FAIL=FAIL, BLANK=BLANK)
    return env


def render(doc: Document, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return _environment().get_template(f"report.{fmt}.j2").render(doc=doc)


def signoff_labels(t: Texts) -> dict[str, str]:
    return {
        "title": t("signoff"),
        "name": t("signoff_name"),
        "date": t("signoff_date"),
        "signature": t("signoff_signature"),
    }


def history_footer(t: Texts, prov: Provenance, tz: tzinfo, count: int) -> list[str]:
    """Which records a report was rendered from (hosts, time range, run), and when."""
    start, end = clock(prov.start, tz), clock(prov.end, tz)
    return [
        t("footer_history", hosts=names(prov.hosts), start=start, end=end, count=count),
        t("footer_run", run=prov.run_id) if prov.run_id else t("footer_no_run"),
        t("footer_generated", when=clock(prov.generated, tz), zone=zone_label(tz, prov.generated)),
    ]


def site_of(records: Iterable[dict], site: str | None) -> str:
    return next((r["site"] for r in records if r.get("site")), None) or site or "-"


def within(record: dict, start: datetime | None, end: datetime | None) -> bool:
    moment = parse_time(record.get("time"))
    if moment is None:
        return False
    return (start is None or moment >= start) and (end is None or moment < end)


def _weekday(moment: object, tz: tzinfo, t: Texts) -> str:
    when = parse_time(moment)
    if when is None:
        return "-"
    return f"{clock(when, tz)} ({t('weekdays').split(',')[when.astimezone(tz).weekday()]})"


# -- weekly (S3.5) -------------------------------------------------------------------------


def weekly_document(
    records: list[dict],
    start: datetime,
    end: datetime,
    tz: tzinfo,
    lang: str,
    prov: Provenance,
    week: str,
    site: str | None = None,
) -> Document:
    """The weekly checklist of backup results: the records of [start, end) only."""
    t = Texts(lang)
    inside = [r for r in records if within(r, start, end)]
    by_kind: dict[str, list[dict]] = {}
    for record in inside:
        by_kind.setdefault(record.get("record", ""), []).append(record)
    runs, calendar = by_kind.get("run", []), by_kind.get("calendar", [])
    drills, restores = by_kind.get("drill", []), by_kind.get("restore", [])
    last_day = (end.astimezone(tz) - timedelta(days=1)).date()
    period = f"{start.astimezone(tz).date()}{DASH}{last_day}"
    sections = [
        Section(t("weekly_checklist"), tables=[_weekly_checklist(t, runs, calendar, drills)]),
        Section(t("weekly_summary"), tables=[backup_summary(t, runs)]),
        Section(t("weekly_backups"), tables=[_backups(t, tz, runs)]),
        Section(
            t("weekly_manual"),
            tables=[_manual(t, tz, [r for r in runs if r.get("kind") == "manual"])],
        ),
        Section(
            t("weekly_full"),
            tables=[_full_runs(t, tz, [r for r in runs if r.get("kind") == "weekly-full"])],
        ),
        Section(t("weekly_calendar"), tables=[_calendar(t, tz, calendar)]),
        Section(t("weekly_drills"), tables=[_drill_rows(t, tz, drills)]),
        Section(t("weekly_restores"), tables=[_restore_rows(t, tz, restores)]),
    ]
    notice = ""
    if not inside:
        notice = t("weekly_nothing", week=week, period=period, hosts=names(prov.hosts))
    return Document(
        lang=lang,
        title=t("weekly_title"),
        site=site_of(inside, site),
        subtitle=t("weekly_subtitle", week=week, period=period),
        fields=[
            (t("field_site"), site_of(inside, site)),
            (t("field_week"), f"{week} ({period})"),
            (t("field_hosts"), names(prov.hosts)),
            (t("field_zone"), zone_label(tz, start)),
        ],
        sections=sections,
        signers=[Signer(t("prepared_by")), Signer(t("checked_by"))],
        labels=signoff_labels(t),
        footer=history_footer(t, prov, tz, len(inside)),
        notice=notice,
    )


def weekly(records, start, end, tz, lang, fmt, prov, week, site=None) -> str:
    return render(weekly_document(records, start, end, tz, lang, prov, week, site), fmt)


def _checklist_table(t: Texts, items: list[tuple[str, bool | None, str]]) -> Table:
    return Table(
        [t("col_no"), t("col_item"), t("col_check"), t("col_detail")],
        [[str(i), item, mark(ok), detail] for i, (item, ok, detail) in enumerate(items, 1)],
    )


def _weekly_checklist(t: Texts, runs: list[dict], calendar: list[dict], drills: list[dict]):
    failed = [r for r in runs if r.get("result") != "ok"]
    items = [
        (
            t("check_backups_ok"),
            bool(runs) and not failed,
            t("check_backups_detail", ok=len(runs) - len(failed), failed=len(failed))
            if runs
            else t("check_no_backups"),
        )
    ]
    fulls = [c for c in calendar if c.get("job") in ("weekly-full", "weekly")]
    full_runs = [r for r in runs if r.get("kind") == "weekly-full"]
    if fulls:
        good = [c for c in fulls if c.get("result") == "ok" and not c.get("overran_minutes")]
        detail = "; ".join(
            f"{c.get('host', '-')}: {t.word('result', c.get('result'))}"
            + (t("overran", minutes=c["overran_minutes"]) if c.get("overran_minutes") else "")
            for c in fulls
        )
        items.append((t("check_weekly_full"), len(good) == len(fulls), detail))
    elif full_runs:
        bad = [r for r in full_runs if r.get("result") != "ok"]
        detail = t("check_backups_detail", ok=len(full_runs) - len(bad), failed=len(bad))
        items.append((t("check_weekly_full"), not bad, detail))
    else:
        items.append((t("check_weekly_full"), False, t("check_no_weekly_full")))
    copies = [o for r in runs for o in r.get("offsite") or []]
    copy_errors = [o for o in copies if o.get("error")]
    items.append(
        (
            t("check_offsite"),
            None if not copies else not copy_errors,
            t("check_offsite_detail", ok=len(copies) - len(copy_errors), failed=len(copy_errors))
            if copies
            else t("check_no_offsite"),
        )
    )
    monthly = {}
    for c in calendar:
        if c.get("job") in ("monthly-copy", "monthly"):
            monthly[c.get("host")] = c  # the last one of each host counts
    if monthly:
        items.append(
            (
                t("check_monthly"),
                all(c.get("result") == "ok" for c in monthly.values()),
                "; ".join(f"{h}: {t.word('result', c.get('result'))}" for h, c in monthly.items()),
            )
        )
    # Passed when every source's last drill of the week passed: a failure fixed and drilled
    # again counts, a source whose last drill failed does not.
    passed = [d for d in drills if d.get("result") == "ok"]
    latest = latest_drills(drills, None, None)
    items.append(
        (
            t("check_drill"),
            bool(latest) and all(d.get("result") == "ok" for d in latest),
            t("check_drill_detail", ok=len(passed), failed=len(drills) - len(passed))
            if drills
            else t("check_no_drill"),
        )
    )
    return _checklist_table(t, items)


def backup_summary(t: Texts, runs: list[dict], tz: tzinfo | None = None) -> Table:
    """Backups per host and source, then in all: how many succeeded and failed, and the size
    the good ones stored; given the site's zone, also when the last good one was made."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in runs:
        groups.setdefault((r.get("host", "-"), r.get("source", "-")), []).append(r)
    rows = []
    for (host, source), group in sorted(groups.items()):
        ok = [r for r in group if r.get("result") == "ok"]
        total = sum(r.get("size_bytes") or 0 for r in ok)
        failed = str(len(group) - len(ok))
        rows.append([host, source, str(len(ok)), failed, size(total), *_last_good(ok, tz)])
    if rows:
        ok_total = sum(int(row[2]) for row in rows)
        failed_total = sum(int(row[3]) for row in rows)
        good = [r for r in runs if r.get("result") == "ok"]
        stored = sum(r.get("size_bytes") or 0 for r in good)
        total_row = [t("total"), "", str(ok_total), str(failed_total), size(stored)]
        rows.append([*total_row, *_last_good(good, tz)])
    return Table(
        columns(t, "host", "source", "ok", "failed", "total_size", *(["last_ok"] if tz else [])),
        rows,
        empty=t("empty_backups"),
    )


def _last_good(good: list[dict], tz: tzinfo | None) -> list[str]:
    """The cell of the last good backup's time: none without a zone (the weekly summary)."""
    if tz is None:
        return []
    return [clock(max(filter(None, (parse_time(r.get("time")) for r in good)), default=None), tz)]


def _offsite(t: Texts, copies: list[dict]) -> str:
    shown = []
    for o in copies:
        name = o.get("offsite", "?")
        if o.get("error"):
            shown.append(f"{name} {FAIL} {o['error']}")
        else:
            held = o.get("count")
            shown.append(
                t("offsite_ok", name=name, copied=len(o.get("copied") or []), held=text(held))
            )
    return "; ".join(shown) or "-"


def _backups(t: Texts, tz: tzinfo, runs: list[dict]) -> Table:
    return Table(
        columns(
            t, "time", "host", "source", "kind", "result", "size", "duration", "offsite", "error"
        ),
        [
            [
                clock(r.get("time"), tz),
                text(r.get("host")),
                text(r.get("source")),
                t.word("kind", r.get("kind")),
                result(r.get("result"), t),
                size(r.get("size_bytes")),
                duration(r.get("duration_seconds"), t),
                _offsite(t, r.get("offsite") or []),
                text(r.get("error")),
            ]
            for r in runs
        ],
        empty=t("empty_backups"),
    )


def _manual(t: Texts, tz: tzinfo, runs: list[dict]) -> Table:
    return Table(
        columns(t, "time", "host", "source", "by", "reason", "destination", "result", "size"),
        [
            [
                clock(r.get("time"), tz),
                text(r.get("host")),
                text(r.get("source")),
                text(r.get("triggered_by")),
                text(r.get("reason")),
                text(r.get("destination")),
                result(r.get("result"), t),
                size(r.get("size_bytes")),
            ]
            for r in runs
        ],
        empty=t("empty_manual"),
    )


def _full_runs(t: Texts, tz: tzinfo, runs: list[dict]) -> Table:
    return Table(
        columns(t, "time", "host", "source", "backup", "result", "size", "duration", "error"),
        [
            [
                clock(r.get("time"), tz),
                text(r.get("host")),
                text(r.get("source")),
                text(r.get("backup")),
                result(r.get("result"), t),
                size(r.get("size_bytes")),
                duration(r.get("duration_seconds"), t),
                text(r.get("error")),
            ]
            for r in runs
        ],
        empty=t("empty_full"),
    )


def _calendar_detail(t: Texts, tz: tzinfo, record: dict) -> str:
    if record.get("job") in ("monthly-copy", "monthly"):
        months = []
        for month, entry in sorted((record.get("months") or {}).items()):
            targets = ", ".join(
                f"{name} {result(target.get('result'), t)}"
                + (f" ({target['error']})" if target.get("error") else "")
                for name, target in sorted((entry.get("targets") or {}).items())
            )
            months.append(f"{month}: {targets or '-'}")
        return "; ".join(months) or t("monthly_nothing_due")
    parts = []
    window = record.get("window") or {}
    if window.get("start") and window.get("end"):
        parts.append(
            t("window", start=clock(window["start"], tz)[11:], end=clock(window["end"], tz)[11:])
        )
    if record.get("backups"):
        parts.append(f"{t('col_backup')}: {names(record['backups'])}")
    if record.get("failed"):
        parts.append(f"{t('col_failed')}: {names(record['failed'])}")
    if record.get("overran_minutes"):
        parts.append(t("overran", minutes=record["overran_minutes"]).strip("; "))
    return "; ".join(parts) or "-"


def _calendar(t: Texts, tz: tzinfo, calendar: list[dict]) -> Table:
    return Table(
        columns(t, "time", "host", "job", "result", "detail", "error"),
        [
            [
                clock(c.get("time"), tz),
                text(c.get("host")),
                t.word("job", c.get("job")),
                result(c.get("result"), t),
                _calendar_detail(t, tz, c),
                text(c.get("error")),
            ]
            for c in calendar
        ],
        empty=t("empty_calendar"),
    )


def _checks(checks: list[dict]) -> str:
    return ", ".join(f"{mark(bool(c.get('ok')))} {c.get('name', '?')}" for c in checks) or "-"


def _drill_rows(t: Texts, tz: tzinfo, drills: list[dict]) -> Table:
    return Table(
        columns(t, "time", "host", "source", "backup", "from", "checks", "rto", "rpo", "result"),
        [
            [
                _weekday(d.get("time"), tz, t),
                text(d.get("host")),
                text(d.get("source")),
                text(d.get("backup")),
                text(d.get("from")),
                _checks(d.get("checks") or []),
                duration(d.get("rto_seconds"), t),
                duration(d.get("rpo_seconds"), t),
                result(d.get("result"), t),
            ]
            for d in drills
        ],
        empty=t("empty_drills"),
    )


def _restore_rows(t: Texts, tz: tzinfo, restores: list[dict]) -> Table:
    return Table(
        columns(
            t,
            "time",
            "host",
            "source",
            "backup",
            "target",
            "into_production",
            "instructed_by",
            "by",
            "result",
        ),
        [
            [
                clock(r.get("time"), tz),
                text(r.get("host")),
                text(r.get("source")),
                text(r.get("backup")),
                text(r.get("target")),
                yes_no(r.get("into_production"), t),
                text(r.get("instructed_by")),
                text(r.get("by")),
                result(r.get("result"), t),
            ]
            for r in restores
        ],
        empty=t("empty_restores"),
    )


# -- drills (S3.6) -------------------------------------------------------------------------


def latest_drills(records: list[dict], since: datetime | None, until: datetime | None):
    """The last drill of each host and source in [since, until), by host and source."""
    latest: dict[tuple[str, str], dict] = {}
    for record in records:
        if record.get("record") == "drill" and within(record, since, until):
            key = (record.get("host", "-"), record.get("source", "-"))
            if key not in latest or parse_time(record["time"]) >= parse_time(latest[key]["time"]):
                latest[key] = record
    return [latest[key] for key in sorted(latest)]


def drill_document(
    records: list[dict],
    since: datetime,
    until: datetime,
    tz: tzinfo,
    lang: str,
    prov: Provenance,
    site: str | None = None,
) -> Document:
    t = Texts(lang)
    drills = latest_drills(records, since, until)
    summary = Table(
        columns(t, "time", "host", "source", "backup", "from", "rto", "rpo", "result"),
        [
            [
                _weekday(d.get("time"), tz, t),
                text(d.get("host")),
                text(d.get("source")),
                text(d.get("backup")),
                text(d.get("from")),
                duration(d.get("rto_seconds"), t),
                duration(d.get("rpo_seconds"), t),
                result(d.get("result"), t),
            ]
            for d in drills
        ],
        empty=t("empty_drills_since", since=clock(since, tz)),
    )
    sections = [Section(t("drill_summary"), tables=[summary])]
    sections += [_drill_section(t, tz, d) for d in drills]
    failed = [d for d in drills if d.get("result") != "ok"]
    verdict = ""
    if drills:
        verdict = (
            f"{FAIL} {t('drill_verdict_failed', failed=len(failed), total=len(drills))}"
            if failed
            else f"{OK} {t('drill_verdict_ok', total=len(drills))}"
        )
    return Document(
        lang=lang,
        title=t("drill_title"),
        site=site_of(drills, site),
        subtitle=t("drill_subtitle", since=clock(since, tz), until=clock(until, tz)),
        fields=[
            (t("field_site"), site_of(drills, site)),
            (t("field_period"), f"{clock(since, tz)}{DASH}{clock(until, tz)}"),
            (t("field_hosts"), names(prov.hosts)),
            (t("field_zone"), zone_label(tz, since)),
        ],
        sections=sections,
        signers=[Signer(t("prepared_by")), Signer(t("checked_by"))],
        labels=signoff_labels(t),
        footer=history_footer(t, prov, tz, len(drills)),
        notice="" if drills else t("drill_nothing", since=clock(since, tz)),
        verdict=verdict,
    )


def drill(records, since, until, tz, lang, fmt, prov, site=None) -> str:
    return render(drill_document(records, since, until, tz, lang, prov, site), fmt)


def _rows_table(t: Texts, record: dict) -> Table:
    tables = record.get("tables") or {}
    empty = t("empty_tables")
    if record.get("files") is not None:
        empty = t("files_restored", files=record["files"])
    return Table(
        [t("col_table"), t("col_rows")],
        [[name, str(rows)] for name, rows in sorted(tables.items())],
        empty=empty,
        caption=t("tables_restored"),
    )


def _drill_section(t: Texts, tz: tzinfo, d: dict) -> Section:
    checks = Table(
        [t("col_check_name"), t("col_check"), t("col_detail")],
        [
            [t.word("checkname", c.get("name")), mark(bool(c.get("ok"))), text(c.get("detail"))]
            for c in d.get("checks") or []
        ],
        empty=t("empty_checks"),
        caption=t("checks"),
    )
    fields = [
        (t("field_backup_tested"), f"{text(d.get('backup'))} ({clock(d.get('backup_time'), tz)})"),
        (t("field_from"), text(d.get("from"))),
        (t("field_target"), text(d.get("target"))),
        (t("field_triggered_by"), text(d.get("triggered_by"))),
        (t("field_started"), clock(d.get("started_at") or d.get("time"), tz)),
        (t("field_ended"), clock(d.get("ended_at"), tz)),
        (t("field_duration"), duration(d.get("duration_seconds"), t)),
        (t("field_rto"), duration(d.get("rto_seconds"), t)),
        (t("field_rpo"), duration(d.get("rpo_seconds"), t)),
        (t("field_result"), result(d.get("result"), t)),
    ]
    if d.get("error"):
        fields.append((t("field_error"), str(d["error"])))
    title = t("drill_of", host=text(d.get("host")), source=text(d.get("source")))
    return Section(title, fields=fields, tables=[checks, _rows_table(t, d)])


# -- restore checklist (S3.7, S3.8) ---------------------------------------------------------


def _check(record: dict, name: str) -> dict | None:
    return next((c for c in record.get("checks") or [] if c.get("name") == name), None)


def restore_items(t: Texts, tz: tzinfo, r: dict) -> list[tuple[str, bool | None, str]]:
    """The checklist of one restore record: (item, True/False/None for not applicable, detail)."""
    instructed = (r.get("instructed_by") or "").strip()
    items = [(t("item_instructed"), bool(instructed), instructed or t("not_recorded"))]

    proofs = [c for name in VERIFIED if (c := _check(r, name))]
    details = [f"{c['name']}: {text(c.get('detail'))}" for c in proofs]
    items.append(
        (
            t("item_backup_verified"),
            bool(r.get("backup")) and bool(proofs) and all(c.get("ok") for c in proofs),
            "; ".join(
                [f"{text(r.get('backup'))} ({clock(r.get('backup_time'), tz)})"]
                + (details or [t("checksums_not_recorded")])
            ),
        )
    )

    safety = r.get("safety_backup")
    if r.get("into_production") and r.get("result") == "refused" and not safety:
        items.append((t("item_safety_backup"), None, t("safety_refused")))
    elif r.get("into_production"):
        items.append(
            (t("item_safety_backup"), bool(safety), text(safety) if safety else t("no_safety"))
        )
    else:
        items.append(
            (t("item_safety_backup"), None, t("safety_not_needed", target=text(r.get("target"))))
        )

    restored = _check(r, RESTORED)
    detail = t(
        "restore_done_detail",
        target=text(r.get("target")),
        start=clock(r.get("started_at"), tz),
        end=clock(r.get("ended_at"), tz),
        duration=duration(r.get("duration_seconds"), t),
    )
    if restored and restored.get("detail"):
        detail += f"; {restored['detail']}"
    if r.get("error"):
        detail += f"; {r['error']}"
    done = r.get("result") == "ok" and (restored is None or bool(restored.get("ok")))
    items.append((t("item_restore_done"), done, detail))

    items.append(_rows_item(t, r))

    own = (*VERIFIED, RESTORED, SAFETY, ROWS, FILES)
    for c in r.get("checks") or []:
        if c.get("name") not in own:
            label = t.word("checkname", c.get("name"))
            items.append((label, bool(c.get("ok")), text(c.get("detail"))))
    return items


def _rows_item(t: Texts, r: dict) -> tuple[str, bool | None, str]:
    """Row counts against the backup's manifest; for program files, the files compared."""
    if r.get("source_type") == "files" or (r.get("files") is not None and not r.get("tables")):
        check = _check(r, FILES)
        if check:
            return t("item_files"), bool(check.get("ok")), text(check.get("detail"))
        if r.get("files") is not None:
            return t("item_files"), r.get("result") == "ok", t("files_restored", files=r["files"])
        return t("item_files"), False, t("not_recorded")
    expected, tables = r.get("expected_tables") or {}, r.get("tables") or {}
    if not expected:
        return t("item_row_counts"), False, t("no_expected_rows")
    wrong = [n for n in expected if tables.get(n) != expected[n]]
    if wrong:
        return t("item_row_counts"), False, t("rows_mismatch", tables=names(wrong))
    return t("item_row_counts"), True, t("rows_match", count=len(expected))


def _scope(t: Texts, scope: dict | None) -> str:
    scope = scope or {}
    parts = []
    if scope.get("schemas"):
        parts.append(f"{t('schemas')}: {names(scope['schemas'])}")
    if scope.get("tables"):
        parts.append(f"{t('col_table')}: {names(scope['tables'])}")
    return t("scope_partial", parts="; ".join(parts)) if parts else t("scope_full")


def _restore_sections(t: Texts, tz: tzinfo, r: dict, heading: str) -> list[Section]:
    fields = [
        (t("field_host"), text(r.get("host"))),
        (t("field_source"), f"{text(r.get('source'))} ({text(r.get('source_type'))})"),
        (t("field_instructed_by"), text(r.get("instructed_by"))),
        (t("field_by"), text(r.get("by"))),
        (t("field_reason"), text(r.get("reason"))),
        (t("field_backup"), f"{text(r.get('backup'))} ({clock(r.get('backup_time'), tz)})"),
        (t("field_target"), text(r.get("target"))),
        (t("field_into_production"), yes_no(r.get("into_production"), t)),
        (t("field_scope"), _scope(t, r.get("scope"))),
        (t("field_safety_backup"), text(r.get("safety_backup"))),
        (t("field_started"), clock(r.get("started_at") or r.get("time"), tz)),
        (t("field_ended"), clock(r.get("ended_at"), tz)),
        (t("field_duration"), duration(r.get("duration_seconds"), t)),
        (t("field_result"), result(r.get("result"), t)),
    ]
    if r.get("error"):
        fields.append((t("field_error"), str(r["error"])))
    expected, tables = r.get("expected_tables") or {}, r.get("tables") or {}
    rows = [
        [
            name,
            text(expected.get(name)),
            text(tables.get(name)),
            mark(name in expected and expected.get(name) == tables.get(name)),
        ]
        for name in sorted(set(expected) | set(tables))
    ]
    counts = Table(
        [t("col_table"), t("col_expected"), t("col_restored"), t("col_check")],
        rows,
        empty=(
            t("files_restored", files=r["files"])
            if r.get("files") is not None
            else t("no_expected_rows")
        ),
    )
    return [
        Section(heading, fields=fields),
        Section(t("restore_checklist"), tables=[_checklist_table(t, restore_items(t, tz, r))]),
        Section(t("restore_row_counts"), tables=[counts]),
    ]


def restore_document(
    restores: dict[str, dict],
    run,
    tz: tzinfo,
    lang: str,
    generated: datetime,
    site: str | None = None,
) -> Document:
    """The checklist of the restores of one `spo restore` run (host -> restore record)."""
    t = Texts(lang)
    records = [restores[h] | {"host": restores[h].get("host") or h} for h in sorted(restores)]
    sections = []
    for r in records:
        heading = t("restore_details")
        if len(records) > 1:
            heading = f"{heading}: {r['host']} / {text(r.get('source'))}"
        sections += _restore_sections(t, tz, r, heading)
    ok = all(r.get("result") == "ok" for r in records) and all(
        mark_ok is not False for r in records for _, mark_ok, _ in restore_items(t, tz, r)
    )
    verdict = f"{OK} {t('restore_verdict_ok')}" if ok else f"{FAIL} {t('restore_verdict_failed')}"

    def people(key: str) -> str:
        return ", ".join(dict.fromkeys(r[key] for r in records if r.get(key)))

    prov = Provenance(
        hosts=tuple(r["host"] for r in records),
        start=parse_time(run.started),
        end=parse_time(run.ended),
        run_id=run.id,
        generated=generated,
    )
    first = records[0] if records else {}
    footer = [
        t(
            "footer_restore",
            run=run.id,
            command=run.command,
            operator=run.operator,
            start=clock(prov.start, tz),
            end=clock(prov.end, tz),
            hosts=names(prov.hosts),
        ),
        t("footer_run", run=run.id),
        t("footer_generated", when=clock(generated, tz), zone=zone_label(tz, generated)),
    ]
    return Document(
        lang=lang,
        title=t("restore_title"),
        site=site_of(records, site),
        subtitle=t(
            "restore_subtitle",
            host=names(prov.hosts),
            source=names(dict.fromkeys(text(r.get("source")) for r in records)),
            when=clock(first.get("started_at") or first.get("time"), tz),
        ),
        fields=[
            (t("field_site"), site_of(records, site)),
            (t("field_run"), run.id),
            (t("field_zone"), zone_label(tz, generated)),
        ],
        sections=sections,
        signers=[
            Signer(t("prepared_by"), people("by")),
            Signer(t("checked_by")),
            Signer(t("acknowledged_by"), people("instructed_by")),
        ],
        labels=signoff_labels(t),
        footer=footer,
        verdict=verdict,
    )


def restore(restores, run, tz, lang, fmt, generated, site=None) -> str:
    return render(restore_document(restores, run, tz, lang, generated, site), fmt)
