"""`spo audit`'s S4 rules: planned downtime (planned months and duration, notice before,
update and restart, verification, back in service)."""

from __future__ import annotations

import calendar
from collections.abc import Callable

from spo.audit_basis import (
    YEAR,
    Facts,
    Verdict,
    cli_runs,
    local_time,
    not_applicable,
    parse_time,
    policy_value,
    ran,
    run_option,
    started,
    succeeded,
    successful_runs,
    verdict,
    when,
)


def _window(run: dict) -> str:
    """The window (YYYY-MM) a downtime run or notice is of: the last word of its command."""
    words = str(run.get("command") or "").split()
    return (words[2] if len(words) > 2 else "") or run_option(run, "--window")


def _downtimes(facts: Facts) -> list[dict]:
    """The downtime runs (not rehearsals) of the last 12 months, oldest first."""
    since = facts.now - YEAR
    found = [
        r
        for r in cli_runs(facts)
        if ran(r, "downtime", "run") and not r.get("check") and (s := started(r)) and s >= since
    ]
    return sorted(found, key=started)


def _by_window(runs: list[dict]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for run in runs:
        found.setdefault(_window(run), []).append(run)
    return found


def _downtime(rid: str, facts: Facts, judge: Callable[[list[dict]], tuple[list, list]]) -> Verdict:
    runs = _downtimes(facts)
    if not runs:
        return not_applicable(rid, "no planned downtime run in the last 12 months")
    return verdict(rid, *judge(runs))


def _minutes(run: dict) -> float | None:
    if isinstance(run.get("duration_seconds"), int | float):
        return run["duration_seconds"] / 60
    start, end = started(run), parse_time(run.get("ended"))
    return (end - start).total_seconds() / 60 if start and end else None


def s4_1(facts: Facts) -> Verdict:
    """Downtime only in the planned months and within the estimate: every downtime run of the
    last 12 months (failed ones too: the servers went down) started in a month of
    ``spo_maintenance_months`` (site time) or was forced with a reason, and lasted no longer
    than ``spo_maintenance_duration_max_minutes`` (shorter than the estimate is no breach).
    Not applicable without a downtime run in the last 12 months."""
    months = [int(m) for m in policy_value(facts, "spo_maintenance_months")]
    low = policy_value(facts, "spo_maintenance_duration_min_minutes")
    high = float(policy_value(facts, "spo_maintenance_duration_max_minutes"))

    def judge(runs: list[dict]) -> tuple[list, list]:
        evidence, gaps = [], []
        for run in runs:
            began = local_time(facts, started(run))
            minutes, reason = _minutes(run), run_option(run, "--reason").strip()
            forced = "--force" in (run.get("argv") or []) and bool(reason)
            took = f"{minutes:.0f} min" if minutes is not None else "? min"
            evidence.append(
                f"window {_window(run)}: run {run.get('id')} {when(facts, started(run))}, {took} "
                f"(estimate {low}-{high:g})" + (f", forced: {reason}" if forced else "")
            )
            if began.month not in months and not forced:
                gaps.append(
                    f"downtime run {run.get('id')} in {calendar.month_name[began.month]}, not a "
                    f"planned month ({', '.join(calendar.month_name[m] for m in months)}) and not "
                    "forced with a reason; plan downtime with `spo downtime plan`"
                )
            if minutes is not None and minutes > high:
                gaps.append(
                    f"downtime run {run.get('id')} took {minutes:.0f} min, over the {high:g} "
                    "min estimate"
                )
        return evidence, gaps

    return _downtime("S4.1", facts, judge)


def s4_2(facts: Facts) -> Verdict:
    """Departments told beforehand: every downtime run has a successful
    `spo downtime announce` of its window before it started. Not applicable as S4.1."""

    def judge(runs: list[dict]) -> tuple[list, list]:
        evidence, gaps = [], []
        for run in runs:
            told = [
                a
                for a in successful_runs(facts, "downtime", "announce")
                if _window(a) == _window(run) and started(a) < started(run)
            ]
            if told:
                evidence.append(
                    f"window {_window(run)}: announced {when(facts, started(told[-1]))} "
                    f"(run {told[-1].get('id')})"
                )
            else:
                gaps.append(
                    f"window {_window(run)}: downtime run {run.get('id')} was not announced "
                    f"before; run `spo downtime announce --window {_window(run)}` before every "
                    "downtime"
                )
        return evidence, gaps

    return _downtime("S4.2", facts, judge)


def _newest_of_windows(facts: Facts, word: str, fix: str) -> Callable:
    """A judge: the newest downtime run of each window succeeded (a failed run fixed by a
    successful one of the same window is the procedure working); earlier attempts are shown."""

    def judge(runs: list[dict]) -> tuple[list, list]:
        evidence, gaps = [], []
        for window, mine in _by_window(runs).items():
            last = mine[-1]
            attempts = f" after {len(mine) - 1} failed attempts" if len(mine) > 1 else ""
            if succeeded(last):
                evidence.append(
                    f"window {window}: run {last.get('id')} succeeded: {word}{attempts}"
                )
            else:
                gaps.append(
                    f"window {window}: downtime run {last.get('id')} {last.get('status')} "
                    f"({last.get('error') or 'see `spo report downtime ' + window + '`'}); {fix}"
                )
        return evidence, gaps

    return judge


def s4_3(facts: Facts) -> Verdict:
    """The maintenance is system update and server restart: the newest downtime run of each
    window succeeded (the playbook updates and restarts every host in order, and stops on any
    failure). Not applicable as S4.1."""
    judge = _newest_of_windows(
        facts,
        "packages updated and services restarted host by host",
        "finish the update and restart, then `spo downtime run --window W --force --reason ...`",
    )
    return _downtime("S4.3", facts, judge)


def s4_4(facts: Facts) -> Verdict:
    """Verification afterwards: the newest downtime run of each window succeeded, which it does
    only when every host passed its health checks after the restart (it stops on a failed
    check). Not applicable as S4.1."""
    judge = _newest_of_windows(
        facts,
        "health checks passed on every host",
        "fix the failed check and verify the services before the units are told",
    )
    return _downtime("S4.4", facts, judge)


def s4_5(facts: Facts) -> Verdict:
    """The departments are told the systems are back: after the newest downtime run of each
    window, a successful "back in service" notice run of that window (sent by
    `spo downtime run` at its end, or by `spo downtime finish`; recorded as
    `downtime back-in-service <window>`). Not applicable as S4.1."""

    def judge(runs: list[dict]) -> tuple[list, list]:
        evidence, gaps = [], []
        for window, mine in _by_window(runs).items():
            last = mine[-1]
            told = [
                n
                for n in successful_runs(facts, "downtime", "back-in-service")
                if _window(n) == window and started(n) >= started(last)
            ]
            if told and succeeded(last):
                evidence.append(
                    f"window {window}: back in service told {when(facts, started(told[0]))} "
                    f"(run {told[0].get('id')})"
                )
            else:
                why = (
                    "the downtime run did not succeed"
                    if not succeeded(last)
                    else "no back-in-service notice"
                )
                gaps.append(
                    f"window {window}: {why}; when the systems are back, run "
                    f"`spo downtime finish --window {window}`"
                )
        return evidence, gaps

    return _downtime("S4.5", facts, judge)
