"""`spo audit`'s rules (audit_rules): a realistic healthy site (a hospital in WIB on Thursday
2026-12-10 10:00, the four hosts of the lab) meets every requirement of the SPO list; then one
damage at a time makes exactly the requirements an auditor expects not met, each with the
evidence and a gap naming what is missing and the command that fixes it."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from spo import audit_database
from spo import audit_rules as audit
from spo.archive_register import ArchiveRecord, Entry
from spo.change_log import DEFAULT_CHAIN, Applied, Approval, Change, Request, sha256
from spo.incident_log import Incident, Opened, Resolved
from spo.records import RunRecord

NOW = datetime(2026, 12, 10, 3, 0, tzinfo=UTC)  # Thursday 10:00 WIB
SITE = "RS Pusat Otak Nasional"
IDS = [
    "S0.1", "S0.2", "S0.3", "S0.4", "S0.5",
    "S1.1", "S1.2", "S1.3", "S1.4", "S1.5", "S1.6",
    "S2.1", "S2.2", "S2.3", "S2.4", "S2.5", "S2.6",
    "S3.1", "S3.2", "S3.3", "S3.4", "S3.5", "S3.6", "S3.7", "S3.8", "S3.9",
    "S4.1", "S4.2", "S4.3", "S4.4", "S4.5",
]  # fmt: skip
DB, APP, MIRROR, NAS = "simrs-db", "simrs-app", "simrs-mirror", "nas"
DATABASES = {"sik": "mariadb", "simrs": "postgresql"}
RESTORE_RUN = "20261120T025950Z-restore-ab12"
UNREACHABLE = "ssh: connect to host simrs-db port 22: Connection timed out"
POLICY = {
    "spo_site_name": SITE,
    "spo_timezone": "Asia/Jakarta",
    "spo_backup_interval_minutes": 60,
    "spo_backup_retention_count": 7,  # the site keeps more than the floor of 5
    "spo_manual_backup_max_age_days": 3,
    "spo_weekly_full_day": "saturday",
    "spo_weekly_full_start": "12:00",
    "spo_weekly_full_end": "12:30",
    "spo_monthly_copy_day": 1,
    "spo_mirror_max_lag_seconds": 600,
    "spo_drill_day": "friday",
    "spo_drill_time": "21:00",
    "spo_maintenance_months": [4, 7, 12],
    "spo_maintenance_start": "21:00",
    "spo_maintenance_duration_min_minutes": 15,
    "spo_maintenance_duration_max_minutes": 30,
    "spo_quarterly_report_months": 3,
}


# -- records as the engine and the CLI write them ----------------------------------------------


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def backup_name(moment: datetime, host: str, source: str, kind: str) -> str:
    return f"{iso(moment).replace('-', '').replace(':', '')}_{host}_{source}_{kind}"


def run(host, source, moment, kind="automatic", result="ok", **extra) -> dict:
    """A "run" record (module_utils/spo_backup/runner.py)."""
    record = {
        "record": "run", "time": iso(moment), "site": SITE, "host": host, "source": source,
        "source_type": DATABASES.get(source, "files"), "kind": kind, "triggered_by": "cron",
        "reason": "", "destination": "/var/backups/spo",
        "backup": backup_name(moment, host, source, kind), "size_bytes": 2_000_000_000,
        "pruned": [], "offsite": [{"name": "nas", "error": None}],
        "ended_at": iso(moment + timedelta(minutes=4)), "duration_seconds": 240.0,
        "result": result, "error": None,
    }  # fmt: skip
    return record | extra


def listed(host, source, moment, kind="automatic") -> dict:
    """A backup as places.listing shows it."""
    return {
        "name": backup_name(moment, host, source, kind), "host": host, "source": source,
        "kind": kind, "time": iso(moment), "bytes": 2_000_000_000, "duration_seconds": 240.0,
        "verified": True, "pinned": None,
    }  # fmt: skip


def place(where, path, backups, error=None) -> dict:
    return {
        "where": where, "path": path, "error": error, "optional": where.startswith("monthly"),
        "backups": backups, "unrecognised": {},
    }  # fmt: skip


def status_source(source, kind_times: dict, monthly=None, manual_age=None) -> dict:
    """A source of status.build."""
    return {
        "source": source,
        "type": DATABASES.get(source, "files"),
        "last": {k: {"time": iso(t), "backup": None} for k, t in kind_times.items()},
        "monthly_copy": monthly,
        "manual_age_days": manual_age,
        "manual_overdue": manual_age is None or manual_age > 3,
    }


def drill(host, source, moment, result="ok", **extra) -> dict:
    """A "drill" record (module_utils/spo_backup/drill.py)."""
    record = {
        "record": "drill", "time": iso(moment), "site": SITE, "host": host, "source": source,
        "source_type": DATABASES.get(source, "files"),
        "backup": backup_name(moment - timedelta(hours=5), host, source, "automatic"),
        "from": "host", "target": "scratch instance", "triggered_by": "cron", "checks": [],
        "rto_seconds": 192.4, "rpo_seconds": 18180.0, "started_at": iso(moment),
        "ended_at": iso(moment + timedelta(minutes=4)), "duration_seconds": 240.0,
        "result": result, "error": None if result == "ok" else "row counts differ",
    }  # fmt: skip
    return record | extra


def automatic_times(newest_age: timedelta, every: timedelta, span_: timedelta):
    first = NOW - newest_age
    return [first - n * every for n in range(int((span_ - newest_age) / every) + 1)]


def db_host(newest=timedelta(minutes=55), local=8, drills=None, deleted=0) -> audit.HostFacts:
    """simrs-db: sik (MariaDB) and simrs (PostgreSQL), backed up hourly at :05 for 4 days,
    a manual backup every 2 days, a weekly full on Saturday 12:00-12:24 WIB, the Friday drill
    at 21:00 WIB, a restore on instruction on 2026-11-20; November copied to the NAS and the
    external disk. ``newest``: age of the newest automatic backup; ``local``: how many of
    them the host's folder holds (each run records the one retention pruned); ``deleted``:
    how many of the newest were deleted from the folder by hand (their records stay)."""
    hourly = automatic_times(newest, timedelta(hours=1), timedelta(days=4))
    everything = automatic_times(timedelta(minutes=55), timedelta(hours=1), timedelta(days=4))
    manual = [NOW - timedelta(days=d, hours=1) for d in (6, 4, 2)]
    saturday, before = (
        datetime(2026, 12, 5, 5, 0, tzinfo=UTC),
        datetime(2026, 11, 28, 5, tzinfo=UTC),
    )
    history = [
        *(run(DB, s, t, pruned=[backup_name(hourly[i + local], DB, s, "automatic")]
              if i + local < len(hourly) else [])
          for s in DATABASES for i, t in enumerate(hourly)),
        *(run(DB, s, t, kind="manual", destination="/media/usb-sirs", triggered_by="budi")
          for s in DATABASES for t in manual),
        *(run(DB, s, saturday, kind="weekly-full", destination="/var/backups/spo/weekly")
          for s in DATABASES),
        {"record": "calendar", "job": "weekly-full", "time": iso(saturday), "site": SITE,
         "host": DB, "triggered_by": "cron",
         "window": {"start": "2026-12-05T12:00:00+07:00", "end": "2026-12-05T12:30:00+07:00"},
         "ended_at": iso(saturday + timedelta(minutes=24)), "result": "ok", "overran_minutes": 0,
         "backups": [backup_name(saturday, DB, s, "weekly-full") for s in DATABASES],
         "failed": []},
        *({"record": "calendar", "job": "monthly-copy", "time": moment, "site": SITE,
           "host": DB, "months": {}, "result": "ok"}
          for moment in ("2026-10-01T23:00:00.000Z", "2026-12-01T23:00:00.000Z")),
        *(drills if drills is not None else
          [drill(DB, s, datetime(2026, 12, 4, 14, 0, tzinfo=UTC)) for s in DATABASES]),
        {"record": "restore", "time": "2026-11-20T03:00:05.000Z", "site": SITE, "host": DB,
         "source": "simrs", "source_type": "postgresql", "backup": "x", "target": "simrs_check",
         "into_production": False, "instructed_by": "dr. Sari Wulandari (Kepala SIRS)",
         "by": "budi", "reason": "data pasien terhapus", "result": "ok", "error": None},
    ]  # fmt: skip
    november = [datetime(2026, 11, 28, 5, tzinfo=UTC), datetime(2026, 11, 30, 16, 5, tzinfo=UTC)]
    places = [
        place("local", "/var/backups/spo",
              [listed(DB, s, t) for s in DATABASES for t in hourly[deleted:local]]),
        place("weekly", "/var/backups/spo/weekly",
              [listed(DB, s, t, "weekly-full") for s in DATABASES for t in (before, saturday)]),
        place("offsite nas", "/mnt/nas/simrs-db",
              [listed(DB, s, t) for s in DATABASES for t in everything[:8]]),
        *(place(f"monthly {target}", path, [listed(DB, s, t) for s in DATABASES for t in november])
          for target, path in (("nas", "/mnt/nas/simrs-db-monthly"),
                               ("external", "/media/external/spo"))),
    ]  # fmt: skip
    monthly = {"month": "2026-11", "completed": "2026-12-01T23:10:00.000Z"}
    status = {
        "site": SITE, "host": DB, "time": iso(NOW), "manual_max_age_days": 3,
        "sources": [
            status_source(s, {"automatic": hourly[0], "weekly-full": saturday,
                              "manual": manual[-1]},
                          monthly, manual_age=round((NOW - manual[-1]).total_seconds() / 86400, 2))
            for s in DATABASES
        ],
        "overdue": [],
    }  # fmt: skip
    return audit.HostFacts(
        reached=True,
        history=history,
        info={"places": places, "status": status},
        mirror={"host": DB, "site": SITE, "time": iso(NOW), "policy_seconds": 600, "ok": True,
                "breaches": [], "engines": [
                    {"engine": "postgresql", "role": "primary", "ok": True, "breaches": []},
                    {"engine": "mariadb", "role": "primary", "ok": True, "breaches": []}]},
    )  # fmt: skip


def app_host() -> audit.HostFacts:
    """simrs-app: the program files, backed up daily at 00:00 WIB, drilled on Friday."""
    daily = automatic_times(timedelta(hours=10), timedelta(days=1), timedelta(days=10))
    history = [
        *(run(APP, APP, t) for t in daily),
        drill(APP, APP, datetime(2026, 12, 4, 14, 10, tzinfo=UTC), rpo_seconds=50400.0),
    ]
    places = [
        place("local", "/var/backups/spo", [listed(APP, APP, t) for t in daily[:7]]),
        place("offsite nas", "/mnt/nas/simrs-app", [listed(APP, APP, t) for t in daily[:7]]),
    ]
    status = {
        "site": SITE, "host": APP, "time": iso(NOW), "manual_max_age_days": 3,
        "sources": [status_source(APP, {"automatic": daily[0]})],
        "overdue": [APP],  # no manual backup of program files: S1.3 is about databases
    }  # fmt: skip
    return audit.HostFacts(reached=True, history=history, info={"places": places, "status": status})


def mirror_status(ok=True) -> dict:
    engines = [
        {"engine": "postgresql", "role": "mirror", "ok": True, "breaches": [],
         "state": "streaming", "lag_seconds": 2.1, "lag_bytes": 0, "last_error": None},
        {"engine": "mariadb", "role": "mirror", "ok": True, "breaches": [],
         "state": "running", "lag_seconds": 0.0, "lag_bytes": None, "last_error": None},
    ]  # fmt: skip
    breaches = []
    if not ok:
        breaches = ["postgresql: the mirror server is stopped: connection refused"]
        engines[0] = {"engine": "postgresql", "role": "stopped", "ok": False,
                      "breaches": breaches, "error": "connection refused"}  # fmt: skip
    return {"host": MIRROR, "site": SITE, "time": iso(NOW), "policy_seconds": 600,
            "ok": ok, "breaches": breaches, "engines": engines}  # fmt: skip


def mirror_host(ok=True) -> audit.HostFacts:
    """simrs-mirror: keeps the mirrors, backs up nothing of its own."""
    status = {"site": SITE, "host": MIRROR, "time": iso(NOW), "manual_max_age_days": 3,
              "sources": [], "overdue": []}  # fmt: skip
    return audit.HostFacts(
        reached=True,
        info={"places": [place("local", "/var/backups/spo", [])], "status": status},
        mirror=mirror_status(ok),
    )


UNITS = ("farmasi", "keuangan", "rekam-medis")


def integrity(unit, moment, result="ok", **extra) -> dict:
    """An "integrity" record (module_utils/spo_backup/databank.py)."""
    record = {
        "record": "integrity", "time": iso(moment), "site": SITE, "host": NAS, "unit": unit,
        "path": f"/srv/databank/{unit}", "baseline": False, "files": 1500, "bytes": 10**9,
        "suspect": [], "suspect_count": 0, "result": result, "error": None,
    }  # fmt: skip
    return record | extra


def nas_host(last_check=None, **survey) -> audit.HostFacts:
    """nas: the unit data bank, checked daily at 02:00 WIB, and its survey."""
    last = last_check or datetime(2026, 12, 9, 19, 0, tzinfo=UTC)
    history = [integrity(u, last - timedelta(days=d)) for u in UNITS for d in range(3)]
    found = {
        "host": NAS, "site": SITE, "time": iso(NOW),
        "since": "2026-09-09T17:00:00Z", "until": iso(NOW),
        "units": [{"unit": u, "path": f"/srv/databank/{u}", "files": 1500, "bytes": 10**9,
                   "error": None, "quota_bytes": None} for u in UNITS],
        "failed_logins": {"count": 2, "events": []},
        "denied": {"count": 3, "events": []},
        "accounts": {"count": 0, "events": []},
        "hosts_allow": ["192.168.10.0/24", "127.0.0.1"],
        "hosts_deny": ["ALL"],
    }  # fmt: skip
    return audit.HostFacts(reached=True, history=history, survey=found | survey)


def cli_run(run_id, command, started, *argv, status="successful", minutes=1.0, check=False):
    """A run record of the CLI (spo.records.RunRecord), as the CLI passes it: asdict'ed."""
    begun = utc(started)
    record = RunRecord(
        id=run_id, command=command, argv=list(argv), operator="budi", playbook="x.yml",
        inventory="/srv/spo/inventories/rs", inventory_commit="a1b2c3d", check=check,
        limit=None, started=begun.isoformat(timespec="seconds"),
        artifacts=f"/srv/spo/var/runs/{run_id}/artifacts",
        ended=(begun + timedelta(minutes=minutes)).isoformat(timespec="seconds"),
        duration_seconds=minutes * 60, rc=0 if status == "successful" else 2, status=status,
        hosts={DB: {"result": "changed"}},
    )  # fmt: skip
    return asdict(record)


