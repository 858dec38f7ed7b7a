"""The quarterly report of the unit data bank (S0.4: "the IT team produces a device, security
and troubleshooting monitoring report every 3 months") for `spo report quarterly`: pure
functions, the quarter's figures in, a printable document out (report_render's texts, layout
and templates).

It is made of three things the CLI gathers:

- the storage host's survey of the quarter (spo_backup.databank_survey): each unit's files and
  bytes now, the file systems' free space, uptime, services and SMART, and the security events
  the host's journal holds for the period (failed logins, denied accesses, account changes),
  with how far back that journal reaches;
- the history records of the quarter: the data bank's integrity checks (``integrity``
  records, spo_backup.databank) and the backup runs (``run`` records, as the weekly report
  reads them);
- the incidents of the troubleshooting log (spo.incident_log) open during the quarter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, tzinfo

from spo.incident_log import Incident
from spo.report_render import (
    DASH,
    FAIL,
    NA,
    OK,
    Document,
    Provenance,
    Section,
    Signer,
    Table,
    Texts,
    backup_summary,
    clock,
    columns,
    duration,
    history_footer,
    mark,
    names,
    parse_time,
    render,
    result,
    signoff_labels,
    site_of,
    size,
    text,
    within,
    zone_label,
)

LOW_FREE = 15  # percent of a file system left free under which the report flags it


def _number(value: object, unit: str) -> str:
    return f"{value} {unit}" if isinstance(value, int | float) else "-"


def _counted(survey: dict, kind: str) -> tuple[int, list[dict]]:
    """A kind of security event of a survey: how many happened, and the ones it carries
    (the latest; there may be fewer than the count)."""
    found = survey.get(kind) or {}
    events = [e for e in found.get("events") or [] if isinstance(e, dict)]
    return max(int(found.get("count") or 0), len(events)), events


def _events(hosts: list[dict], kind: str) -> list[tuple[str, dict]]:
    """(host, event) of one kind, oldest first."""
    found = [(s["host"], e) for s in hosts for e in _counted(s, kind)[1]]
    return sorted(found, key=lambda pair: str(pair[1].get("time") or ""))


def _caption(t: Texts, hosts: list[dict], kind: str, key: str) -> str:
    """A table of events' caption, saying when the survey carried only the latest ones."""
    count = sum(_counted(s, kind)[0] for s in hosts)
    shown = len(_events(hosts, kind))
    more = f" ({t('quarterly_showing', shown=shown, count=count)})" if count > shown else ""
    return t(key) + more


# -- storage (S0.1) ----------------------------------------------------------------------------


def _by_unit(checks: list[dict]) -> dict[str, list[dict]]:
    """unit -> its integrity checks, oldest first (as ``checks`` are)."""
    groups: dict[str, list[dict]] = {}
    for check in checks:
        groups.setdefault(text(check.get("unit")), []).append(check)
    return groups


def _growth(checks: list[dict], now: object) -> str:
    """The unit's bytes now against the first check of the period that counted them."""
    first = next((c["bytes"] for c in checks if isinstance(c.get("bytes"), int)), None)
    if first is None or not isinstance(now, int):
        return "-"
    change = now - first
    return ("+" if change >= 0 else "-") + size(abs(change))


def _free_percent(fs: dict) -> float | None:
    total, free = fs.get("size_bytes"), fs.get("free_bytes")
    if not isinstance(total, int | float) or not isinstance(free, int | float) or total <= 0:
        return None
    return 100 * free / total


def _low(fs: dict) -> bool:
    free = _free_percent(fs)
    return free is not None and free < LOW_FREE


def _free_cell(fs: dict) -> str:
    free = _free_percent(fs)
    if free is None:
        return "-"
    return f"{FAIL} {free:.1f}" if free < LOW_FREE else f"{free:.1f}"


def over_quota(unit: dict) -> bool:
    used, quota = unit.get("bytes"), unit.get("quota_bytes")
    return isinstance(used, int) and isinstance(quota, int) and used > quota


def _quota(unit: dict) -> str:
    """ "1.0 GB (12.5 %)", marked when the unit is above it; "-" without a quota."""
    used, quota = unit.get("bytes"), unit.get("quota_bytes")
    if not isinstance(quota, int):
        return "-"
    share = f" ({100 * used / quota:.1f} %)" if isinstance(used, int) and quota > 0 else ""
    return f"{FAIL if over_quota(unit) else ''} {size(quota)}{share}".strip()


