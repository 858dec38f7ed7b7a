"""`spo report`: the weekly checklist (S3.5), the restore drills (S3.6) and the restore
checklist (S3.8), rendered from realistic records in both languages and both formats, and read
back (Markdown tables, HTML through html.parser) to find the figures in their rows."""

from __future__ import annotations

import json
import re
import string
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import click
import pytest
from click.testing import CliRunner

from spo import history_data, report, report_render
from spo.host_data import events_dir
from spo.main import cli
from spo.records import RunRecord, write_record

TZ = ZoneInfo("Asia/Jakarta")  # WIB, UTC+07:00: 05:00Z is 12:00 local
WEEK_START = datetime(2026, 11, 30, tzinfo=TZ)  # Monday of 2026-W49
WEEK_END = datetime(2026, 12, 7, tzinfo=TZ)
GENERATED = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
SITE = "RS Pusat Otak Nasional"
FORMS = [(lang, fmt) for lang in ("id", "en") for fmt in ("md", "html")]

# The same words in each language, as the reports print them.
WORDS = {
    "id": {"ok": "✔ berhasil", "failed": "✘ GAGAL", "rto": "3 mnt 12 dtk", "rpo": "5 jam 3 mnt",
           "prepared": "Dibuat oleh", "checked": "Diperiksa oleh",
           "head": "Mengetahui: Kepala SIRS",
           "empty": "Tidak ada backup tercatat pada minggu ini."},
    "en": {"ok": "✔ ok", "failed": "✘ FAILED", "rto": "3 min 12 s", "rpo": "5 h 3 min",
           "prepared": "Prepared by", "checked": "Checked by",
           "head": "Acknowledged: Head of SIRS", "empty": "No backup was recorded this week."},
}  # fmt: skip
# Section titles, to find a section's table in the output.
TITLES = {
    lang: {
        key: report_render.Texts(lang)(key)
        for key in (
            "weekly_checklist",
            "weekly_summary",
            "weekly_backups",
            "weekly_manual",
            "weekly_full",
            "weekly_calendar",
            "weekly_drills",
            "weekly_restores",
            "drill_summary",
            "restore_checklist",
            "restore_row_counts",
            "signoff",
        )
    }
    for lang in ("id", "en")
}


# -- records as the hosts' engine writes them ----------------------------------------------


def run(time, host="simrs-db", source="simrs", kind="automatic", result="ok", **extra):
    record = {
        "record": "run", "time": time, "site": SITE, "host": host, "source": source,
        "source_type": "postgresql", "kind": kind, "triggered_by": "cron", "reason": "",
        "destination": "/var/backups/spo", "backup": f"{host}_{source}_{time[:10]}",
        "size_bytes": 123456789, "pruned": [], "offsite": [], "ended_at": time,
        "duration_seconds": 75.2, "result": result, "error": None,
    }  # fmt: skip
    return record | extra


def drill_record(time="2026-12-04T06:00:00.000Z", source="simrs", **extra):
    record = {
        "record": "drill", "time": time, "site": SITE, "host": "simrs-mirror",
        "source": source, "source_type": "postgresql",
        "backup": "simrs-db_simrs_20261204T050000Z", "backup_time": "2026-12-04T05:00:00.000Z",
        "from": "nas", "target": "database simrs_drill", "triggered_by": "cron",
        "checks": [
            {"name": "checksums", "ok": True, "detail": "14 files match the manifest"},
            {"name": "identity", "ok": True, "detail": "simrs-db/simrs"},
            {"name": "restore", "ok": True, "detail": "pg_restore exited 0"},
            {"name": "integrity", "ok": True, "detail": "row counts match"},
        ],
        "tables": {"public.pasien": 2000, "public.kunjungan": 15321}, "files": None,
        "rto_seconds": 192.4, "rpo_seconds": 5 * 3600 + 180, "started_at": time,
        "ended_at": "2026-12-04T06:03:20.000Z", "duration_seconds": 200.0, "result": "ok",
        "error": None,
    }  # fmt: skip
    return record | extra


def restore_record(**extra):
    record = {
        "record": "restore", "time": "2026-12-05T03:00:00.000Z", "site": SITE,
        "host": "simrs-mirror", "source": "simrs", "source_type": "postgresql",
        "backup": "simrs-db_simrs_20261205T010000Z", "backup_time": "2026-12-05T01:00:00.000Z",
        "target": "database simrs_copy", "into_production": False,
        "scope": {"tables": ["pasien", "kunjungan"], "schemas": []},
        "instructed_by": "dr. Sari Wulandari", "by": "budi", "reason": "data pasien terhapus",
        "safety_backup": None, "started_at": "2026-12-05T03:00:00.000Z",
        "ended_at": "2026-12-05T03:04:30.000Z", "duration_seconds": 270.0,
        "expected_tables": {"public.pasien": 2000, "public.kunjungan": 15321},
        "tables": {"public.pasien": 2000, "public.kunjungan": 15321}, "files": None,
        "checks": [  # as module_utils/spo_backup/restore_run.py names them
            {"name": "verified", "ok": True, "detail": "14 payload file(s), checksums match"},
            {"name": "restore", "ok": True, "detail": "into postgresql database simrs_copy"},
            {"name": "row counts", "ok": True, "detail": "2 table(s) equal to the manifest"},
            {"name": "service", "ok": True, "detail": "simrs-app answers on :8080"},
        ],
        "result": "ok", "error": None,
    }  # fmt: skip
    return record | extra