def downtime_runs(window="2026-07", day="2026-07-11", announced="2026-07-01", **kwargs):
    """A window done by the book: announced, starting notice, the run (22 min), back in
    service."""
    return [
        cli_run(f"{announced.replace('-', '')}T020000Z-downtime-a1", f"downtime announce {window}",
                f"{announced}T02:00:00Z", "downtime", "announce", "--window", window),
        cli_run(f"{day.replace('-', '')}T140000Z-downtime-s1", f"downtime starting {window}",
                f"{day}T14:00:00Z", "downtime", "run", "--window", window),
        cli_run(f"{day.replace('-', '')}T140100Z-downtime-r1", f"downtime run {window}",
                f"{day}T14:01:00Z", "downtime", "run", "--window", window,
                minutes=kwargs.pop("minutes", 22.0), **kwargs),
        cli_run(f"{day.replace('-', '')}T142400Z-downtime-b1",
                f"downtime back-in-service {window}", f"{day}T14:24:00Z",
                "downtime", "run", "--window", window),
    ]  # fmt: skip


def runs() -> list[dict]:
    return [
        cli_run("20261002T020000Z-report-q301", "report quarterly", "2026-10-02T02:00:00Z",
                "report", "quarterly", "--quarter", "2026-Q3"),
        # `spo report weekly` records the run that reads the history as "report".
        cli_run("20261207T020000Z-report-ab12", "report", "2026-12-07T02:00:00Z",
                "report", "weekly", "--lang", "id"),
        cli_run("20261120T023000Z-diagnose-d1", f"diagnose {DB}", "2026-11-20T02:30:00Z",
                "diagnose", "--host", DB),
        cli_run(RESTORE_RUN, f"restore {DB} simrs", "2026-11-20T02:59:50Z", "restore", "--host",
                DB, "--source", "simrs", "--instructed-by", "dr. Sari", minutes=6.5),
        cli_run("20261120T040000Z-report-r1", f"report restore {RESTORE_RUN}",
                "2026-11-20T04:00:00Z", "report", "restore", RESTORE_RUN),
        *downtime_runs(),
    ]  # fmt: skip


