"""The ground `spo audit`'s rules stand on: the SPO policy's constants and defaults, the facts
the CLI gathered (Facts, HostFacts) and the verdict a rule gives (Verdict), and the helpers
every rule module shares: times in the site's zone, hosts, backup sources and history records,
and the CLI's runs."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from spo import report_render
from spo.change_log import Change
from spo.incident_log import Incident
from spo.report_downtime import argv_value

MET, NOT_MET, NA = "met", "not met", "not applicable"
STATUSES = (MET, NOT_MET, NA)

DB, APP, MIRROR, STORAGE = "db_servers", "app_servers", "mirror_servers", "storage_servers"
GROUPS = (DB, APP, MIRROR, STORAGE)
DATABASES = ("mariadb", "postgresql")
FILES = ("files",)

DAY = timedelta(days=1)
# A weekly job (the full backup, the drill, the checklist) may be 7 days old plus a day's
# grace: an audit that runs while this week's job is still running must not fail on it.
WEEK = timedelta(days=8)
FILES_LIMIT = timedelta(hours=48)  # program files: 2 x 24 h (their interval is per source)
INTEGRITY_LIMIT = timedelta(days=2)
YEAR = timedelta(days=365)
ARCHIVE_PERIOD = timedelta(days=31)  # S1.6: manual backups are archived at least monthly
RETENTION_FLOOR = 5  # S1.5: never fewer, whatever the inventory says
MONTHLY_GRACE_DAYS = 7  # the monthly copy escalates an absent disk after 7 days
SUCCEEDED = ("successful", "succeeded")
OPEN_TO_ALL = ("all", "0.0.0.0/0", "::/0")
WEEKDAYS = tuple(day.lower() for day in calendar.day_name)  # monday .. sunday

# The policy's SPO defaults (cli/spo/schema/inventory.schema.yml), for a key the CLI left out.
DEFAULTS: dict[str, object] = {
    "spo_timezone": "Asia/Jakarta",
    "spo_backup_interval_minutes": 60,
    "spo_backup_retention_count": 5,
    "spo_manual_backup_max_age_days": 3,
    "spo_weekly_full_day": "saturday",
    "spo_weekly_full_start": "12:00",
    "spo_weekly_full_end": "12:30",
    "spo_monthly_copy_day": 1,
    "spo_mirror_max_lag_seconds": 600,
    "spo_maintenance_months": [4, 7, 12],
    "spo_maintenance_duration_min_minutes": 15,
    "spo_maintenance_duration_max_minutes": 30,
    "spo_quarterly_report_months": 3,
}


# -- input and output ------------------------------------------------------------------------


@dataclass
class HostFacts:
    reached: bool
    error: str | None = None
    history: list[dict] = field(default_factory=list)  # history records of the audit period
    info: dict | None = None  # backup_info: {"places": [...], "status": {...}}
    mirror: dict | None = None  # mirror_info's "status"
    survey: dict | None = None  # data bank survey (+ "hosts_allow", "hosts_deny")


@dataclass
class Facts:
    now: datetime  # aware
    policy: dict  # the site's spo_* variables, defaults filled
    groups: dict[str, list[str]]
    hosts: dict[str, HostFacts]
    runs: list[dict] = field(default_factory=list)  # asdict(RunRecord)
    changes: list[Change] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    archive: list[dict] = field(default_factory=list)  # asdict(archive_register.Entry)
    inventory_log: list[dict] = field(default_factory=list)  # commit, author, date, subject, files


@dataclass(frozen=True)
class Verdict:
    requirement: str
    status: str  # MET, NOT_MET or NA
    evidence: tuple[str, ...]
    gap: str | None


def exit_status(verdicts: Iterable[Verdict]) -> int:
    """0 when every requirement is met or not applicable, 1 when any is not met."""
    return 1 if any(v.status == NOT_MET for v in verdicts) else 0


def verdict(rid: str, evidence: Iterable[str], gaps: Iterable[str]) -> Verdict:
    gaps = [g for g in gaps if g]
    status = NOT_MET if gaps else MET
    return Verdict(rid, status, tuple(evidence), "; ".join(gaps) if gaps else None)


def not_applicable(rid: str, *why: str) -> Verdict:
    return Verdict(rid, NA, tuple(why), None)


def needs(*groups: str) -> Callable:
    """Mark a rule with the groups whose hosts it reads (see the module's conventions)."""

    def mark(rule: Callable) -> Callable:
        rule.groups = groups
        return rule

    return mark


# -- time ----------------------------------------------------------------------------------


def parse_time(value: object) -> datetime | None:
    """An ISO time ("...Z" or with an offset), or a datetime, as an aware datetime; None if it
    is not one."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return report_render.parse_time(value)


def policy_value(facts: Facts, key: str):
    value = facts.policy.get(key)
    return DEFAULTS.get(key) if value is None else value


def zone(facts: Facts) -> tzinfo:
    try:
        return ZoneInfo(str(policy_value(facts, "spo_timezone")))
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def span(delta: timedelta | float) -> str:
    """A duration in its two largest units that are not zero: "42 s", "3 min 12 s",
    "5 h 3 min", "2 d 4 h", "3 d 55 min"."""
    seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
    rest = max(0, round(seconds))
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    return " ".join(f"{n} {unit}" for n, unit in [p for p in parts if p[0]][:2]) or "0 s"


def local_time(facts: Facts, moment: datetime) -> datetime:
    return moment.astimezone(zone(facts))


def when(facts: Facts, moment: datetime) -> str:
    local = local_time(facts, moment)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def stamp(facts: Facts, value: object) -> str:
    moment = parse_time(value)
    return when(facts, moment) if moment else "-"


def ago(facts: Facts, moment: datetime) -> str:
    return f"{when(facts, moment)} ({span(facts.now - moment)} ago)"


def months_before(moment: datetime, months: int) -> datetime:
    """The same day ``months`` earlier (later when negative), clamped to the month's end."""
    year, index = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    month = index + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def month_label(moment: datetime) -> str:
    return f"{moment:%Y-%m}"


# -- hosts, sources and records ------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    host: str
    name: str
    type: str
    status: dict  # the source's entry of status.build

    def __str__(self) -> str:
        return f"{self.host}/{self.name}"


def group_hosts(facts: Facts, *groups: str) -> list[str]:
    return sorted({h for g in groups for h in facts.groups.get(g) or []})


def reached(facts: Facts, host: str) -> HostFacts | None:
    found = facts.hosts.get(host)
    return found if found is not None and found.reached else None


def unreached(facts: Facts, groups: Iterable[str]) -> list[tuple[str, str]]:
    """(host, why) of every host of ``groups`` that was not reached."""
    found = []
    for host in group_hosts(facts, *groups):
        got = facts.hosts.get(host)
        if got is None:
            found.append((host, "no facts were gathered from it"))
        elif not got.reached:
            found.append((host, got.error or "not reached"))
    return found


def backup_sources(
    facts: Facts, groups: tuple[str, ...], types: tuple[str, ...] | None, what: str | None
) -> tuple[list[Source], list[str]]:
    """The backup sources of the reached hosts of ``groups`` (of ``types``, all when None), and
    the gaps: a host without backup configuration; with ``what`` (the sources' description)
    also an empty group and a host with no such source, for rules that need them."""
    found, gaps = [], []
    hosts = group_hosts(facts, *groups)
    if what and not hosts:
        gaps.append(f"the inventory has no host in {' or '.join(groups)}: no {what} to judge")
    for host in hosts:
        got = reached(facts, host)
        if got is None:
            continue
        status = (got.info or {}).get("status")
        if not isinstance(status, dict):
            gaps.append(f"{host}: no backup configuration; apply the backup role (`spo provision`)")
            continue
        mine = [
            Source(host, str(s.get("source")), str(s.get("type") or ""), s)
            for s in status.get("sources") or []
            if types is None or s.get("type") in types
        ]
        if what and not mine:
            gaps.append(
                f"{host}: no {what} in its backup_sources; add it to the inventory and run "
                "`spo provision`"
            )
        found += mine
    return found, gaps


def host_status(facts: Facts, host: str) -> dict:
    got = reached(facts, host)
    found = (got.info or {}).get("status") if got else None
    return found if isinstance(found, dict) else {}


def history(facts: Facts, host: str | None, kind: str) -> list[dict]:
    """The history records of one kind: of one host, or of every reached host (None)."""
    hosts = [host] if host else sorted(facts.hosts)
    return [
        {**r, "host": r.get("host") or h}
        for h in hosts
        if (got := reached(facts, h)) is not None
        for r in got.history
        if r.get("record") == kind and parse_time(r.get("time")) is not None
    ]


def first_record(facts: Facts, host: str) -> datetime | None:
    """When the host's records begin (within the period read): a duty that fell due before a
    host kept any record is not judged on it (a new server, the demo's fresh lab)."""
    got = reached(facts, host)
    times = [t for r in (got.history if got else []) if (t := parse_time(r.get("time")))]
    return min(times) if times else None


def newest_record(records: Iterable[dict]) -> dict | None:
    return max(records, key=lambda r: parse_time(r.get("time")), default=None)


def record_age(facts: Facts, record: dict) -> timedelta:
    return facts.now - parse_time(record.get("time"))


def backup_runs(facts: Facts, src: Source, kinds: tuple[str, ...] | None) -> list[dict]:
    """The source's successful backup runs of ``kinds`` (any kind when None)."""
    return [
        r
        for r in history(facts, src.host, "run")
        if r.get("source") == src.name
        and r.get("result") == "ok"
        and (kinds is None or r.get("kind") in kinds)
    ]


def age_limit(facts: Facts, src: Source) -> timedelta:
    """How old a source's newest automatic backup may be: twice the interval, at most 24 h,
    for a database; 48 h for program files, whose own interval (often daily) the hosts do
    not report."""
    if src.type in FILES:
        return FILES_LIMIT
    interval = timedelta(minutes=int(policy_value(facts, "spo_backup_interval_minutes")))
    return min(2 * interval, DAY)


def fresh(facts: Facts, sources: list[Source]) -> tuple[list[str], list[str]]:
    """Evidence and gaps: each source's newest successful automatic backup within its limit."""
    evidence, gaps = [], []
    for src in sources:
        newest = newest_record(kept_runs(facts, src, backup_runs(facts, src, ("automatic",))))
        fix = (
            f"run `spo backup now --host {src.host} --source {src.name}` and check the host's "
            "backup cron job (`spo provision`)"
        )
        if newest is None:
            gaps.append(f"{src}: no successful automatic backup in the records; {fix}")
            continue
        age, limit = record_age(facts, newest), age_limit(facts, src)
        evidence.append(
            f"{src}: last automatic backup {ago(facts, parse_time(newest['time']))}, limit "
            f"{span(limit)}"
        )
        if age > limit:
            gaps.append(
                f"{src}: newest automatic backup is {span(age)} old (limit {span(limit)}); {fix}"
            )
    return evidence, gaps


def kept_runs(facts: Facts, src: Source, runs: list[dict]) -> list[dict]:
    """The runs whose backup is still in the host's own folder: a backup deleted since does
    not count as made (without the host's catalog, every run counts)."""
    local = backup_places(facts, src.host, "local")
    if not local or local[0].get("error"):
        return runs
    names = {b.get("name") for b in held_backups(local[0], src)}
    return [r for r in runs if r.get("backup") in names]


def backup_places(facts: Facts, host: str, prefix: str) -> list[dict]:
    """The host's backup places named ``prefix`` or "``prefix`` <name>"."""
    got = reached(facts, host)
    places = (got.info or {}).get("places") if got else None
    return [
        p
        for p in places or []
        if p.get("where") == prefix or str(p.get("where", "")).startswith(f"{prefix} ")
    ]


def held_backups(place: dict, src: Source) -> list[dict]:
    return [b for b in place.get("backups") or [] if b.get("source") == src.name]


def proofs(facts: Facts, src: Source, kind: str) -> list[dict]:
    """Drill or restore records of the source, from any host: a drill may run on another host
    from the NAS copy, so a record counts when it is the source's host's or its backup's name
    carries that host."""
    return [
        r
        for r in history(facts, None, kind)
        if r.get("source") == src.name
        and (r.get("host") == src.host or src.host in str(r.get("backup") or "").split("_"))
    ]


# -- the CLI's runs --------------------------------------------------------------------------


def cli_runs(facts: Facts) -> list[dict]:
    """The CLI's runs; a line of the kept reports' index (report_archive: "kind", "subject",
    "time", "file") is taken as the successful run `report <kind> <subject>` it was, so the
    checklists `spo report` keeps count as produced."""
    return [
        {
            "id": f"kept report {entry.get('file', '-')}",
            "command": f"report {entry['kind']} {entry['subject']}",
            "argv": [],
            "started": entry.get("time"),
            "status": "successful",
            "check": False,
        }
        if "command" not in entry and "kind" in entry and "subject" in entry
        else entry
        for entry in facts.runs
    ]


def succeeded(run: dict) -> bool:
    return run.get("status") in SUCCEEDED and not run.get("check")


def ran(run: dict, *words: str) -> bool:
    """The run is the command ``words`` ("report", "weekly"), recorded under that name or
    under a shorter one with the words in its argv (`spo report weekly` records "report")."""
    command = str(run.get("command") or "").split()
    if command[: len(words)] == list(words):
        return True
    if not command or command != list(words[: len(command)]):
        return False
    argv = [str(a) for a in run.get("argv") or []]
    n = len(words)
    return any(argv[i : i + n] == list(words) for i in range(len(argv) - n + 1))


def run_argument(run: dict, *words: str) -> str:
    """The word after ``words`` in the run's command, else in its argv."""
    for said in (str(run.get("command") or "").split(), [str(a) for a in run.get("argv") or []]):
        n = len(words)
        for i in range(len(said) - n):
            if said[i : i + n] == list(words):
                return said[i + n]
    return ""


def run_option(run: dict, option: str) -> str:
    return argv_value([str(a) for a in run.get("argv") or []], option)


def started(run: dict) -> datetime | None:
    return parse_time(run.get("started"))


def successful_runs(facts: Facts, *words: str, since: datetime | None = None) -> list[dict]:
    """The successful runs of the command ``words`` since ``since``, oldest first."""
    found = [
        r
        for r in cli_runs(facts)
        if ran(r, *words)
        and succeeded(r)
        and (s := started(r)) is not None
        and (since is None or s >= since)
    ]
    return sorted(found, key=started)


def last_run(facts: Facts, words: tuple[str, ...], since: datetime, what: str, fix: str):
    """Evidence and gaps: the newest successful run of ``words`` since ``since``."""
    found = successful_runs(facts, *words)
    if not found:
        return [f"no successful `spo {' '.join(words)}` run recorded"], [f"no {what}; {fix}"]
    last = found[-1]
    evidence = [
        f"`spo {' '.join(words)}` last run {ago(facts, started(last))} (run {last.get('id')})"
    ]
    if started(last) < since:
        return evidence, [
            f"the last {what} is older than allowed (since {when(facts, since)}); {fix}"
        ]
    return evidence, []