def week_records() -> list[dict]:
    nas_ok = {"offsite": "nas", "path": "/mnt/nas/spo", "copied": ["b1"], "count": 5,
              "error": None}  # fmt: skip
    return [
        # Sunday 23:59 local: the week before.
        run("2026-11-29T16:59:59.000Z", size_bytes=1),
        # Monday 00:00 local: the first second of the week.
        run("2026-11-29T17:00:00.000Z", host="simrs-app", source="berkas", size_bytes=1024),
        run("2026-12-01T05:00:01.123Z", offsite=[nas_ok]),
        run(
            "2026-12-02T17:30:00.000Z",
            host="simrs-app",
            source="berkas",
            result="failed",
            size_bytes=None,
            backup=None,
            error="disk full on /var/backups",
            offsite=[{"offsite": "nas", "path": "/mnt/nas", "error": "nas is not mounted"}],
        ),
        run(
            "2026-12-03T02:00:00.000Z",
            kind="manual",
            triggered_by="budi",
            reason="backup manual S1.3",
            destination="/media/usb-sirs",
            size_bytes=2684354560,
        ),
        run("2026-12-05T05:10:00.000Z", kind="weekly-full", size_bytes=1073741824),
        {
            "record": "calendar",
            "job": "weekly-full",
            "time": "2026-12-05T05:00:00.000Z",
            "site": SITE,
            "host": "simrs-db",
            "triggered_by": "cron",
            "window": {"start": "2026-12-05T12:00:00+07:00", "end": "2026-12-05T12:30:00+07:00"},
            "ended_at": "2026-12-05T05:24:00.000Z",
            "result": "ok",
            "overran_minutes": 0,
            "backups": ["simrs-db_simrs_2026-12-05"],
            "failed": [],
        },
        {
            "record": "calendar",
            "job": "monthly-copy",
            "time": "2026-12-01T20:00:00.000Z",
            "site": SITE,
            "host": "simrs-db",
            "result": "pending",
            "months": {
                "2026-11": {
                    "selected": ["b1"],
                    "completed": None,
                    "targets": {
                        "nas": {"result": "ok", "copied": ["b1"]},
                        "external": {
                            "result": "skipped",
                            "error": "not plugged in",
                            "absent_since": "2026-12-01T20:00:00.000Z",
                            "absent_days": 0,
                        },
                    },
                }
            },
        },
        drill_record(),
        restore_record(),
        # Next Monday 00:00 local: the week after.
        run("2026-12-06T17:00:00.000Z", size_bytes=7),
    ]


def provenance(start=WEEK_START, end=WEEK_END) -> report_render.Provenance:
    hosts = ("simrs-app", "simrs-db", "simrs-mirror")
    return report_render.Provenance(hosts, start, end, "20261207T020000Z-report-ab12", GENERATED)


def weekly(records, lang, fmt):
    prov = provenance()
    return report_render.weekly(records, WEEK_START, WEEK_END, TZ, lang, fmt, prov, "2026-W49")


# -- reading the output back ----------------------------------------------------------------


def md_sections(text: str) -> dict[str, dict]:
    """Section title -> {"tables": [[{column: cell}]], "text": str} of a Markdown report."""
    sections: dict[str, dict] = {}
    current = {"tables": [], "text": ""}
    sections[""] = current
    header = None
    for line in text.splitlines():
        heading = re.fullmatch(r"## (?:\d+\. )?(.*)", line)
        if heading:
            current = sections.setdefault(heading[1], {"tables": [], "text": ""})
            header = None
            continue
        current["text"] += line + "\n"
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if header is None:
            header = cells
            current["tables"].append([])
        elif set(cells) != {"---"}:
            current["tables"][-1].append(dict(zip(header, cells, strict=True)))
    return sections


VOID = {"meta", "br", "hr", "img", "link", "input"}