SQL = "UPDATE pasien SET tgl_lahir = '1980-02-29' WHERE no_rkm_medis = '4711';\n"
CHANGE_ID = "20261102T010000Z-correct-birth-date-of-patient-4711"


def change(approved=None, applied_at="2026-11-09T03:00:00Z", sql=SQL) -> Change:
    """A change request approved by the whole chain on 3-6 November, applied on the 9th."""
    approved = approved or [f"2026-11-0{3 + n}T02:00:00Z" for n in range(len(DEFAULT_CHAIN))]
    request = Request(
        "S3.9", CHANGE_ID, "Correct birth date of patient 4711", "dr. Ani", "Rekam Medis",
        "typo at registration", DB, "simrs", "postgresql", SQL, sha256(SQL),
        list(DEFAULT_CHAIN), "2026-11-02T01:00:00Z", "budi", "a1b2c3d",
    )  # fmt: skip
    approvals = [
        Approval("S3.9", CHANGE_ID, n, role, f"approver {n}", when, sha256(sql), "budi")
        for n, (role, when) in enumerate(zip(DEFAULT_CHAIN, approved, strict=True), 1)
    ]
    done = None
    if applied_at:
        done = Applied(
            "S3.9", CHANGE_ID, applied_at, "20261109T030000Z-change-c1",
            "20261109T025900.000Z_simrs-db_simrs_pre-change",
            [{"statement": SQL.strip(), "rows": 1}], 1, "ok", None, "budi",
        )  # fmt: skip
    return Change(request, approvals, done, Path(f"changes/2026/{CHANGE_ID}.request.yml"))


