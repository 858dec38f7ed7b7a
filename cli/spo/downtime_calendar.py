"""The planned downtime calendar (S4.1): which windows come, and whether now is inside one.

Pure functions of the inventory's policy: the months (`spo_maintenance_months`, April, July
and December), the start time (`spo_maintenance_start`), the estimate (15-30 minutes) and the
day of the month (`spo_maintenance_weekday` of week `spo_maintenance_week_of_month`, the second
Saturday by default). A window is named by its month, "2026-12".
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

WEEKDAYS = tuple(day.lower() for day in calendar.day_name)  # monday .. sunday
WINDOW_ID = re.compile(r"(?P<year>[0-9]{4})-(?P<month>0[1-9]|1[0-2])")


class CalendarError(ValueError):
    """A window that is not on the calendar, or a calendar the inventory cannot give."""


@dataclass(frozen=True)
class Policy:
    months: tuple[int, ...]
    start: time
    estimate_min: int
    estimate_max: int
    weekday: int  # 0 = Monday
    week: int  # 1-4: the first .. fourth such weekday of the month; 5: the last
    early_minutes: int = 30  # a run may start this much before the announced time
    late_minutes: int = 60  # ... and this much after the longest estimate has passed
    tz: tzinfo | None = None

    @classmethod
    def from_vars(cls, found: dict, tz: tzinfo) -> Policy:
        """From the merged variables of the inventory's group ``all``; every missing or wrong
        key is an error naming it and what it should be."""

        def need(key: str, test, expected: str, default=None):
            value = found.get(key, default)
            if value is None or not test(value):
                raise CalendarError(
                    f"{key}: expected {expected}, found {value!r}: set it in the inventory's "
                    "group_vars/all (spo inventory check lists the SPO defaults)"
                )
            return value

        months = need("spo_maintenance_months", lambda v: isinstance(v, list) and v and all(
            isinstance(m, int) and 1 <= m <= 12 for m in v), "a list of months 1-12")  # fmt: skip
        start = need("spo_maintenance_start", lambda v: isinstance(v, str)
                     and re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", v), '"HH:MM"')  # fmt: skip
        low = need("spo_maintenance_duration_min_minutes", lambda v: isinstance(v, int) and v > 0,
                   "minutes > 0")  # fmt: skip
        high = need("spo_maintenance_duration_max_minutes", lambda v: isinstance(v, int) and
                    v >= low, f"minutes >= {low} (the shortest estimate)")  # fmt: skip
        weekday = need("spo_maintenance_weekday", lambda v: v in WEEKDAYS, " or ".join(WEEKDAYS),
                       "saturday")  # fmt: skip
        week = need("spo_maintenance_week_of_month", lambda v: v in (1, 2, 3, 4, 5),
                    "1-4 (the first .. fourth) or 5 (the last)", 2)  # fmt: skip
        return cls(
            months=tuple(sorted(set(months))),
            start=time(int(start[:2]), int(start[3:])),
            estimate_min=low,
            estimate_max=high,
            weekday=WEEKDAYS.index(weekday),
            week=week,
            tz=tz,
        )


@dataclass(frozen=True)
class Window:
    id: str  # "2026-12"
    start: datetime  # aware, in the site's time zone
    estimate_min: int
    estimate_max: int

    @property
    def end(self) -> datetime:
        """The latest announced end: start + the longest estimate."""
        return self.start + timedelta(minutes=self.estimate_max)


def day_of(year: int, month: int, weekday: int, week: int) -> int:
    """The day of the month of the ``week``-th ``weekday`` (5: the last)."""
    days = [d for d in calendar.Calendar().itermonthdates(year, month)
            if d.month == month and d.weekday() == weekday]  # fmt: skip
    return days[min(week, len(days)) - 1].day


def window(policy: Policy, window_id: str) -> Window:
    found = WINDOW_ID.fullmatch(window_id)
    if not found:
        raise CalendarError(f"{window_id!r} is not a window: expected YYYY-MM, e.g. 2026-12")
    year, month = int(found["year"]), int(found["month"])
    if month not in policy.months:
        names = ", ".join(calendar.month_name[m] for m in policy.months)
        raise CalendarError(
            f"{window_id} is not a planned downtime month: the calendar has {names} "
            "(spo_maintenance_months)"
        )
    day = day_of(year, month, policy.weekday, policy.week)
    start = datetime(year, month, day, policy.start.hour, policy.start.minute, tzinfo=policy.tz)
    return Window(window_id, start, policy.estimate_min, policy.estimate_max)


def upcoming(policy: Policy, now: datetime, count: int = 3) -> list[Window]:
    """The next ``count`` windows that have not ended by ``now``."""
    found: list[Window] = []
    year = now.astimezone(policy.tz).year
    while len(found) < count:
        for month in policy.months:
            candidate = window(policy, f"{year:04d}-{month:02d}")
            if candidate.end > now and len(found) < count:
                found.append(candidate)
        year += 1
    return found


def inside(policy: Policy, win: Window, now: datetime) -> bool:
    """Whether a run may start now: from ``early_minutes`` before the announced start until
    ``late_minutes`` after the longest estimate."""
    opens = win.start - timedelta(minutes=policy.early_minutes)
    closes = win.end + timedelta(minutes=policy.late_minutes)
    return opens <= now <= closes