class HtmlReport(HTMLParser):
    """The sections of an HTML report (h2 -> data tables of rows) and every tag, checked to
    nest. Key-value tables (class "fields") are words, not tables, as in Markdown."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.sections: dict[str, dict] = {"": {"tables": [], "text": ""}}
        self.current = self.sections[""]
        self.heading: str | None = None
        self.row: list[str] | None = None
        self.cell: str | None = None
        self.header: list[str] = []
        self.in_head = self.in_fields = False
        self.text = ""

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "h2":
            self.heading = ""
        elif tag == "table":
            self.in_fields = dict(attrs).get("class") == "fields"
            if not self.in_fields:
                self.current["tables"].append([])
        elif tag == "thead":
            self.in_head = True
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()
        if tag == "h2":
            title = re.sub(r"^\d+\. ", "", self.heading.strip())
            self.current = self.sections.setdefault(title, {"tables": [], "text": ""})
            self.heading = None
        elif tag == "thead":
            self.in_head = False
        elif tag in ("td", "th"):
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and not self.in_fields:
            if self.in_head:
                self.header = self.row
            else:
                self.current["tables"][-1].append(dict(zip(self.header, self.row, strict=True)))

    def handle_data(self, data):
        self.text += data
        self.current["text"] += data
        if self.heading is not None:
            self.heading += data
        if self.cell is not None:
            self.cell += data


def html_report(text: str) -> HtmlReport:
    parser = HtmlReport()
    parser.feed(text)
    parser.close()
    assert parser.problems == [] and parser.stack == [], (parser.problems, parser.stack)
    assert text.startswith("<!DOCTYPE html>")
    return parser


def sections_of(text: str, fmt: str) -> dict[str, dict]:
    return md_sections(text) if fmt == "md" else html_report(text).sections


def table(text: str, fmt: str, title: str, index: int = 0) -> list[dict]:
    return sections_of(text, fmt)[title]["tables"][index]


def row(rows: list[dict], **match) -> dict:
    found = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, rows)
    return found[0]


def plain(text: str, fmt: str) -> str:
    """The report's words, whatever the format."""
    return html_report(text).text if fmt == "html" else text


# -- the weekly checklist (S3.5) -------------------------------------------------------------


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_weekly_lists_every_backup_of_the_week_with_its_figures(lang, fmt):
    out = weekly(week_records(), lang, fmt)
    t, words = report_render.Texts(lang), WORDS[lang]
    col = heading_of(t)
    backups = table(out, fmt, TITLES[lang]["weekly_backups"])

    # Monday 00:00 local is in; the Sunday before and the next Monday are not.
    times = [r[col("time")] for r in backups]
    assert times == [
        "2026-11-30 00:00", "2026-12-01 12:00", "2026-12-03 00:30", "2026-12-03 09:00",
        "2026-12-05 12:10",
    ]  # fmt: skip
    good = row(backups, **{col("time"): "2026-12-01 12:00"})
    assert good[col("host")] == "simrs-db" and good[col("source")] == "simrs"
    assert good[col("size")] == "117.7 MB" and good[col("result")] == words["ok"]
    assert good[col("duration")] == ("1 min 15 s" if lang == "en" else "1 mnt 15 dtk")
    assert good[col("offsite")].startswith("nas ✔ 1") and "5" in good[col("offsite")]
    bad = row(backups, **{col("time"): "2026-12-03 00:30"})
    assert bad[col("result")] == words["failed"] and bad[col("size")] == "-"
    assert bad[col("error")] == "disk full on /var/backups"
    assert bad[col("offsite")] == "nas ✘ nas is not mounted"

    summary = table(out, fmt, TITLES[lang]["weekly_summary"])
    db = row(summary, **{col("host"): "simrs-db", col("source"): "simrs"})
    assert (db[col("ok")], db[col("failed")]) == ("3", "0")
    assert db[col("total_size")] == "3.6 GB"  # 117.7 MB + 2.5 GB + 1.0 GB
    app = row(summary, **{col("host"): "simrs-app"})
    assert (app[col("ok")], app[col("failed")], app[col("total_size")]) == ("1", "1", "1.0 KB")
    total = row(summary, **{col("host"): t("total")})
    assert (total[col("ok")], total[col("failed")]) == ("4", "1")

    manual = table(out, fmt, TITLES[lang]["weekly_manual"])
    assert len(manual) == 1
    assert manual[0][col("by")] == "budi" and manual[0][col("destination")] == "/media/usb-sirs"
    assert manual[0][col("size")] == "2.5 GB"
    full = table(out, fmt, TITLES[lang]["weekly_full"])
    assert [(r[col("time")], r[col("size")]) for r in full] == [("2026-12-05 12:10", "1.0 GB")]
    calendar = table(out, fmt, TITLES[lang]["weekly_calendar"])
    window = row(calendar, **{col("job"): t("job_weekly-full")})
    assert "12:00\u201312:30" in window[col("detail")] and window[col("result")] == words["ok"]
    monthly = row(calendar, **{col("job"): t("job_monthly-copy")})
    assert "external" in monthly[col("detail")] and "not plugged in" in monthly[col("detail")]

    drills = table(out, fmt, TITLES[lang]["weekly_drills"])
    assert drills[0][col("rto")] == words["rto"] and drills[0][col("rpo")] == words["rpo"]
    assert drills[0][col("time")].startswith("2026-12-04 13:00")
    assert ("Jumat" if lang == "id" else "Friday") in drills[0][col("time")]
    restores = table(out, fmt, TITLES[lang]["weekly_restores"])
    assert restores[0][col("instructed_by")] == "dr. Sari Wulandari"
    assert restores[0][col("into_production")] == t("answer_no")