def incidents() -> list[Incident]:
    closed = Opened("S0.4", "20261015T010000Z-ups-alarm", NAS, "power", "UPS alarm",
                    "2026-10-15T01:00:00Z", "budi", None)  # fmt: skip
    still = Opened("S0.4", "20261208T020000Z-switch-port-flapping", NAS, "network",
                   "switch port flapping", "2026-12-08T02:00:00Z", "budi", None)  # fmt: skip
    fixed = Resolved("S0.4", closed.id, "battery replaced", "2026-10-16T01:00:00Z", "budi")
    return [
        Incident(closed, fixed, Path("incidents/2026/a.yml")),
        Incident(still, None, Path("incidents/2026/b.yml")),
    ]


def archive(recorded_at="2026-12-08T04:00:00Z") -> list[dict]:
    manual = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
    record = ArchiveRecord(
        "S1.6", backup_name(manual, DB, "sik", "manual"), DB, "sik", "manual", iso(manual),
        2_000_000_000, "0" * 64, {"dump.sql.zst": "1" * 64}, "external disk WD-2TB no. 3",
        "Rudi (IT support)", "budi", recorded_at, None, "a1b2c3d",
    )  # fmt: skip
    return [asdict(Entry(Path("archive/2026/x.yml"), record))]


def healthy() -> audit.Facts:
    return audit.Facts(
        now=NOW,
        policy=dict(POLICY),
        groups={
            "db_servers": [DB],
            "app_servers": [APP],
            "mirror_servers": [MIRROR],
            "storage_servers": [NAS],
        },
        hosts={DB: db_host(), APP: app_host(), MIRROR: mirror_host(), NAS: nas_host()},
        runs=runs(),
        changes=[change(), change(applied_at=None)],
        incidents=incidents(),
        archive=archive(),
        inventory_log=[
            {
                "commit": "a1b2c3d",
                "author": "Budi <budi@rs.example>",
                "date": "2026-11-01T09:00:00+07:00",
                "subject": "Keep 7 backups (S1.5)",
                "files": ["group_vars/all/spo_policy.yml"],
            },
        ],
    )


def verdicts(facts: audit.Facts) -> dict[str, audit.Verdict]:
    return {v.requirement: v for v in audit.evaluate(facts)}


def not_met(facts: audit.Facts) -> set[str]:
    return {v.requirement for v in audit.evaluate(facts) if v.status == audit.NOT_MET}


# -- the healthy site --------------------------------------------------------------------------


def test_every_requirement_once_in_id_order():
    found = audit.evaluate(healthy())
    assert [v.requirement for v in found] == IDS
    assert list(audit.IDS) == IDS
    assert all(v.status in audit.STATUSES for v in found)


def test_a_healthy_site_meets_every_requirement_with_evidence():
    found = audit.evaluate(healthy())
    assert [(v.requirement, v.status, v.gap) for v in found if v.status != audit.MET] == []
    assert all(v.evidence for v in found), [v.requirement for v in found if not v.evidence]
    assert audit.exit_status(found) == 0


def test_the_evidence_is_specific():
    found = verdicts(healthy())
    assert "simrs-db/sik: last automatic backup 2026-12-10 09:05 WIB (55 min ago), limit 2 h" in (
        found["S1.1"].evidence
    )
    assert "simrs-db/sik: 8 distinct backups kept (at least 7)" in found["S1.5"].evidence
    assert any("RTO 3 min 12 s, RPO 5 h 3 min" in e for e in found["S3.6"].evidence)
    assert "simrs-mirror postgresql mirror: lag 2 s (max 600 s)" in found["S3.3"].evidence
    assert "troubleshooting log: 2 incidents, 1 open (20261208T020000Z-switch-port-flapping)" in (
        found["S0.4"].evidence
    )
    assert "simrs-db: saturday 12:00-12:24 WIB, window saturday 12:00-12:30" in (
        found["S3.2"].evidence
    )
    assert any("copies of 2026-11 complete" in e for e in found["S3.4"].evidence)
    assert found["S2.5"].evidence == ("spo diagnose available; last run 2026-11-20 09:30 WIB "
                                      "(20 d 30 min ago), successful",)  # fmt: skip
    assert any(
        "window 2026-07: announced 2026-07-01 09:00 WIB" in e for e in found["S4.2"].evidence
    )