def _unit_row(tz: tzinfo, host: str, unit: dict, checks: list[dict]) -> list[str]:
    """A unit as the survey found it, its growth and its last integrity check."""
    return [
        text(unit.get("unit")),
        host,
        text(unit.get("files")),
        size(unit.get("bytes")),
        _growth(checks, unit.get("bytes")),
        _quota(unit),
        clock(checks[-1].get("time"), tz) if checks else "-",
        f"{FAIL} {unit['error']}" if unit.get("error") else "-",
    ]


def _storage(t: Texts, tz: tzinfo, hosts: list[dict], checks: list[dict]) -> Section:
    by_unit = _by_unit(checks)
    units = Table(
        columns(t, "unit", "host", "files", "used", "growth", "quota", "last_check", "error"),
        [
            _unit_row(tz, s["host"], u, by_unit.get(text(u.get("unit")), []))
            for s in hosts
            for u in s.get("units") or []
        ],
        empty=t("quarterly_no_units"),
        caption=t("quarterly_units"),
    )
    filesystems = [(s["host"], fs) for s in hosts for fs in s.get("filesystems") or []]
    table = Table(
        columns(t, "host", "mount", "device", "fstype", "size", "used", "free", "free_percent"),
        [
            [
                host,
                text(fs.get("mount")),
                text(fs.get("device")),
                text(fs.get("fstype")),
                size(fs.get("size_bytes")),
                size(fs.get("used_bytes")),
                size(fs.get("free_bytes")),
                _free_cell(fs),
            ]
            for host, fs in filesystems
        ],
        empty=t("quarterly_no_filesystems"),
        caption=t("quarterly_filesystems"),
    )
    low = [
        f"{FAIL} "
        + t(
            "quarterly_low_space",
            mount=text(fs.get("mount")),
            host=host,
            free=size(fs.get("free_bytes")),
            percent=f"{_free_percent(fs):.1f}",
            limit=LOW_FREE,
            units=names(fs.get("units") or []),
        )
        for host, fs in filesystems
        if _low(fs)
    ]
    low += [
        f"{FAIL} "
        + t(
            "quarterly_over_quota",
            unit=text(u.get("unit")),
            host=s["host"],
            used=size(u.get("bytes")),
            quota=size(u.get("quota_bytes")),
        )
        for s in hosts
        for u in s.get("units") or []
        if over_quota(u)
    ]
    return Section(t("quarterly_storage"), tables=[units, table], note=" ".join(low))


# -- device health ---------------------------------------------------------------------------


def _state(t: Texts, value: object) -> str:
    return f"{mark(value == 'active')} {t.word('quarterly_state', value)}"


def _smart(t: Texts, disk: dict) -> str:
    passed = disk.get("passed")
    if not disk.get("available") or passed is None:
        return f"{NA} {t('quarterly_smart_unavailable')}"
    said = t("quarterly_smart_passed") if passed else t("quarterly_smart_failed")
    return f"{mark(bool(passed))} {said}"


def _reallocated(value: object) -> str:
    """Sectors the disk moved away from damage: any is a sign of a failing disk."""
    return f"{FAIL} {value}" if isinstance(value, int) and value > 0 else text(value)


def _health(t: Texts, tz: tzinfo, hosts: list[dict]) -> Section:
    machines = Table(
        columns(t, "host", "surveyed", "uptime", "booted"),
        [
            [
                s["host"],
                clock(s.get("time"), tz),
                duration(s.get("uptime_seconds"), t),
                clock(s.get("booted"), tz),
            ]
            for s in hosts
        ],
        empty=t("quarterly_no_hosts"),
        caption=t("quarterly_hosts"),
    )
    services = Table(
        columns(t, "host", "service", "state", "since", "restarts"),
        [
            [
                s["host"],
                text(v.get("name")),
                _state(t, v.get("active")),
                clock(v.get("since"), tz),
                text(v.get("restarts")),
            ]
            for s in hosts
            for v in s.get("services") or []
        ],
        empty=t("quarterly_no_services"),
        caption=t("quarterly_services"),
    )
    disks = Table(
        columns(t, "host", "disk", "health", "power_on", "temperature", "reallocated", "detail"),
        [
            [
                s["host"],
                text(d.get("device")),
                _smart(t, d),
                _number(d.get("power_on_hours"), t("unit_h")),
                _number(d.get("temperature_c"), "°C"),
                _reallocated(d.get("reallocated_sectors")),
                text(d.get("why")),
            ]
            for s in hosts
            for d in s.get("smart") or []
        ],
        empty=t("quarterly_no_smart"),
        caption=t("quarterly_smart"),
    )
    return Section(t("quarterly_health"), tables=[machines, services, disks])


