"""The SPO backup calendar: the weekly full backup's window (S3.1, S3.2), the monthly copies
(S3.4) and the oldest a manual backup may be (S1.3).

Times are the hospital's clock: the fixed UTC offset of the host's policy (Indonesia keeps no
daylight saving time). Every function takes "now" from its caller, so tests and drills can
set the clock.
"""

import calendar
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

DAYS = tuple(day.lower() for day in calendar.day_name)  # monday .. sunday
SELECTIONS = ("weekly-full", "last-daily")


@dataclass(frozen=True)
class Weekly:
    day: int  # 0 = Monday
    start: time
    window_minutes: int
    folder: str = "weekly"  # under the backup root
    keep: int = 5  # weekly backups kept there (never below the floor of 5)


@dataclass(frozen=True)
class Monthly:
    day: int  # day of the month the previous month's copies are made, 1-28
    targets: tuple  # config.Offsite: the NAS and the external disk
    select: tuple[str, ...] = SELECTIONS
    escalate_after_days: int = 7


@dataclass(frozen=True)
class Calendar:
    weekly: Weekly | None = None
    monthly: Monthly | None = None
    manual_max_age_days: int = 3


def zone(offset_minutes: int) -> timezone:
    return timezone(timedelta(minutes=offset_minutes))


def window_of(weekly: Weekly, now: datetime) -> tuple[datetime, datetime]:
    """The weekly window now is in or next to: this week's when today is its day or later,
    else last week's (both in now's time zone)."""
    back = (now.weekday() - weekly.day) % 7
    start = datetime.combine(now.date() - timedelta(days=back), weekly.start, now.tzinfo)
    return start, start + timedelta(minutes=weekly.window_minutes)


def in_window(weekly: Weekly, now: datetime) -> bool:
    start, end = window_of(weekly, now)
    return start <= now < end


def overrun_minutes(end_of_window: datetime, ended: datetime) -> int:
    """Whole minutes past the window's end, rounded up (0: ended in time)."""
    late = (ended - end_of_window).total_seconds()
    return 0 if late <= 0 else int(-(-late // 60))


def month_of(moment: datetime, tz: timezone) -> str:
    return moment.astimezone(tz).strftime("%Y-%m")


def due_month(monthly: Monthly, now: datetime) -> str:
    """The latest month whose copies are due by now: last month once today is the copy day
    or later, else the month before it."""
    first = now.replace(day=1)
    back = 1 if now.day >= monthly.day else 2
    for _ in range(back):
        first = (first - timedelta(days=1)).replace(day=1)
    return first.strftime("%Y-%m")


def select(backups: list, month: str, tz: timezone, choose: tuple[str, ...]) -> list:
    """The month's backups a monthly copy takes (``catalog.Backup``s): every weekly full and,
    per source, the month's last automatic (daily) backup. Only verified backups qualify."""
    mine = [b for b in backups if b.verified and month_of(b.time, tz) == month]
    chosen = {b.name: b for b in mine if "weekly-full" in choose and b.kind == "weekly-full"}
    if "last-daily" in choose:
        last: dict[str, object] = {}
        for b in sorted(mine, key=lambda b: (b.time, b.name)):
            if b.kind == "automatic":
                last[b.source] = b
        chosen.update((b.name, b) for b in last.values())
    return sorted(chosen.values(), key=lambda b: (b.time, b.name))
