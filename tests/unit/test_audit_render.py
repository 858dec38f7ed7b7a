"""The `spo audit` report (audit_render): the verdicts of the realistic site of
test_audit_rules, rendered in both languages as Markdown, printable HTML and JSON, and read
back (Markdown tables, HTML through html.parser, json.loads) to find the summary, every
requirement's row and the policy's history."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from test_audit_rules import DB, IDS, MIRROR, SITE, UNREACHABLE, healthy, mirror_host
from test_reports import html_report, plain, row, sections_of, table

from spo import audit_render, audit_rules, report_render

TZ = ZoneInfo("Asia/Jakarta")
GENERATED = datetime(2026, 12, 10, 3, 5, tzinfo=UTC)
FORMS = [(lang, fmt) for lang in ("id", "en") for fmt in ("md", "html")]
STATUS = {
    "id": {"met": "✔ memenuhi", "not met": "✘ TIDAK MEMENUHI", "n/a": "\u2013 tidak berlaku"},
    "en": {"met": "✔ met", "not met": "✘ NOT MET", "n/a": "\u2013 not applicable"},
}
TITLE = {"id": "Audit Kepatuhan SPO", "en": "SPO compliance audit"}
AUDITED_BY = {"id": "Diperiksa oleh: Auditor", "en": "Audited by: Auditor"}


def damaged() -> audit_rules.Facts:
    """The healthy site with its mirror stopped and no storage host: 1 not met, 5 n/a."""
    facts = healthy()
    facts.hosts[MIRROR] = mirror_host(ok=False)
    facts.groups["storage_servers"] = []
    return facts


def rendered(facts, lang, fmt, site=None) -> tuple[list[audit_rules.Verdict], str]:
    verdicts = audit_rules.evaluate(facts)
    return verdicts, audit_render.render(verdicts, facts, TZ, lang, fmt, GENERATED, site)


def summary_of(out: str, fmt: str, lang: str) -> tuple[int, int, int]:
    """The three counts of the summary field, read from the words after its label."""
    label = report_render.Texts(lang)("audit_field_summary")
    words = plain(out, fmt)
    after = words[words.index(label) + len(label) :].lstrip(":* ").splitlines()[0]
    counts = [int(n) for n in re.findall(r"\d+", after)]
    assert len(counts) == 3, after
    return counts[0], counts[1], counts[2]


def requirement_rows(out: str, fmt: str, lang: str) -> list[dict]:
    return table(out, fmt, report_render.Texts(lang)("audit_requirements"))


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_the_summary_counts_what_the_table_shows(lang, fmt):
    verdicts, out = rendered(damaged(), lang, fmt)
    assert summary_of(out, fmt, lang) == (25, 1, 5)
    t = report_render.Texts(lang)
    rows = requirement_rows(out, fmt, lang)
    shown = [r[t("audit_col_status")] for r in rows]
    assert (
        shown.count(STATUS[lang]["met"]),
        shown.count(STATUS[lang]["not met"]),
        shown.count(STATUS[lang]["n/a"]),
    ) == (25, 1, 5)
    assert audit_render.summary(verdicts) == {"met": 25, "not met": 1, "not applicable": 5}


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_every_requirement_has_its_row_with_title_status_evidence_and_gap(lang, fmt):
    _, out = rendered(damaged(), lang, fmt)
    t = report_render.Texts(lang)
    col = {key: t(f"audit_col_{key}") for key in ("id", "requirement", "status", "evidence", "gap")}
    rows = requirement_rows(out, fmt, lang)
    assert [r[col["id"]] for r in rows] == IDS
    for r in rows:
        assert r[col["requirement"]] == t(audit_render.requirement_key(r[col["id"]]))
    mirror = row(rows, **{col["id"]: "S3.3"})
    assert mirror[col["status"]] == STATUS[lang]["not met"]
    assert "simrs-mirror: postgresql: the mirror server is stopped" in mirror[col["gap"]]
    backups = row(rows, **{col["id"]: "S1.1"})
    assert backups[col["status"]] == STATUS[lang]["met"] and backups[col["gap"]] == "-"
    assert (
        "simrs-db/sik: last automatic backup 2026-12-10 09:05 WIB (55 min ago)"
        in (backups[col["evidence"]])
    )
    bank = row(rows, **{col["id"]: "S0.1"})
    assert bank[col["status"]] == STATUS[lang]["n/a"]
    assert bank[col["evidence"]] == "no host in storage_servers: the site runs no unit data bank"


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_title_verdict_changes_to_the_policy_and_sign_off(lang, fmt):
    _, out = rendered(damaged(), lang, fmt, site="RS Uji")
    t = report_render.Texts(lang)
    words = plain(out, fmt)
    assert TITLE[lang] in words and "RS Uji" in words and SITE not in words
    assert t("audit_verdict_failed", count=1, total=31, ids="S3.3") in words
    changes = table(out, fmt, t("audit_policy_changes"))
    commit = row(changes, **{t("audit_col_commit"): "a1b2c3d"})
    assert commit[t("audit_col_date")] == "2026-11-01 09:00"
    assert commit[t("audit_col_author")] == "Budi <budi@rs.example>"
    assert commit[t("audit_col_subject")] == "Keep 7 backups (S1.5)"
    assert commit[t("audit_col_files")] == "group_vars/all/spo_policy.yml"
    signoff = sections_of(out, fmt)[t("signoff")]["text"]
    assert AUDITED_BY[lang] in signoff and t("prepared_by") in signoff
    footer = words[words.rindex(AUDITED_BY[lang]) :]
    assert "spo audit" in footer and "2026-12-10 10:05" in footer
    assert "Asia/Jakarta, UTC+07:00" in footer


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_a_healthy_site_says_so_and_an_empty_policy_history_is_explained(lang, fmt):
    facts = healthy()
    facts.inventory_log = []
    _, out = rendered(facts, lang, fmt)
    t = report_render.Texts(lang)
    assert summary_of(out, fmt, lang) == (31, 0, 0)
    words = plain(out, fmt)
    assert t("audit_verdict_ok", total=31) in words
    assert SITE in words  # from the policy's spo_site_name
    section = sections_of(out, fmt)[t("audit_policy_changes")]
    assert section["tables"] == [] and t("audit_policy_none") in section["text"]


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_an_unreached_host_is_named_above_the_table(lang, fmt):
    facts = healthy()
    facts.hosts[DB] = audit_rules.HostFacts(reached=False, error=UNREACHABLE)
    _, out = rendered(facts, lang, fmt)
    t = report_render.Texts(lang)
    words = " ".join(plain(out, fmt).split())
    assert " ".join(t("audit_notice_unreached", hosts=DB).split()) in words
    assert summary_of(out, fmt, lang) == (16, 15, 0)
    gap = row(requirement_rows(out, fmt, lang), **{t("audit_col_id"): "S1.1"})[t("audit_col_gap")]
    assert gap == f"host simrs-db unreachable: {UNREACHABLE}"


def test_html_marks_what_is_not_met():
    _, out = rendered(damaged(), "en", "html")
    html_report(out)  # well nested
    assert '<td class="bad">✘ NOT MET</td>' in out
    assert '<p class="verdict bad">✘ 1 of 31 requirements NOT MET: S3.3.</p>' in out


def test_markdown_opens_with_the_title():
    _, out = rendered(healthy(), "id", "md")
    assert out.startswith("# Audit Kepatuhan SPO\n")
    assert "- **Ringkasan:** 31 memenuhi, 0 tidak memenuhi, 0 tidak berlaku" in out


@pytest.mark.parametrize("lang", ["id", "en"])
def test_json_round_trips(lang):
    facts = damaged()
    verdicts, out = rendered(facts, lang, "json")
    data = json.loads(out)
    assert set(data) == {"generated", "site", "summary", "requirements", "inventory_log"}
    assert data["generated"] == "2026-12-10T03:05:00+00:00"
    assert data["site"] == SITE
    assert data["summary"] == {"met": 25, "not met": 1, "not applicable": 5}
    back = [
        audit_rules.Verdict(**{**v, "evidence": tuple(v["evidence"])}) for v in data["requirements"]
    ]
    assert back == verdicts
    assert [v["requirement"] for v in data["requirements"]] == IDS
    assert data["inventory_log"] == facts.inventory_log
    # Machines read the same JSON whatever the language.
    assert out == rendered(facts, "en" if lang == "id" else "id", "json")[1]


def test_every_requirement_has_a_title_in_both_languages():
    for requirement in audit_rules.IDS:
        key = audit_render.requirement_key(requirement)
        titles = report_render.catalogue()[key]
        assert set(titles) == {"id", "en"}, key
        assert titles["id"].strip() and titles["en"].strip() and titles["id"] != titles["en"]
    keys = [k for k in report_render.catalogue() if k.startswith("audit_req_")]
    assert sorted(keys) == sorted(audit_render.requirement_key(r) for r in IDS)


def test_unknown_formats_and_languages_are_refused():
    facts = healthy()
    verdicts = audit_rules.evaluate(facts)
    with pytest.raises(ValueError, match="format 'pdf'"):
        audit_render.render(verdicts, facts, TZ, "en", "pdf", GENERATED)
    with pytest.raises(ValueError, match="language 'fr'"):
        audit_render.render(verdicts, facts, TZ, "fr", "json", GENERATED)