# -- security (S0.2, S0.5) -------------------------------------------------------------------


def _journal(t: Texts, tz: tzinfo, survey: dict) -> tuple[str, str]:
    """How far back the host's security log reaches: the field of the security section."""
    journal = survey.get("journal") or {}
    label = t("quarterly_field_journal", host=survey["host"])
    if journal.get("covers_period"):
        return label, f"{OK} {t('quarterly_journal_full', since=clock(journal.get('from'), tz))}"
    if journal.get("from") is None:
        return label, f"{FAIL} {t('quarterly_journal_empty', host=survey['host'])}"
    since = clock(journal["from"], tz)
    return label, f"{FAIL} {t('quarterly_journal_short', host=survey['host'], since=since)}"


def _status(t: Texts, status: object) -> str:
    """A failed login's status in words, with Samba's own code to look up."""
    said = t.word("quarterly_status", status)
    return said if said == text(status) else f"{said} ({status})"


def _login_summary(t: Texts, tz: tzinfo, hosts: list[dict]) -> Table:
    """Failed logins per host, user and address: how many, and the last one; most first."""
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for host, e in _events(hosts, "failed_logins"):
        groups.setdefault((host, text(e.get("user")), text(e.get("address"))), []).append(e)
    ranked = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return Table(
        columns(t, "host", "user", "address", "count", "last"),
        [
            [host, user, address, str(len(found)), clock(found[-1].get("time"), tz)]
            for (host, user, address), found in ranked
        ],
        empty=t("quarterly_no_logins"),
        caption=_caption(t, hosts, "failed_logins", "quarterly_logins_summary"),
    )


def _security(t: Texts, tz: tzinfo, hosts: list[dict]) -> Section:
    logins = Table(
        columns(t, "time", "host", "user", "domain", "address", "workstation", "why"),
        [
            [
                clock(e.get("time"), tz),
                host,
                text(e.get("user")),
                text(e.get("domain")),
                text(e.get("address")),
                text(e.get("workstation")),
                _status(t, e.get("status")),
            ]
            for host, e in _events(hosts, "failed_logins")
        ],
        empty=t("quarterly_no_logins"),
        caption=_caption(t, hosts, "failed_logins", "quarterly_logins"),
    )
    denied = Table(
        columns(t, "time", "host", "user", "address", "share", "action", "path", "why"),
        [
            [
                clock(e.get("time"), tz),
                host,
                text(e.get("user")),
                text(e.get("address")),
                text(e.get("share")),
                t.word("quarterly_action", e.get("action")),
                text(e.get("path")),
                t.word("quarterly_why", e.get("why")),
            ]
            for host, e in _events(hosts, "denied")
        ],
        empty=t("quarterly_no_denied"),
        caption=_caption(t, hosts, "denied", "quarterly_denied"),
    )
    accounts = Table(
        columns(t, "time", "host", "user", "change", "group"),
        [
            [
                clock(e.get("time"), tz),
                host,
                text(e.get("user")),
                t.word("quarterly_change", e.get("change")),
                text(e.get("group")),
            ]
            for host, e in _events(hosts, "accounts")
        ],
        empty=t("quarterly_no_accounts"),
        caption=_caption(t, hosts, "accounts", "quarterly_accounts"),
    )
    return Section(
        t("quarterly_security"),
        fields=[_journal(t, tz, s) for s in hosts],
        tables=[_login_summary(t, tz, hosts), logins, denied, accounts],
    )


# -- integrity (S0.3) ------------------------------------------------------------------------


def _suspects(checks: list[dict]) -> dict[tuple[str, str], tuple[dict, dict]]:
    """(unit, path) -> (the last check that reported the file, its entry there)."""
    latest: dict[tuple[str, str], tuple[dict, dict]] = {}
    for check in checks:  # oldest first: a later report of a file replaces an earlier one
        for entry in check.get("suspect") or []:
            if isinstance(entry, dict):
                latest[(text(check.get("unit")), text(entry.get("path")))] = (check, entry)
    return latest


def suspect_files(checks: list[dict]) -> dict[str, int]:
    """unit -> how many of its files were suspect in the period, each counted once: the files
    the checks listed, or more when one check counted more than the history lists."""
    listed = _suspects(checks)
    return {
        unit: max(
            [sum(1 for u, _ in listed if u == unit)]
            + [int(c.get("suspect_count") or 0) for c in group]
        )
        for unit, group in _by_unit(checks).items()
    }


