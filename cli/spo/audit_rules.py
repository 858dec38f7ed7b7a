"""`spo audit` (the pure part): every requirement of the SPO list (S0.1-S4.5) judged from the
facts the CLI gathered: the inventory's policy, each host's history records, backup places and
status, mirror status and data bank survey, the CLI's run records, the change and incident
logs, the archive register and the inventory's git history.

No Ansible, no click, no clock: ``evaluate(facts)`` gives exactly one Verdict per requirement
ID, in ID order, each "met", "not met" (with the evidence and the gap: what is missing and the
command that fixes it) or "not applicable". Evidence and gaps are English, short and concrete
(host, source, time in the site's zone, figure); the renderer (audit_render) translates the
fixed words around them.

Conventions every rule follows:
- A rule names the inventory groups whose hosts it reads (``@_needs``); when one of those
  hosts was not reached the requirement is "not met" with the gap "host X unreachable: ...",
  whatever the other hosts say: an auditor cannot accept what was not read.
- "The period" is what the facts cover: the hosts' history records the CLI read.
- Times in the evidence are the site's (policy ``spo_timezone``).
- A CLI run counts when its status is "successful" (ansible-runner's word; "succeeded" too) and
  it was not a check-mode rehearsal. A report command recorded under the bare name "report"
  (history_data.fetch's run) is recognised by its argv ("report weekly ...").
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from spo.change_log import Change
from spo.incident_log import Incident

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


def _judge(rid: str, evidence: Iterable[str], gaps: Iterable[str]) -> Verdict:
    gaps = [g for g in gaps if g]
    status = NOT_MET if gaps else MET
    return Verdict(rid, status, tuple(evidence), "; ".join(gaps) if gaps else None)


def _na(rid: str, *why: str) -> Verdict:
    return Verdict(rid, NA, tuple(why), None)


def _needs(*groups: str) -> Callable:
    """Mark a rule with the groups whose hosts it reads (see the module's conventions)."""

    def mark(rule: Callable) -> Callable:
        rule.groups = groups
        return rule

    return mark


# -- time ----------------------------------------------------------------------------------


def parse_time(value: object) -> datetime | None:
    """An ISO time ("...Z" or with an offset) as an aware datetime; None if it is not one."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _policy(facts: Facts, key: str):
    value = facts.policy.get(key)
    return DEFAULTS.get(key) if value is None else value


def zone(facts: Facts) -> tzinfo:
    try:
        return ZoneInfo(str(_policy(facts, "spo_timezone")))
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


def _local(facts: Facts, moment: datetime) -> datetime:
    return moment.astimezone(zone(facts))


def _when(facts: Facts, moment: datetime) -> str:
    local = _local(facts, moment)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _stamp(facts: Facts, value: object) -> str:
    moment = parse_time(value)
    return _when(facts, moment) if moment else "-"


def _ago(facts: Facts, moment: datetime) -> str:
    return f"{_when(facts, moment)} ({span(facts.now - moment)} ago)"


def _months_before(moment: datetime, months: int) -> datetime:
    month, year = moment.month - months, moment.year
    while month < 1:
        month, year = month + 12, year - 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _month_label(moment: datetime) -> str:
    return f"{moment:%Y-%m}"


# -- hosts, sources and records ------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    host: str
    name: str
    type: str
    status: dict  # the source's entry of status.build

    def __str__(self) -> str:
        return f"{self.host}/{self.name}"


def _hosts(facts: Facts, *groups: str) -> list[str]:
    return sorted({h for g in groups for h in facts.groups.get(g) or []})


def _reached(facts: Facts, host: str) -> HostFacts | None:
    found = facts.hosts.get(host)
    return found if found is not None and found.reached else None


def unreached(facts: Facts, groups: Iterable[str]) -> list[tuple[str, str]]:
    """(host, why) of every host of ``groups`` that was not reached."""
    found = []
    for host in _hosts(facts, *groups):
        got = facts.hosts.get(host)
        if got is None:
            found.append((host, "no facts were gathered from it"))
        elif not got.reached:
            found.append((host, got.error or "not reached"))
    return found


def _sources(
    facts: Facts, groups: tuple[str, ...], types: tuple[str, ...] | None, what: str | None
) -> tuple[list[_Source], list[str]]:
    """The backup sources of the reached hosts of ``groups`` (of ``types``, all when None), and
    the gaps: a host without backup configuration; with ``what`` (the sources' description)
    also an empty group and a host with no such source, for rules that need them."""
    found, gaps = [], []
    hosts = _hosts(facts, *groups)
    if what and not hosts:
        gaps.append(f"the inventory has no host in {' or '.join(groups)}: no {what} to judge")
    for host in hosts:
        got = _reached(facts, host)
        if got is None:
            continue
        status = (got.info or {}).get("status")
        if not isinstance(status, dict):
            gaps.append(f"{host}: no backup configuration; apply the backup role (`spo provision`)")
            continue
        mine = [
            _Source(host, str(s.get("source")), str(s.get("type") or ""), s)
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


def _status(facts: Facts, host: str) -> dict:
    got = _reached(facts, host)
    found = (got.info or {}).get("status") if got else None
    return found if isinstance(found, dict) else {}


def _history(facts: Facts, host: str | None, kind: str) -> list[dict]:
    """The history records of one kind: of one host, or of every reached host (None)."""
    hosts = [host] if host else sorted(facts.hosts)
    return [
        {**r, "host": r.get("host") or h}
        for h in hosts
        if (got := _reached(facts, h)) is not None
        for r in got.history
        if r.get("record") == kind and parse_time(r.get("time")) is not None
    ]


def _newest(records: Iterable[dict]) -> dict | None:
    return max(records, key=lambda r: parse_time(r.get("time")), default=None)


def _age(facts: Facts, record: dict) -> timedelta:
    return facts.now - parse_time(record.get("time"))


def _backup_runs(facts: Facts, src: _Source, kinds: tuple[str, ...] | None) -> list[dict]:
    """The source's successful backup runs of ``kinds`` (any kind when None)."""
    return [
        r
        for r in _history(facts, src.host, "run")
        if r.get("source") == src.name
        and r.get("result") == "ok"
        and (kinds is None or r.get("kind") in kinds)
    ]


def _limit(facts: Facts, src: _Source) -> timedelta:
    """How old a source's newest automatic backup may be: twice the interval, at most 24 h,
    for a database; 48 h for program files, whose own interval (often daily) the hosts do
    not report."""
    if src.type in FILES:
        return FILES_LIMIT
    interval = timedelta(minutes=int(_policy(facts, "spo_backup_interval_minutes")))
    return min(2 * interval, DAY)


def _fresh(facts: Facts, sources: list[_Source]) -> tuple[list[str], list[str]]:
    """Evidence and gaps: each source's newest successful automatic backup within its limit."""
    evidence, gaps = [], []
    for src in sources:
        newest = _newest(_backup_runs(facts, src, ("automatic",)))
        fix = (
            f"run `spo backup now --host {src.host} --source {src.name}` and check the host's "
            "backup cron job (`spo provision`)"
        )
        if newest is None:
            gaps.append(f"{src}: no successful automatic backup in the records; {fix}")
            continue
        age, limit = _age(facts, newest), _limit(facts, src)
        evidence.append(
            f"{src}: last automatic backup {_ago(facts, parse_time(newest['time']))}, limit "
            f"{span(limit)}"
        )
        if age > limit:
            gaps.append(
                f"{src}: newest automatic backup is {span(age)} old (limit {span(limit)}); {fix}"
            )
    return evidence, gaps


def _places(facts: Facts, host: str, prefix: str) -> list[dict]:
    """The host's backup places named ``prefix`` or "``prefix`` <name>"."""
    got = _reached(facts, host)
    places = (got.info or {}).get("places") if got else None
    return [
        p
        for p in places or []
        if p.get("where") == prefix or str(p.get("where", "")).startswith(f"{prefix} ")
    ]


def _held(place: dict, src: _Source) -> list[dict]:
    return [b for b in place.get("backups") or [] if b.get("source") == src.name]


def _proofs(facts: Facts, src: _Source, kind: str) -> list[dict]:
    """Drill or restore records of the source, from any host: a drill may run on another host
    from the NAS copy, so a record counts when it is the source's host's or its backup's name
    carries that host."""
    return [
        r
        for r in _history(facts, None, kind)
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


def _succeeded(run: dict) -> bool:
    return run.get("status") in SUCCEEDED and not run.get("check")


def _ran(run: dict, *words: str) -> bool:
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


def _argument(run: dict, *words: str) -> str:
    """The word after ``words`` in the run's command, else in its argv."""
    for said in (str(run.get("command") or "").split(), [str(a) for a in run.get("argv") or []]):
        n = len(words)
        for i in range(len(said) - n):
            if said[i : i + n] == list(words):
                return said[i + n]
    return ""


def _option(run: dict, option: str) -> str:
    argv = [str(a) for a in run.get("argv") or []]
    for i, arg in enumerate(argv):
        if arg == option and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(f"{option}="):
            return arg.split("=", 1)[1]
    return ""


def _started(run: dict) -> datetime | None:
    return parse_time(run.get("started"))


def _runs(facts: Facts, *words: str, since: datetime | None = None) -> list[dict]:
    """The successful runs of the command ``words`` since ``since``, oldest first."""
    found = [
        r
        for r in cli_runs(facts)
        if _ran(r, *words)
        and _succeeded(r)
        and (s := _started(r)) is not None
        and (since is None or s >= since)
    ]
    return sorted(found, key=_started)


def _last_run(facts: Facts, words: tuple[str, ...], since: datetime, what: str, fix: str):
    """Evidence and gaps: the newest successful run of ``words`` since ``since``."""
    found = _runs(facts, *words)
    if not found:
        return [f"no successful `spo {' '.join(words)}` run recorded"], [f"no {what}; {fix}"]
    last = found[-1]
    evidence = [
        f"`spo {' '.join(words)}` last run {_ago(facts, _started(last))} (run {last.get('id')})"
    ]
    if _started(last) < since:
        return evidence, [
            f"the last {what} is older than allowed (since {_when(facts, since)}); {fix}"
        ]
    return evidence, []


# -- S0: the unit data bank ------------------------------------------------------------------


def _surveys(facts: Facts) -> tuple[list[tuple[str, dict]], list[str]]:
    found, gaps = [], []
    for host in _hosts(facts, STORAGE):
        got = _reached(facts, host)
        if got is None:
            continue
        if not isinstance(got.survey, dict):
            gaps.append(
                f"{host}: no data bank survey was read; apply the data_bank role "
                "(`spo provision`) and run `spo audit` again"
            )
            continue
        found.append((host, got.survey))
    return found, gaps


def _no_bank(facts: Facts, rid: str) -> Verdict | None:
    if not _hosts(facts, STORAGE):
        return _na(rid, "no host in storage_servers: the site runs no unit data bank")
    return None


@_needs(STORAGE)
def _s0_1(facts: Facts) -> Verdict:
    """Each unit has its own storage area: every storage host's survey lists at least one unit
    and reads every unit's folder without error (a unit whose folder is missing has no storage
    area). Staff log in with their own accounts: the data_bank role's Samba users; the failed
    logins of the period are shown as evidence."""
    if (na := _no_bank(facts, "S0.1")) is not None:
        return na
    surveys, gaps = _surveys(facts)
    evidence = []
    for host, survey in surveys:
        units = survey.get("units") or []
        good = [u for u in units if not u.get("error")]
        files = sum(u.get("files") or 0 for u in good)
        logins = (survey.get("failed_logins") or {}).get("count", 0)
        evidence.append(
            f"{host}: {len(good)} of {len(units)} units readable "
            f"({', '.join(str(u.get('unit')) for u in good) or 'none'}), {files} files; "
            f"{logins} failed logins in the period"
        )
        if not units:
            gaps.append(
                f"{host}: no unit in the data bank; list them in data_bank_units and run "
                "`spo provision`"
            )
        gaps += [
            f"{host}: unit {u.get('unit')}: {u.get('error')}; apply the data_bank role "
            "(`spo provision`)"
            for u in units
            if u.get("error")
        ]
    return _judge("S0.1", evidence, gaps)


@_needs(STORAGE)
def _s0_2(facts: Facts) -> Verdict:
    """Units are sealed from each other: each unit has its own folder (no two units share a
    path and none lies inside another's), on a host that was read. The refused accesses of the
    period (Samba's audit in the journal) are the evidence that the seal is enforced; a quiet
    period with none is not a breach. Not met when the survey is missing."""
    if (na := _no_bank(facts, "S0.2")) is not None:
        return na
    surveys, gaps = _surveys(facts)
    evidence = []
    for host, survey in surveys:
        units = [u for u in survey.get("units") or [] if u.get("path")]
        paths = {u.get("unit"): str(u["path"]).rstrip("/") for u in units}
        if not units:
            gaps.append(
                f"{host}: no unit folder to seal; list the units in data_bank_units and run "
                "`spo provision`"
            )
        for unit, path in sorted(paths.items()):
            shared = [
                other
                for other, there in sorted(paths.items())
                if other != unit and (there == path or path.startswith(f"{there}/"))
            ]
            if shared:
                gaps.append(
                    f"{host}: unit {unit}'s folder {path} is inside or equal to that of "
                    f"{', '.join(map(str, shared))}; give each unit its own folder "
                    "(data_bank_units) and run `spo provision`"
                )
        denied = (survey.get("denied") or {}).get("count", 0)
        evidence.append(
            f"{host}: {len(paths)} units, {len(set(paths.values()))} distinct folders; "
            f"{denied} refused accesses in the period"
        )
    return _judge("S0.2", evidence, gaps)


@_needs(STORAGE)
def _s0_3(facts: Facts) -> Verdict:
    """Integrity is watched: every unit of the survey has an integrity check at most 2 days
    old, and the newest check of each unit is "ok". A newest "suspect" (content changed under
    an unchanged size and time, or unreadable) or "failed" check is not met."""
    if (na := _no_bank(facts, "S0.3")) is not None:
        return na
    surveys, gaps = _surveys(facts)
    evidence = []
    for host, survey in surveys:
        checks = _history(facts, host, "integrity")
        for unit in survey.get("units") or []:
            name = unit.get("unit")
            newest = _newest(c for c in checks if c.get("unit") == name)
            verify = f"`spo databank verify --unit {name}`"
            if newest is None:
                gaps.append(f"{host}/{name}: no integrity check in the records; run {verify}")
                continue
            result, age = newest.get("result"), _age(facts, newest)
            evidence.append(
                f"{host}/{name}: checked {_ago(facts, parse_time(newest['time']))}: {result}, "
                f"{newest.get('files')} files, {newest.get('suspect_count', 0)} suspect"
            )
            if age > INTEGRITY_LIMIT:
                gaps.append(
                    f"{host}/{name}: last integrity check {span(age)} old (limit 2 d); run "
                    f"{verify} and check its cron job"
                )
            if result == "suspect":
                files = ", ".join(str(s.get("path")) for s in newest.get("suspect") or [])
                gaps.append(
                    f"{host}/{name}: {newest.get('suspect_count', 0)} suspect files "
                    f"({files or '-'}); investigate the disk, restore the files from backup "
                    f"(`spo restore --host {host} --source databank --to-path ...`), then run "
                    f"{verify}"
                )
            elif result != "ok":
                gaps.append(
                    f"{host}/{name}: last integrity check {result}: {newest.get('error')}; "
                    f"fix it and run {verify}"
                )
    return _judge("S0.3", evidence, gaps)


def _s0_4(facts: Facts) -> Verdict:
    """The monitoring report every ``spo_quarterly_report_months`` months: a successful
    `spo report quarterly` run within that many months (calendar months, site time). The
    troubleshooting log's open incidents are counted as evidence. Not applicable without a
    data bank (the report is the data bank's)."""
    if (na := _no_bank(facts, "S0.4")) is not None:
        return na
    months = int(_policy(facts, "spo_quarterly_report_months"))
    since = _months_before(_local(facts, facts.now), months)
    evidence, gaps = _last_run(
        facts, ("report", "quarterly"), since, f"report in the last {months} months",
        "run `spo report quarterly` and file it",
    )  # fmt: skip
    still_open = [i for i in facts.incidents if i.open]
    evidence.append(
        f"troubleshooting log: {len(facts.incidents)} incidents, {len(still_open)} open"
        + (f" ({', '.join(i.opened.id for i in still_open)})" if still_open else "")
    )
    return _judge("S0.4", evidence, gaps)


@_needs(STORAGE)
def _s0_5(facts: Facts) -> Verdict:
    """Access only from the hospital's network: Samba's "hosts allow" (as testparm reads it)
    names networks, none of them everything (ALL, 0.0.0.0/0, ::/0), and "hosts deny" is ALL."""
    if (na := _no_bank(facts, "S0.5")) is not None:
        return na
    surveys, gaps = _surveys(facts)
    evidence = []
    fix = "set data_bank_hosts_allow to the hospital's networks and run `spo provision`"
    for host, survey in surveys:
        allow = [str(a) for a in survey.get("hosts_allow") or []]
        deny = [str(d) for d in survey.get("hosts_deny") or []]
        evidence.append(
            f"{host}: hosts allow {' '.join(allow) or '(none)'}; "
            f"hosts deny {' '.join(deny) or '(none)'}"
        )
        if not allow:
            gaps.append(
                f"{host}: Samba's hosts allow is empty (every network reaches the shares); {fix}"
            )
        if wide := [a for a in allow if a.lower() in OPEN_TO_ALL]:
            gaps.append(f"{host}: hosts allow admits every network ({', '.join(wide)}); {fix}")
        if "all" not in {d.lower() for d in deny}:
            gaps.append(
                f"{host}: hosts deny is not ALL; apply the data_bank role (`spo provision`)"
            )
    return _judge("S0.5", evidence, gaps)


# -- S1: database backup -------------------------------------------------------------------


def _db_sources(facts: Facts) -> tuple[list[_Source], list[str]]:
    return _sources(facts, (DB,), DATABASES, "database source")


@_needs(DB)
def _s1_1(facts: Facts) -> Verdict:
    """Automatic backup at least daily at the configured interval: every database source of
    db_servers has a successful automatic backup no older than twice
    ``spo_backup_interval_minutes`` (one missed run is grace), and never older than 24 h."""
    sources, gaps = _db_sources(facts)
    evidence, late = _fresh(facts, sources)
    return _judge("S1.1", evidence, gaps + late)


@_needs(DB)
def _s1_2(facts: Facts) -> Verdict:
    """Automatic backups land on the server (or media synchronised with it): the host's own
    backup folder ("local" place) is readable and holds at least one backup of every database
    source. How recent they are is S1.1's question; how many, S1.5's."""
    sources, gaps = _db_sources(facts)
    evidence = []
    for src in sources:
        local = _places(facts, src.host, "local")
        if not local or local[0].get("error"):
            why = local[0].get("error") if local else "no local place reported"
            gaps.append(f"{src}: the host's backup folder cannot be read ({why}); check its disk")
            continue
        held = _held(local[0], src)
        evidence.append(f"{src}: {len(held)} backups in {local[0].get('path')}")
        if not held:
            gaps.append(
                f"{src}: no backup in {local[0].get('path')}; run "
                f"`spo backup now --host {src.host} --source {src.name}`"
            )
    return _judge("S1.2", evidence, gaps)


@_needs(DB)
def _s1_3(facts: Facts) -> Verdict:
    """A manual backup at least every ``spo_manual_backup_max_age_days`` days: no database
    source is in the host's status "overdue" list (status.build: its newest successful manual
    backup is older than the limit, or there is none)."""
    sources, gaps = _db_sources(facts)
    evidence = []
    limit = _policy(facts, "spo_manual_backup_max_age_days")
    for src in sources:
        overdue = src.name in _status(facts, src.host).get("overdue", [])
        age = src.status.get("manual_age_days")
        evidence.append(
            f"{src}: last manual backup {age} d old (limit {limit} d)"
            if age is not None
            else f"{src}: no manual backup recorded"
        )
        if overdue or src.status.get("manual_overdue"):
            gaps.append(
                f"{src}: manual backup overdue; run `spo backup manual --host {src.host} --to "
                "/media/<external disk>`"
            )
    return _judge("S1.3", evidence, gaps)


@_needs(APP)
def _s1_4(facts: Facts) -> Verdict:
    """Program files are backed up too: every app server has a program files source ("files")
    with a successful backup (any kind) at most 2 days old. Not applicable without
    app_servers."""
    if not _hosts(facts, APP):
        return _na("S1.4", "no host in app_servers: no program files to back up")
    sources, gaps = _sources(facts, (APP,), FILES, "program files source")
    evidence = []
    for host in sorted({s.host for s in sources}):
        newest = _newest(r for s in sources if s.host == host for r in _backup_runs(facts, s, None))
        if newest is None:
            gaps.append(
                f"{host}: no successful backup of its program files; run "
                f"`spo backup now --host {host}`"
            )
            continue
        age = _age(facts, newest)
        evidence.append(
            f"{host}/{newest.get('source')}: last backup {_ago(facts, parse_time(newest['time']))}"
        )
        if age > FILES_LIMIT:
            gaps.append(
                f"{host}: newest program files backup is {span(age)} old (limit 2 d); run "
                f"`spo backup now --host {host} --source {newest.get('source')}` and check "
                "its cron job"
            )
    return _judge("S1.4", evidence, gaps)


@_needs(DB)
def _s1_5(facts: Facts) -> Verdict:
    """At least ``spo_backup_retention_count`` distinct backups (never fewer than 5) of every
    database source in the host's own folder, counted by distinct backup name."""
    sources, gaps = _db_sources(facts)
    keep = max(RETENTION_FLOOR, int(_policy(facts, "spo_backup_retention_count")))
    evidence = []
    for src in sources:
        local = _places(facts, src.host, "local")
        count = len({b.get("name") for b in _held(local[0], src)}) if local else 0
        evidence.append(f"{src}: {count} distinct backups kept (at least {keep})")
        if count < keep:
            gaps.append(
                f"{src}: only {count} distinct backups kept, at least {keep} required; check "
                "retention (backup role) and run "
                f"`spo backup now --host {src.host} --source {src.name}`"
            )
    return _judge("S1.5", evidence, gaps)


def _archive_records(facts: Facts) -> list[dict]:
    """The register's records, from asdict(Entry) ({"path", "record"}) or a plain record."""
    return [e.get("record") if isinstance(e.get("record"), dict) else e for e in facts.archive]


@_needs(DB)
def _s1_6(facts: Facts) -> Verdict:
    """Manual backups are archived and registered: when db_servers made a successful manual
    backup in the last 31 days, the archive register has at least one handover recorded since
    the first of them (IT support archives at least monthly; the whole history the CLI reads
    is too long a period: one handover a year ago would do). Not applicable when no manual
    backup was made in those 31 days."""
    window = facts.now - ARCHIVE_PERIOD
    manual = sorted(
        (r for h in _hosts(facts, DB) for r in _history(facts, h, "run")
         if r.get("kind") == "manual" and r.get("result") == "ok"
         and parse_time(r["time"]) >= window),
        key=lambda r: parse_time(r["time"]),
    )  # fmt: skip
    if not manual:
        return _na("S1.6", f"no manual backup in the last {ARCHIVE_PERIOD.days} days: nothing "
                   "to archive")  # fmt: skip
    first, last = manual[0], manual[-1]
    since = parse_time(first["time"])
    records = _archive_records(facts)
    handed = [r for r in records if (t := parse_time(r.get("recorded_at"))) and t >= since]
    evidence = [
        f"{len(manual)} manual backups since {_when(facts, since)}, last {last.get('backup')}",
        f"archive register: {len(records)} handovers, {len(handed)} since then",
    ]
    evidence += [
        f"{r.get('backup')} on {r.get('medium')}, handed to {r.get('handed_to')} "
        f"{_when(facts, parse_time(r['recorded_at']))}"
        for r in handed[-3:]
    ]
    gaps = []
    if not handed:
        gaps.append(
            f"no handover to archive registered since {_when(facts, since)}; run `spo archive add "
            f"{last.get('backup')} --host {last.get('host')} --medium <medium> --handed-to <name>`"
        )
    return _judge("S1.6", evidence, gaps)


# -- S2: SIMRS backup and recovery -----------------------------------------------------------


def _simrs_sources(facts: Facts) -> tuple[list[_Source], list[str]]:
    """Every source of the SIMRS: db_servers' and app_servers' hosts."""
    return _sources(facts, (DB, APP), None, "backup source")


@_needs(DB, APP)
def _s2_1(facts: Facts) -> Verdict:
    """Copies outside the production server: every SIMRS source (databases and program files)
    has a backup in an offsite place ("offsite <name>": the NAS) that is reachable, and its
    newest offsite copy is no older than the source's automatic backups may be (S2.2's limit)."""
    sources, gaps = _simrs_sources(facts)
    evidence = []
    for src in sources:
        places = _places(facts, src.host, "offsite")
        if not places:
            gaps.append(
                f"{src}: no offsite place configured; set backup_offsite (the NAS) and run "
                "`spo provision`"
            )
            continue
        good = [p for p in places if not p.get("error")]
        gaps += [
            f"{src}: {p.get('where')} unreachable: {p.get('error')}; mount it (nas_mount role)"
            for p in places
            if p.get("error")
        ]
        held = [b for p in good for b in _held(p, src)]
        newest = max((t for b in held if (t := parse_time(b.get("time")))), default=None)
        where = ", ".join(str(p.get("where")) for p in good)
        if newest is None:
            if good:
                gaps.append(
                    f"{src}: no copy in {where}; run "
                    f"`spo backup now --host {src.host} --source {src.name}`"
                )
            continue
        evidence.append(f"{src}: {len(held)} copies in {where}, newest {_ago(facts, newest)}")
        if facts.now - newest > _limit(facts, src):
            gaps.append(
                f"{src}: newest offsite copy is {span(facts.now - newest)} old (limit "
                f"{span(_limit(facts, src))}); check the NAS mount and run "
                f"`spo backup now --host {src.host} --source {src.name}`"
            )
    return _judge("S2.1", evidence, gaps)


@_needs(DB, APP)
def _s2_2(facts: Facts) -> Verdict:
    """Backups are automatic and periodic: every SIMRS source, program files included, has a
    successful automatic backup within its limit (databases: S1.1's; program files: 48 h)."""
    sources, gaps = _simrs_sources(facts)
    evidence, late = _fresh(facts, sources)
    return _judge("S2.2", evidence, gaps + late)


def _restorable(facts: Facts, rid: str, sources: list[_Source], gaps: list[str]) -> Verdict:
    """A restore of each source proven within a week: its newest drill passed, or a restore
    of it succeeded, at most 8 days ago."""
    evidence = []
    for src in sources:
        drill = _newest(_proofs(facts, src, "drill"))
        restore = _newest(r for r in _proofs(facts, src, "restore") if r.get("result") == "ok")
        good = [
            r for r in (drill, restore) if r and r.get("result") == "ok" and _age(facts, r) <= WEEK
        ]
        for label, record in (("drill", drill), ("restore", restore)):
            if record is not None:
                evidence.append(
                    f"{src}: last {label} {_ago(facts, parse_time(record['time']))}: "
                    f"{record.get('result')}"
                )
        if not good:
            gaps.append(
                f"{src}: no passed drill or successful restore in the last {WEEK.days} days; run "
                f"`spo drill --host {src.host} --source {src.name}`"
            )
    return _judge(rid, evidence, gaps)


@_needs(DB)
def _s2_3(facts: Facts) -> Verdict:
    """The database can be restored to production: for every database source, the newest
    drill (a full restore into a scratch instance, checked) passed at most 8 days ago, or a
    restore of it succeeded in that time."""
    sources, gaps = _db_sources(facts)
    return _restorable(facts, "S2.3", sources, gaps)


@_needs(APP)
def _s2_4(facts: Facts) -> Verdict:
    """The application can be restored: as S2.3, for the program files sources of
    app_servers. Not applicable when there is none."""
    sources, gaps = _sources(facts, (APP,), FILES, None)
    if not sources and not gaps:
        return _na("S2.4", "no program files source on app_servers")
    return _restorable(facts, "S2.4", sources, gaps)


def _s2_5(facts: Facts) -> Verdict:
    """Telling database damage from application damage first: met by design, `spo diagnose`
    does it (database, application, or neither, with the restore command or the
    troubleshooting procedure); its last run is shown."""
    found = [r for r in cli_runs(facts) if _ran(r, "diagnose") and _started(r) is not None]
    last = max(found, key=_started, default=None)
    said = "never" if last is None else f"{_ago(facts, _started(last))}, {last.get('status')}"
    return _judge("S2.5", [f"spo diagnose available; last run {said}"], [])


@_needs(DB, APP)
def _s2_6(facts: Facts) -> Verdict:
    """Every component backed up periodically and restorable: S2.2 (all sources) and S2.3,
    S2.4 (restores proven) together; not met names the requirement and component that fail."""
    parts = [_s2_2(facts), _s2_3(facts), _s2_4(facts)]
    evidence = [f"{p.requirement} {p.status}" for p in parts]
    gaps = [f"{p.requirement}: {p.gap}" for p in parts if p.status == NOT_MET]
    return _judge("S2.6", evidence, gaps)


# -- S3: database backup, restore and update -------------------------------------------------


def _db_hosts(facts: Facts) -> tuple[list[str], list[str]]:
    sources, gaps = _db_sources(facts)
    return sorted({s.host for s in sources}), gaps


def _weekly_full(facts: Facts, host: str) -> dict | None:
    """The newest successful weekly full backup of the host, as {"time", "ended", "overran",
    "what"}: its calendar record, else its weekly-full runs of that day."""
    records = [
        c
        for c in _history(facts, host, "calendar")
        if c.get("job") in ("weekly-full", "weekly") and c.get("result") == "ok"
    ]
    newest = _newest(records)
    if newest is not None:
        return {
            "time": parse_time(newest["time"]),
            "ended": parse_time(newest.get("ended_at")),
            "overran": newest.get("overran_minutes") or 0,
            "what": f"{len(newest.get('backups') or [])} backups",
        }
    runs = [
        r
        for r in _history(facts, host, "run")
        if r.get("kind") == "weekly-full" and r.get("result") == "ok"
    ]
    last = _newest(runs)
    if last is None:
        return None
    day = _local(facts, parse_time(last["time"])).date()
    same = [r for r in runs if _local(facts, parse_time(r["time"])).date() == day]
    ends = [t for r in same if (t := parse_time(r.get("ended_at")))]
    return {
        "time": min(parse_time(r["time"]) for r in same),
        "ended": max(ends, default=None),
        "overran": 0,
        "what": f"{len(same)} backups",
    }


@_needs(DB)
def _s3_1(facts: Facts) -> Verdict:
    """A full backup once a week: every database host's newest successful weekly full backup
    (its calendar record, or its weekly-full runs) is at most 8 days old."""
    hosts, gaps = _db_hosts(facts)
    evidence = []
    for host in hosts:
        full = _weekly_full(facts, host)
        if full is None:
            gaps.append(
                f"{host}: no successful weekly full backup in the records; check the weekly "
                "cron job (`spo provision`)"
            )
            continue
        evidence.append(f"{host}: weekly full backup {_ago(facts, full['time'])}, {full['what']}")
        if facts.now - full["time"] > WEEK:
            gaps.append(
                f"{host}: last weekly full backup is {span(facts.now - full['time'])} old; "
                "check the weekly cron job (`spo provision`)"
            )
    return _judge("S3.1", evidence, gaps)


@_needs(DB)
def _s3_2(facts: Facts) -> Verdict:
    """The weekly full backup runs in its window: the newest one (S3.1's) started on
    ``spo_weekly_full_day`` between ``spo_weekly_full_start`` and ``_end`` in the site's time
    and ended by the end; an overrun is not met."""
    hosts, gaps = _db_hosts(facts)
    day = str(_policy(facts, "spo_weekly_full_day")).lower()
    start, end = (
        str(_policy(facts, "spo_weekly_full_start")),
        str(_policy(facts, "spo_weekly_full_end")),
    )
    window = f"{day} {start}-{end}"
    evidence = []
    fix = (
        "check spo_weekly_full_* and the weekly cron job (`spo provision`), and why the backup "
        "is slow"
    )
    for host in hosts:
        full = _weekly_full(facts, host)
        if full is None or facts.now - full["time"] > WEEK:
            gaps.append(
                f"{host}: no weekly full backup in the last {WEEK.days} days to judge (see S3.1)"
            )
            continue
        began = _local(facts, full["time"])
        ended = _local(facts, full["ended"]) if full["ended"] else None
        evidence.append(
            f"{host}: {WEEKDAYS[began.weekday()]} {began:%H:%M}-"
            f"{f'{ended:%H:%M}' if ended else '?'} {began.tzname()}, window {window}"
        )
        inside = WEEKDAYS[began.weekday()] == day and start <= f"{began:%H:%M}" < end
        if not inside:
            gaps.append(
                f"{host}: weekly full backup started {_when(facts, full['time'])}, outside "
                f"the window {window}; {fix}"
            )
        if ended is None:
            gaps.append(f"{host}: the end of the weekly full backup is not recorded")
        elif full["overran"] or ended.date() != began.date() or f"{ended:%H:%M}" > end:
            over = f" by {full['overran']} min" if full["overran"] else ""
            gaps.append(
                f"{host}: weekly full backup ended {ended:%H:%M}, overran the window "
                f"{window}{over}; {fix}"
            )
    return _judge("S3.2", evidence, gaps)


@_needs(MIRROR)
def _s3_3(facts: Facts) -> Verdict:
    """Mirroring every 10 minutes: every host that reports a mirror status (mirror_servers must)
    says ok with no breach, its policy no looser than ``spo_mirror_max_lag_seconds``; the lag
    of each mirror engine is the evidence. Not applicable without mirror_servers."""
    if not _hosts(facts, MIRROR):
        return _na("S3.3", "no host in mirror_servers: the site runs no database mirror")
    ceiling = int(_policy(facts, "spo_mirror_max_lag_seconds"))
    evidence, gaps = [], []
    for host in _hosts(facts, MIRROR):
        if _reached(facts, host) and _reached(facts, host).mirror is None:
            gaps.append(
                f"{host}: reports no mirror status; apply the db_mirror role (`spo provision`)"
            )
    fix = "see `spo mirror status`; reseed with `spo mirror reseed` if replication is broken"
    for host in sorted(facts.hosts):
        got = _reached(facts, host)
        status = got.mirror if got else None
        if not isinstance(status, dict):
            continue
        policy = status.get("policy_seconds")
        for engine in status.get("engines") or []:
            lag, said = engine.get("lag_seconds"), f"{host} {engine.get('engine')}"
            if engine.get("role") != "mirror":
                evidence.append(f"{said}: {engine.get('role')}")
            elif isinstance(lag, int | float):
                evidence.append(f"{said} mirror: lag {lag:.0f} s (max {ceiling} s)")
            else:
                evidence.append(f"{said} mirror: lag unknown, state {engine.get('state')}")
        if isinstance(policy, int | float) and policy > ceiling:
            gaps.append(
                f"{host}: mirror checked against {policy} s, the policy says {ceiling} s; "
                "run `spo provision`"
            )
        if status.get("breaches") or not status.get("ok"):
            gaps.append(f"{host}: {'; '.join(status.get('breaches') or ['not ok'])}; {fix}")
    return _judge("S3.3", evidence, gaps)


def _due_month(facts: Facts) -> datetime:
    """The month whose copies must be complete now: last month, from the copy day plus a week
    of grace (an external disk absent on the copy day is retried daily, escalated after 7
    days); before that, the month before."""
    local = _local(facts, facts.now)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    back = 1 if local.day >= int(_policy(facts, "spo_monthly_copy_day")) + MONTHLY_GRACE_DAYS else 2
    return _months_before(first, back)


@_needs(DB)
def _s3_4(facts: Facts) -> Verdict:
    """Each month's backups are copied to the NAS and to an external disk: for every database
    source, the due month (``_due_month``) is complete in the host's monthly state (status
    "monthly_copy": that month, completed), or every monthly place ("monthly <target>") holds a
    backup of the source from that month."""
    sources, gaps = _db_sources(facts)
    due = _month_label(_due_month(facts))
    evidence = []
    for src in sources:
        copy = src.status.get("monthly_copy") or {}
        places = _places(facts, src.host, "monthly")
        if copy.get("month") == due and copy.get("completed"):
            done = parse_time(copy["completed"])
            evidence.append(
                f"{src}: copies of {due} complete on every target"
                + (f" {_when(facts, done)}" if done else "")
            )
            continue
        if not places:
            gaps.append(
                f"{src}: no monthly copy targets; set backup_monthly_targets (NAS and "
                "external disk) and run `spo provision`"
            )
            continue
        missing = []
        for place in places:
            if place.get("error"):
                missing.append(f"{place.get('where')} ({place['error']})")
                continue
            of_due = [
                b for b in _held(place, src)
                if (t := parse_time(b.get("time"))) and _month_label(_local(facts, t)) == due
            ]  # fmt: skip
            if of_due:
                evidence.append(f"{src}: {len(of_due)} backups of {due} in {place.get('where')}")
            else:
                missing.append(str(place.get("where")))
        if missing:
            gaps.append(
                f"{src}: copies of {due} missing on {', '.join(missing)}; plug in the external "
                "disk and mount the NAS, the daily monthly job copies them "
                "(`spo-backup monthly` on the host)"
            )
    return _judge("S3.4", evidence, gaps)


def _s3_5(facts: Facts) -> Verdict:
    """A weekly checklist of backup results: a successful `spo report weekly` run in the last
    8 days. The checklist must be produced, not merely producible: auditors ask for it."""
    evidence, gaps = _last_run(
        facts, ("report", "weekly"), facts.now - WEEK, "weekly checklist in the last 8 days",
        "run `spo report weekly` and have it signed",
    )  # fmt: skip
    return _judge("S3.5", evidence, gaps)


@_needs(DB, APP)
def _s3_6(facts: Facts) -> Verdict:
    """A test restore every Friday into a non-active target: for every SIMRS source with
    backups, the newest drill is at most 8 days old (a week and a day's grace) and passed.
    The RTO and RPO it measured are the evidence."""
    sources, gaps = _simrs_sources(facts)
    evidence = []
    for src in sources:
        local = _places(facts, src.host, "local")
        if not (local and _held(local[0], src)) and not _backup_runs(facts, src, None):
            evidence.append(f"{src}: no backup yet, nothing to drill")
            continue
        drill = _newest(_proofs(facts, src, "drill"))
        fix = f"run `spo drill --host {src.host} --source {src.name}` and check the drill cron job"
        if drill is None:
            gaps.append(f"{src}: no drill in the records; {fix}")
            continue
        rto, rpo = drill.get("rto_seconds"), drill.get("rpo_seconds")
        evidence.append(
            f"{src}: drill {_ago(facts, parse_time(drill['time']))}: {drill.get('result')}, "
            f"RTO {span(rto) if isinstance(rto, int | float) else '-'}, "
            f"RPO {span(rpo) if isinstance(rpo, int | float) else '-'}"
        )
        if _age(facts, drill) > WEEK:
            gaps.append(f"{src}: last drill is {span(_age(facts, drill))} old; {fix}")
        if drill.get("result") != "ok":
            gaps.append(
                f"{src}: last drill {drill.get('result')}: {drill.get('error')}; fix it and {fix}"
            )
    return _judge("S3.6", evidence, gaps)


def _restores(facts: Facts) -> list[dict]:
    return sorted(_history(facts, None, "restore"), key=lambda r: parse_time(r["time"]))


def _restore_line(facts: Facts, r: dict) -> str:
    return f"{r.get('host')}/{r.get('source')} {_when(facts, parse_time(r['time']))}"


@_needs(*GROUPS)
def _s3_7(facts: Facts) -> Verdict:
    """Restores on instruction: every restore record of the period (refused ones too) names
    who instructed it. Not applicable when no restore was made."""
    restores = _restores(facts)
    if not restores:
        return _na("S3.7", "no restore in the period")
    evidence = [
        f"{_restore_line(facts, r)}: instructed by {r.get('instructed_by') or '-'}, "
        f"{r.get('result')}"
        for r in restores
    ]
    gaps = [
        f"{_restore_line(facts, r)}: no instruction recorded; restore only with "
        "`spo restore --instructed-by NAME` on the head of SIRS's instruction"
        for r in restores
        if not str(r.get("instructed_by") or "").strip()
    ]
    return _judge("S3.7", evidence, gaps)


def _restore_run(facts: Facts, record: dict) -> dict | None:
    """The `spo restore` run that made a restore record: it ran on the record's host and its
    time is within the run's (a minute's slack for the clocks)."""
    moment = parse_time(record["time"])
    slack = timedelta(minutes=1)
    for run in cli_runs(facts):
        start, end = _started(run), parse_time(run.get("ended"))
        if (
            _ran(run, "restore")
            and start is not None
            and start - slack <= moment <= (end or facts.now) + slack
            and (not run.get("hosts") or record.get("host") in run["hosts"])
        ):
            return run
    return None


@_needs(*GROUPS)
def _s3_8(facts: Facts) -> Verdict:
    """Every restore ends in a checklist report: each successful restore's `spo restore` run
    is followed by a successful `spo report restore <run>` (the run's id or a prefix of it).
    Not applicable when no restore succeeded in the period."""
    restores = [r for r in _restores(facts) if r.get("result") == "ok"]
    if not restores:
        return _na("S3.8", "no successful restore in the period")
    evidence, missing, gaps = [], [], []
    for record in restores:
        run = _restore_run(facts, record)
        if run is None:
            gaps.append(
                f"{_restore_line(facts, record)}: no `spo restore` run recorded for it, so no "
                "checklist can be linked; restore through `spo restore`"
            )
            continue
        run_id = str(run.get("id"))
        reports = [
            r
            for r in _runs(facts, "report", "restore", since=_started(run))
            if (arg := _argument(r, "report", "restore")) and run_id.startswith(arg)
        ]
        if reports:
            evidence.append(
                f"{_restore_line(facts, record)}: checklist of run {run_id} reported "
                f"{_when(facts, _started(reports[0]))}"
            )
        else:
            missing.append(run_id)
    if missing:
        commands = "; ".join(f"`spo report restore {m}`" for m in missing)
        gaps.append(
            f"no checklist report for restore run(s) {', '.join(missing)}; run {commands} "
            "and hand it to the head of SIRS"
        )
    return _judge("S3.8", evidence, gaps)


def _chain_problems(change: Change) -> list[str]:
    """What was wrong with a change's approval chain when it was applied."""
    applied = parse_time(change.applied.applied_at)
    problems = []
    if change.edited:
        problems.append("its SQL was edited after the request")
    if change.void_approvals:
        problems.append(
            f"approvals of another SQL: {', '.join(a.role for a in change.void_approvals)}"
        )
    if change.missing:
        problems.append(f"not approved by {', '.join(change.missing)}")
    late = [a for a in change.approvals if (t := parse_time(a.approved_at)) is None or t >= applied]
    if late:
        problems.append(
            "approved only after it was applied: "
            + ", ".join(f"{a.role} {a.approved_at}" for a in late)
        )
    times = [change.request.requested_at, *(a.approved_at for a in change.approvals)]
    moments = [parse_time(t) for t in times]
    if any(a is None or b is None or b < a for a, b in pairwise(moments)):
        problems.append("approvals out of the chain's order")
    return problems


def _s3_9(facts: Facts) -> Verdict:
    """Database updates follow the approval chain: every applied change (a failed application
    counts: it ran) had the whole chain's approvals, in order, of the SQL that ran, each given
    before it was applied. Not applicable when no change was applied."""
    applied = [c for c in facts.changes if c.applied is not None]
    if not applied:
        return _na("S3.9", f"no database change applied ({len(facts.changes)} requested)")
    evidence, gaps = [], []
    for change in applied:
        req = change.request
        problems = _chain_problems(change)
        evidence.append(
            f"change {req.id}: {len(change.approvals)} of {len(req.chain)} approvals, last "
            f"{_stamp(facts, change.approvals[-1].approved_at if change.approvals else None)}; "
            f"applied {_stamp(facts, change.applied.applied_at)} ({change.applied.result}, run "
            f"{change.applied.run_id})"
        )
        if problems:
            gaps.append(
                f"change {req.id} was applied without the complete chain ({'; '.join(problems)}); "
                f"report it to the head of SIRS (`spo incident add --host {req.host} --category "
                "security ...`) and apply changes only with `spo change apply`"
            )
    return _judge("S3.9", evidence, gaps)


# -- S4: planned downtime --------------------------------------------------------------------


def _window(run: dict) -> str:
    """The window (YYYY-MM) a downtime run or notice is of: the last word of its command."""
    words = str(run.get("command") or "").split()
    return (words[2] if len(words) > 2 else "") or _option(run, "--window")


def _downtimes(facts: Facts) -> list[dict]:
    """The downtime runs (not rehearsals) of the last 12 months, oldest first."""
    since = facts.now - YEAR
    found = [
        r
        for r in cli_runs(facts)
        if _ran(r, "downtime", "run") and not r.get("check") and (s := _started(r)) and s >= since
    ]
    return sorted(found, key=_started)


def _by_window(runs: list[dict]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for run in runs:
        found.setdefault(_window(run), []).append(run)
    return found


def _downtime(rid: str, facts: Facts, judge: Callable[[list[dict]], tuple[list, list]]) -> Verdict:
    runs = _downtimes(facts)
    if not runs:
        return _na(rid, "no planned downtime run in the last 12 months")
    return _judge(rid, *judge(runs))


def _minutes(run: dict) -> float | None:
    if isinstance(run.get("duration_seconds"), int | float):
        return run["duration_seconds"] / 60
    start, end = _started(run), parse_time(run.get("ended"))
    return (end - start).total_seconds() / 60 if start and end else None


def _s4_1(facts: Facts) -> Verdict:
    """Downtime only in the planned months and within the estimate: every downtime run of the
    last 12 months (failed ones too: the servers went down) started in a month of
    ``spo_maintenance_months`` (site time) or was forced with a reason, and lasted no longer
    than ``spo_maintenance_duration_max_minutes`` (shorter than the estimate is no breach).
    Not applicable without a downtime run in the last 12 months."""
    months = [int(m) for m in _policy(facts, "spo_maintenance_months")]
    low = _policy(facts, "spo_maintenance_duration_min_minutes")
    high = float(_policy(facts, "spo_maintenance_duration_max_minutes"))

    def judge(runs: list[dict]) -> tuple[list, list]:
        evidence, gaps = [], []
        for run in runs:
            began = _local(facts, _started(run))
            minutes, reason = _minutes(run), _option(run, "--reason").strip()
            forced = "--force" in (run.get("argv") or []) and bool(reason)
            took = f"{minutes:.0f} min" if minutes is not None else "? min"
            evidence.append(
                f"window {_window(run)}: run {run.get('id')} {_when(facts, _started(run))}, {took} "
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


def _s4_2(facts: Facts) -> Verdict:
    """Departments told beforehand: every downtime run has a successful
    `spo downtime announce` of its window before it started. Not applicable as S4.1."""

    def judge(runs: list[dict]) -> tuple[list, list]:
        evidence, gaps = [], []
        for run in runs:
            told = [
                a
                for a in _runs(facts, "downtime", "announce")
                if _window(a) == _window(run) and _started(a) < _started(run)
            ]
            if told:
                evidence.append(
                    f"window {_window(run)}: announced {_when(facts, _started(told[-1]))} "
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
            if _succeeded(last):
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


def _s4_3(facts: Facts) -> Verdict:
    """The maintenance is system update and server restart: the newest downtime run of each
    window succeeded (the playbook updates and restarts every host in order, and stops on any
    failure). Not applicable as S4.1."""
    judge = _newest_of_windows(
        facts,
        "packages updated and services restarted host by host",
        "finish the update and restart, then `spo downtime run --window W --force --reason ...`",
    )
    return _downtime("S4.3", facts, judge)


def _s4_4(facts: Facts) -> Verdict:
    """Verification afterwards: the newest downtime run of each window succeeded, which it does
    only when every host passed its health checks after the restart (it stops on a failed
    check). Not applicable as S4.1."""
    judge = _newest_of_windows(
        facts,
        "health checks passed on every host",
        "fix the failed check and verify the services before the units are told",
    )
    return _downtime("S4.4", facts, judge)


def _s4_5(facts: Facts) -> Verdict:
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
                for n in _runs(facts, "downtime", "back-in-service")
                if _window(n) == window and _started(n) >= _started(last)
            ]
            if told and _succeeded(last):
                evidence.append(
                    f"window {window}: back in service told {_when(facts, _started(told[0]))} "
                    f"(run {told[0].get('id')})"
                )
            else:
                why = (
                    "the downtime run did not succeed"
                    if not _succeeded(last)
                    else "no back-in-service notice"
                )
                gaps.append(
                    f"window {window}: {why}; when the systems are back, run "
                    f"`spo downtime finish --window {window}`"
                )
        return evidence, gaps

    return _downtime("S4.5", facts, judge)


# -- the list --------------------------------------------------------------------------------


REQUIREMENTS: tuple[tuple[str, Callable[[Facts], Verdict]], ...] = (
    ("S0.1", _s0_1),
    ("S0.2", _s0_2),
    ("S0.3", _s0_3),
    ("S0.4", _s0_4),
    ("S0.5", _s0_5),
    ("S1.1", _s1_1),
    ("S1.2", _s1_2),
    ("S1.3", _s1_3),
    ("S1.4", _s1_4),
    ("S1.5", _s1_5),
    ("S1.6", _s1_6),
    ("S2.1", _s2_1),
    ("S2.2", _s2_2),
    ("S2.3", _s2_3),
    ("S2.4", _s2_4),
    ("S2.5", _s2_5),
    ("S2.6", _s2_6),
    ("S3.1", _s3_1),
    ("S3.2", _s3_2),
    ("S3.3", _s3_3),
    ("S3.4", _s3_4),
    ("S3.5", _s3_5),
    ("S3.6", _s3_6),
    ("S3.7", _s3_7),
    ("S3.8", _s3_8),
    ("S3.9", _s3_9),
    ("S4.1", _s4_1),
    ("S4.2", _s4_2),
    ("S4.3", _s4_3),
    ("S4.4", _s4_4),
    ("S4.5", _s4_5),
)
IDS = tuple(rid for rid, _ in REQUIREMENTS)


def _unreachable(rid: str, rule: Callable, facts: Facts) -> Verdict | None:
    """ "not met" naming every host the rule reads that was not reached."""
    missing = unreached(facts, getattr(rule, "groups", ()))
    if not missing:
        return None
    return Verdict(
        rid,
        NOT_MET,
        tuple(f"{host}: not reached" for host, _ in missing),
        "; ".join(f"host {host} unreachable: {why}" for host, why in missing),
    )


def evaluate(facts: Facts) -> list[Verdict]:
    """Exactly one verdict per requirement ID, in ID order."""
    return [_unreachable(rid, rule, facts) or rule(facts) for rid, rule in REQUIREMENTS]
