"""`spo audit`'s S1 and S2 rules: database backup (automatic, on the server, manual, program
files, retention, archive) and the SIMRS's backup and recovery (offsite copies, periodic
backups, proven restores)."""

from __future__ import annotations

from spo.audit_basis import (
    APP,
    ARCHIVE_PERIOD,
    DATABASES,
    DB,
    FILES,
    FILES_LIMIT,
    NOT_MET,
    RETENTION_FLOOR,
    WEEK,
    Facts,
    Source,
    Verdict,
    age_limit,
    ago,
    backup_places,
    backup_runs,
    backup_sources,
    cli_runs,
    fresh,
    group_hosts,
    held_backups,
    history,
    host_status,
    needs,
    newest_record,
    not_applicable,
    parse_time,
    policy_value,
    proofs,
    ran,
    record_age,
    span,
    started,
    verdict,
    when,
)

# -- S1: database backup -------------------------------------------------------------------


def db_sources(facts: Facts) -> tuple[list[Source], list[str]]:
    return backup_sources(facts, (DB,), DATABASES, "database source")


@needs(DB)
def s1_1(facts: Facts) -> Verdict:
    """Automatic backup at least daily at the configured interval: every database source of
    db_servers has a successful automatic backup no older than twice
    ``spo_backup_interval_minutes`` (one missed run is grace), and never older than 24 h."""
    sources, gaps = db_sources(facts)
    evidence, late = fresh(facts, sources)
    return verdict("S1.1", evidence, gaps + late)


@needs(DB)
def s1_2(facts: Facts) -> Verdict:
    """Automatic backups land on the server (or media synchronised with it): the host's own
    backup folder ("local" place) is readable and holds at least one backup of every database
    source. How recent they are is S1.1's question; how many, S1.5's."""
    sources, gaps = db_sources(facts)
    evidence = []
    for src in sources:
        local = backup_places(facts, src.host, "local")
        if not local or local[0].get("error"):
            why = local[0].get("error") if local else "no local place reported"
            gaps.append(f"{src}: the host's backup folder cannot be read ({why}); check its disk")
            continue
        held = held_backups(local[0], src)
        evidence.append(f"{src}: {len(held)} backups in {local[0].get('path')}")
        if not held:
            gaps.append(
                f"{src}: no backup in {local[0].get('path')}; run "
                f"`spo backup now --host {src.host} --source {src.name}`"
            )
    return verdict("S1.2", evidence, gaps)


@needs(DB)
def s1_3(facts: Facts) -> Verdict:
    """A manual backup at least every ``spo_manual_backup_max_age_days`` days: no database
    source is in the host's status "overdue" list (status.build: its newest successful manual
    backup is older than the limit, or there is none)."""
    sources, gaps = db_sources(facts)
    evidence = []
    limit = policy_value(facts, "spo_manual_backup_max_age_days")
    for src in sources:
        overdue = src.name in host_status(facts, src.host).get("overdue", [])
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
    return verdict("S1.3", evidence, gaps)


@needs(APP)
def s1_4(facts: Facts) -> Verdict:
    """Program files are backed up too: every app server has a program files source ("files")
    with a successful backup (any kind) at most 2 days old. Not applicable without
    app_servers."""
    if not group_hosts(facts, APP):
        return not_applicable("S1.4", "no host in app_servers: no program files to back up")
    sources, gaps = backup_sources(facts, (APP,), FILES, "program files source")
    evidence = []
    for host in sorted({s.host for s in sources}):
        newest = newest_record(
            r for s in sources if s.host == host for r in backup_runs(facts, s, None)
        )
        if newest is None:
            gaps.append(
                f"{host}: no successful backup of its program files; run "
                f"`spo backup now --host {host}`"
            )
            continue
        age = record_age(facts, newest)
        evidence.append(
            f"{host}/{newest.get('source')}: last backup {ago(facts, parse_time(newest['time']))}"
        )
        if age > FILES_LIMIT:
            gaps.append(
                f"{host}: newest program files backup is {span(age)} old (limit 2 d); run "
                f"`spo backup now --host {host} --source {newest.get('source')}` and check "
                "its cron job"
            )
    return verdict("S1.4", evidence, gaps)