def _total(checks: list[dict], name: str) -> int:
    """Files added, changed or deleted over the checks; a baseline adds nothing."""
    return sum(
        int(c.get(f"{name}_count") or 0)
        for c in checks
        if not (name == "added" and c.get("baseline"))
    )


def _why(t: Texts, entry: dict) -> str:
    """Why a file is suspect, in the report's language when the engine named the kind."""
    key = f"quarterly_suspect_{entry.get('kind')}"
    if not t.has(key):
        return text(entry.get("why"))
    return t(key, error=str(entry.get("why") or "").partition(": ")[2])


def _integrity(t: Texts, tz: tzinfo, checks: list[dict]) -> Section:
    counted = suspect_files(checks)
    units = Table(
        columns(
            t,
            "unit",
            "checks",
            "ok",
            "suspect",
            "failed",
            "added",
            "changed",
            "deleted",
            "suspect_files",
            "last_check",
            "result",
        ),
        [
            [
                unit,
                str(len(group)),
                *(
                    str(sum(c.get("result") == r for c in group))
                    for r in ("ok", "suspect", "failed")
                ),
                *(str(_total(group, name)) for name in ("added", "changed", "deleted")),
                str(counted[unit]),
                clock(group[-1].get("time"), tz),
                result(group[-1].get("result"), t),
            ]
            for unit, group in sorted(_by_unit(checks).items())
        ],
        empty=t("quarterly_no_checks"),
        caption=t("quarterly_checks"),
    )
    listed = _suspects(checks)
    # A check lists its first suspect files only (the engine's LISTED); its count says all.
    unlisted = max(
        (
            n
            for c in checks
            if (n := int(c.get("suspect_count") or 0)) > len(c.get("suspect") or [])
        ),
        default=0,
    )
    caption = t("quarterly_suspect_files")
    if unlisted:
        caption += f" ({t('quarterly_suspect_more', count=unlisted)})"
    suspects = Table(
        columns(t, "unit", "time", "path", "why"),
        [
            [unit, clock(check.get("time"), tz), path, _why(t, entry)]
            for (unit, path), (check, entry) in sorted(listed.items())
        ],
        empty=t("quarterly_no_suspect"),
        caption=caption,
    )
    failed = Table(
        columns(t, "time", "unit", "host", "error"),
        [
            [
                clock(c.get("time"), tz),
                text(c.get("unit")),
                text(c.get("host")),
                text(c.get("error")),
            ]
            for c in checks
            if c.get("result") == "failed"
        ],
        empty=t("quarterly_no_failed_checks"),
        caption=t("quarterly_failed_checks"),
    )
    note = t("quarterly_integrity_note") if checks else ""
    return Section(t("quarterly_integrity"), tables=[units, suspects, failed], note=note)


# -- backups, incidents ----------------------------------------------------------------------


def _backups(t: Texts, tz: tzinfo, runs: list[dict]) -> Section:
    failed = Table(
        columns(t, "time", "host", "source", "error"),
        [
            [
                clock(r.get("time"), tz),
                text(r.get("host")),
                text(r.get("source")),
                text(r.get("error")),
            ]
            for r in runs
            if r.get("result") != "ok"
        ],
        empty=t("quarterly_no_failed_backups"),
        caption=t("quarterly_failed_backups"),
    )
    summary = replace(backup_summary(t, runs, tz), empty=t("quarterly_no_backups"))
    return Section(t("quarterly_backups"), tables=[summary, failed])


def _incidents(t: Texts, tz: tzinfo, incidents: Iterable[Incident]) -> Section:
    rows = []
    for incident in sorted(incidents, key=lambda i: (i.opened.opened_at, i.opened.id)):
        opened, resolved = incident.opened, incident.resolved
        rows.append(
            [
                opened.id,
                clock(opened.opened_at, tz),
                opened.host,
                t.word("quarterly_category", opened.category),
                opened.problem,
                resolved.resolution if resolved else f"{FAIL} {t('quarterly_open')}",
                clock(resolved.resolved_at, tz) if resolved else "-",
                names(dict.fromkeys(r.recorded_by for r in (opened, resolved) if r)),
            ]
        )
    table = Table(
        columns(
            t,
            "incident",
            "opened",
            "host",
            "category",
            "problem",
            "resolution",
            "resolved",
            "recorded_by",
        ),
        rows,
        empty=t("quarterly_no_incidents"),
    )
    return Section(t("quarterly_incidents"), tables=[table])


