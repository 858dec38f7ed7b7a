"""The SPO calendar's pure rules: the weekly window, overruns, the due month and what a
monthly copy takes (S3.1, S3.2, S3.4)."""

from datetime import datetime, time, timedelta
from pathlib import Path

from spo_backup import catalog, schedule

WIB = schedule.zone(7 * 60)
SATURDAY_NOON = schedule.Weekly(day=5, start=time(12, 0), window_minutes=30)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=WIB)


def test_the_window_is_open_from_its_start_until_just_before_its_end():
    assert schedule.in_window(SATURDAY_NOON, at("2026-11-21T12:00:00"))
    assert schedule.in_window(SATURDAY_NOON, at("2026-11-21T12:29:59"))
    assert not schedule.in_window(SATURDAY_NOON, at("2026-11-21T12:30:00"))
    assert not schedule.in_window(SATURDAY_NOON, at("2026-11-21T12:40:00"))
    assert not schedule.in_window(SATURDAY_NOON, at("2026-11-21T11:59:00"))
    assert not schedule.in_window(SATURDAY_NOON, at("2026-11-22T12:10:00"))  # a Sunday


def test_the_window_named_on_other_days_is_last_weeks():
    start, end = schedule.window_of(SATURDAY_NOON, at("2026-11-25T09:00:00"))  # Wednesday
    assert (start, end) == (at("2026-11-21T12:00:00"), at("2026-11-21T12:30:00"))


def test_an_overrun_counts_started_minutes_past_the_end():
    end = at("2026-11-21T12:30:00")
    assert schedule.overrun_minutes(end, end) == 0
    assert schedule.overrun_minutes(end, end - timedelta(minutes=3)) == 0
    assert schedule.overrun_minutes(end, end + timedelta(seconds=5)) == 1
    assert schedule.overrun_minutes(end, end + timedelta(minutes=17)) == 17


def test_the_due_month_is_last_month_from_the_copy_day_on():
    monthly = schedule.Monthly(day=3, targets=())
    assert schedule.due_month(monthly, at("2026-12-03T00:10:00")) == "2026-11"
    assert schedule.due_month(monthly, at("2026-12-31T23:00:00")) == "2026-11"
    assert schedule.due_month(monthly, at("2026-12-02T23:00:00")) == "2026-10"
    assert schedule.due_month(monthly, at("2027-01-05T08:00:00")) == "2026-12"


def _backup(when: str, source: str, kind: str, verified: bool = True) -> catalog.Backup:
    moment = at(when)
    name = catalog.backup_name(moment, "simrs-db", source, kind)
    return catalog.Backup(Path(name), "simrs-db", source, kind, moment, verified, None, {})


def test_a_monthly_copy_takes_the_weekly_fulls_and_each_sources_last_daily():
    backups = [
        _backup("2026-10-31T23:00:00", "sik", "automatic"),  # October
        _backup("2026-11-07T12:00:00", "sik", "weekly-full"),
        _backup("2026-11-14T12:00:00", "sik", "weekly-full", verified=False),
        _backup("2026-11-21T12:00:00", "app", "weekly-full"),
        _backup("2026-11-29T02:00:00", "sik", "automatic"),
        _backup("2026-11-30T02:00:00", "sik", "automatic"),  # the last daily of sik
        _backup("2026-11-30T03:00:00", "sik", "manual"),
        _backup("2026-11-30T02:00:00", "app", "automatic"),
        # 00:30 on 1 December in Jakarta is still 30 November in UTC: the hospital's month.
        _backup("2026-12-01T00:30:00", "sik", "automatic"),
    ]
    chosen = schedule.select(backups, "2026-11", WIB, schedule.SELECTIONS)
    assert [(b.time.day, b.source, b.kind) for b in chosen] == [
        (7, "sik", "weekly-full"),
        (21, "app", "weekly-full"),
        (30, "app", "automatic"),
        (30, "sik", "automatic"),
    ]
    only_weekly = schedule.select(backups, "2026-11", WIB, ("weekly-full",))
    assert [b.kind for b in only_weekly] == ["weekly-full", "weekly-full"]