def heading_of(t: report_render.Texts):
    return lambda key: t(f"col_{key}")


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_weekly_checklist_ticks_what_the_records_prove(lang, fmt):
    out = weekly(week_records(), lang, fmt)
    t = report_render.Texts(lang)
    items = table(out, fmt, TITLES[lang]["weekly_checklist"])
    status = {r[t("col_item")]: r[t("col_check")] for r in items}
    assert status[t("check_backups_ok")] == "✘"  # one failed
    assert status[t("check_weekly_full")] == "✔"  # ran in its window
    assert status[t("check_offsite")] == "✘"  # the NAS was not mounted once
    assert status[t("check_monthly")] == "✘"  # the external disk is still missing
    assert status[t("check_drill")] == "✔"
    detail = row(items, **{t("col_item"): t("check_backups_ok")})[t("col_detail")]
    assert detail == t("check_backups_detail", ok=4, failed=1)


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_weekly_ends_with_the_sign_off_and_where_it_came_from(lang, fmt):
    out = weekly(week_records(), lang, fmt)
    words = plain(out, fmt)
    for field in (WORDS[lang]["prepared"], WORDS[lang]["checked"]):
        assert field in words
    assert WORDS[lang]["head"] not in words  # the head of SIRS signs restores
    signoff = sections_of(out, fmt)[TITLES[lang]["signoff"]]
    t = report_render.Texts(lang)
    for label in ("signoff_name", "signoff_date", "signoff_signature"):
        assert t(label) in signoff["text"]
    footer = words[words.rindex(WORDS[lang]["checked"]) :]
    assert "20261207T020000Z-report-ab12" in footer
    assert "simrs-app, simrs-db, simrs-mirror" in footer
    assert "2026-11-30 00:00" in footer and "2026-12-07 00:00" in footer
    assert "2026-12-07 09:00" in footer and "Asia/Jakarta, UTC+07:00" in footer
    assert SITE in words


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_an_empty_week_says_so(lang, fmt):
    # Only records outside the week: nothing of 2026-W49.
    outside = [run("2026-11-29T16:59:59.000Z"), run("2026-12-06T17:00:00.000Z")]
    out = weekly(outside, lang, fmt)
    t = report_render.Texts(lang)
    sentence = t(
        "weekly_nothing",
        week="2026-W49",
        period=f"2026-11-30{report_render.DASH}2026-12-06",
        hosts="simrs-app, simrs-db, simrs-mirror",
    )
    words = plain(out, fmt)
    assert " ".join(sentence.split()) in " ".join(words.split())
    sections = sections_of(out, fmt)
    for key, empty in (
        ("weekly_backups", "empty_backups"), ("weekly_summary", "empty_backups"),
        ("weekly_manual", "empty_manual"), ("weekly_drills", "empty_drills"),
        ("weekly_restores", "empty_restores"),
    ):  # fmt: skip
        section = sections[TITLES[lang][key]]
        assert section["tables"] == [], key  # no table without its explanation ...
        assert t(empty) in section["text"], key  # ... but the sentence
    assert WORDS[lang]["empty"] == t("empty_backups")


# -- restore drills (S3.6) -------------------------------------------------------------------


def drills_since():
    return [
        drill_record("2026-11-20T06:00:00.000Z", rto_seconds=1.0),  # before --since
        drill_record("2026-11-27T06:00:00.000Z", rto_seconds=2.0),  # superseded
        drill_record(),  # the latest of simrs-mirror/simrs
        drill_record(
            "2026-12-04T07:00:00.000Z",
            source="rekam_medis",
            source_type="mariadb",
            result="failed",
            error="row counts differ",
            tables={"rm.pasien": 1999},
            rto_seconds=45,
            checks=[
                {"name": "checksums", "ok": True, "detail": "ok"},
                {"name": "integrity", "ok": False, "detail": "rm.pasien: 1999 of 2000 rows"},
            ],
        ),
        run("2026-12-04T08:00:00.000Z"),  # not a drill
    ]


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_drill_report_shows_the_latest_drill_per_source_with_its_checks(lang, fmt):
    since, until = datetime(2026, 11, 25, tzinfo=TZ), datetime(2026, 12, 5, 9, tzinfo=TZ)
    out = report_render.drill(drills_since(), since, until, TZ, lang, fmt, provenance(since, until))
    t, words = report_render.Texts(lang), WORDS[lang]
    col = heading_of(t)
    summary = table(out, fmt, TITLES[lang]["drill_summary"])
    assert [r[col("source")] for r in summary] == ["rekam_medis", "simrs"]
    simrs = row(summary, **{col("source"): "simrs"})
    assert simrs[col("rto")] == words["rto"] and simrs[col("rpo")] == words["rpo"]
    assert simrs[col("result")] == words["ok"] and simrs[col("from")] == "nas"
    assert simrs[col("backup")] == "simrs-db_simrs_20261204T050000Z"
    rm = row(summary, **{col("source"): "rekam_medis"})
    assert rm[col("result")] == words["failed"] and rm[col("rto")] == f"45 {t('unit_s')}"

    sections = sections_of(out, fmt)
    detail = sections[t("drill_of", host="simrs-mirror", source="simrs")]
    checks, counts = detail["tables"][-2:]
    assert [(r[t("col_check_name")], r[t("col_check")]) for r in checks] == [
        (t("checkname_checksums"), "✔"),
        (t("checkname_identity"), "✔"),
        (t("checkname_restore"), "✔"),
        (t("checkname_integrity"), "✔"),
    ]
    assert {r[t("col_table")]: r[t("col_rows")] for r in counts} == {
        "public.kunjungan": "15321",
        "public.pasien": "2000",
    }
    assert "database simrs_drill" in detail["text"] and words["rto"] in detail["text"]
    failed = sections[t("drill_of", host="simrs-mirror", source="rekam_medis")]
    integrity = row(failed["tables"][-2], **{t("col_check_name"): t("checkname_integrity")})
    assert integrity[t("col_check")] == "✘"
    assert integrity[t("col_detail")] == "rm.pasien: 1999 of 2000 rows"
    assert t("drill_verdict_failed", failed=1, total=2) in plain(out, fmt)


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_no_drill_since_says_so(lang, fmt):
    since = datetime(2026, 12, 1, tzinfo=TZ)
    out = report_render.drill([], since, GENERATED, TZ, lang, fmt, provenance(since, GENERATED))
    t = report_render.Texts(lang)
    assert t("drill_nothing", since="2026-12-01 00:00") in plain(out, fmt)
    assert sections_of(out, fmt)[TITLES[lang]["drill_summary"]]["tables"] == []