# -- the document ----------------------------------------------------------------------------


def _verdict(
    t: Texts, hosts: list[dict], checks: list[dict], runs: list[dict], incidents: list[Incident]
) -> str:
    """The quarter in one sentence: the figures to act on, marked ✘ when one needs action."""
    figures = {
        kind: sum(_counted(s, kind)[0] for s in hosts)
        for kind in ("failed_logins", "denied", "accounts")
    }
    suspect = sum(suspect_files(checks).values())
    failed = sum(1 for r in runs if r.get("result") != "ok")
    still_open = sum(1 for i in incidents if i.resolved is None)
    said = t(
        "quarterly_verdict",
        logins=figures["failed_logins"],
        denied=figures["denied"],
        accounts=figures["accounts"],
        suspect=suspect,
        failed=failed,
        open=still_open,
    )
    partial = [s for s in hosts if not (s.get("journal") or {}).get("covers_period")]
    if partial:
        said += " " + t("quarterly_verdict_partial")
    trouble = [
        not hosts,
        suspect,
        failed,
        still_open,
        any(c.get("result") == "failed" for c in checks),
        any(_low(fs) for s in hosts for fs in s.get("filesystems") or []),
        any(over_quota(u) for s in hosts for u in s.get("units") or []),
        any(d.get("passed") is False for s in hosts for d in s.get("smart") or []),
        any(v.get("active") != "active" for s in hosts for v in s.get("services") or []),
    ]
    return f"{FAIL if any(trouble) else OK} {said}"


def document(
    surveys: dict[str, dict],
    records: list[dict],
    incidents: list[Incident],
    start: datetime,
    end: datetime,
    tz: tzinfo,
    lang: str,
    prov: Provenance,
    label: str,
    site: str | None = None,
) -> Document:
    """The report of the quarter [start, end): ``surveys`` (storage host -> its survey of the
    quarter), the history ``records`` (the integrity checks and backup runs of [start, end) are
    read) and the ``incidents`` open during it; ``label`` names the quarter ("2026-Q4")."""
    t = Texts(lang)
    hosts = [surveys[h] | {"host": surveys[h].get("host") or h} for h in sorted(surveys)]
    inside = sorted(
        (r for r in records if within(r, start, end)), key=lambda r: parse_time(r["time"])
    )
    checks = [r for r in inside if r.get("record") == "integrity"]
    runs = [r for r in inside if r.get("record") == "run"]
    period = f"{clock(start, tz)}{DASH}{clock(end, tz)}"
    nothing = not (hosts or checks or runs or incidents)
    notice = ""
    if nothing:
        notice = t("quarterly_nothing", label=label, period=period, hosts=names(prov.hosts))
    elif not hosts:
        notice = t("quarterly_no_survey")
    footer = history_footer(t, prov, tz, len(inside))
    footer[1:1] = [
        *(
            t("quarterly_footer_survey", host=s["host"], when=clock(s.get("time"), tz))
            for s in hosts
        ),
        t("quarterly_footer_incidents", count=len(incidents)),
    ]
    shown_site = site_of([*inside, *hosts], site)
    return Document(
        lang=lang,
        title=t("quarterly_title"),
        site=shown_site,
        subtitle=t("quarterly_subtitle", label=label, period=period),
        fields=[
            (t("field_site"), shown_site),
            (t("quarterly_field_quarter"), f"{label} ({period})"),
            (t("quarterly_field_storage_hosts"), names(s["host"] for s in hosts)),
            (t("field_hosts"), names(prov.hosts)),
            (t("field_zone"), zone_label(tz, start)),
        ],
        sections=[
            _storage(t, tz, hosts, checks),
            _health(t, tz, hosts),
            _security(t, tz, hosts),
            _integrity(t, tz, checks),
            _backups(t, tz, runs),
            _incidents(t, tz, incidents),
        ],
        signers=[Signer(t("quarterly_prepared_by")), Signer(t("quarterly_acknowledged_by"))],
        labels=signoff_labels(t),
        footer=footer,
        notice=notice,
        verdict="" if nothing else _verdict(t, hosts, checks, runs, incidents),
    )


def quarterly(
    surveys, records, incidents, start, end, tz, lang, fmt, prov, label, site=None
) -> str:
    return render(
        document(surveys, records, incidents, start, end, tz, lang, prov, label, site), fmt
    )
