"""`spo report downtime W`: the record of a planned downtime window (S4.1-S4.5), rendered from
a runs directory as spo downtime leaves it (run.json records and ansible-runner job events):
the announcement, a run a health check stopped on simrs-app (with the failure told to IT),
then a forced run that upgraded and checked every host and ended back in service. Read back
from the Markdown and HTML tables to find the real figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from test_reports import SITE, html_report, inventory, md_sections, plain, row, table

from spo import report_downtime, report_render
from spo.host_data import events_dir
from spo.main import cli
from spo.records import RunRecord, read_records, write_record

NA = report_render.NA  # not applicable: an en dash
TZ = ZoneInfo("Asia/Jakarta")  # WIB: 14:00Z is 21:00 local
W = "2026-12"
GENERATED = datetime(2026, 12, 14, 2, 0, tzinfo=UTC)
FORMS = [(lang, fmt) for lang in ("id", "en") for fmt in ("md", "html")]
APP, DB, MIRROR = "simrs-app", "simrs-db", "simrs-mirror"
WINDOW = {
    "id": W, "start": "2026-12-12T21:00:00+07:00", "estimate_min": 15, "estimate_max": 30,
    "services": ["SIMRS (aplikasi rumah sakit)", "Database SIMRS"], "hosts": [APP, DB, MIRROR],
}  # fmt: skip
DEPARTMENTS = [("Rawat Jalan", "email", "rawat-jalan@rs.lab"),
               ("Instalasi Farmasi", "email", "farmasi@rs.lab"),
               ("Instalasi Farmasi", "webhook", "http://nas:8026/farmasi"),
               ("Instalasi Gawat Darurat", "email", "igd@rs.lab")]  # fmt: skip
WEB_404 = "GET http://127.0.0.1:8080/ answered 404, expected 200"
REASON = "ulang setelah halaman web diperbaiki"
FAILED_RUN = "20261212T140030Z-downtime-bb02"
FORCED_RUN = "20261213T030020Z-downtime-dd04"


# -- a runs directory as spo downtime leaves it ----------------------------------------------


def record(runs, run_id, command, started, ended, argv=(), hosts=(), rc=0):
    outcome = {h: {"result": r, "ok": 3, "changed": 1, "failed": int(r == "failed"),
                   "unreachable": 0, "skipped": 0} for h, r in dict(hosts).items()}  # fmt: skip
    run = RunRecord(
        id=run_id, command=command, argv=list(argv), operator="budi",
        playbook=f"downtime_{'run' if ' run ' in command else 'announce'}.yml",
        inventory="inv", inventory_commit=None, check=False, limit=None, started=started,
        ended=ended, artifacts=str(runs / run_id / "artifacts"), rc=rc,
        status="successful" if rc == 0 else "failed",
        duration_seconds=(datetime.fromisoformat(ended) - datetime.fromisoformat(started)).seconds,
        hosts=outcome,
    )  # fmt: skip
    (runs / run_id).mkdir(parents=True)
    write_record(runs / run_id, run)
    events_dir(run).mkdir(parents=True)
    return run


def write_events(run, found):
    """(event, host, task, res, created) as ansible-runner writes them: "<counter>-<uuid>.json"."""
    for counter, (event, host, task, res, created) in enumerate(found, 1):
        data = {"host": host, "task": task, "res": res, "play": "p", "play_pattern": "x"}
        (events_dir(run) / f"{counter}-uuid{counter}.json").write_text(
            json.dumps({"counter": counter, "event": event, "created": created, "event_data": data})
        )


def notice(runs, run_id, kind, started, deliveries, argv=(), reason="", error=None, window=None):
    """A `downtime <kind> W` run: the result of "Send the notice" on the notifier."""
    window = window or WINDOW
    args = {"kind": kind, "window": window, "departments": [], "by": "budi",
            "reason": reason, "error": error}  # fmt: skip
    res = {"changed": True, "deliveries": deliveries, "event": f"downtime-{kind}",
           "invocation": {"module_args": args}}  # fmt: skip
    ended = started[:17] + "09+00:00"
    command = f"downtime {kind} {window['id']}"  # as spo.downtime.send names the run
    run = record(runs, run_id, command, started, ended, argv, {MIRROR: "changed"})
    write_events(run, [("runner_on_ok", MIRROR, "Send the notice", res, started)])
    return run


def told(time, failing=()):
    return [
        {"department": d, "channel": c, "to": to, "delivered": d not in failing,
         "error": "SMTP 550 mailbox unavailable" if d in failing else None, "time": time}
        for d, c, to in DEPARTMENTS
    ]  # fmt: skip


def checks(*names, failing=None):
    return [
        {"name": n, "type": "http" if "page" in n else "systemd", "ok": n != failing,
         "detail": WEB_404 if n == failing else f"{n}: active", "seconds": 0.2,
         "attempts": 10 if n == failing else 1}
        for n in names
    ]  # fmt: skip


APP_CHECKS = ("SIMRS web service", "SIMRS web page")
DB_CHECKS = ("MariaDB", "PostgreSQL")


def ok(host, task, res, created):
    return ("runner_on_ok", host, task, res, created)


def upgraded(*packages):
    lines = [
        "Reading package lists...",
        *(f"Inst {p} [1.0] (1.1 Debian:12/stable)" for p in packages),
    ]
    return {"changed": bool(packages), "stdout_lines": lines}


def restarted(*services):
    return {"changed": True, "results": [{"item": s, "changed": True} for s in services]}


def runs_dir(tmp_path, back_failing=()):
    runs = tmp_path / "runs"
    # 1. Announced ten days before (S4.2); one email bounced.
    notice(runs, "20261201T020000Z-downtime-aa01", "announce", "2026-12-01T02:00:00+00:00",
           told("2026-12-01T02:00:05.000Z", failing=("Instalasi Gawat Darurat",)),
           reason="pembaruan keamanan")  # fmt: skip
    # 2. In the window: "starting now", then the run, which a health check on simrs-app stops.
    argv = ["downtime", "run", "--window", W]
    notice(runs, "20261212T140000Z-downtime-ab01", "starting", "2026-12-12T14:00:00+00:00",
           told("2026-12-12T14:00:04.000Z"), argv=argv)  # fmt: skip
    failed = record(runs, FAILED_RUN, f"downtime run {W}", "2026-12-12T14:00:30+00:00",
                    "2026-12-12T14:01:30+00:00", argv, {APP: "failed", DB: "ok", MIRROR: "ok"},
                    rc=2)  # fmt: skip
    health = checks(*APP_CHECKS, failing="SIMRS web page")
    write_events(failed, [
        ("runner_on_start", APP, "Check every service of the host before the update", {},
         "2026-12-12T14:00:40+00:00"),
        ok(DB, "Check every service of the host before the update",
           {"results": checks(*DB_CHECKS), "failed_checks": []}, "2026-12-12T14:00:45+00:00"),
        ok(MIRROR, "Check every service of the host before the update",
           {"results": checks(*DB_CHECKS), "failed_checks": []}, "2026-12-12T14:00:46+00:00"),
        ("runner_on_failed", APP, "Check every service of the host before the update",
         {"results": health, "failed_checks": ["SIMRS web page"],
          "msg": f"1 of 2 health check(s) failed: SIMRS web page: {WEB_404}"},
         "2026-12-12T14:01:20+00:00"),
    ])  # fmt: skip
    it = [{"department": "IT", "channel": "email", "to": "it-support@rs.lab", "delivered": True,
           "error": None, "time": "2026-12-12T14:01:40.000Z"}]  # fmt: skip
    notice(runs, "20261212T140135Z-downtime-cc03", "failed", "2026-12-12T14:01:35+00:00", it,
           argv=argv, error=f"{APP}: stopped")  # fmt: skip
    # 3. The next morning, forced outside the window after the page was fixed.
    argv = ["--runs-dir", str(runs), "downtime", "run", "--window", W, "--force",
            "--reason", REASON]  # fmt: skip
    notice(runs, "20261213T030000Z-downtime-ab02", "starting", "2026-12-13T03:00:00+00:00",
           told("2026-12-13T03:00:05.000Z"), argv=argv, reason=REASON)  # fmt: skip
    forced = record(runs, FORCED_RUN, f"downtime run {W}", "2026-12-13T03:00:20+00:00",
                    "2026-12-13T03:23:44+00:00", argv, {APP: "changed", DB: "changed",
                                                        MIRROR: "changed"})  # fmt: skip
    backup = {"changed": True, "sources": ["simrs", "sik"], "runs": [
        {"source": "simrs", "backup": "simrs-db_simrs_20261213T030100Z", "result": "ok",
         "size_bytes": 123456789, "duration_seconds": 75.2},
        {"source": "sik", "backup": "simrs-db_sik_20261213T030215Z", "result": "ok",
         "size_bytes": 2048, "duration_seconds": 3.0},
    ]}  # fmt: skip
    before, after = (
        "Check every service of the host before the update",
        "Check every service of the host",
    )
    write_events(forced, [
        ok(APP, before, {"results": checks(*APP_CHECKS)}, "2026-12-13T03:00:30+00:00"),
        ok(DB, before, {"results": checks(*DB_CHECKS)}, "2026-12-13T03:00:31+00:00"),
        ok(MIRROR, before, {"results": checks(*DB_CHECKS)}, "2026-12-13T03:00:31+00:00"),
        ok(DB, "Make a verified backup of the host's databases", backup,
           "2026-12-13T03:02:20+00:00"),
        ("runner_on_skipped", APP, "Make a verified backup of the host's databases", {},
         "2026-12-13T03:00:40+00:00"),
        ok(APP, "Show the maintenance banner at login", {}, "2026-12-13T03:03:00+00:00"),
        ok(APP, "Stop the application services (maintenance mode)", restarted("simrs-web"),
           "2026-12-13T03:03:02+00:00"),
        ok(APP, "Upgrade the packages", upgraded("openssl", "libssl3"),
           "2026-12-13T03:06:00+00:00"),
        ok(APP, "Restart the services", {"changed": False, "results": []},
           "2026-12-13T03:06:01+00:00"),
        ok(APP, "Report the upgraded packages", {"msg": "upgraded: openssl, libssl3"},
           "2026-12-13T03:06:02+00:00"),
        ok(DB, "Show the maintenance banner at login", {}, "2026-12-13T03:06:10+00:00"),
        ok(DB, "Upgrade the packages", upgraded("mariadb-server", "postgresql-15"),
           "2026-12-13T03:12:00+00:00"),
        ok(DB, "Restart the services", restarted("mariadb", "postgresql@15-main"),
           "2026-12-13T03:12:30+00:00"),
        ok(DB, "Report the upgraded packages", {"msg": "upgraded: mariadb-server, postgresql-15"},
           "2026-12-13T03:12:31+00:00"),
        ok(MIRROR, "Show the maintenance banner at login", {}, "2026-12-13T03:12:40+00:00"),
        ok(MIRROR, "Upgrade the packages", upgraded(), "2026-12-13T03:15:00+00:00"),
        ok(MIRROR, "Restart the services", restarted("mariadb", "postgresql@15-main"),
           "2026-12-13T03:15:30+00:00"),
        ok(MIRROR, "Report the upgraded packages", {"msg": "upgraded: nothing"},
           "2026-12-13T03:15:31+00:00"),
        # Back in the reverse order: the mirror, the database, then the application.
        ok(MIRROR, after, {"results": checks(*DB_CHECKS)}, "2026-12-13T03:16:00+00:00"),
        ok(MIRROR, "Remove the maintenance banner", {}, "2026-12-13T03:16:01+00:00"),
        ok(DB, after, {"results": checks(*DB_CHECKS)}, "2026-12-13T03:17:00+00:00"),
        ok(DB, "Remove the maintenance banner", {}, "2026-12-13T03:17:01+00:00"),
        ok(APP, "Start the application services", restarted("simrs-web"),
           "2026-12-13T03:18:00+00:00"),
        ok(APP, after, {"results": checks(*APP_CHECKS)}, "2026-12-13T03:18:30+00:00"),
        ok(APP, "Remove the maintenance banner", {}, "2026-12-13T03:18:31+00:00"),
        ok(MIRROR, "Read the mirror status", {"status": {"ok": True}}, "2026-12-13T03:23:40+00:00"),
    ])  # fmt: skip
    notice(runs, "20261213T032350Z-downtime-ee05", "back-in-service", "2026-12-13T03:23:50+00:00",
           told("2026-12-13T03:23:55.000Z", back_failing), argv=argv, reason=REASON,
           window={**WINDOW, "measured_minutes": 23.4})  # fmt: skip
    # Another window's run and an unrelated run: not this window's record.
    notice(
        runs,
        "20260701T020000Z-downtime-ff06",
        "announce",
        "2026-07-01T02:00:00+00:00",
        told("2026-07-01T02:00:05.000Z"),
        window={**WINDOW, "id": "2026-07"},
    )
    return runs


def rendered(tmp_path, lang, fmt):
    runs = runs_dir(tmp_path)
    records, problems = read_records(runs)
    assert problems == []
    win = report_downtime.gather(records, W)
    return report_downtime.downtime(win, TZ, lang, fmt, GENERATED, runs, SITE)


def sections(out, fmt):
    return md_sections(out) if fmt == "md" else html_report(out).sections


def fields(text: str) -> dict[str, str]:
    """The "- **Label:** value" lines of a Markdown section."""
    found = {}
    for line in text.splitlines():
        if line.startswith("- **") and ":** " in line:
            label, value = line[4:].split(":** ", 1)
            found[label] = value
    return found


# -- the document ------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_the_window_and_its_notices(tmp_path, lang, fmt):
    out = rendered(tmp_path, lang, fmt)
    t = report_render.Texts(lang)
    found = sections(out, fmt)
    window = found[t("downtime_window")]["text"]
    for value in ("2026-12-12 21:00", t("downtime_range", low=15, high=30),
                  "SIMRS (aplikasi rumah sakit), Database SIMRS",
                  "1. simrs-app → 2. simrs-db → 3. simrs-mirror"):  # fmt: skip
        assert value in window

    title = t("downtime_notices")
    summary = table(out, fmt, title, 0)
    kinds = [r[t("col_notice")] for r in summary]
    assert kinds == [t(f"notice_kind_{k}") for k in
                     ("announce", "starting", "failed", "starting", "back-in-service")]  # fmt: skip
    announce = row(summary, **{t("col_notice"): t("notice_kind_announce")})
    assert announce[t("col_sent")] == "2026-12-01 09:00" and announce[t("col_by")] == "budi"
    assert announce[t("col_why")] == "pembaruan keamanan"
    assert announce[t("col_delivered")] == f"✘ {t('notice_count', ok=3, total=4)}"  # IGD not
    failed = row(summary, **{t("col_notice"): t("notice_kind_failed")})
    assert failed[t("col_why")] == "simrs-app: stopped"
    assert failed[t("col_run")] == "20261212T140135Z-downtime-cc03"

    deliveries = table(out, fmt, title, 1)
    first = [r for r in deliveries if r[t("col_notice")] == t("notice_kind_announce")]
    assert [(r[t("col_department")], r[t("col_channel")], r[t("col_check")]) for r in first] == [
        ("Rawat Jalan", "email", "✔"),
        ("Instalasi Farmasi", "email", "✔"),
        ("Instalasi Farmasi", "webhook", "✔"),
        ("Instalasi Gawat Darurat", "email", "✘"),
    ]
    assert first[3][t("col_error")] == "SMTP 550 mailbox unavailable"
    assert first[2][t("col_to")] == "http://nas:8026/farmasi"
    it = row(deliveries, **{t("col_department"): "IT"})
    assert (it[t("col_channel")], it[t("col_check")], it[t("col_time")]) == (
        "email", "✔", "2026-12-12 21:01")  # fmt: skip
    back = [r for r in deliveries if r[t("col_notice")] == t("notice_kind_back-in-service")]
    assert {r[t("col_department")] for r in back if r[t("col_check")] == "✔"} == {
        "Rawat Jalan", "Instalasi Farmasi", "Instalasi Gawat Darurat"}  # fmt: skip
    assert "2026-07" not in plain(out, fmt)  # another window's notice


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_each_run_says_whether_it_succeeded(tmp_path, lang, fmt):
    out = rendered(tmp_path, lang, fmt)
    t = report_render.Texts(lang)
    runs = table(out, fmt, t("downtime_runs"))
    assert [r[t("col_run")] for r in runs] == [FAILED_RUN, FORCED_RUN]  # newest last
    first, second = runs
    assert first[t("col_forced")] == t("answer_no") and second[t("col_forced")] == t("answer_yes")
    assert first[t("col_result")].startswith("✘ ")
    assert "simrs-app" in first[t("col_result")] and WEB_404 in first[t("col_result")]
    assert t("downtime_it_told", channels="email") in first[t("col_result")]
    told = t("notice_count", ok=4, total=4)
    assert second[t("col_result")] == f"✔ {t('downtime_verdict_ok', told=told)}"
    assert second[t("col_started")] == "2026-12-13 10:00"
    # The document's verdict is the last run's.
    assert t("downtime_verdict_ok", told=told) in plain(out, fmt).split(t("downtime_window"))[0]


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_the_run_a_health_check_stopped(tmp_path, lang, fmt):
    out = rendered(tmp_path, lang, fmt)
    t = report_render.Texts(lang)
    title = t("downtime_run_of", number=1, total=2, when="2026-12-12 21:00")
    hosts = table(out, fmt, title, 0)
    assert [r[t("col_host")] for r in hosts] == [APP, DB, MIRROR]
    app = row(hosts, **{t("col_host"): APP})
    assert app[t("col_result")].startswith("✘ Check every service of the host before the update:")
    assert WEB_404 in app[t("col_result")]
    assert app[t("col_packages")] == NA  # never got there
    for host in (DB, MIRROR):
        assert row(hosts, **{t("col_host"): host})[t("col_result")] == f"{NA} {t('host_untouched')}"
    health = table(out, fmt, title, 1)
    page = row(health, **{t("col_host"): APP, t("col_check_name"): "SIMRS web page"})
    assert (page[t("col_when")], page[t("col_check")], page[t("col_detail")]) == (
        t("check_before"), "✘", WEB_404)  # fmt: skip
    assert page[t("col_tries")] == "10"
    service = row(health, **{t("col_host"): APP, t("col_check_name"): "SIMRS web service"})
    assert service[t("col_check")] == "✔"
    assert [r[t("col_check")] for r in health if r[t("col_host")] == DB] == ["✔", "✔"]
    if fmt == "md":
        said = fields(md_sections(out)[title]["text"])
        assert said[t("field_forced")] == t("answer_no") and said[t("field_reason")] == "-"
        estimate = t("downtime_estimate", low=15, high=30)
        within = t("downtime_within", minutes="1", estimate=estimate)
        assert said[t("field_downtime")] == f"✔ {within}"  # 60 s, the run's own length
        assert said[t("field_told_it")].startswith("✔ ")
        assert "2026-12-12 21:01" in said[t("field_told_it")]


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_the_forced_run_that_brought_everything_back(tmp_path, lang, fmt):
    out = rendered(tmp_path, lang, fmt)
    t = report_render.Texts(lang)
    title = t("downtime_run_of", number=2, total=2, when="2026-12-13 10:00")
    hosts = table(out, fmt, title, 0)
    assert [r[t("col_host")] for r in hosts] == [APP, DB, MIRROR]
    app, db, mirror = hosts
    assert app[t("col_packages")] == "openssl, libssl3"
    assert db[t("col_packages")] == "mariadb-server, postgresql-15"
    assert mirror[t("col_packages")] == t("nothing")
    assert db[t("col_restarted")] == "mariadb, postgresql@15-main"
    assert app[t("col_restarted")] == t("apps_started", services="simrs-web")
    assert db[t("col_backups")] == (
        "✔ simrs: simrs-db_simrs_20261213T030100Z (117.7 MB, "
        + report_render.duration(75.2, t)
        + "); ✔ sik: simrs-db_sik_20261213T030215Z (2.0 KB, "
        + report_render.duration(3.0, t)
        + ")"
    )
    assert app[t("col_backups")] == NA  # not a database server
    assert (app[t("col_update_started")], app[t("col_update_ended")]) == (
        "2026-12-13 10:03", "2026-12-13 10:18")  # fmt: skip
    assert (db[t("col_update_started")], db[t("col_update_ended")]) == (
        "2026-12-13 10:06", "2026-12-13 10:17")  # fmt: skip
    assert {r[t("col_result")] for r in hosts} == {f"✔ {t('host_back')}"}

    health = table(out, fmt, title, 1)
    assert len(health) == 12  # 2 + 2 + 2 checks, before and after
    assert {r[t("col_check")] for r in health} == {"✔"}
    after = [r[t("col_check_name")] for r in health
             if r[t("col_host")] == APP and r[t("col_when")] == t("check_after")]  # fmt: skip
    assert after == list(APP_CHECKS)

    words = plain(out, fmt)
    estimate = t("downtime_estimate", low=15, high=30)
    assert f"✔ {t('downtime_within', minutes='23.4', estimate=estimate)}" in words
    assert REASON in words
    if fmt == "md":
        said = fields(md_sections(out)[title]["text"])
        assert said[t("field_forced")] == t("answer_yes") and said[t("field_reason")] == REASON
        assert said[t("field_operator")] == "budi"
        assert said[t("field_told_starting")].startswith("✔ ")
        assert said[t("field_told_back")] == "✔ " + t(
            "notice_delivered", ok=4, total=4, when="2026-12-13 10:23"
        )


@pytest.mark.parametrize(("lang", "fmt"), FORMS)
def test_the_sign_off_and_where_it_came_from(tmp_path, lang, fmt):
    out = rendered(tmp_path, lang, fmt)
    t = report_render.Texts(lang)
    words = plain(out, fmt)
    for role in ("prepared_by", "checked_by", "acknowledged_by_it"):
        assert t(role) in words
    assert t("acknowledged_by") not in words  # the head of SIRS signs restores
    signoff = sections(out, fmt)[t("signoff")]
    assert "budi" in signoff["text"]
    footer = words[words.rindex(t("acknowledged_by_it")) :]
    assert str(tmp_path / "runs") in footer and FORCED_RUN in footer
    assert "20261201T020000Z-downtime-aa01" in footer and "20260701T" not in footer
    assert "Asia/Jakarta, UTC+07:00" in footer and SITE in words
    assert words.count(t("downtime_title")) >= 1


def test_a_back_in_service_notice_that_missed_a_department_is_not_ticked(tmp_path):
    runs = runs_dir(tmp_path, back_failing=("Instalasi Gawat Darurat",))
    win = report_downtime.gather(read_records(runs)[0], W)
    out = report_downtime.downtime(win, TZ, "en", "md", GENERATED, runs, SITE)
    t = report_render.Texts("en")
    told = t("notice_count", ok=3, total=4)
    verdict = f"✘ {t('downtime_verdict_not_told', told=told)}"
    assert " ".join(verdict.split()) in " ".join(out.split())
    second = table(out, "md", t("downtime_runs"))[1]
    assert second[t("col_result")] == verdict
    said = fields(md_sections(out)[t("downtime_run_of", number=2, total=2,
                                     when="2026-12-13 10:00")]["text"])  # fmt: skip
    assert said[t("field_told_back")].startswith("✘ 3 of 4 delivered")


def test_a_run_over_its_estimate():
    t = report_render.Texts("en")
    facts = {"estimate_min": 15, "estimate_max": 30}
    assert report_downtime.against_estimate(t, 42.25, facts) == (
        "✘ 42.2 min (estimate 15\u201330 min): OVER the estimate by 12.2 min"
    )
    assert report_downtime.against_estimate(t, 30, facts).startswith("✔ 30 min")
    assert report_downtime.against_estimate(t, None, facts) == "not recorded"


def test_argv_values_in_both_spellings():
    argv = ["downtime", "run", "--window", W, "--force", "--reason=kernel fix"]
    assert report_downtime.argv_value(argv, "--reason") == "kernel fix"
    assert report_downtime.argv_value(argv, "--window") == W
    assert report_downtime.argv_value(["--reason"], "--reason") == ""


# -- the command -------------------------------------------------------------------------------


def test_report_downtime_renders_the_window(tmp_path):
    runs = runs_dir(tmp_path)
    base = ["--runs-dir", str(runs), "-i", str(inventory(tmp_path)), "report", "downtime"]
    shown = CliRunner().invoke(cli, [*base, W])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("# Berita Acara Downtime Terencana")
    assert "| simrs-app | 2026-12-13 10:03 | 2026-12-13 10:18 |" in shown.stdout

    out = tmp_path / "downtime.html"
    args = [*base, W, "--lang", "en", "--format", "html", "--out", str(out)]
    written = CliRunner().invoke(cli, args)
    assert written.exit_code == 0, written.output
    assert f"report written to {out}" in written.stderr
    page = html_report(out.read_text(encoding="utf-8"))
    assert "Acknowledged: Head of IT" in page.text and SITE in page.text
    hosts = page.sections["Run 2 of 2 (2026-12-13 10:00)"]["tables"][0]
    assert row(hosts, Host=DB)["Packages upgraded"] == "mariadb-server, postgresql-15"


def test_a_window_without_records_exits_2_and_says_what_makes_them(tmp_path):
    runs = runs_dir(tmp_path)
    base = ["--runs-dir", str(runs), "-i", str(inventory(tmp_path)), "report", "downtime"]
    result = CliRunner().invoke(cli, [*base, "2027-04"])
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "no record of downtime window 2027-04" in message and str(runs) in message
    assert "spo downtime announce --window 2027-04" in message
    assert "spo downtime run --window 2027-04" in message

    empty = CliRunner().invoke(cli, ["--runs-dir", str(tmp_path / "none"), *base[2:], W])
    assert empty.exit_code == 2 and str(tmp_path / "none") in " ".join(empty.output.split())

    bad = CliRunner().invoke(cli, [*base, "2026-13"])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output


def test_only_notices_so_far(tmp_path):
    runs = tmp_path / "runs"
    notice(runs, "20261201T020000Z-downtime-aa01", "announce", "2026-12-01T02:00:00+00:00",
           told("2026-12-01T02:00:05.000Z"))  # fmt: skip
    win = report_downtime.gather(read_records(runs)[0], W)
    out = report_downtime.downtime(win, TZ, "en", "md", GENERATED, runs, SITE)
    t = report_render.Texts("en")
    assert " ".join(t("downtime_not_run", window=W).split()) in " ".join(out.split())
    assert t("empty_runs", window=W) in md_sections(out)[t("downtime_runs")]["text"]


def test_a_run_stopped_half_way_leaves_the_updated_host_in_maintenance(tmp_path):
    # The application was updated; the database's upgrade failed, so nobody was brought back
    # (any_errors_fatal) and, here, the failure notice to IT never went out.
    runs = tmp_path / "runs"
    argv = ["downtime", "run", "--window", W]
    notice(runs, "20261212T140000Z-downtime-ab01", "starting", "2026-12-12T14:00:00+00:00",
           told("2026-12-12T14:00:04.000Z"), argv=argv)  # fmt: skip
    hosts = {APP: "changed", DB: "failed"}
    run = record(runs, FAILED_RUN, f"downtime run {W}", "2026-12-12T14:00:30+00:00",
                 "2026-12-12T14:09:30+00:00", argv, hosts, rc=2)  # fmt: skip
    broken = "E: Could not get lock /var/lib/dpkg/lock-frontend"
    write_events(run, [
        ok(APP, "Show the maintenance banner at login", {}, "2026-12-12T14:01:00+00:00"),
        ok(APP, "Upgrade the packages", upgraded("openssl"), "2026-12-12T14:04:00+00:00"),
        ok(APP, "Report the upgraded packages", {"msg": "upgraded: openssl"},
           "2026-12-12T14:04:01+00:00"),
        ok(DB, "Show the maintenance banner at login", {}, "2026-12-12T14:04:10+00:00"),
        ("runner_on_failed", DB, "Upgrade the packages", {"msg": broken},
         "2026-12-12T14:09:00+00:00"),
    ])  # fmt: skip
    win = report_downtime.gather(read_records(runs)[0], W)
    out = report_downtime.downtime(win, TZ, "en", "md", GENERATED, runs, SITE)
    t = report_render.Texts("en")
    title = t("downtime_run_of", number=1, total=1, when="2026-12-12 21:00")
    hosts = table(out, "md", title, 0)
    assert [r[t("col_host")] for r in hosts] == [APP, DB, MIRROR]
    app, db, mirror = hosts
    assert app[t("col_result")] == f"✘ {t('host_left_in_maintenance')}"
    assert app[t("col_packages")] == "openssl"
    assert db[t("col_result")] == f"✘ Upgrade the packages: {broken}"
    assert mirror[t("col_result")] == f"{NA} {t('host_untouched')}"
    it = t("downtime_it_not_told")
    verdict = t("downtime_verdict_stopped", host=DB, task="Upgrade the packages", error=broken,
                it=it)  # fmt: skip
    assert f"**✘ {verdict}**" in out
    said = fields(md_sections(out)[title]["text"])
    assert said[t("field_told_it")] == f"✘ {t('notice_none')}"
    assert said[t("field_downtime")] == "✔ " + t(
        "downtime_within", minutes="9", estimate=t("downtime_estimate", low=15, high=30)
    )


def test_a_rehearsal_is_not_the_downtime(tmp_path):
    runs = tmp_path / "runs"
    notice(runs, "20261201T020000Z-downtime-aa01", "announce", "2026-12-01T02:00:00+00:00",
           told("2026-12-01T02:00:05.000Z"))  # fmt: skip
    argv = ["--check", "downtime", "run", "--window", W, "--force", "--reason", "rehearsal"]
    run = record(runs, "20261205T020000Z-downtime-bb01", f"downtime run {W}",
                 "2026-12-05T02:00:00+00:00", "2026-12-05T02:03:00+00:00", argv,
                 {APP: "ok", DB: "ok", MIRROR: "ok"})  # fmt: skip
    run.check = True
    write_record(runs / run.id, run)
    write_events(
        run,
        [
            ok(
                APP,
                "Check every service of the host before the update",
                {"results": checks(*APP_CHECKS)},
                "2026-12-05T02:00:10+00:00",
            )
        ],
    )
    win = report_downtime.gather(read_records(runs)[0], W)
    out = report_downtime.downtime(win, TZ, "id", "md", GENERATED, runs, SITE)
    t = report_render.Texts("id")
    assert " ".join(t("downtime_not_run", window=W).split()) in " ".join(out.split())
    [rehearsal] = table(out, "md", t("downtime_runs"))
    assert rehearsal[t("col_result")] == f"{NA} {t('downtime_verdict_rehearsal')}"
    hosts = table(out, "md", t("downtime_run_of", number=1, total=1, when="2026-12-05 09:00"))
    assert {r[t("col_result")] for r in hosts} == {f"{NA} {t('host_rehearsed')}"}