def test_exit_status_is_one_when_any_requirement_is_not_met():
    met = audit.Verdict("S1.1", audit.MET, ("x",), None)
    na = audit.Verdict("S1.6", audit.NA, ("y",), None)
    bad = audit.Verdict("S1.5", audit.NOT_MET, ("z",), "fix it")
    assert audit.exit_status([met, na]) == 0
    assert audit.exit_status([met, na, bad]) == 1


# -- one damage at a time ----------------------------------------------------------------------


def test_deleted_newest_backups_break_daily_backup_retention_and_periodicity():
    # The five newest automatic backups are deleted from the host's folder by hand (their
    # records stay): the newest left is 5 h 55 min old and the folder holds 3. The NAS copies,
    # manual backups, the weekly full, the monthly copies and the drills are untouched.
    facts = healthy()
    facts.hosts[DB] = db_host(deleted=5)
    found = verdicts(facts)
    assert not_met(facts) == {"S1.1", "S1.5", "S2.2", "S2.6"}
    assert found["S1.2"].status == audit.MET  # 3 backups still on the server
    assert (
        "simrs-db/sik: newest automatic backup is 5 h 55 min old (limit 2 h)" in found["S1.1"].gap
    )
    assert "spo backup now --host simrs-db --source sik" in found["S1.1"].gap
    assert "simrs-db/sik: 5 backup(s) made in /var/backups/spo are gone without retention" in (
        found["S1.5"].gap
    )
    assert found["S2.6"].gap.startswith("S2.2: ")
    assert audit.exit_status(found.values()) == 1


def test_a_stopped_mirror_breaks_mirroring_only():
    facts = healthy()
    facts.hosts[MIRROR] = mirror_host(ok=False)
    assert not_met(facts) == {"S3.3"}
    gap = verdicts(facts)["S3.3"].gap
    assert "simrs-mirror: postgresql: the mirror server is stopped: connection refused" in gap
    assert "spo mirror status" in gap


def test_a_drill_nine_days_old_breaks_the_friday_drill_and_the_proven_restore():
    facts = healthy()
    old = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 9 days before NOW
    fresh = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)
    facts.hosts[DB] = db_host(drills=[drill(DB, "sik", old), drill(DB, "simrs", fresh)])
    found = verdicts(facts)
    assert not_met(facts) == {"S2.3", "S2.6", "S3.6"}
    assert "simrs-db/sik: last drill is 9 d old" in found["S3.6"].gap
    assert "spo drill --host simrs-db --source sik" in found["S3.6"].gap
    assert "simrs-db/simrs" not in found["S3.6"].gap
    assert found["S2.6"].gap.startswith("S2.3: ")


def test_a_failed_drill_is_not_a_proof():
    facts = healthy()
    fresh = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)
    facts.hosts[DB] = db_host(drills=[drill(DB, "sik", fresh, "failed"), drill(DB, "simrs", fresh)])
    assert not_met(facts) == {"S2.3", "S2.6", "S3.6"}
    assert "last drill failed: row counts differ" in verdicts(facts)["S3.6"].gap


def test_a_change_applied_before_its_last_approval_breaks_the_approval_chain():
    facts = healthy()
    late = [*(f"2026-11-0{3 + n}T02:00:00Z" for n in range(3)), "2026-11-09T05:00:00Z"]
    facts.changes = [change(approved=late)]
    assert not_met(facts) == {"S3.9"}
    gap = verdicts(facts)["S3.9"].gap
    assert CHANGE_ID in gap and "approved only after it was applied: head of SIRS" in gap


def test_a_change_applied_with_approvals_of_another_sql_breaks_the_approval_chain():
    facts = healthy()
    facts.changes = [change(sql="DELETE FROM pasien;\n")]
    assert not_met(facts) == {"S3.9"}
    assert "approvals of another SQL: technical director" in verdicts(facts)["S3.9"].gap


def test_no_applied_change_is_not_applicable():
    facts = healthy()
    facts.changes = [change(applied_at=None)]
    found = verdicts(facts)["S3.9"]
    assert found.status == audit.NA and found.evidence == (
        "no database change applied (1 requested)",
    )


def test_a_downtime_in_may_without_force_breaks_the_planned_months():
    facts = healthy()
    facts.runs += downtime_runs("2026-05", "2026-05-09", "2026-05-01")
    assert not_met(facts) == {"S4.1"}
    gap = verdicts(facts)["S4.1"].gap
    assert "20260509T140100Z-downtime-r1 in May, not a planned month (April, July, December)" in gap


def test_a_downtime_in_may_forced_with_a_reason_is_accepted():
    facts = healthy()
    forced = downtime_runs("2026-05", "2026-05-09", "2026-05-01")
    forced[2]["argv"] += ["--force", "--reason", "UPS replaced, servers had to go down"]
    facts.runs += forced
    assert not_met(facts) == set()
    assert any("forced: UPS replaced" in e for e in verdicts(facts)["S4.1"].evidence)


def test_a_downtime_over_the_estimate_breaks_the_duration():
    facts = healthy()
    facts.runs = [r for r in facts.runs if "downtime" not in r["command"]]
    facts.runs += downtime_runs(minutes=48.0)
    assert not_met(facts) == {"S4.1"}
    assert "took 48 min, over the 30 min estimate" in verdicts(facts)["S4.1"].gap


def test_a_downtime_not_announced_breaks_the_notice_before():
    facts = healthy()
    facts.runs = [r for r in facts.runs if not r["command"].startswith("downtime announce")]
    assert not_met(facts) == {"S4.2"}
    assert "spo downtime announce --window 2026-07" in verdicts(facts)["S4.2"].gap