def test_a_drill_of_program_files_that_stopped_early():
    # As module_utils/spo_backup/drill.py records one: the first failed step ends it, no RTO.
    files_drill = drill_record(
        source="program", source_type="files", target="scratch folder /var/tmp/spo-drill",
        tables={}, files=412, rto_seconds=None, result="failed", error="tar --diff: 1 differs",
        checks=[
            {"name": "checksums", "ok": True, "detail": "1 payload file(s)"},
            {"name": "identity", "ok": True, "detail": "not the production server"},
            {"name": "restore", "ok": True, "detail": "412 file(s) restored"},
            {"name": "integrity", "ok": False, "detail": "tar --diff: 1 differs"},
        ],
    )  # fmt: skip
    since = datetime(2026, 12, 1, tzinfo=TZ)
    out = report_render.drill([files_drill], since, GENERATED, TZ, "id", "md", provenance())
    t = report_render.Texts("id")
    summary = table(out, "md", TITLES["id"]["drill_summary"])
    assert summary[0]["RTO"] == "-" and summary[0]["Hasil"] == "✘ GAGAL"
    section = md_sections(out)[t("drill_of", host="simrs-mirror", source="program")]
    assert t("files_restored", files=412) in section["text"]
    assert "- **Kesalahan:** tar --diff: 1 differs" in section["text"]


# -- the restore checklist (S3.7, S3.8) ------------------------------------------------------

RUN = SimpleNamespace(
    id="20261205T025950Z-restore-ab12",
    command="restore backup simrs-db_simrs_20261205T010000Z",
    operator="budi",
    started="2026-12-05T02:59:50+00:00",
    ended="2026-12-05T03:05:10+00:00",
)


def checklist(out: str, fmt: str, lang: str) -> dict[str, tuple[str, str]]:
    t = report_render.Texts(lang)
    items = table(out, fmt, TITLES[lang]["restore_checklist"])
    return {r[t("col_item")]: (r[t("col_check")], r[t("col_detail")]) for r in items}


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_restore_checklist_of_a_good_restore_into_a_copy(lang, fmt):
    restores = {"simrs-mirror": restore_record()}
    out = report_render.restore(restores, RUN, TZ, lang, fmt, GENERATED)
    t, words = report_render.Texts(lang), WORDS[lang]
    items = checklist(out, fmt, lang)
    assert items[t("item_instructed")] == ("✔", "dr. Sari Wulandari")
    assert items[t("item_backup_verified")][0] == "✔"
    assert "simrs-db_simrs_20261205T010000Z" in items[t("item_backup_verified")][1]
    assert "checksums match" in items[t("item_backup_verified")][1]
    # The engine's own checks are folded into their items, not listed twice.
    assert t("checkname_row counts") not in items and t("checkname_restore") not in items
    assert len(items) == 6
    # Into a copy: no safety backup needed, said so rather than ticked.
    assert items[t("item_safety_backup")] == (
        report_render.NA,
        t("safety_not_needed", target="database simrs_copy"),
    )
    assert items[t("item_restore_done")][0] == "✔"
    assert "2026-12-05 10:00" in items[t("item_restore_done")][1]
    assert items[t("item_row_counts")] == ("✔", t("rows_match", count=2))
    assert items[t("checkname_service")] == ("✔", "simrs-app answers on :8080")
    assert t("restore_verdict_ok") in plain(out, fmt)

    counts = table(out, fmt, TITLES[lang]["restore_row_counts"])
    pasien = row(counts, **{t("col_table"): "public.pasien"})
    assert (pasien[t("col_expected")], pasien[t("col_restored")]) == ("2000", "2000")
    assert pasien[t("col_check")] == "✔"

    words_out = plain(out, fmt)
    for field in (words["prepared"], words["checked"], words["head"]):
        assert field in words_out
    assert "data pasien terhapus" in words_out and "budi" in words_out
    assert RUN.id in words_out[words_out.rindex(words["head"]) :]  # the footer names the run


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_restore_checklist_flags_a_row_count_mismatch_and_a_missing_safety_backup(lang, fmt):
    record = restore_record(
        target="database simrs",
        into_production=True,
        safety_backup=None,
        tables={"public.pasien": 1998, "public.kunjungan": 15321},
    )
    out = report_render.restore({"simrs-db": record}, RUN, TZ, lang, fmt, GENERATED)
    t = report_render.Texts(lang)
    items = checklist(out, fmt, lang)
    assert items[t("item_safety_backup")] == ("✘", t("no_safety"))
    assert items[t("item_row_counts")] == ("✘", t("rows_mismatch", tables="public.pasien"))
    counts = table(out, fmt, TITLES[lang]["restore_row_counts"])
    pasien = row(counts, **{t("col_table"): "public.pasien"})
    assert (pasien[t("col_expected")], pasien[t("col_restored")], pasien[t("col_check")]) == (
        "2000",
        "1998",
        "✘",
    )
    assert row(counts, **{t("col_table"): "public.kunjungan"})[t("col_check")] == "✔"
    assert t("restore_verdict_failed") in plain(out, fmt)