@needs(DB)
def s1_5(facts: Facts) -> Verdict:
    """At least ``spo_backup_retention_count`` distinct backups (never fewer than 5) of every
    database source in the host's own folder, counted by distinct backup name. A new source
    that has not made that many yet meets it while it keeps every backup it made; a backup
    made there that is gone without the engine's retention having pruned it (each run
    records what it pruned) is a breach whatever the count."""
    sources, gaps = db_sources(facts)
    keep = max(RETENTION_FLOOR, int(policy_value(facts, "spo_backup_retention_count")))
    evidence = []
    for src in sources:
        local = backup_places(facts, src.host, "local")
        kept = {b.get("name") for b in held_backups(local[0], src)} if local else set()
        made, pruned = _made_and_pruned(facts, src, local[0].get("path") if local else None)
        gone = sorted(made - kept - pruned)
        evidence.append(f"{src}: {len(kept)} distinct backups kept (at least {keep})")
        if gone:
            gaps.append(
                f"{src}: {len(gone)} backup(s) made in {local[0].get('path')} are gone without "
                f"retention pruning them ({', '.join(gone[:3])}); find who deleted them and run "
                f"`spo backup now --host {src.host} --source {src.name}`"
            )
        elif len(kept) < keep and not made - pruned <= kept:
            gaps.append(
                f"{src}: only {len(kept)} distinct backups kept, at least {keep} required; check "
                "retention (backup role) and run "
                f"`spo backup now --host {src.host} --source {src.name}`"
            )
        elif len(kept) < keep:
            evidence.append(f"{src}: new source, {len(made)} made so far, every one kept")
    return verdict("S1.5", evidence, gaps)


def _made_and_pruned(facts: Facts, src: Source, folder: str | None) -> tuple[set, set]:
    """The source's backups made in ``folder`` and every backup retention pruned there."""
    runs = [r for r in history(facts, src.host, "run") if r.get("source") == src.name]
    made = {
        r["backup"]
        for r in runs
        if r.get("result") == "ok" and r.get("backup") and r.get("destination") == folder
    }
    pruned = {name for r in runs for name in r.get("pruned") or []}
    return made, pruned


def _archive_records(facts: Facts) -> list[dict]:
    """The register's records, from asdict(Entry) ({"path", "record"}) or a plain record."""
    return [e.get("record") if isinstance(e.get("record"), dict) else e for e in facts.archive]


@needs(DB)
def s1_6(facts: Facts) -> Verdict:
    """Manual backups are archived and registered: when db_servers made a successful manual
    backup in the last 31 days, the archive register has at least one handover recorded since
    the first of them (IT support archives at least monthly; the whole history the CLI reads
    is too long a period: one handover a year ago would do). Not applicable when no manual
    backup was made in those 31 days."""
    window = facts.now - ARCHIVE_PERIOD
    manual = sorted(
        (r for h in group_hosts(facts, DB) for r in history(facts, h, "run")
         if r.get("kind") == "manual" and r.get("result") == "ok"
         and parse_time(r["time"]) >= window),
        key=lambda r: parse_time(r["time"]),
    )  # fmt: skip
    if not manual:
        return not_applicable("S1.6", f"no manual backup in the last {ARCHIVE_PERIOD.days} "
                              "days: nothing to archive")  # fmt: skip
    first, last = manual[0], manual[-1]
    since = parse_time(first["time"])
    records = _archive_records(facts)
    handed = [r for r in records if (t := parse_time(r.get("recorded_at"))) and t >= since]
    evidence = [
        f"{len(manual)} manual backups since {when(facts, since)}, last {last.get('backup')}",
        f"archive register: {len(records)} handovers, {len(handed)} since then",
    ]
    evidence += [
        f"{r.get('backup')} on {r.get('medium')}, handed to {r.get('handed_to')} "
        f"{when(facts, parse_time(r['recorded_at']))}"
        for r in handed[-3:]
    ]
    gaps = []
    if not handed:
        gaps.append(
            f"no handover to archive registered since {when(facts, since)}; run `spo archive add "
            f"{last.get('backup')} --host {last.get('host')} --medium <medium> --handed-to <name>`"
        )
    return verdict("S1.6", evidence, gaps)


# -- S2: SIMRS backup and recovery -----------------------------------------------------------


def simrs_sources(facts: Facts) -> tuple[list[Source], list[str]]:
    """Every source of the SIMRS: db_servers' and app_servers' hosts."""
    return backup_sources(facts, (DB, APP), None, "backup source")