def test_a_failed_downtime_breaks_update_verification_and_back_in_service():
    facts = healthy()
    facts.runs = [r for r in facts.runs if "downtime" not in r["command"]]
    stopped = downtime_runs(status="failed")
    facts.runs += stopped[:3]  # stopped: no back-in-service notice
    assert not_met(facts) == {"S4.3", "S4.4", "S4.5"}
    assert "downtime run 20260711T140100Z-downtime-r1 failed" in verdicts(facts)["S4.3"].gap
    # Fixed and run again the same night: the window is done.
    facts.runs += downtime_runs(day="2026-07-12")[2:]
    assert not_met(facts) == set()
    assert any("after 1 failed attempts" in e for e in verdicts(facts)["S4.3"].evidence)


def test_no_downtime_in_twelve_months_is_not_applicable():
    facts = healthy()
    facts.runs = [r for r in facts.runs if "downtime" not in r["command"]]
    facts.runs += downtime_runs("2025-07", "2025-07-12", "2025-07-01")  # 17 months ago
    rehearsal = downtime_runs("2026-12", "2026-12-08", "2026-12-01")[2]
    facts.runs.append(rehearsal | {"check": True})
    found = verdicts(facts)
    assert {r: found[r].status for r in ("S4.1", "S4.2", "S4.3", "S4.4", "S4.5")} == dict.fromkeys(
        ("S4.1", "S4.2", "S4.3", "S4.4", "S4.5"), audit.NA
    )


def test_an_unreachable_database_host_fails_every_rule_that_reads_it():
    facts = healthy()
    facts.hosts[DB] = audit.HostFacts(reached=False, error=UNREACHABLE)
    found = verdicts(facts)
    expected = {
        "S1.1", "S1.2", "S1.3", "S1.5", "S1.6", "S2.1", "S2.2", "S2.3", "S2.6",
        "S3.1", "S3.2", "S3.4", "S3.6", "S3.7", "S3.8",
    }  # fmt: skip
    assert not_met(facts) == expected
    for rid in expected:
        assert found[rid].gap == f"host simrs-db unreachable: {UNREACHABLE}", rid
        assert found[rid].evidence == ("simrs-db: not reached",)


def test_a_host_of_a_group_without_facts_is_unreached():
    facts = healthy()
    del facts.hosts[MIRROR]
    assert "S3.3" in not_met(facts)
    assert "host simrs-mirror unreachable: no facts were gathered" in verdicts(facts)["S3.3"].gap


def test_without_a_storage_host_the_data_bank_is_not_applicable():
    facts = healthy()
    facts.groups["storage_servers"] = []
    del facts.hosts[NAS]
    found = verdicts(facts)
    assert {v.requirement for v in found.values() if v.status == audit.NA} == {
        "S0.1", "S0.2", "S0.3", "S0.4", "S0.5",
    }  # fmt: skip
    assert not_met(facts) == set()


def test_without_app_servers_program_files_are_not_applicable():
    facts = healthy()
    facts.groups["app_servers"] = []
    del facts.hosts[APP]
    found = verdicts(facts)
    assert {v.requirement for v in found.values() if v.status == audit.NA} == {"S1.4", "S2.4"}
    assert not_met(facts) == set()


def test_without_mirror_servers_mirroring_is_not_applicable():
    facts = healthy()
    facts.groups["mirror_servers"] = []
    del facts.hosts[MIRROR]
    assert verdicts(facts)["S3.3"].status == audit.NA
    assert not_met(facts) == set()


# -- the data bank (S0) --------------------------------------------------------------------------


def test_a_suspect_file_breaks_the_integrity_watch():
    facts = healthy()
    bad = integrity("farmasi", datetime(2026, 12, 9, 20, tzinfo=UTC), "suspect", suspect_count=1,
                    suspect=[{"path": "resep/2026-10.xlsx", "why": "silent change"}])  # fmt: skip
    facts.hosts[NAS].history.append(bad)
    assert not_met(facts) == {"S0.3"}
    gap = verdicts(facts)["S0.3"].gap
    assert "nas/farmasi: 1 suspect files (resep/2026-10.xlsx)" in gap
    assert "restore the files from backup" in gap and "spo databank verify --unit farmasi" in gap


def test_an_integrity_check_three_days_old_is_too_old():
    facts = healthy()
    facts.hosts[NAS] = nas_host(last_check=NOW - timedelta(days=3))
    assert not_met(facts) == {"S0.3"}
    assert "last integrity check 3 d old (limit 2 d)" in verdicts(facts)["S0.3"].gap


def test_shares_open_to_every_network_break_lan_only():
    facts = healthy()
    facts.hosts[NAS] = nas_host(hosts_allow=["192.168.10.0/24", "ALL"], hosts_deny=[])
    assert not_met(facts) == {"S0.5"}
    gap = verdicts(facts)["S0.5"].gap
    assert "hosts allow admits every network (ALL)" in gap and "hosts deny is not ALL" in gap


def test_units_sharing_a_folder_are_not_sealed_and_a_missing_folder_has_no_area():
    facts = healthy()
    units = [
        {"unit": "farmasi", "path": "/srv/databank", "files": 10, "bytes": 1, "error": None},
        {"unit": "keuangan", "path": "/srv/databank/keuangan", "files": 10, "bytes": 1,
         "error": None},
        {"unit": "hr", "path": "/srv/databank/hr", "files": None, "bytes": None,
         "error": "/srv/databank/hr is not a folder on this host"},
    ]  # fmt: skip
    facts.hosts[NAS] = nas_host(units=units)
    found = verdicts(facts)
    assert {"S0.1", "S0.2"} <= not_met(facts)
    assert "unit hr: /srv/databank/hr is not a folder on this host" in found["S0.1"].gap
    assert (
        "unit keuangan's folder /srv/databank/keuangan is inside or equal to that of farmasi"
        in (found["S0.2"].gap)
    )