def test_restore_checklist_into_production_with_its_safety_backup():
    record = restore_record(
        target="simrs",
        into_production=True,
        safety_backup="simrs-db_simrs_20261205T030001Z",
        checks=[
            {"name": "verified", "ok": True, "detail": "14 payload file(s), checksums match"},
            {"name": "safety backup", "ok": True, "detail": "simrs-db_simrs_20261205T030001Z"},
            {"name": "restore", "ok": True, "detail": "into postgresql database simrs"},
        ],
    )
    out = report_render.restore({"simrs-db": record}, RUN, TZ, "en", "md", GENERATED)
    items = checklist(out, "md", "en")
    assert items["Safety backup made before replacing production"] == (
        "✔",
        "simrs-db_simrs_20261205T030001Z",
    )
    assert "Safety backup" not in items  # the engine's check is that item
    assert "- **Into production:** yes" in out


def test_restore_checklist_of_program_files_compares_the_files():
    record = restore_record(
        source="program", source_type="files", target="/opt/simrs", into_production=True,
        safety_backup="simrs-app_program_pre", expected_tables={}, tables={}, files=412,
        scope={"tables": [], "schemas": []},
        checks=[
            {"name": "verified", "ok": True, "detail": "1 payload file(s), checksums match"},
            {"name": "safety backup", "ok": True, "detail": "simrs-app_program_pre"},
            {"name": "restore", "ok": True, "detail": "into /opt/simrs"},
            {"name": "files", "ok": True, "detail": "412 file(s) equal to the backup's archive"},
        ],
    )  # fmt: skip
    for lang in ("id", "en"):
        out = report_render.restore({"simrs-app": record}, RUN, TZ, lang, "md", GENERATED)
        t = report_render.Texts(lang)
        items = checklist(out, "md", lang)
        assert items[t("item_files")] == ("✔", "412 file(s) equal to the backup's archive")
        assert t("item_row_counts") not in items
        counts = md_sections(out)[TITLES[lang]["restore_row_counts"]]
        assert counts["tables"] == [] and t("files_restored", files=412) in counts["text"]
        assert f"{t('field_scope')}:** {t('scope_full')}" in out
        assert t("restore_verdict_ok") in out


def test_a_refused_restore_is_not_ticked():
    # As the engine records a restore into production asked for without --into-production.
    record = restore_record(
        instructed_by="", backup=None, backup_time=None, target="simrs", into_production=True,
        expected_tables={}, tables={}, checks=[], result="refused",
        error="restoring into the production postgresql database simrs replaces what is there",
    )  # fmt: skip
    t = report_render.Texts("en")
    doc = report_render.restore_document({"simrs-db": record}, RUN, TZ, "en", GENERATED)
    items = {item: (ok, d) for item, ok, d in report_render.restore_items(t, TZ, record)}
    assert items[t("item_instructed")] == (False, t("not_recorded"))
    assert items[t("item_backup_verified")] == (False, f"- (-); {t('checksums_not_recorded')}")
    assert items[t("item_safety_backup")] == (None, t("safety_refused"))
    assert items[t("item_restore_done")][0] is False
    assert record["error"] in items[t("item_restore_done")][1]
    assert items[t("item_row_counts")] == (False, t("no_expected_rows"))
    assert doc.verdict == f"✘ {t('restore_verdict_failed')}"


