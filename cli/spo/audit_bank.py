"""`spo audit`'s S0 rules: the unit data bank (storage areas, seals, integrity, the
quarterly monitoring report and network access)."""

from __future__ import annotations

from spo.audit_basis import (
    INTEGRITY_LIMIT,
    OPEN_TO_ALL,
    STORAGE,
    Facts,
    Verdict,
    ago,
    group_hosts,
    history,
    last_run,
    local_time,
    months_before,
    needs,
    newest_record,
    not_applicable,
    parse_time,
    policy_value,
    reached,
    record_age,
    span,
    verdict,
)


def _surveys(facts: Facts) -> tuple[list[tuple[str, dict]], list[str]]:
    found, gaps = [], []
    for host in group_hosts(facts, STORAGE):
        got = reached(facts, host)
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
    if not group_hosts(facts, STORAGE):
        return not_applicable(rid, "no host in storage_servers: the site runs no unit data bank")
    return None


@needs(STORAGE)
def s0_1(facts: Facts) -> Verdict:
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
    return verdict("S0.1", evidence, gaps)


@needs(STORAGE)
def s0_2(facts: Facts) -> Verdict:
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
    return verdict("S0.2", evidence, gaps)


@needs(STORAGE)
def s0_3(facts: Facts) -> Verdict:
    """Integrity is watched: every unit of the survey has an integrity check at most 2 days
    old, and the newest check of each unit is "ok". A newest "suspect" (content changed under
    an unchanged size and time, or unreadable) or "failed" check is not met."""
    if (na := _no_bank(facts, "S0.3")) is not None:
        return na
    surveys, gaps = _surveys(facts)
    evidence = []
    for host, survey in surveys:
        checks = history(facts, host, "integrity")
        for unit in survey.get("units") or []:
            name = unit.get("unit")
            newest = newest_record(c for c in checks if c.get("unit") == name)
            verify = f"`spo databank verify --unit {name}`"
            if newest is None:
                gaps.append(f"{host}/{name}: no integrity check in the records; run {verify}")
                continue
            result, age = newest.get("result"), record_age(facts, newest)
            evidence.append(
                f"{host}/{name}: checked {ago(facts, parse_time(newest['time']))}: {result}, "
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
    return verdict("S0.3", evidence, gaps)


def s0_4(facts: Facts) -> Verdict:
    """The monitoring report every ``spo_quarterly_report_months`` months: a successful
    `spo report quarterly` run within that many months (calendar months, site time). The
    troubleshooting log's open incidents are counted as evidence. Not applicable without a
    data bank (the report is the data bank's)."""
    if (na := _no_bank(facts, "S0.4")) is not None:
        return na
    months = int(policy_value(facts, "spo_quarterly_report_months"))
    since = months_before(local_time(facts, facts.now), months)
    evidence, gaps = last_run(
        facts, ("report", "quarterly"), since, f"report in the last {months} months",
        "run `spo report quarterly` and file it",
    )  # fmt: skip
    still_open = [i for i in facts.incidents if i.open]
    evidence.append(
        f"troubleshooting log: {len(facts.incidents)} incidents, {len(still_open)} open"
        + (f" ({', '.join(i.opened.id for i in still_open)})" if still_open else "")
    )
    return verdict("S0.4", evidence, gaps)


@needs(STORAGE)
def s0_5(facts: Facts) -> Verdict:
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
    return verdict("S0.5", evidence, gaps)