def test_a_missing_survey_fails_the_data_bank_rules():
    facts = healthy()
    facts.hosts[NAS].survey = None
    assert not_met(facts) == {"S0.1", "S0.2", "S0.3", "S0.5"}
    assert "nas: no data bank survey was read" in verdicts(facts)["S0.2"].gap


def test_no_quarterly_report_in_three_months():
    facts = healthy()
    facts.runs[0] = cli_run("20260901T020000Z-report-q201", "report quarterly",
                            "2026-09-01T02:00:00Z", "report", "quarterly")  # fmt: skip
    assert not_met(facts) == {"S0.4"}
    assert "run `spo report quarterly`" in verdicts(facts)["S0.4"].gap


# -- backups (S1) --------------------------------------------------------------------------------


def test_an_overdue_manual_backup():
    facts = healthy()
    status = facts.hosts[DB].info["status"]
    status["overdue"] = ["sik"]
    status["sources"][0].update(manual_age_days=4.2, manual_overdue=True)
    assert not_met(facts) == {"S1.3"}
    found = verdicts(facts)["S1.3"]
    assert "simrs-db/sik: last manual backup 4.2 d old (limit 3 d)" in found.evidence
    assert "spo backup manual --host simrs-db --to" in found.gap


def test_manual_backups_not_archived_break_the_register():
    facts = healthy()
    facts.archive = archive(recorded_at="2026-11-01T04:00:00Z")  # before this period's manuals
    assert not_met(facts) == {"S1.6"}
    gap = verdicts(facts)["S1.6"].gap
    assert "spo archive add 20261208T020000.000Z_simrs-db_" in gap
    assert "--host simrs-db --medium <medium> --handed-to <name>" in gap


def test_no_manual_backup_makes_the_archive_register_not_applicable():
    facts = healthy()
    facts.hosts[DB].history = [r for r in facts.hosts[DB].history if r.get("kind") != "manual"]
    facts.archive = []
    assert verdicts(facts)["S1.6"].status == audit.NA
    assert not_met(facts) == set()


def test_the_archive_register_looks_at_the_last_month():
    # One handover in September does not cover the manual backups of December; manual
    # backups older than 31 days alone are nothing left to archive.
    facts = healthy()
    facts.archive = archive(recorded_at="2026-09-01T04:00:00Z")
    assert not_met(facts) == {"S1.6"}
    for record in facts.hosts[DB].history:
        if record.get("kind") == "manual":
            record["time"] = "2026-10-20T02:00:00.000Z"
    found = verdicts(facts)["S1.6"]
    assert found.status == audit.NA
    assert found.evidence == ("no manual backup in the last 31 days: nothing to archive",)


def test_a_db_server_without_database_source():
    facts = healthy()
    facts.hosts[DB].info["status"]["sources"] = []
    assert "no database source in its backup_sources" in verdicts(facts)["S1.1"].gap


def test_an_unmounted_nas_breaks_copies_outside_the_server():
    facts = healthy()
    offsite = facts.hosts[APP].info["places"][1]
    offsite.update(error="/mnt/nas is not mounted", backups=[])
    assert not_met(facts) == {"S2.1"}
    assert "simrs-app/simrs-app: offsite nas unreachable: /mnt/nas is not mounted" in (
        verdicts(facts)["S2.1"].gap
    )


# -- the weekly and monthly calendar (S3.1, S3.2, S3.4, S3.5) -----------------------------------


def test_a_weekly_full_backup_that_overran_its_window():
    facts = healthy()
    weekly = next(r for r in facts.hosts[DB].history if r.get("job") == "weekly-full")
    weekly.update(ended_at="2026-12-05T05:41:00.000Z", overran_minutes=11)
    assert not_met(facts) == {"S3.2"}
    assert "ended 12:41, overran the window saturday 12:00-12:30 by 11 min" in (
        verdicts(facts)["S3.2"].gap
    )


def test_no_weekly_full_backup_for_nine_days():
    facts = healthy()
    history = facts.hosts[DB].history
    facts.hosts[DB].history = [r for r in history if r.get("job") != "weekly-full"
                               and r.get("kind") != "weekly-full"]  # fmt: skip
    facts.hosts[DB].history.append(
        run(
            DB,
            "sik",
            datetime(2026, 12, 1, 5, tzinfo=UTC),
            "weekly-full",
            destination="/var/backups/spo/weekly",
        )
    )
    assert not_met(facts) == {"S3.1", "S3.2"}


def test_monthly_copies_before_and_after_the_grace_week():
    # On 3 December the copy of November is still within its week of grace: October counts,
    # and the NAS and the external disk hold only November.
    facts = healthy()
    facts.now = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    for source in facts.hosts[DB].info["status"]["sources"]:
        source["monthly_copy"] = {"month": "2026-11", "completed": None}
    found = audit_database.s3_4(facts)
    assert found.status == audit.NOT_MET
    assert "copies of 2026-10 missing on monthly nas, monthly external" in found.gap
    october = datetime(2026, 10, 31, 16, 5, tzinfo=UTC)
    for target in facts.hosts[DB].info["places"][3:]:
        target["backups"] += [listed(DB, s, october) for s in DATABASES]
    assert audit_database.s3_4(facts).status == audit.MET
    # From the 8th, November must be complete: a pending November is not met.
    facts.now = NOW
    found = audit_database.s3_4(facts)
    assert found.status == audit.MET  # both targets hold November's backups
    facts.hosts[DB].info["places"][4]["error"] = "/media/external is not mounted"
    assert "monthly external (/media/external is not mounted)" in audit_database.s3_4(facts).gap


