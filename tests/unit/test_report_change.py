"""`spo report change`: the report of one database change on request (S3.9), rendered from
Change records built as change_log reads them (a correction of a patient's name asked by the
medical records unit of a hospital in WIB), in both languages and both formats, and read back
from the Markdown and HTML tables to find the real figures."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape
from test_reports import SITE, html_report, md_sections, plain, row, table

from spo import change_log, report_change, report_render
from spo.change_log import REQUIREMENT, Applied, Approval, Change, Request

TZ = ZoneInfo("Asia/Jakarta")  # WIB, UTC+07:00: 01:15Z is 08:15 local
GENERATED = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
FORMS = [(lang, fmt) for lang in ("id", "en") for fmt in ("md", "html")]
CHANGE_ID = "20261207T011500Z-koreksi-nama-pasien-00-12-34"
FOLDER = Path("/srv/spo-inventory/changes/2026")
RUN_ID = "20261208T020000Z-change-apply-ab12"
BACKUP = "simrs-db_simrs_20261208T020100Z"
# A line with a pipe and quotes of both kinds, indented lines, a comment: as written.
SQL = (
    "-- Koreksi nama pasien no. RM 00-12-34 (salah ketik saat pendaftaran)\n"
    "UPDATE pasien\n"
    "   SET nama = 'Ahmad Fauzi'\n"
    " WHERE no_rm = '00-12-34' AND nama = 'Ahmad Fauzy';\n"
    "\n"
    "UPDATE kunjungan SET catatan = 'nama | dikoreksi' WHERE \"no_rm\" = '00-12-34';\n"
)
OTHER_SQL = "UPDATE pasien SET nama = 'Ahmad Fauzi' WHERE no_rm = '00-12-34';\n"
APPROVERS = [
    ("technical director", "dr. Bambang Wijaya, Sp.PD", "2026-12-07T02:00:00Z"),
    ("president director", "dr. Hendra Gunawan, MARS", "2026-12-07T03:30:00Z"),
    ("director of finance and general administration", "Dra. Ratna Sari, Ak.",
     "2026-12-07T06:00:00Z"),
    ("head of SIRS", "Agus Salim, S.Kom.", "2026-12-07T07:10:00Z"),
]  # fmt: skip
LOCAL = ["2026-12-07 09:00", "2026-12-07 10:30", "2026-12-07 13:00", "2026-12-07 14:10"]


# -- the records, as change_log reads them -------------------------------------------------------


def request(sql: str = SQL, **changed) -> Request:
    fields = {
        "requirement": REQUIREMENT,
        "id": CHANGE_ID,
        "title": "Koreksi nama pasien 00-12-34",
        "requester": "Siti Aminah",
        "unit": "Instalasi Rekam Medis",
        "reason": "nama pasien salah ketik saat pendaftaran (Fauzy, seharusnya Fauzi sesuai KTP)",
        "host": "simrs-db",
        "database": "simrs",
        "engine": "postgresql",
        "sql": sql,
        "sql_sha256": change_log.sha256(sql),
        "chain": list(change_log.DEFAULT_CHAIN),
        "requested_at": "2026-12-07T01:15:00Z",
        "recorded_by": "budi",
        "inventory_commit": "4f2c9e1",
    }
    return Request(**{**fields, **changed})


def approvals(count: int = 4, sql: str = SQL) -> list[Approval]:
    return [
        Approval(REQUIREMENT, CHANGE_ID, step, role, name, at, change_log.sha256(sql), "budi")
        for step, (role, name, at) in enumerate(APPROVERS[:count], 1)
    ]


def applied(result: str = "ok", **changed) -> Applied:
    fields = {
        "requirement": REQUIREMENT,
        "id": CHANGE_ID,
        "applied_at": "2026-12-08T02:05:00Z",
        "run_id": RUN_ID,
        "pre_change_backup": BACKUP,
        "statements": [{"statement": "UPDATE", "rows": 1}, {"statement": "UPDATE", "rows": 3}],
        "rows_total": 4,
        "result": result,
        "error": None,
        "recorded_by": "rudi",
    }
    return Applied(**{**fields, **changed})


def change(req: Request | None = None, given=None, done: Applied | None = None) -> Change:
    return Change(
        req or request(),
        approvals() if given is None else given,
        done,
        FOLDER / f"{CHANGE_ID}.request.yml",
    )


def render(found: Change, lang: str, fmt: str) -> str:
    return report_change.report(found, TZ, lang, fmt, GENERATED, SITE)


def flat(words: str) -> str:
    return " ".join(words.split())


def sections(out: str, fmt: str) -> dict[str, dict]:
    return md_sections(out) if fmt == "md" else html_report(out).sections


def chain_rows(out: str, fmt: str, t: report_render.Texts) -> list[dict]:
    return table(out, fmt, t("change_approvals"))


def top(out: str, fmt: str, t: report_render.Texts) -> str:
    """The words above the first section: the title, the header fields and the verdict."""
    return flat(plain(out, fmt)).split(f"1. {t('change_request')}")[0]


# -- the report --------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_an_applied_change_with_its_whole_chain_and_its_rows(lang, fmt):
    out = render(change(done=applied()), lang, fmt)
    t = report_render.Texts(lang)
    col = lambda key: t(f"col_{key}")  # noqa: E731
    head = top(out, fmt, t)
    assert t("change_title") in head and SITE in head and CHANGE_ID in head
    assert "Koreksi nama pasien 00-12-34" in head and "Instalasi Rekam Medis" in head
    assert "simrs-db" in head and "simrs (postgresql)" in head
    assert "Asia/Jakarta, UTC+07:00" in head
    said = t("change_verdict_applied", when="2026-12-08 09:05", rows=4)
    assert f"✔ {flat(said)}" in head

    rows = chain_rows(out, fmt, t)
    assert [r[col("step")] for r in rows] == ["1", "2", "3", "4"]
    assert [r[col("role")] for r in rows] == [
        report_change.role_name(t, role) for role in change_log.DEFAULT_CHAIN
    ]
    assert [r[col("approver")] for r in rows] == [name for _, name, _ in APPROVERS]
    assert [r[col("approved_at")] for r in rows] == LOCAL
    assert [r[col("same_sql")] for r in rows] == ["✔"] * 4
    sha = change_log.sha256(SQL)
    assert rows[0][col("detail")] == t("change_approval_ok", sha=sha[:12], by="budi")

    application = sections(out, fmt)[t("change_application")]
    words = flat(application["text"])
    assert BACKUP in words and t("change_run", run=RUN_ID) in words
    assert f"{t('field_result')}" in words and "✔ " + t("result_ok") in words
    statements = application["tables"][0]
    assert row(statements, **{col("no"): "1"})[col("rows")] == "1"
    assert row(statements, **{col("no"): "2"})[col("rows")] == "3"
    assert row(statements, **{col("statement"): t("total")})[col("rows")] == "4"

    request_words = flat(sections(out, fmt)[t("change_request")]["text"])
    assert "Siti Aminah" in request_words and "4f2c9e1" in request_words
    assert f"✔ {sha}" in request_words
    assert "2026-12-07 08:15" in request_words  # requested at, local time


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_the_sign_off_and_where_the_report_came_from(lang, fmt):
    out = render(change(done=applied()), lang, fmt)
    t = report_render.Texts(lang)
    words = flat(plain(out, fmt))
    carried = "Dilaksanakan oleh: Tim IT" if lang == "id" else "Carried out by: IT team"
    head = "Mengetahui: Kepala Instalasi SIRS" if lang == "id" else "Acknowledged: Head of SIRS"
    signoff = words[words.rindex(t("signoff")) :]
    assert carried in signoff and head in signoff
    assert "rudi" in signoff and "Agus Salim, S.Kom." in signoff  # who ran it, who acknowledges
    folder = str(FOLDER)
    assert f"{CHANGE_ID}.*.yml" in signoff and folder in signoff
    assert flat(t("change_footer_files", change=CHANGE_ID, folder=folder, approvals=4,
                  applied=1)) in signoff  # fmt: skip
    assert t("footer_run", run=RUN_ID) in signoff
    assert "2026-12-08 10:00" in signoff  # generated, local time


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_a_failed_application_says_its_error(lang, fmt):
    error = 'ERROR:  duplicate key value violates unique constraint "pasien_nama_rm_key"'
    done = applied("failed", statements=[], rows_total=0, error=error)
    out = render(change(done=done), lang, fmt)
    t = report_render.Texts(lang)
    head = top(out, fmt, t)
    said = t("change_verdict_failed", when="2026-12-08 09:05", error=error)
    assert f"✘ {flat(said)}" in head
    assert t("change_verdict_applied", when="2026-12-08 09:05", rows=0) not in head
    application = sections(out, fmt)[t("change_application")]
    words = flat(application["text"])
    assert "✘ " + t("result_failed") in words and flat(error) in words and BACKUP in words
    assert application["tables"] == []  # no table of statements: said instead
    assert t("change_no_statements") in words
    if fmt == "html":
        assert re.search(r'<p class="verdict bad">✘ ', out)


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_a_change_waiting_for_the_third_role(lang, fmt):
    out = render(change(given=approvals(2)), lang, fmt)
    t = report_render.Texts(lang)
    col = lambda key: t(f"col_{key}")  # noqa: E731
    rows = chain_rows(out, fmt, t)
    assert [r[col("same_sql")] for r in rows] == ["✔", "✔", "✘", "✘"]
    for later in rows[2:]:
        assert (later[col("approver")], later[col("approved_at")]) == ("-", "-")
    assert rows[2][col("detail")] == t("change_approval_waiting")
    assert rows[3][col("detail")] == t("change_approval_later")
    assert [r[col("approved_at")] for r in rows[:2]] == LOCAL[:2]

    waiting = report_change.role_name(t, "director of finance and general administration")
    assert waiting == ("Direktur Keuangan dan Umum" if lang == "id" else
                       "director of finance and general administration")  # fmt: skip
    said = t("change_verdict_waiting", role=waiting, step=3, steps=4)
    assert f"{report_render.NA} {flat(said)}" in top(out, fmt, t)
    application = flat(sections(out, fmt)[t("change_application")]["text"])
    assert t("change_not_applied") in application and BACKUP not in application
    signoff = flat(plain(out, fmt))
    assert "Agus Salim" not in signoff  # the head of SIRS has not approved: signs by hand


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_an_approval_of_another_sql_makes_the_change_void(lang, fmt):
    given = approvals(4)
    given[1] = dataclasses.replace(given[1], sql_sha256=change_log.sha256(OTHER_SQL))
    out = render(change(given=given), lang, fmt)
    t = report_render.Texts(lang)
    col = lambda key: t(f"col_{key}")  # noqa: E731
    rows = chain_rows(out, fmt, t)
    assert [r[col("same_sql")] for r in rows] == ["✔", "✘", "✔", "✔"]
    other = t("change_approval_other_sql", sha=change_log.sha256(OTHER_SQL)[:12],
              now=change_log.sha256(SQL)[:12])  # fmt: skip
    assert rows[1][col("detail")] == f"✘ {other}"
    president = report_change.role_name(t, "president director")
    said = t("change_verdict_void", roles=president)
    assert f"✘ {flat(said)}" in top(out, fmt, t)
    assert t("change_verdict_approved", change=CHANGE_ID) not in flat(plain(out, fmt))


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_a_request_edited_after_approval_voids_every_approval(lang, fmt):
    edited = request(sql=OTHER_SQL, sql_sha256=change_log.sha256(SQL))
    out = render(change(req=edited, given=approvals(2)), lang, fmt)
    t = report_render.Texts(lang)
    rows = chain_rows(out, fmt, t)
    assert [r[t("col_same_sql")] for r in rows] == ["✘"] * 4
    words = flat(sections(out, fmt)[t("change_request")]["text"])
    differs = t("change_sha256_differs", recorded=change_log.sha256(SQL),
                now=change_log.sha256(OTHER_SQL))  # fmt: skip
    assert f"✘ {differs}" in words
    roles = ", ".join(report_change.role_name(t, r) for r in change_log.DEFAULT_CHAIN[:2])
    assert f"✘ {flat(t('change_verdict_void', roles=roles))}" in top(out, fmt, t)


def test_an_edited_request_without_approvals_is_void():
    edited = request(sql=OTHER_SQL, sql_sha256=change_log.sha256(SQL))
    doc = report_change.document(change(req=edited, given=[]), TZ, "en", GENERATED)
    t = report_render.Texts("en")
    assert doc.verdict == f"✘ {t('change_verdict_edited')}"
    assert doc.site == "-"


def test_a_change_edited_after_it_was_applied_says_so_above_everything():
    edited = request(sql=OTHER_SQL, sql_sha256=change_log.sha256(SQL))
    out = render(change(req=edited, done=applied()), "en", "md")
    t = report_render.Texts("en")
    notice = t("change_notice_edited", now=change_log.sha256(OTHER_SQL)[:12])
    assert f"> **{notice}**" in out
    assert t("change_notice_edited", now="x")[:20] not in render(change(done=applied()), "en", "md")


def test_a_change_approved_by_the_whole_chain_waits_to_be_applied():
    doc = report_change.document(change(), TZ, "id", GENERATED, SITE)
    t = report_render.Texts("id")
    assert doc.verdict == f"{report_render.NA} {t('change_verdict_approved', change=CHANGE_ID)}"
    assert doc.signers[0].name == "" and doc.signers[1].name == "Agus Salim, S.Kom."


def test_an_approval_dated_before_the_previous_step_is_flagged():
    given = approvals(3)
    given[2] = dataclasses.replace(given[2], approved_at="2026-12-07T03:00:00Z")  # before step 2
    t = report_render.Texts("en")
    rows = report_change.approval_rows(t, TZ, change(given=given))
    assert rows[2][4] == "✔"  # the same SQL
    assert rows[2][5] == f"✘ {t('change_approval_early', previous='2026-12-07 10:30')}"
    assert not rows[1][5].startswith("✘")


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_the_sql_appears_verbatim_line_by_line(lang, fmt):
    out = render(change(done=applied()), lang, fmt)
    t = report_render.Texts(lang)
    lines = SQL.splitlines()
    rows = table(out, fmt, t("change_sql"))
    assert [r[t("col_line")] for r in rows] == [str(n) for n in range(1, len(lines) + 1)]
    assert [r[t("col_sql")] for r in rows] == [line.strip() for line in lines]
    # As written, indentation too: in the Markdown text and in the HTML cells.
    for n, line in enumerate(lines, 1):
        if fmt == "md":
            assert f"| {n} | {report_render._md_cell(line)} |" in out
        else:
            assert f"<td>{n}</td><td>{escape(line)}</td>" in out
    assert "nama | dikoreksi" in plain(out, fmt).replace("\\|", "|")
    note = t("change_sql_note", lines=len(lines), sha=change_log.sha256(SQL))
    assert note in flat(sections(out, fmt)[t("change_sql")]["text"])


def test_roles_are_translated_however_typed_and_a_sites_own_role_is_kept():
    t = report_render.Texts("id")
    assert report_change.role_name(t, "Head of  SIRS") == "Kepala Instalasi SIRS"
    assert report_change.role_name(t, "president director") == "Direktur Utama"
    assert report_change.role_name(t, "Wakil Direktur Medis") == "Wakil Direktur Medis"
    custom = request(chain=["Wakil Direktur Medis", "head of SIRS"])
    out = render(change(req=custom, given=[]), "id", "md")
    rows = table(out, "md", t("change_approvals"))
    assert [r[t("col_role")] for r in rows] == ["Wakil Direktur Medis", "Kepala Instalasi SIRS"]
    said = t("change_verdict_waiting", role="Wakil Direktur Medis", step=1, steps=2)
    assert said in out


def test_html_escapes_what_the_records_say():
    risky = request(reason="<script>alert(1)</script> & co")
    out = render(change(req=risky), "en", "html")
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "<script>alert(1)</script> & co" in html_report(out).text


# -- the texts -------------------------------------------------------------------------------


def test_every_change_text_has_both_languages():
    texts = report_render.catalogue()
    keys = [k for k in texts if k.startswith("change_")]
    assert len(keys) >= 40
    for key in keys:
        assert set(texts[key]) == {"id", "en"}, key
        assert all(isinstance(v, str) and v.strip() for v in texts[key].values()), key
    for key in ("step", "role", "approver", "approved_at", "same_sql", "line", "sql",
                "statement"):  # fmt: skip
        assert set(texts[f"col_{key}"]) == {"id", "en"}, key
    # Every text the module asks for is there.
    source = Path(report_change.__file__).read_text(encoding="utf-8")
    asked = set(re.findall(r"""\bt\(\s*["']([a-z_]+)["']""", source))
    assert {"change_title", "change_verdict_void", "change_acknowledged_by"} <= asked
    assert asked <= set(texts)