@needs(DB, APP)
def s2_1(facts: Facts) -> Verdict:
    """Copies outside the production server: every SIMRS source (databases and program files)
    has a backup in an offsite place ("offsite <name>": the NAS) that is reachable, and its
    newest offsite copy is no older than the source's automatic backups may be (S2.2's limit)."""
    sources, gaps = simrs_sources(facts)
    evidence = []
    for src in sources:
        places = backup_places(facts, src.host, "offsite")
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
        held = [b for p in good for b in held_backups(p, src)]
        newest = max((t for b in held if (t := parse_time(b.get("time")))), default=None)
        where = ", ".join(str(p.get("where")) for p in good)
        if newest is None:
            if good:
                gaps.append(
                    f"{src}: no copy in {where}; run "
                    f"`spo backup now --host {src.host} --source {src.name}`"
                )
            continue
        evidence.append(f"{src}: {len(held)} copies in {where}, newest {ago(facts, newest)}")
        if facts.now - newest > age_limit(facts, src):
            gaps.append(
                f"{src}: newest offsite copy is {span(facts.now - newest)} old (limit "
                f"{span(age_limit(facts, src))}); check the NAS mount and run "
                f"`spo backup now --host {src.host} --source {src.name}`"
            )
    return verdict("S2.1", evidence, gaps)


@needs(DB, APP)
def s2_2(facts: Facts) -> Verdict:
    """Backups are automatic and periodic: every SIMRS source, program files included, has a
    successful automatic backup within its limit (databases: S1.1's; program files: 48 h)."""
    sources, gaps = simrs_sources(facts)
    evidence, late = fresh(facts, sources)
    return verdict("S2.2", evidence, gaps + late)


def _restorable(facts: Facts, rid: str, sources: list[Source], gaps: list[str]) -> Verdict:
    """A restore of each source proven within a week: its newest drill passed, or a restore
    of it succeeded, at most 8 days ago."""
    evidence = []
    for src in sources:
        drill = newest_record(proofs(facts, src, "drill"))
        restore = newest_record(r for r in proofs(facts, src, "restore") if r.get("result") == "ok")
        good = [
            r
            for r in (drill, restore)
            if r and r.get("result") == "ok" and record_age(facts, r) <= WEEK
        ]
        for label, record in (("drill", drill), ("restore", restore)):
            if record is not None:
                evidence.append(
                    f"{src}: last {label} {ago(facts, parse_time(record['time']))}: "
                    f"{record.get('result')}"
                )
        if not good:
            gaps.append(
                f"{src}: no passed drill or successful restore in the last {WEEK.days} days; run "
                f"`spo drill --host {src.host} --source {src.name}`"
            )
    return verdict(rid, evidence, gaps)


@needs(DB)
def s2_3(facts: Facts) -> Verdict:
    """The database can be restored to production: for every database source, the newest
    drill (a full restore into a scratch instance, checked) passed at most 8 days ago, or a
    restore of it succeeded in that time."""
    sources, gaps = db_sources(facts)
    return _restorable(facts, "S2.3", sources, gaps)


@needs(APP)
def s2_4(facts: Facts) -> Verdict:
    """The application can be restored: as S2.3, for the program files sources of
    app_servers. Not applicable when there is none."""
    sources, gaps = backup_sources(facts, (APP,), FILES, None)
    if not sources and not gaps:
        return not_applicable("S2.4", "no program files source on app_servers")
    return _restorable(facts, "S2.4", sources, gaps)


def s2_5(facts: Facts) -> Verdict:
    """Telling database damage from application damage first: met by design, `spo diagnose`
    does it (database, application, or neither, with the restore command or the
    troubleshooting procedure); its last run is shown."""
    found = [r for r in cli_runs(facts) if ran(r, "diagnose") and started(r) is not None]
    last = max(found, key=started, default=None)
    said = "never" if last is None else f"{ago(facts, started(last))}, {last.get('status')}"
    return verdict("S2.5", [f"spo diagnose available; last run {said}"], [])


@needs(DB, APP)
def s2_6(facts: Facts) -> Verdict:
    """Every component backed up periodically and restorable: S2.2 (all sources) and S2.3,
    S2.4 (restores proven) together; not met names the requirement and component that fail."""
    parts = [s2_2(facts), s2_3(facts), s2_4(facts)]
    evidence = [f"{p.requirement} {p.status}" for p in parts]
    gaps = [f"{p.requirement}: {p.gap}" for p in parts if p.status == NOT_MET]
    return verdict("S2.6", evidence, gaps)