def test_html_escapes_what_the_records_say():
    record = restore_record(reason="<script>alert(1)</script> & co")
    out = report_render.restore({"simrs-db": record}, RUN, TZ, "en", "html", GENERATED)
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "<script>alert(1)</script> & co" in html_report(out).text


def test_markdown_cells_keep_a_pipe_in_its_cell():
    out = weekly([run("2026-12-01T05:00:00.000Z", result="failed", error="a | b")], "en", "md")
    backups = table(out, "md", TITLES["en"]["weekly_backups"])
    assert backups[0]["Error"] == "a | b"


# -- the texts -------------------------------------------------------------------------------


def test_every_text_has_both_languages_with_the_same_values():
    fields = string.Formatter()
    for key, texts in report_render.catalogue().items():
        assert set(texts) == {"id", "en"}, key
        used = {
            lang: {name for _, name, _, _ in fields.parse(texts[lang]) if name}
            for lang in ("id", "en")
        }
        assert used["id"] == used["en"], key


@pytest.mark.parametrize(
    ("seconds", "en", "id_"),
    [
        (None, "-", "-"),
        (0.4, "0.4 s", "0.4 dtk"),
        (42, "42 s", "42 dtk"),
        (192.4, "3 min 12 s", "3 mnt 12 dtk"),
        (3600, "1 h", "1 jam"),
        (5 * 3600 + 180, "5 h 3 min", "5 jam 3 mnt"),
        (2 * 86400 + 4 * 3600 + 59, "2 d 4 h", "2 hari 4 jam"),
    ],
)
def test_durations_in_human_units(seconds, en, id_):
    assert report_render.duration(seconds, report_render.Texts("en")) == en
    assert report_render.duration(seconds, report_render.Texts("id")) == id_


def test_sizes_and_times_are_for_people():
    assert report_render.size(None) == "-"
    assert report_render.size(123456789) == "117.7 MB"
    assert report_render.clock("2026-12-05T05:00:01.123Z", TZ) == "2026-12-05 12:00"
    assert report_render.clock("not a time", TZ) == "-"


# -- the command -----------------------------------------------------------------------------


def test_weeks_are_iso_weeks_in_the_site_time():
    assert report.parse_week(None, None, "2026-W49") == (2026, 49)
    assert report.week_bounds(2026, 49, TZ) == (WEEK_START, WEEK_END)
    for bad in ("2026-W54", "2026-49", "W49"):
        with pytest.raises(click.BadParameter, match="YYYY-Www"):
            report.parse_week(None, None, bad)


def inventory(tmp_path, zone="Asia/Jakarta"):
    site = tmp_path / "site"
    (site / "group_vars" / "all").mkdir(parents=True)
    (site / "group_vars" / "all" / "spo_policy.yml").write_text(
        f"---\nspo_site_name: {SITE}\nspo_timezone: {zone}\n"
    )
    # A vault file the reports cannot read, and need not.
    (site / "group_vars" / "all" / "vault.yml").write_text(
        "---\nspo_secret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3133\n"
    )
    return site


def test_the_site_time_zone_comes_from_the_inventory_else_this_machine(tmp_path):
    name, zone = report.site_settings(inventory(tmp_path, "Asia/Makassar"))
    assert name == SITE and zone == ZoneInfo("Asia/Makassar")
    name, zone = report.site_settings(tmp_path / "nothing-here")
    assert name is None
    assert zone.utcoffset(datetime.now()) == datetime.now().astimezone().utcoffset()


def run_record(runs, run_id, command, started="2026-12-05T02:59:50+00:00"):
    record = RunRecord(
        id=run_id, command=command, argv=[], operator="budi", playbook="restore.yml",
        inventory="inv", inventory_commit=None, check=False, limit="simrs-mirror",
        started=started, ended="2026-12-05T03:05:10+00:00",
        artifacts=str(runs / run_id / "artifacts"), rc=0, status="successful",
        hosts={"simrs-mirror": {"result": "changed", "ok": 5, "changed": 1, "failed": 0,
                                "unreachable": 0, "skipped": 0}},
    )  # fmt: skip
    (runs / run_id).mkdir(parents=True)
    write_record(runs / run_id, record)
    events_dir(record).mkdir(parents=True)
    return record


def write_events(record, results):
    """job_events as ansible-runner writes them: "<counter>-<uuid>.json"."""
    for counter, (event, task, res) in enumerate(results, 1):
        data = {"host": "simrs-mirror", "task": task, "res": res}
        (events_dir(record) / f"{counter}-uuid{counter}.json").write_text(
            json.dumps({"counter": counter, "event": event, "event_data": data})
        )