def test_the_weekly_checklist_must_be_produced():
    facts = healthy()
    facts.runs = [r for r in facts.runs if r["argv"][:2] != ["report", "weekly"]]
    assert not_met(facts) == {"S3.5"}
    assert verdicts(facts)["S3.5"].gap.endswith("run `spo report weekly` and have it signed")
    facts.runs.append(
        cli_run("20261209T020000Z-report-w2", "report weekly", "2026-12-09T02:00:00Z")
    )
    assert not_met(facts) == set()
    facts.runs[-1]["status"] = "failed"
    assert not_met(facts) == {"S3.5"}


# -- restores (S3.7, S3.8) -----------------------------------------------------------------------


def test_a_restore_without_instruction():
    facts = healthy()
    restore = next(r for r in facts.hosts[DB].history if r["record"] == "restore")
    restore["instructed_by"] = " "
    assert not_met(facts) == {"S3.7"}
    assert "simrs-db/simrs 2026-11-20 10:00 WIB: no instruction recorded" in (
        verdicts(facts)["S3.7"].gap
    )


def test_a_restore_without_its_checklist_report():
    facts = healthy()
    facts.runs = [r for r in facts.runs if not r["command"].startswith("report restore")]
    assert not_met(facts) == {"S3.8"}
    assert f"run `spo report restore {RESTORE_RUN}`" in verdicts(facts)["S3.8"].gap
    # The report named by a prefix of the run id, recorded under "report": it counts.
    facts.runs.append(cli_run("20261121T010000Z-report-r9", "report", "2026-11-21T01:00:00Z",
                              "--lang", "en", "report", "restore", "20261120T0259"))  # fmt: skip
    assert not_met(facts) == set()


def kept(kind, subject, time) -> dict:
    """A line of the kept reports' index (spo.report_archive)."""
    return {
        "time": time, "kind": kind, "subject": subject, "lang": "id", "format": "html",
        "file": f"2026/{time[:10]}-{kind}-{subject}.id.html", "sha256": "2" * 64,
        "operator": "budi",
    }  # fmt: skip


def test_kept_reports_count_as_produced_checklists():
    facts = healthy()
    facts.runs = [r for r in facts.runs if not r["command"].startswith("report")]
    assert not_met(facts) == {"S0.4", "S3.5", "S3.8"}
    facts.runs += [
        kept("quarterly", "2026-Q3", "2026-10-02T02:00:00Z"),
        kept("weekly", "2026-W50", "2026-12-08T01:00:00Z"),
        kept("restore", RESTORE_RUN, "2026-11-20T04:00:00Z"),
    ]
    assert not_met(facts) == set()
    assert any("kept report 2026/2026-12-08-weekly" in e for e in verdicts(facts)["S3.5"].evidence)


def test_no_restore_makes_instruction_and_checklist_not_applicable():
    facts = healthy()
    facts.hosts[DB].history = [r for r in facts.hosts[DB].history if r["record"] != "restore"]
    found = verdicts(facts)
    assert (found["S3.7"].status, found["S3.8"].status) == (audit.NA, audit.NA)
    assert not_met(facts) == set()


# -- the verdicts themselves ---------------------------------------------------------------------


def test_a_verdict_is_frozen_and_gaps_only_on_not_met():
    found = audit.evaluate(healthy())
    with pytest.raises(dataclasses.FrozenInstanceError):
        found[0].status = audit.NOT_MET
    damaged = healthy()
    damaged.hosts[MIRROR] = mirror_host(ok=False)
    for verdict in audit.evaluate(damaged):
        assert (verdict.gap is not None) == (verdict.status == audit.NOT_MET), verdict


def test_durations_in_evidence():
    assert audit.span(42) == "42 s"
    assert audit.span(192.4) == "3 min 12 s"
    assert audit.span(timedelta(days=3, minutes=55)) == "3 d 55 min"
    assert audit.span(timedelta(days=2, hours=4, minutes=3)) == "2 d 4 h"
    assert audit.span(0) == "0 s"


def test_a_new_server_is_not_judged_on_duties_not_yet_due():
    # simrs-db's records begin on Monday 7 December: no weekly window has ended since and no
    # month is due for copying; it has made 3 backups of each database and kept them all.
    facts = healthy()
    monday = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    times = [monday + timedelta(hours=h) for h in (0, 1, 2)]
    host = facts.hosts[DB]
    host.history = [run(DB, s, t) for s in DATABASES for t in times] + [
        drill(DB, s, monday + timedelta(hours=3)) for s in DATABASES
    ]
    host.info["places"] = [
        place("local", "/var/backups/spo", [listed(DB, s, t) for s in DATABASES for t in times]),
        place(
            "offsite nas", "/mnt/nas/simrs-db", [listed(DB, s, t) for s in DATABASES for t in times]
        ),
    ]
    for source in host.info["status"]["sources"]:
        source["monthly_copy"] = None
    facts.now = monday + timedelta(hours=3, minutes=30)
    found = verdicts(facts)
    assert {r: found[r].status for r in ("S3.1", "S3.2", "S3.4")} == dict.fromkeys(
        ("S3.1", "S3.2", "S3.4"), audit.NA
    )
    assert "no weekly window has passed yet" in found["S3.1"].evidence
    assert found["S1.5"].status == audit.MET
    assert "simrs-db/sik: new source, 3 made so far, every one kept" in found["S1.5"].evidence
    # One of them deleted by hand: a breach, however new the server.
    host.info["places"][0]["backups"].pop(0)
    assert verdicts(facts)["S1.5"].status == audit.NOT_MET
