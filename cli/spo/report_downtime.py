"""The record of one planned downtime window (S4.1-S4.5) for `spo report downtime`: what the
recorded runs of the window say, read from the local runs directory only, and the printable
document made of it (report_render's texts, layout and templates).

A window leaves these runs (named as spo.downtime names them): the notices
``downtime announce|starting|back-in-service|failed <window>`` (the result of the task "Send
the notice": every delivery, and the window, who and why in its module arguments) and
``downtime run <window>`` (the playbook downtime_run.yml: per host the health checks before
the update and after the restart, the backups, the upgraded packages, the restarts, and any
failure that stopped it). A window may have several runs (one a health check stopped, then a
forced one): each is reported, oldest first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path

from spo.downtime import NOTICE_TASK
from spo.host_data import HostResult, events, task_results
from spo.records import RunRecord
from spo.report_render import (
    FAIL,
    NA,
    OK,
    Document,
    Section,
    Signer,
    Table,
    Texts,
    clock,
    duration,
    mark,
    names,
    parse_time,
    render,
    size,
    text,
    yes_no,
    zone_label,
)

KINDS = ("announce", "starting", "back-in-service", "failed")  # downtime_notice's kinds
WINDOW_ID = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")

# The tasks of playbooks/downtime_run.yml and roles/maintenance_window whose results are read.
CHECK_BEFORE = "Check every service of the host before the update"
CHECK_AFTER = "Check every service of the host"
BACKUP = "Make a verified backup of the host's databases"
UPGRADE = "Upgrade the packages"
UPGRADED = "Report the upgraded packages"
RESTART = "Restart the services"
REBOOT = "Reboot the host and wait for it"
START_APPS = "Start the application services"
# The tasks a host is in maintenance for: from the banner to its removal. Their events'
# times are when the host's update started and ended.
MAINTENANCE = (
    "Show the maintenance banner at login",
    "Stop the application services (maintenance mode)",
    UPGRADE,
    "Record the upgraded packages",
    RESTART,
    REBOOT,
    UPGRADED,
    START_APPS,
    CHECK_AFTER,
    "Remove the maintenance banner",
)
FAILED_EVENTS = ("runner_on_failed", "runner_on_unreachable")


# -- what the runs say ---------------------------------------------------------------------


@dataclass
class Notice:
    """One `downtime <kind> <window>` run: the notice and its deliveries."""

    run: RunRecord
    kind: str
    window: dict
    by: str
    reason: str
    error: str
    deliveries: list[dict]
    problem: str = ""  # why nothing was delivered, when the task itself failed

    @property
    def sent(self) -> datetime | None:
        times = [t for d in self.deliveries if (t := parse_time(d.get("time")))]
        return min(times) if times else parse_time(self.run.started)

    @property
    def delivered(self) -> list[dict]:
        return [d for d in self.deliveries if d.get("delivered")]


@dataclass
class HostWork:
    """What one downtime run did on one host."""

    host: str
    started: datetime | None = None  # first event of its maintenance
    ended: datetime | None = None  # last one
    before: list[dict] | None = None  # health check results before the update
    after: list[dict] | None = None  # after the restart
    backups: list[dict] | None = None  # backup_run's runs
    backup_error: str = ""
    upgraded: list[str] | None = None  # package names; None: not reached
    restarted: list[str] = field(default_factory=list)
    rebooted: bool = False
    started_apps: list[str] = field(default_factory=list)
    failure: str = ""  # "task: message" of the task that failed on the host

    @property
    def finished(self) -> bool:
        """Brought back: its services started and checked (the role's finish step)."""
        return self.after is not None and not self.failure


@dataclass
class DowntimeRun:
    """One `downtime run <window>` run."""

    run: RunRecord
    hosts: list[HostWork]
    failures: list[tuple[str, str, str]]  # (host, task, message), in the order they happened
    forced: bool = False
    reason: str = ""
    starting: Notice | None = None  # the "starting now" notice sent just before it
    after: Notice | None = None  # back-in-service after it, or failed (to IT)

    @property
    def ok(self) -> bool:
        return self.run.ok and not self.failures


@dataclass
class Window:
    id: str
    facts: dict  # the window as the notices carry it (empty if no notice was sent)
    notices: list[Notice]
    runs: list[DowntimeRun]

    @property
    def hosts(self) -> list[str]:
        order = list(self.facts.get("hosts") or [])
        for run in self.runs:
            order += [h.host for h in run.hosts if h.host not in order]
        return order


def argv_value(argv: list[str], option: str) -> str:
    """The value of ``--option VALUE`` or ``--option=VALUE`` in a recorded command line."""
    for i, arg in enumerate(argv):
        if arg == option and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(f"{option}="):
            return arg.split("=", 1)[1]
    return ""


def commands(window_id: str) -> dict[str, str]:
    """command -> kind ("run" or a notice kind), as spo.downtime names its runs."""
    found = {f"downtime {kind} {window_id}": kind for kind in KINDS}
    found[f"downtime run {window_id}"] = "run"
    return found


def read_notice(run: RunRecord, kind: str) -> Notice:
    results = task_results(run, NOTICE_TASK)
    result = next(iter(results.values()), None)
    res = result.res if result else {}
    args = (res.get("invocation") or {}).get("module_args") or {}
    deliveries = [d for d in res.get("deliveries") or [] if isinstance(d, dict)]
    problem = ""
    if result is None:
        problem = run.error or f"{run.status}: the task {NOTICE_TASK!r} did not run"
    elif not deliveries:
        problem = str(res.get("msg") or "").strip()
    return Notice(
        run=run,
        kind=str(args.get("kind") or kind),
        window=args.get("window") if isinstance(args.get("window"), dict) else {},
        by=str(args.get("by") or run.operator),
        reason=str(args.get("reason") or ""),
        error=str(args.get("error") or ""),
        deliveries=deliveries,
        problem=problem,
    )


def _loop_items(result: HostResult | None) -> list[str]:
    if result is None:
        return []
    return [
        str(item.get("item"))
        for item in result.res.get("results") or []
        if isinstance(item, dict) and not item.get("skipped") and not item.get("failed")
    ]


def _upgraded(apt: HostResult | None, reported: HostResult | None) -> list[str] | None:
    """Package names from apt's "Inst <name> ..." lines, else from the debug task's
    "upgraded: a, b" (or "upgraded: nothing"); None when the host never got there."""
    if apt is not None:
        lines = apt.res.get("stdout_lines") or str(apt.res.get("stdout") or "").splitlines()
        found = [m[1] for line in lines if (m := re.match(r"Inst (\S+)", str(line)))]
        if found:
            return found
    if reported is not None:
        said = str(reported.res.get("msg") or "").removeprefix("upgraded:").strip()
        return [] if said in ("", "nothing") else [p.strip() for p in said.split(",")]
    return [] if apt is not None else None


def _checks(result: HostResult | None) -> list[dict] | None:
    if result is None:
        return None
    return [r for r in result.res.get("results") or [] if isinstance(r, dict)]


def read_run(run: RunRecord, order: list[str]) -> DowntimeRun:
    """Per host (in the window's order, then any other host the run touched): what was done."""
    found = events(run)
    failures, seen = [], []
    times: dict[str, list[datetime]] = {}
    for event in found:
        data = event.get("event_data") or {}
        host = data.get("host")
        if not host:
            continue
        if host not in seen:
            seen.append(host)
        if event.get("event") in FAILED_EVENTS and not data.get("ignore_errors"):
            res = data.get("res") if isinstance(data.get("res"), dict) else {}
            failures.append((host, str(data.get("task")), str(res.get("msg") or "").strip()))
        moment = parse_time(event.get("created"))
        if data.get("task") in MAINTENANCE and moment is not None:
            times.setdefault(host, []).append(moment)
    read = (CHECK_BEFORE, CHECK_AFTER, BACKUP, UPGRADE, UPGRADED, RESTART, REBOOT, START_APPS)
    results = {task: task_results(run, task) for task in read}
    hosts = []
    for host in [*order, *(h for h in seen if h not in order)]:
        work = HostWork(host)
        if host in times:
            work.started, work.ended = min(times[host]), max(times[host])
        work.before = _checks(results[CHECK_BEFORE].get(host))
        work.after = _checks(results[CHECK_AFTER].get(host))
        backup = results[BACKUP].get(host)
        if backup is not None:
            work.backups = [r for r in backup.res.get("runs") or [] if isinstance(r, dict)]
            work.backup_error = "" if backup.ok else str(backup.res.get("msg") or "")
        work.upgraded = _upgraded(results[UPGRADE].get(host), results[UPGRADED].get(host))
        work.restarted = _loop_items(results[RESTART].get(host))
        reboot = results[REBOOT].get(host)
        work.rebooted = reboot is not None and bool(reboot.res.get("rebooted"))
        work.started_apps = _loop_items(results[START_APPS].get(host))
        work.failure = next((f"{task}: {msg}" for h, task, msg in failures if h == host), "")
        hosts.append(work)
    argv = list(run.argv or [])
    return DowntimeRun(
        run=run,
        hosts=hosts,
        failures=failures,
        forced="--force" in argv,
        reason=argv_value(argv, "--reason"),
    )


def gather(records: list[RunRecord], window_id: str) -> Window:
    """The window's notices and runs among the recorded runs (oldest first), each run with the
    notices sent just before and just after it."""
    names_of = commands(window_id)
    mine = [r for r in records if r.command in names_of]
    notices = [read_notice(r, names_of[r.command]) for r in mine if names_of[r.command] != "run"]
    facts = next((n.window for n in reversed(notices) if n.window.get("hosts")), None)
    facts = facts or next((n.window for n in reversed(notices) if n.window), {})
    order = [str(h) for h in facts.get("hosts") or []]
    runs = [read_run(r, order) for r in mine if names_of[r.command] == "run"]
    for i, downtime_run in enumerate(runs):
        started = downtime_run.run.started
        following = runs[i + 1].run.started if i + 1 < len(runs) else None
        before = [n for n in notices if n.kind == "starting" and n.run.started <= started]
        previous = runs[i - 1].run.started if i else ""
        before = [n for n in before if n.run.started >= previous]
        downtime_run.starting = before[-1] if before else None
        downtime_run.after = next(
            (
                n
                for n in notices
                if n.kind in ("back-in-service", "failed")
                and n.run.started >= started
                and (following is None or n.run.started < following)
            ),
            None,
        )
        if not downtime_run.reason and downtime_run.starting:
            downtime_run.reason = downtime_run.starting.reason
    return Window(window_id, facts, notices, runs)


# -- the document ----------------------------------------------------------------------------


def _cols(t: Texts, *keys: str) -> list[str]:
    return [t(f"col_{key}") for key in keys]


def _minutes(value: float) -> str:
    return f"{round(value, 1):g}"


def measured_minutes(r: DowntimeRun) -> float | None:
    """The downtime told to the departments (back-in-service notice), else the run's length."""
    if r.after is not None and isinstance(r.after.window.get("measured_minutes"), int | float):
        return float(r.after.window["measured_minutes"])
    if isinstance(r.run.duration_seconds, int | float):
        return r.run.duration_seconds / 60
    start, end = parse_time(r.run.started), parse_time(r.run.ended)
    return (end - start).total_seconds() / 60 if start and end else None


def against_estimate(t: Texts, minutes: float | None, facts: dict) -> str:
    low, high = facts.get("estimate_min"), facts.get("estimate_max")
    if minutes is None:
        return t("not_recorded")
    if not isinstance(high, int | float):
        return t("downtime_minutes", minutes=_minutes(minutes))
    estimate = t("downtime_estimate", low=text(low), high=_minutes(high))
    if minutes <= high:
        return f"{OK} {t('downtime_within', minutes=_minutes(minutes), estimate=estimate)}"
    over = _minutes(minutes - high)
    return f"{FAIL} {t('downtime_over', minutes=_minutes(minutes), estimate=estimate, over=over)}"


def _told(t: Texts, tz: tzinfo, notice: Notice | None, missing: str) -> str:
    """A notice as "✔ 3 of 3 delivered, 2026-12-12 21:00"; ``missing`` when there is none."""
    if notice is None:
        return f"{FAIL} {t(missing)}"
    if notice.run.check:
        return f"{NA} {t('notice_check_mode')}"
    got, total = len(notice.delivered), len(notice.deliveries)
    said = t("notice_delivered", ok=got, total=total, when=clock(notice.sent, tz))
    return f"{mark(everyone(notice))} {said}"


def everyone(notice: Notice) -> bool:
    """Every delivery of the notice went out (a department not told is a ✘)."""
    return bool(notice.deliveries) and len(notice.delivered) == len(notice.deliveries)


def run_verdict(t: Texts, r: DowntimeRun) -> str:
    if r.run.check:
        return f"{NA} {t('downtime_verdict_rehearsal')}"
    if r.ok:
        back = r.after if r.after and r.after.kind == "back-in-service" else None
        if back is None:
            return f"{FAIL} {t('downtime_verdict_not_told', told=t('notice_none'))}"
        told = t("notice_count", ok=len(back.delivered), total=len(back.deliveries))
        if everyone(back):
            return f"{OK} {t('downtime_verdict_ok', told=told)}"
        return f"{FAIL} {t('downtime_verdict_not_told', told=told)}"
    host, task, msg = r.failures[0] if r.failures else ("-", "-", r.run.error or r.run.status)
    failed = r.after if r.after and r.after.kind == "failed" else None
    it = (
        t("downtime_it_told", channels=names(dict.fromkeys(d["channel"] for d in failed.delivered)))
        if failed and failed.delivered
        else t("downtime_it_not_told")
    )
    return f"{FAIL} {t('downtime_verdict_stopped', host=host, task=task, error=msg, it=it)}"


def _backups(t: Texts, w: HostWork) -> str:
    if w.backups is None:
        return NA
    made = [
        f"{mark(b.get('result') == 'ok')} {text(b.get('source'))}: {text(b.get('backup'))} "
        f"({size(b.get('size_bytes'))}, {duration(b.get('duration_seconds'), t)})"
        for b in w.backups
    ]
    if w.backup_error:
        made.append(f"{FAIL} {w.backup_error}")
    return "; ".join(made) or t("nothing")


def _restarted(t: Texts, w: HostWork) -> str:
    done = list(w.restarted)
    if w.rebooted:
        done.append(t("rebooted"))
    said = ", ".join(done)
    if w.started_apps:
        said += ("; " if said else "") + t("apps_started", services=", ".join(w.started_apps))
    return said or NA


def host_state(t: Texts, r: DowntimeRun, w: HostWork) -> str:
    if w.failure:
        return f"{FAIL} {w.failure}"
    if r.run.check:
        return f"{NA} {t('host_rehearsed')}"
    if w.finished:
        return f"{OK} {t('host_back')}"
    if w.started is not None:
        return f"{FAIL} {t('host_left_in_maintenance')}"
    return f"{NA} {t('host_untouched')}"


def _hosts_table(t: Texts, tz: tzinfo, r: DowntimeRun) -> Table:
    return Table(
        _cols(
            t,
            "host",
            "update_started",
            "update_ended",
            "backups",
            "packages",
            "restarted",
            "result",
        ),
        [
            [
                w.host,
                clock(w.started, tz),
                clock(w.ended, tz),
                _backups(t, w),
                NA if w.upgraded is None else (", ".join(w.upgraded) or t("nothing")),
                _restarted(t, w),
                host_state(t, r, w),
            ]
            for w in r.hosts
        ],
        empty=t("empty_hosts"),
        caption=t("downtime_hosts"),
    )


def _checks_table(t: Texts, r: DowntimeRun) -> Table:
    rows = []
    for w in r.hosts:
        for when, checks in (("check_before", w.before), ("check_after", w.after)):
            rows += [
                [
                    w.host,
                    t(when),
                    text(c.get("name")),
                    mark(bool(c.get("ok"))),
                    text(c.get("detail")),
                    text(c.get("attempts")),
                ]
                for c in checks or []
            ]
    return Table(
        _cols(t, "host", "when", "check_name", "check", "detail", "tries"),
        rows,
        empty=t("empty_health_checks"),
        caption=t("downtime_health_checks"),
    )


def _run_section(t: Texts, tz: tzinfo, win: Window, r: DowntimeRun, number: int) -> Section:
    fields = [
        (t("field_run"), r.run.id),
        (t("field_operator"), text(r.run.operator)),
        (t("field_check_mode"), yes_no(r.run.check, t)),
        (t("field_forced"), yes_no(r.forced, t)),
        (t("field_reason"), text(r.reason)),
        (t("field_started"), clock(r.run.started, tz)),
        (t("field_ended"), clock(r.run.ended, tz)),
        (t("field_downtime"), against_estimate(t, measured_minutes(r), win.facts)),
    ]
    if not r.run.check:
        fields.append((t("field_told_starting"), _told(t, tz, r.starting, "notice_none")))
        if r.ok:
            fields.append((t("field_told_back"), _told(t, tz, r.after, "notice_none")))
        else:
            fields.append((t("field_told_it"), _told(t, tz, r.after, "notice_none")))
    fields.append((t("field_result"), run_verdict(t, r)))
    title = t("downtime_run_of", number=number, total=len(win.runs), when=clock(r.run.started, tz))
    return Section(title, fields=fields, tables=[_hosts_table(t, tz, r), _checks_table(t, r)])


def _window_section(t: Texts, tz: tzinfo, win: Window) -> Section:
    facts = win.facts
    estimate = NA
    if facts.get("estimate_min") is not None or facts.get("estimate_max") is not None:
        estimate = t(
            "downtime_range",
            low=text(facts.get("estimate_min")),
            high=text(facts.get("estimate_max")),
        )
    hosts = " → ".join(f"{i}. {h}" for i, h in enumerate(win.hosts, 1)) or "-"
    return Section(
        t("downtime_window"),
        fields=[
            (t("field_window"), win.id),
            (t("field_planned_start"), clock(facts.get("start"), tz)),
            (t("field_estimate"), estimate),
            (t("field_services"), names(facts.get("services") or [])),
            (t("field_host_order"), hosts),
        ],
        note="" if facts else t("downtime_no_facts"),
    )


def _notices_section(t: Texts, tz: tzinfo, win: Window) -> Section:
    summary = Table(
        _cols(t, "notice", "sent", "by", "why", "delivered", "run"),
        [
            [
                t.word("notice_kind", n.kind),
                clock(n.sent, tz),
                text(n.by),
                text("; ".join(x for x in (n.reason, n.error) if x)),
                f"{NA} {t('notice_check_mode')}"
                if n.run.check
                else f"{mark(everyone(n))} "
                + t("notice_count", ok=len(n.delivered), total=len(n.deliveries))
                + (f": {n.problem}" if n.problem else ""),
                n.run.id,
            ]
            for n in win.notices
        ],
        empty=t("empty_notices"),
    )
    deliveries = Table(
        _cols(t, "notice", "time", "department", "channel", "to", "check", "error"),
        [
            [
                t.word("notice_kind", n.kind),
                clock(d.get("time"), tz),
                text(d.get("department")),
                text(d.get("channel")),
                text(d.get("to")),
                mark(bool(d.get("delivered"))),
                text(d.get("error")),
            ]
            for n in win.notices
            for d in n.deliveries
        ],
        empty=t("empty_deliveries"),
        caption=t("downtime_deliveries"),
    )
    return Section(t("downtime_notices"), tables=[summary, deliveries])


def _runs_section(t: Texts, tz: tzinfo, win: Window) -> Section:
    return Section(
        t("downtime_runs"),
        tables=[
            Table(
                _cols(t, "no", "run", "started", "operator", "forced", "result"),
                [
                    [
                        str(i),
                        r.run.id,
                        clock(r.run.started, tz),
                        text(r.run.operator),
                        yes_no(r.forced, t),
                        run_verdict(t, r),
                    ]
                    for i, r in enumerate(win.runs, 1)
                ],
                empty=t("empty_runs", window=win.id),
            )
        ],
    )


def document(
    win: Window,
    tz: tzinfo,
    lang: str,
    generated: datetime,
    runs_dir: Path,
    site: str | None = None,
) -> Document:
    """The record of the window: the window, its notices, its runs (a summary, then each)."""
    t = Texts(lang)
    sections = [_window_section(t, tz, win), _notices_section(t, tz, win)]
    sections += [_runs_section(t, tz, win)]
    sections += [_run_section(t, tz, win, r, i) for i, r in enumerate(win.runs, 1)]
    real = [r for r in win.runs if not r.run.check]
    verdict = run_verdict(t, real[-1]) if real else ""
    notice = "" if real else t("downtime_not_run", window=win.id)
    operators = [r.run.operator for r in real] or [n.by for n in win.notices]
    records = [n.run for n in win.notices] + [r.run for r in win.runs]
    records.sort(key=lambda r: r.started)
    zone = generated if not win.facts.get("start") else parse_time(win.facts["start"])
    return Document(
        lang=lang,
        title=t("downtime_title"),
        site=site or "-",
        subtitle=t("downtime_subtitle", window=win.id, start=clock(win.facts.get("start"), tz)),
        fields=[
            (t("field_site"), site or "-"),
            (t("field_window"), win.id),
            (t("field_zone"), zone_label(tz, zone or generated)),
        ],
        sections=sections,
        signers=[
            Signer(t("prepared_by"), operators[-1] if operators else ""),
            Signer(t("checked_by")),
            Signer(t("acknowledged_by_it")),
        ],
        labels={
            "title": t("signoff"),
            "name": t("signoff_name"),
            "date": t("signoff_date"),
            "signature": t("signoff_signature"),
        },
        footer=[
            t("footer_downtime", count=len(records), runs_dir=str(runs_dir), window=win.id),
            t("footer_runs", runs=names(r.id for r in records)),
            t("footer_generated", when=clock(generated, tz), zone=zone_label(tz, generated)),
        ],
        notice=notice,
        verdict=verdict,
    )


def downtime(win, tz, lang, fmt, generated, runs_dir, site=None) -> str:
    return render(document(win, tz, lang, generated, runs_dir, site), fmt)
