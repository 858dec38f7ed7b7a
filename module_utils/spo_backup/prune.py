"""Which backups to keep (S1.5): a pure function of the backups, the policy and the time.

Rules, applied per host+source so one source's policy never touches another's:
- keep-last N newest (N never below the floor);
- the floor (S1.5: "at least 5 distinct backups by the latest backup dates"): the 5 newest
  distinct backup times, and the newest backup of each of the 5 latest backup dates;
- optional hourly/daily/weekly/monthly: the newest backup of each of the N latest periods;
- the newest verified backup and every pinned backup (monthly copies, S3.4), always.
Time is the manifest's, never the folder name's. A backup dated after ``now`` (a host with a
wrong clock) is kept and reported, and takes no slot from the others.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

FLOOR = 5
SKEW_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class Policy:
    keep_last: int = FLOOR
    hourly: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0
    utc_offset_minutes: int = 0  # periods follow the hospital's clock (WIB is +420)


@dataclass(frozen=True)
class Item:
    name: str
    host: str
    source: str
    time: datetime
    verified: bool = False
    pinned: str | None = None


@dataclass(frozen=True)
class Decision:
    name: str
    host: str
    source: str
    keep: bool
    reasons: tuple[str, ...]


_PERIODS: dict[str, Callable[[datetime], str]] = {
    "hourly": lambda t: t.strftime("%Y-%m-%d %H:00"),
    "daily": lambda t: t.strftime("%Y-%m-%d"),
    "weekly": lambda t: f"{t.isocalendar()[0]:04d}-W{t.isocalendar()[1]:02d}",
    "monthly": lambda t: t.strftime("%Y-%m"),
}


def decide(items: Iterable[Item], policy: Policy, now: datetime) -> list[Decision]:
    """A decision with its reasons for every item, grouped by host+source, newest first."""
    groups: dict[tuple[str, str], list[Item]] = {}
    for item in items:
        groups.setdefault((item.host, item.source), []).append(item)
    decisions = []
    for key in sorted(groups):
        newest_first = sorted(groups[key], key=lambda i: (i.time, i.name), reverse=True)
        decisions += _decide_group(newest_first, policy, now)
    return decisions


def _decide_group(items: list[Item], policy: Policy, now: datetime) -> list[Decision]:
    reasons: dict[str, list[str]] = {i.name: [] for i in items}
    local = timezone(timedelta(minutes=policy.utc_offset_minutes))
    dated = []
    for item in items:
        if item.time > now + SKEW_TOLERANCE:
            reasons[item.name].append(
                f"dated {item.time.isoformat()}, after now: the host clock was wrong; kept "
                "without taking a slot, check it by hand"
            )
        else:
            dated.append(item)

    last = max(policy.keep_last, FLOOR)
    times = _firsts(dated, lambda i: i.time, last)
    for item in dated:
        if item.time in times:
            rank = times.index(item.time) + 1
            if rank <= policy.keep_last:
                reasons[item.name].append(f"keep-last {policy.keep_last}: #{rank}")
            if rank <= FLOOR:
                reasons[item.name].append(f"floor: #{rank} of the {FLOOR} newest backups")

    def period_keeps(label: str, count: int, period: Callable[[datetime], str]) -> None:
        seen: set[str] = set()
        for item in dated:
            bucket = period(item.time.astimezone(local))
            if bucket not in seen and len(seen) < count:
                seen.add(bucket)
                reasons[item.name].append(f"{label}: newest of {bucket}")

    period_keeps(f"floor: one of the {FLOOR} latest backup dates", FLOOR, _PERIODS["daily"])
    for label, period in _PERIODS.items():
        period_keeps(label, getattr(policy, label), period)

    verified = next((i for i in dated if i.verified), None)
    if verified:
        reasons[verified.name].append("newest verified backup")
    for item in items:
        if item.pinned:
            reasons[item.name].append(f"pinned: {item.pinned}")

    return [
        Decision(
            i.name,
            i.host,
            i.source,
            bool(reasons[i.name]),
            tuple(reasons[i.name]) or (_REMOVE_REASON.format(last=last),),
        )
        for i in items
    ]


_REMOVE_REASON = (
    "older than the {last} newest, not the newest of a kept period, not the "
    "newest verified, not pinned"
)


def _firsts(items: list[Item], key: Callable[[Item], datetime], count: int) -> list[datetime]:
    """The first ``count`` distinct keys, in order."""
    found: list[datetime] = []
    for item in items:
        value = key(item)
        if value not in found:
            if len(found) == count:
                break
            found.append(value)
    return found
