"""`spo report quarterly`: the quarterly report of the unit data bank (S0.4), rendered from a
realistic quarter (2026-Q4 at a hospital in WIB): the storage host's survey (units, file
systems, SMART, services, the journal's security events), the integrity checks and backup runs
of its history, and the troubleshooting log; in both languages and both formats, read back
from the Markdown and HTML tables to find the real figures."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from test_reports import SITE, html_report, md_sections, plain, row, run, table

from spo import report_quarterly, report_render
from spo.incident_log import REQUIREMENT, Incident, Opened, Resolved

TZ = ZoneInfo("Asia/Jakarta")  # WIB, UTC+07:00: 19:30Z is 02:30 the next day
START, END = datetime(2026, 10, 1, tzinfo=TZ), datetime(2027, 1, 1, tzinfo=TZ)
LABEL = "2026-Q4"
PERIOD = f"2026-10-01 00:00{report_render.DASH}2027-01-01 00:00"
GENERATED = datetime(2027, 1, 2, 4, 0, tzinfo=UTC)
RUN_ID = "20270102T035500Z-report-qq01"
FORMS = [(lang, fmt) for lang in ("id", "en") for fmt in ("md", "html")]
GB = 2**30
NAS = "nas"
SUSPECT = "resep/2026-10.xlsx"
SILENT = (
    "content differs, but its size, modification time and inode change time are unchanged: "
    "it was not written through the file system (a disk or storage fault?)"
)
EMPTY_FOLDER = (
    "the folder /srv/databank/rekam-medis of data bank unit rekam-medis is empty, while the "
    "last check found 48000 file(s)"
)


# -- what the storage host and the history say ------------------------------------------------


def integrity(time, unit="farmasi", result="ok", size_bytes=None, **extra):
    """An integrity record as module_utils/spo_backup/databank.py writes it."""
    record = {
        "record": "integrity", "time": time, "site": SITE, "host": NAS, "unit": unit,
        "path": f"/srv/databank/{unit}", "baseline": False, "files": 1500,
        "bytes": size_bytes, "unchanged": 1490,
        "added": [], "added_count": 0, "changed": [], "changed_count": 0,
        "suspect": [], "suspect_count": 0, "deleted": [], "deleted_count": 0,
        "result": result, "error": None, "duration_seconds": 41.3,
    }  # fmt: skip
    return record | extra


def suspect(path=SUSPECT):
    return {"path": path, "why": SILENT, "kind": "silent"}


def login(time, user, address, status="NT_STATUS_WRONG_PASSWORD"):
    return {"time": time, "user": user, "domain": "RUMAHSAKIT", "address": address,
            "workstation": "SIMRS-APP", "status": status}  # fmt: skip


def events(*found, count=None):
    return {"count": len(found) if count is None else count, "events": list(found)}


def survey(**extra):
    """The survey nas returned for the quarter (module_utils/spo_backup/databank_survey.py)."""
    found = {
        "host": NAS, "site": SITE, "time": "2027-01-02T03:56:00Z",
        "since": "2026-09-30T17:00:00Z", "until": "2026-12-31T17:00:00Z",
        "filesystems": [
            {"mount": "/srv/databank", "device": "/dev/sdb1", "fstype": "ext4",
             "size_bytes": 1000 * GB, "used_bytes": 900 * GB, "free_bytes": 100 * GB,
             "units": ["farmasi", "rekam-medis"]},
            {"mount": "/srv/arsip", "device": "/dev/sdc1", "fstype": "xfs",
             "size_bytes": 500 * GB, "used_bytes": 300 * GB, "free_bytes": 200 * GB,
             "units": ["keuangan"]},
        ],
        "units": [
            {"unit": "farmasi", "path": "/srv/databank/farmasi", "files": 1520,
             "bytes": 3 * GB, "error": None},
            {"unit": "rekam-medis", "path": "/srv/databank/rekam-medis", "files": 48210,
             "bytes": 120 * GB, "error": None},
            {"unit": "keuangan", "path": "/srv/arsip/keuangan", "files": None, "bytes": None,
             "error": "/srv/arsip/keuangan is not a folder on this host"},
        ],
        "smart": [
            {"device": "/dev/sdb", "available": True, "passed": True, "power_on_hours": 12034,
             "temperature_c": 38, "reallocated_sectors": 0, "why": None},
            {"device": "/dev/sdc", "available": True, "passed": False, "power_on_hours": 40211,
             "temperature_c": 51, "reallocated_sectors": 24, "why": None},
            {"device": "/dev/mapper/arsip", "available": False, "passed": None,
             "power_on_hours": None, "temperature_c": None, "reallocated_sectors": None,
             "why": "smartctl is not installed (package smartmontools)"},
        ],
        "uptime_seconds": 3 * 86400 + 5 * 3600 + 120, "booted": "2026-12-29T22:40:00Z",
        "services": [{"name": "smbd", "active": "active", "since": "2026-12-29T22:41:00Z",
                      "restarts": 0}],
        "journal": {"from": "2026-07-01T00:00:00Z", "covers_period": True},
        "failed_logins": events(
            login("2026-11-03T01:10:00Z", "budi", "10.89.60.14"),
            login("2026-11-04T02:00:00Z", "siti", "10.89.60.22", "NT_STATUS_NO_SUCH_USER"),
            login("2026-12-03T01:12:00Z", "budi", "10.89.60.14"),
        ),
        "denied": events(
            {"time": "2026-11-10T03:00:00Z", "user": "siti", "address": "10.89.60.14",
             "share": "rekam-medis", "action": "connect", "path": None,
             "why": "not permitted to access this share"},
            {"time": "2026-11-12T04:30:00Z", "user": "budi", "address": "10.89.60.14",
             "share": "farmasi", "action": "unlinkat", "path": "resep/arsip-2025.xlsx",
             "why": "Permission denied"},
        ),
        "accounts": events(
            {"time": "2026-10-05T02:00:00Z", "user": "andi", "change": "added", "group": None},
            {"time": "2026-10-05T02:00:01Z", "user": "andi", "change": "joined",
             "group": "bank-farmasi"},
            {"time": "2026-12-20T08:00:00Z", "user": "rudi", "change": "removed",
             "group": None},
        ),
    }  # fmt: skip
    return found | extra


def quarter_records():
    databank = {"host": NAS, "source": "databank", "source_type": "files"}
    return [
        # 23:00 local on 30 September: the quarter before, not its first check.
        integrity("2026-09-30T16:00:00.000Z", size_bytes=1 * GB),
        integrity("2026-10-01T19:30:00.000Z", size_bytes=5 * GB // 2, added_count=10,
                  changed_count=5, deleted_count=1),
        integrity("2026-11-15T19:30:00.000Z", "farmasi", "suspect", 5 * GB // 2 + 1,
                  added_count=3, changed_count=2, suspect=[suspect()], suspect_count=1),
        integrity("2026-11-16T19:30:00.000Z", "farmasi", "suspect", 5 * GB // 2 + 2,
                  suspect=[suspect()], suspect_count=1),
        integrity("2026-12-30T19:30:00.000Z", size_bytes=3 * GB, added_count=1),
        integrity("2026-10-02T19:30:00.000Z", "rekam-medis", "failed", files=None,
                  error=EMPTY_FOLDER, unchanged=None),
        integrity("2026-10-03T19:30:00.000Z", "rekam-medis", size_bytes=100 * GB,
                  baseline=True, added_count=48000, unchanged=0),
        integrity("2026-12-30T19:30:00.000Z", "rekam-medis", size_bytes=120 * GB,
                  added_count=210),
        run("2026-10-05T19:00:00.000Z", **databank, size_bytes=GB),
        run("2026-11-20T19:00:00.000Z", **databank, result="failed", size_bytes=None,
            error="no space left on /var/backups"),
        run("2026-12-30T19:00:00.000Z", **databank, size_bytes=GB),
        run("2026-12-01T05:00:00.000Z"),  # simrs-db, as every day
        # Not a run: a record without its kind, and a drill.
        {"time": "2026-12-02T05:00:00.000Z", "host": NAS, "source": "databank",
         "result": "failed"},
        {"record": "drill", "time": "2026-12-04T06:00:00.000Z", "host": "simrs-mirror",
         "result": "failed"},
    ]  # fmt: skip


def incident(opened_at, slug, category, problem, resolution=None, resolved_at=None):
    stamp = opened_at.replace("-", "").replace(":", "")
    opened = Opened(REQUIREMENT, f"{stamp}-{slug}", NAS, category, problem, opened_at, "budi",
                    "4f2c9e1")  # fmt: skip
    resolved = None
    if resolution:
        resolved = Resolved(REQUIREMENT, opened.id, resolution, resolved_at, "siti")
    return Incident(opened, resolved, f"incidents/2026/{opened.id}.yml")


def incidents():
    return [
        incident("2026-10-15T03:15:00Z", "smbd-stopped", "application", "smbd berhenti sendiri",
                 "paket samba diperbarui, smbd dinyalakan ulang", "2026-10-15T05:00:00Z"),
        incident("2026-11-20T02:00:00Z", "backup-disk-full", "hardware",
                 "disk backup penuh, backup bank data gagal"),
    ]  # fmt: skip


def provenance(start=START, end=END):
    return report_render.Provenance((NAS, "simrs-db"), start, end, RUN_ID, GENERATED)


def quarterly(lang, fmt, surveys=None, records=None, found=None):
    surveys = {NAS: survey()} if surveys is None else surveys
    records = quarter_records() if records is None else records
    found = incidents() if found is None else found
    return report_quarterly.quarterly(
        surveys, records, found, START, END, TZ, lang, fmt, provenance(), LABEL, SITE
    )


def sections(out, fmt):
    return md_sections(out) if fmt == "md" else html_report(out).sections


def flat(words: str) -> str:
    return " ".join(words.split())


def columns(t):
    return lambda key: t(f"col_{key}")


# -- the report ------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_the_verdict_counts_what_the_quarter_needs_acted_on(lang, fmt):
    out = quarterly(lang, fmt)
    t = report_render.Texts(lang)
    figures = {"logins": 3, "denied": 2, "accounts": 3, "suspect": 1, "failed": 1, "open": 1}
    said = t("quarterly_verdict", **figures)
    words = flat(plain(out, fmt))
    assert f"✘ {flat(said)}" in words  # a suspect file, a failed backup, an open incident
    assert t("quarterly_verdict_partial") not in words
    # Before the first section: read from the top of the page.
    top = words.split(t("quarterly_storage"))[0]
    assert t("quarterly_title") in top and f"{LABEL} ({PERIOD})" in top
    assert "Asia/Jakarta, UTC+07:00" in top and SITE in top
    if fmt == "md":
        line = next(x for x in out.splitlines() if x.startswith("**✘ "))
        assert [int(n) for n in re.findall(r"\b\d+\b", line)] == list(figures.values())


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_storage_per_unit_and_the_free_space(lang, fmt):
    out = quarterly(lang, fmt)
    t = report_render.Texts(lang)
    col = columns(t)
    units = table(out, fmt, t("quarterly_storage"), 0)
    assert [r[col("unit")] for r in units] == ["farmasi", "rekam-medis", "keuangan"]
    farmasi = row(units, **{col("unit"): "farmasi"})
    assert (farmasi[col("host")], farmasi[col("files")], farmasi[col("used")]) == (
        NAS, "1520", "3.0 GB")  # fmt: skip
    # 3.0 GB now against 2.5 GB at the quarter's first check (not September's 1.0 GB).
    assert farmasi[col("growth")] == "+512.0 MB"
    assert farmasi[col("last_check")] == "2026-12-31 02:30" and farmasi[col("error")] == "-"
    medis = row(units, **{col("unit"): "rekam-medis"})
    assert medis[col("used")] == "120.0 GB" and medis[col("growth")] == "+20.0 GB"  # failed first
    keuangan = row(units, **{col("unit"): "keuangan"})
    assert (keuangan[col("used")], keuangan[col("growth")], keuangan[col("last_check")]) == (
        "-", "-", "-")  # fmt: skip
    assert keuangan[col("error")] == "✘ /srv/arsip/keuangan is not a folder on this host"

    filesystems = table(out, fmt, t("quarterly_storage"), 1)
    full = row(filesystems, **{col("mount"): "/srv/databank"})
    assert (full[col("size")], full[col("used")], full[col("free")]) == (
        "1000.0 GB", "900.0 GB", "100.0 GB")  # fmt: skip
    assert full[col("free_percent")] == "✘ 10.0" and full[col("device")] == "/dev/sdb1"
    roomy = row(filesystems, **{col("mount"): "/srv/arsip"})
    assert roomy[col("free_percent")] == "40.0" and roomy[col("fstype")] == "xfs"
    low = t("quarterly_low_space", mount="/srv/databank", host=NAS, free="100.0 GB",
            percent="10.0", limit=15, units="farmasi, rekam-medis")  # fmt: skip
    text = flat(sections(out, fmt)[t("quarterly_storage")]["text"])
    assert f"✘ {flat(low)}" in text
    roomy = t("quarterly_low_space", mount="/srv/arsip", host=NAS, free="200.0 GB",
              percent="40.0", limit=15, units="keuangan")  # fmt: skip
    assert flat(roomy) not in text  # 40 % free is enough


def test_enough_free_space_is_not_flagged():
    fine = survey()
    fine["filesystems"][0] |= {"used_bytes": 840 * GB, "free_bytes": 160 * GB}
    out = quarterly("en", "md", surveys={NAS: fine})
    t = report_render.Texts("en")
    filesystems = table(out, "md", t("quarterly_storage"), 1)
    assert [r[t("col_free_percent")] for r in filesystems] == ["16.0", "40.0"]
    assert "under 15 %" not in md_sections(out)[t("quarterly_storage")]["text"]


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_a_unit_above_its_quota_is_flagged(lang, fmt):
    quotas = survey()
    quotas["units"][0] |= {"quota_bytes": 2 * GB}  # farmasi: 3.0 GB used
    quotas["units"][1] |= {"quota_bytes": 240 * GB}  # rekam-medis: 120 GB, half
    out = quarterly(lang, fmt, surveys={NAS: quotas})
    t = report_render.Texts(lang)
    units = table(out, fmt, t("quarterly_storage"), 0)
    quota = {r[t("col_unit")]: r[t("col_quota")] for r in units}
    assert quota == {"farmasi": "✘ 2.0 GB (150.0 %)", "rekam-medis": "240.0 GB (50.0 %)",
                     "keuangan": "-"}  # fmt: skip
    over = t("quarterly_over_quota", unit="farmasi", host=NAS, used="3.0 GB", quota="2.0 GB")
    text = flat(sections(out, fmt)[t("quarterly_storage")]["text"])
    assert f"✘ {flat(over)}" in text and "rekam-medis uses" not in text


def test_a_unit_is_over_its_quota_only_above_it():
    quiet = survey()
    quiet["units"][0] |= {"quota_bytes": 4 * GB}
    assert not report_quarterly.over_quota(quiet["units"][0])
    assert report_quarterly.over_quota(quiet["units"][0] | {"bytes": 4 * GB + 1})


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_the_device_health(lang, fmt):
    out = quarterly(lang, fmt)
    t = report_render.Texts(lang)
    col = columns(t)
    title = t("quarterly_health")
    host = table(out, fmt, title, 0)[0]
    assert host[col("uptime")] == report_render.duration(3 * 86400 + 5 * 3600 + 120, t)
    assert host[col("uptime")] == ("3 hari 5 jam" if lang == "id" else "3 d 5 h")
    assert host[col("booted")] == "2026-12-30 05:40" and host[col("surveyed")] == "2027-01-02 10:56"
    smbd = row(table(out, fmt, title, 1), **{col("service"): "smbd"})
    assert smbd[col("state")] == f"✔ {t('quarterly_state_active')}"
    assert (smbd[col("since")], smbd[col("restarts")]) == ("2026-12-30 05:41", "0")
    disks = table(out, fmt, title, 2)
    sdb = row(disks, **{col("disk"): "/dev/sdb"})
    assert sdb[col("health")] == f"✔ {t('quarterly_smart_passed')}"
    assert sdb[col("power_on")] == f"12034 {t('unit_h')}" and sdb[col("temperature")] == "38 °C"
    assert sdb[col("reallocated")] == "0"
    sdc = row(disks, **{col("disk"): "/dev/sdc"})
    assert sdc[col("health")] == f"✘ {t('quarterly_smart_failed')}"
    assert sdc[col("reallocated")] == "✘ 24"
    none = row(disks, **{col("disk"): "/dev/mapper/arsip"})
    assert none[col("health")] == f"{report_render.NA} {t('quarterly_smart_unavailable')}"
    assert none[col("detail")] == "smartctl is not installed (package smartmontools)"
    assert none[col("power_on")] == "-"


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_failed_logins_denied_accesses_and_account_changes(lang, fmt):
    out = quarterly(lang, fmt)
    t = report_render.Texts(lang)
    col = columns(t)
    title = t("quarterly_security")
    summary = table(out, fmt, title, 0)
    budi = row(summary, **{col("user"): "budi", col("address"): "10.89.60.14"})
    assert (budi[col("count")], budi[col("last")], budi[col("host")]) == (
        "2", "2026-12-03 08:12", NAS)  # fmt: skip
    siti = row(summary, **{col("user"): "siti"})
    assert (siti[col("address")], siti[col("count")]) == ("10.89.60.22", "1")
    assert summary[0] == budi  # the most first

    logins = table(out, fmt, title, 1)
    assert [r[col("time")] for r in logins] == [
        "2026-11-03 08:10", "2026-11-04 09:00", "2026-12-03 08:12"]  # fmt: skip
    first = logins[0]
    assert (first[col("user")], first[col("domain")], first[col("workstation")]) == (
        "budi", "RUMAHSAKIT", "SIMRS-APP")  # fmt: skip
    wrong = "kata sandi salah" if lang == "id" else "wrong password"
    assert first[col("why")] == f"{wrong} (NT_STATUS_WRONG_PASSWORD)"

    denied = table(out, fmt, title, 2)
    share = row(denied, **{col("user"): "siti"})
    assert (share[col("share")], share[col("address")], share[col("path")]) == (
        "rekam-medis", "10.89.60.14", "-")  # fmt: skip
    assert share[col("action")] == t("quarterly_action_connect")
    assert share[col("why")] == t("quarterly_why_not permitted to access this share")
    assert share[col("time")] == "2026-11-10 10:00"
    delete = row(denied, **{col("user"): "budi"})
    assert delete[col("path")] == "resep/arsip-2025.xlsx"
    assert delete[col("action")] == ("menghapus file" if lang == "id" else "delete a file")

    accounts = table(out, fmt, title, 3)
    removed = row(accounts, **{col("user"): "rudi"})
    assert removed[col("change")] == t("quarterly_change_removed") != "removed"
    assert (removed[col("time")], removed[col("group")]) == ("2026-12-20 15:00", "-")
    joined = row(accounts, **{col("change"): t("quarterly_change_joined")})
    assert (joined[col("user")], joined[col("group")]) == ("andi", "bank-farmasi")

    text = flat(sections(out, fmt)[title]["text"])
    full = t("quarterly_journal_full", since="2026-07-01 07:00")
    assert f"✔ {flat(full)}" in text
    assert flat(t("quarterly_journal_short", host=NAS, since="2026-07-01 07:00")) not in text


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_a_journal_shorter_than_the_quarter_is_said(lang, fmt):
    short = survey(journal={"from": "2026-12-01T00:00:00Z", "covers_period": False})
    out = quarterly(lang, fmt, surveys={NAS: short})
    t = report_render.Texts(lang)
    words = flat(plain(out, fmt))
    warning = t("quarterly_journal_short", host=NAS, since="2026-12-01 07:00")
    assert f"✘ {flat(warning)}" in flat(sections(out, fmt)[t("quarterly_security")]["text"])
    assert flat(t("quarterly_verdict_partial")) in words
    assert flat(t("quarterly_journal_full", since="2026-12-01 07:00")) not in words


def test_a_journal_without_any_entry_is_said():
    empty = survey(journal={"from": None, "covers_period": False})
    out = quarterly("id", "md", surveys={NAS: empty})
    t = report_render.Texts("id")
    said = flat(md_sections(out)[t("quarterly_security")]["text"])
    assert f"✘ {flat(t('quarterly_journal_empty', host=NAS))}" in said


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_events_the_survey_did_not_carry_are_counted_and_said(lang, fmt):
    capped = survey(failed_logins=events(login("2026-12-30T01:00:00Z", "budi", "10.89.60.14"),
                                         count=250))  # fmt: skip
    out = quarterly(lang, fmt, surveys={NAS: capped})
    t = report_render.Texts(lang)
    text = flat(sections(out, fmt)[t("quarterly_security")]["text"])
    assert t("quarterly_showing", shown=1, count=250) in text
    assert len(table(out, fmt, t("quarterly_security"), 1)) == 1
    verdict = t("quarterly_verdict", logins=250, denied=2, accounts=3, suspect=1, failed=1, open=1)
    assert flat(verdict) in flat(plain(out, fmt))
    # Every event carried: nothing to say.
    assert t("quarterly_showing", shown=3, count=3) not in flat(plain(quarterly(lang, fmt), fmt))


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_the_integrity_checks_per_unit_and_the_suspect_files(lang, fmt):
    out = quarterly(lang, fmt)
    t = report_render.Texts(lang)
    col = columns(t)
    title = t("quarterly_integrity")
    units = table(out, fmt, title, 0)
    assert [r[col("unit")] for r in units] == ["farmasi", "rekam-medis"]
    farmasi = row(units, **{col("unit"): "farmasi"})
    counts = [farmasi[col(k)] for k in ("checks", "ok", "suspect", "failed", "added", "changed",
                                        "deleted", "suspect_files")]  # fmt: skip
    assert counts == ["4", "2", "2", "0", "14", "7", "1", "1"]  # September's check is not in
    assert farmasi[col("last_check")] == "2026-12-31 02:30"
    assert farmasi[col("result")] == report_render.result("ok", t)
    medis = row(units, **{col("unit"): "rekam-medis"})
    counts = [
        medis[col(k)] for k in ("checks", "ok", "suspect", "failed", "added", "suspect_files")
    ]
    assert counts == ["3", "2", "0", "1", "210", "0"]  # the baseline's files are not "added"

    suspects = table(out, fmt, title, 1)
    assert len(suspects) == 1  # reported by two checks, listed once: the latest
    found = suspects[0]
    assert (found[col("unit")], found[col("path")], found[col("time")]) == (
        "farmasi", SUSPECT, "2026-11-17 02:30")  # fmt: skip
    assert found[col("why")] == flat(t("quarterly_suspect_silent"))

    failed = row(table(out, fmt, title, 2), **{col("unit"): "rekam-medis"})
    assert (failed[col("time")], failed[col("error")]) == ("2026-10-03 02:30", EMPTY_FOLDER)


def test_a_suspect_result_is_in_the_report_language():
    out = quarterly("id", "md", records=[
        integrity("2026-11-15T19:30:00.000Z", result="suspect", suspect_count=150,
                  suspect=[suspect(f"resep/{i}.xlsx") for i in range(100)]),
        integrity("2026-11-16T19:30:00.000Z", result="suspect", suspect_count=1,
                  suspect=[{"path": "kas/", "why": "folder cannot be listed: Permission denied "
                            "(EACCES)", "kind": "unlisted"}]),
    ])  # fmt: skip
    t = report_render.Texts("id")
    title = t("quarterly_integrity")
    assert table(out, "md", title, 0)[0]["Hasil"] == "✘ MENCURIGAKAN"
    assert table(out, "md", title, 0)[0][t("col_suspect_files")] == "150"
    suspects = table(out, "md", title, 1)
    assert len(suspects) == 101
    kas = row(suspects, **{t("col_path"): "kas/"})
    assert kas[t("col_why")] == "isi folder ini tidak dapat dibaca: Permission denied (EACCES)"
    assert t("quarterly_suspect_more", count=150) in md_sections(out)[title]["text"]


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_the_backups_of_the_quarter(lang, fmt):
    out = quarterly(lang, fmt)
    t = report_render.Texts(lang)
    col = columns(t)
    summary = table(out, fmt, t("quarterly_backups"), 0)
    databank = row(summary, **{col("host"): NAS, col("source"): "databank"})
    assert (databank[col("ok")], databank[col("failed")], databank[col("total_size")]) == (
        "2", "1", "2.0 GB")  # fmt: skip
    assert databank[col("last_ok")] == "2026-12-31 02:00"
    total = row(summary, **{col("host"): t("total")})
    assert (total[col("ok")], total[col("failed")]) == ("3", "1")  # not the record of no kind
    failed = table(out, fmt, t("quarterly_backups"), 1)
    assert [
        (r[col("time")], r[col("host")], r[col("source")], r[col("error")]) for r in failed
    ] == [("2026-11-21 02:00", NAS, "databank", "no space left on /var/backups")]


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_the_troubleshooting_log(lang, fmt):
    out = quarterly(lang, fmt)
    t = report_render.Texts(lang)
    col = columns(t)
    log = table(out, fmt, t("quarterly_incidents"))
    assert [r[col("opened")] for r in log] == ["2026-10-15 10:15", "2026-11-20 09:00"]
    fixed = row(log, **{col("incident"): "20261015T031500Z-smbd-stopped"})
    assert fixed[col("resolution")] == "paket samba diperbarui, smbd dinyalakan ulang"
    assert fixed[col("resolved")] == "2026-10-15 12:00"
    assert fixed[col("recorded_by")] == "budi, siti"
    assert fixed[col("category")] == ("aplikasi" if lang == "id" else "application")
    still = row(log, **{col("incident"): "20261120T020000Z-backup-disk-full"})
    assert still[col("resolution")] == f"✘ {t('quarterly_open')}"
    assert (still[col("resolved")], still[col("recorded_by")], still[col("host")]) == (
        "-", "budi", NAS)  # fmt: skip
    assert still[col("problem")] == "disk backup penuh, backup bank data gagal"


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_the_sign_off_and_where_it_came_from(lang, fmt):
    out = quarterly(lang, fmt)
    t = report_render.Texts(lang)
    words = plain(out, fmt)
    signoff = sections(out, fmt)[t("signoff")]["text"]
    for role in ("quarterly_prepared_by", "quarterly_acknowledged_by"):
        assert t(role) in signoff
    assert ("Dibuat oleh: Tim IT" in signoff) == (lang == "id")
    assert ("Mengetahui: Kepala Instalasi SIRS" in signoff) == (lang == "id")
    footer = flat(words[words.rindex(t("quarterly_acknowledged_by")) :])
    assert RUN_ID in footer and "nas, simrs-db" in footer
    assert flat(t("quarterly_footer_survey", host=NAS, when="2027-01-02 10:56")) in footer
    assert flat(t("quarterly_footer_incidents", count=2)) in footer
    # Thirteen records of the quarter: September's check is not one of them.
    assert flat(t("footer_history", hosts="nas, simrs-db", start="2026-10-01 00:00",
                  end="2027-01-01 00:00", count=13)) in footer  # fmt: skip


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_an_empty_quarter_says_so_section_by_section(lang, fmt):
    out = quarterly(lang, fmt, surveys={}, records=[], found=[])
    t = report_render.Texts(lang)
    words = flat(plain(out, fmt))
    nothing = t("quarterly_nothing", label=LABEL, period=PERIOD, hosts="nas, simrs-db")
    assert flat(nothing) in words
    zeros = t("quarterly_verdict", logins=0, denied=0, accounts=0, suspect=0, failed=0, open=0)
    assert flat(zeros) not in words  # no verdict on nothing
    found = sections(out, fmt)
    expected = {
        "quarterly_storage": ("quarterly_no_units", "quarterly_no_filesystems"),
        "quarterly_health": ("quarterly_no_hosts", "quarterly_no_services", "quarterly_no_smart"),
        "quarterly_security": ("quarterly_no_logins", "quarterly_no_denied",
                               "quarterly_no_accounts"),
        "quarterly_integrity": ("quarterly_no_checks", "quarterly_no_suspect",
                                "quarterly_no_failed_checks"),
        "quarterly_backups": ("quarterly_no_backups", "quarterly_no_failed_backups"),
        "quarterly_incidents": ("quarterly_no_incidents",),
    }  # fmt: skip
    for title, empties in expected.items():
        section = found[t(title)]
        assert section["tables"] == [], title
        for empty in empties:
            assert t(empty) in section["text"], empty
    assert t("signoff") in found


def test_records_without_a_survey_say_the_survey_is_missing():
    out = quarterly("en", "md", surveys={})
    t = report_render.Texts("en")
    words = flat(out)
    assert flat(t("quarterly_no_survey")) in words
    verdict = t("quarterly_verdict", logins=0, denied=0, accounts=0, suspect=1, failed=1, open=1)
    assert f"✘ {flat(verdict)}" in words
    assert len(table(out, "md", t("quarterly_integrity"), 0)) == 2  # still reported


def test_a_quiet_quarter_is_ticked():
    quiet = survey(
        smart=[], failed_logins=events(), denied=events(), accounts=events(),
        filesystems=[{"mount": "/srv", "device": "/dev/sdb1", "fstype": "ext4",
                      "size_bytes": 10 * GB, "used_bytes": 5 * GB, "free_bytes": 5 * GB,
                      "units": ["farmasi"]}],
    )  # fmt: skip
    records = [integrity("2026-12-30T19:30:00.000Z", size_bytes=3 * GB),
               run("2026-12-30T19:00:00.000Z", host=NAS, source="databank")]  # fmt: skip
    out = quarterly("id", "html", surveys={NAS: quiet}, records=records, found=[])
    verdict = report_render.Texts("id")(
        "quarterly_verdict", logins=0, denied=0, accounts=0, suspect=0, failed=0, open=0
    )
    assert f'<p class="verdict">✔ {verdict}</p>' in flat(out)


def test_every_quarterly_text_has_both_languages():
    texts = report_render.catalogue()
    keys = [k for k in texts if k.startswith("quarterly_")]
    assert len(keys) > 50
    for key in keys:
        assert set(texts[key]) == {"id", "en"}, key
        assert all(isinstance(v, str) and v.strip() for v in texts[key].values()), key
    # Indonesian is written, not copied from the English.
    copied = [k for k in keys if texts[k]["id"] == texts[k]["en"]]
    assert copied == ["quarterly_category_database"], copied


def test_the_weekly_summary_keeps_its_columns():
    t = report_render.Texts("en")
    weekly = report_render.backup_summary(t, [run("2026-12-01T05:00:00.000Z")])
    assert t("col_last_ok") not in weekly.columns and len(weekly.rows[0]) == 5
    quarter = report_render.backup_summary(t, [run("2026-12-01T05:00:00.000Z")], TZ)
    assert quarter.columns[-1] == t("col_last_ok") and quarter.rows[0][-1] == "2026-12-01 12:00"