def test_report_restore_renders_a_recorded_run(tmp_path):
    runs = tmp_path / "runs"
    record = run_record(runs, RUN.id, RUN.command)
    restored = restore_record(tables={"public.pasien": 1990, "public.kunjungan": 15321})
    write_events(
        record,
        [
            ("runner_on_ok", "Check the backup", {"changed": False}),
            ("runner_on_ok", "Restore the backup", {"changed": True, "record": restored}),
        ],
    )
    out = tmp_path / "checklist.html"
    args = ["--runs-dir", str(runs), "-i", str(inventory(tmp_path)), "report", "restore"]
    result = CliRunner().invoke(
        cli, [*args, "20261205T0259", "--lang", "en", "--format", "html", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert f"report written to {out}" in result.stderr
    html = out.read_text(encoding="utf-8")
    items = checklist(html, "html", "en")
    assert items["Row counts equal the backup's manifest"][0] == "✘"
    counts = table(html, "html", "Row Counts per Table")
    assert row(counts, Table="public.pasien") == {
        "Table": "public.pasien",
        "Expected (manifest)": "2000",
        "Restored": "1990",
        "Status": "✘",
    }
    text = html_report(html).text
    assert "Acknowledged: Head of SIRS" in text and RUN.id in text
    assert "2026-12-05 10:00" in text  # the inventory's zone: WIB

    # Markdown on stdout, in Indonesian by default.
    shown = CliRunner().invoke(cli, [*args, RUN.id])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("# Daftar Periksa Restore")
    assert "| public.pasien | 2000 | 1990 | ✘ |" in shown.stdout


def test_report_restore_of_a_run_without_a_restore_result_says_what_it_expected(tmp_path):
    runs = tmp_path / "runs"
    record = run_record(runs, "20261205T010000Z-backup-cd34", "backup now simrs-db")
    write_events(record, [("runner_on_ok", "Run the backup now", {"changed": True})])
    failed = run_record(runs, "20261205T020000Z-restore-ef56", "restore backup x")
    write_events(failed, [("runner_on_failed", "Restore the backup", {"msg": "no such backup"})])
    base = ["--runs-dir", str(runs), "-i", str(inventory(tmp_path)), "report", "restore"]

    result = CliRunner().invoke(cli, [*base, "20261205T010000Z-backup"])
    assert result.exit_code == 2
    assert "run 20261205T010000Z-backup-cd34" in result.output
    assert '"Restore the backup"' in result.output and "the task never ran" in result.output

    result = CliRunner().invoke(cli, [*base, "20261205T020000Z"])
    assert result.exit_code == 2 and "runner_on_failed no such backup" in result.output

    result = CliRunner().invoke(cli, [*base, "nope"])
    assert result.exit_code == 2 and "no run match 'nope'" in result.output


def test_report_weekly_reads_the_week_and_names_the_run_that_read_it(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    asked = {}

    def fetch(ctx, since, kinds=(), host=None, name="report"):
        asked.update(since=since, kinds=kinds, host=host)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        reading = run_record(runs, "20261207T020000Z-report-ab12", "report", started=now)
        reading.hosts = {"simrs-db": {}, "simrs-app": {}, "simrs-mirror": {}}
        write_record(runs / reading.id, replace(reading))
        return week_records()

    monkeypatch.setattr(history_data, "fetch", fetch)
    args = ["--runs-dir", str(runs), "-i", str(inventory(tmp_path)), "report", "weekly"]
    result = CliRunner().invoke(cli, [*args, "--week", "2026-W49", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert asked == {
        "since": WEEK_START,
        "kinds": ("run", "calendar", "drill", "restore"),
        "host": None,
    }
    backups = table(result.stdout, "md", "Every Backup of the Week")
    assert len(backups) == 5
    footer = result.stdout[result.stdout.rindex("---") :]
    assert "20261207T020000Z-report-ab12" in footer
    assert "simrs-app, simrs-db, simrs-mirror" in footer

    bad = CliRunner().invoke(cli, [*args, "--week", "2026-W60"])
    assert bad.exit_code == 2 and "YYYY-Www" in bad.output


def test_report_drill_defaults_to_the_last_seven_days(tmp_path, monkeypatch):
    asked = {}

    def fetch(ctx, since, kinds=(), host=None, name="report"):
        asked.update(since=since, kinds=kinds)
        return []

    monkeypatch.setattr(history_data, "fetch", fetch)
    args = ["--runs-dir", str(tmp_path / "runs"), "-i", str(inventory(tmp_path))]
    result = CliRunner().invoke(cli, [*args, "report", "drill", "--format", "html"])
    assert result.exit_code == 0, result.output
    age = datetime.now(UTC) - asked["since"]
    assert asked["kinds"] == ("drill",) and 6.9 < age.total_seconds() / 86400 < 7.1
    text = html_report(result.stdout).text
    assert "Tidak ada uji restore tercatat sejak" in text
    assert "Run yang membaca catatan tidak ditemukan" in text  # no reading run was recorded

    result = CliRunner().invoke(cli, [*args, "report", "drill", "--since", "2026-12-01"])
    assert result.exit_code == 0 and asked["since"] == datetime(2026, 12, 1, tzinfo=TZ)


def test_report_is_a_command():
    result = CliRunner().invoke(cli, ["report", "--help"])
    assert result.exit_code == 0
    for command in ("weekly", "drill", "restore"):
        assert command in result.output
