"""Planned downtime on the lab (issue 8: S4.1-S4.5): notices to the departments through the
real SMTP server and webhook receiver on nas, a refused run outside its window, a check-mode
rehearsal that changes nothing, a forced run host by host, and a run a health check stops."""

from __future__ import annotations

import email
import email.policy
import json

import pytest

from labhelpers import lab_exec, spo

pytestmark = pytest.mark.lab

APP, DB, MIRROR = "simrs-app", "simrs-db", "simrs-mirror"
DEPARTMENTS = {"rawat-jalan@rs.lab", "farmasi@rs.lab", "igd@rs.lab"}
IT = "it-support@rs.lab"
DASH = "\N{EN DASH}"  # between the shortest and the longest estimate
MONTHS_ID = {4: "April", 7: "Juli", 12: "Desember"}  # the lab's spo_maintenance_months


@pytest.fixture(scope="module")
def window(provisioned) -> dict:
    """A window months ahead: never the one now, so runs need --force."""
    done = spo("--runs-dir", str(provisioned), "downtime", "plan", "--json", "--count", "2")
    return json.loads(done.stdout)[1]


def downtime(runs, *args: str, check: bool = False):
    return spo("--runs-dir", str(runs), *args, check=check)


def mails(mailbox, since: int) -> list[email.message.EmailMessage]:
    return [email.message_from_string(raw, policy=email.policy.default)
            for raw in mailbox()[since:]]  # fmt: skip


def to(message) -> str:
    return str(message["To"])


def active_since(host: str, unit: str) -> str:
    return lab_exec(host, "systemctl", "show", "-P", "ActiveEnterTimestampMonotonic", unit).stdout


def test_announce_tells_every_department_in_both_languages(provisioned, window, mailbox, hooks):
    before, hooked = len(mailbox()), len(hooks())
    done = downtime(provisioned, "downtime", "announce", "--window", window["id"], check=True)
    assert done.stdout.count(": delivered") == 4, done.stdout  # 3 emails, 1 webhook
    sent = mails(mailbox, before)
    assert sorted(map(to, sent)) == sorted(DEPARTMENTS), "each department its own notice"
    assert {m["X-SPO-Event"] for m in sent} == {"downtime-announce"}
    day, month = int(window["start"][8:10]), int(window["start"][5:7])
    when = f"{day} {MONTHS_ID[month]} {window['start'][:4]}"
    for message in sent:
        body = message.get_body().get_content()
        assert when in body, f"the date {when}"
        assert "pukul 21:00 (UTC+07:00)" in body and "at 21:00 (UTC+07:00)" in body
        assert "SIMRS (aplikasi rumah sakit)" in body and "simrs-db" in body
        assert f"15{DASH}30 menit" in body and f"15{DASH}30 minutes" in body
        assert body.index("Perkiraan lama gangguan") < body.index("Estimated downtime")
    [hook] = hooks()[hooked:]
    assert hook["path"] == "/farmasi"
    assert hook["body"]["window"]["id"] == window["id"]
    assert hook["body"]["text_id"] and hook["body"]["text_en"]
    history = lab_exec(MIRROR, "cat", "/var/lib/spo/history.jsonl").stdout.splitlines()
    told = [r for r in map(json.loads, history) if r.get("event") == "downtime-announce"]
    assert {r["department"] for r in told[-4:]} == {
        "Rawat Jalan", "Instalasi Farmasi", "Instalasi Gawat Darurat"}  # fmt: skip


def test_a_run_outside_its_window_is_refused_and_nobody_is_told(provisioned, window, mailbox):
    before = len(mailbox())
    done = downtime(provisioned, "downtime", "run", "--window", window["id"])
    assert done.returncode == 2 and "outside window" in done.stderr
    assert "--force --reason" in done.stderr
    assert len(mailbox()) == before


def test_check_mode_rehearses_the_run_and_changes_nothing(provisioned, window, mailbox):
    before, started = len(mailbox()), active_since(DB, "mariadb")
    done = downtime(provisioned, "--check", "downtime", "run", "--window", window["id"],
                    "--force", "--reason", "rehearsal")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nothing was changed and nobody was told" in done.stdout
    assert active_since(DB, "mariadb") == started, "not restarted"
    assert len(mailbox()) == before
    banner = lab_exec(APP, "ls", "/etc/update-motd.d/95-spo-maintenance", check=False)
    assert banner.returncode != 0


def test_a_forced_run_updates_host_by_host_and_ends_back_in_service(provisioned, window, mailbox):
    before = len(mailbox())
    restarted = {host: active_since(host, "mariadb") for host in (DB, MIRROR)}
    done = downtime(provisioned, "downtime", "run", "--window", window["id"], "--force",
                    "--reason", "security update of the kernel")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    order = [line.split()[1] for line in done.stdout.splitlines()
             if line.split()[2:5] == ["Upgrade", "the", "packages"]]  # fmt: skip
    assert order == [APP, DB, MIRROR], "application first, database last (spo_downtime_order)"
    for host, since in restarted.items():
        assert active_since(host, "mariadb") != since, f"mariadb restarted on {host}"
    assert lab_exec(APP, "systemctl", "is-active", "simrs-web").stdout.strip() == "active"
    sent = mails(mailbox, before)
    assert sorted(map(to, sent)) == sorted([*DEPARTMENTS] * 2), "starting, then back in service"
    events = sorted(str(m["X-SPO-Event"]) for m in sent)
    assert events == ["downtime-back-in-service"] * 3 + ["downtime-starting"] * 3
    back = next(m for m in sent if m["X-SPO-Event"] == "downtime-back-in-service")
    assert "menit" in back.get_body().get_content(), "the measured downtime"
    record = json.loads(spo("--runs-dir", str(provisioned), "runs", "--json").stdout)
    run = next(r for r in reversed(record) if r["command"].startswith("downtime run"))
    assert "security update of the kernel" in run["argv"] or any(
        "security update of the kernel" in arg for arg in run["argv"])  # fmt: skip


def test_a_failed_health_check_stops_the_run_and_tells_it_only(provisioned, window, mailbox):
    lab_exec(APP, "mv", "/opt/simrs/web", "/opt/simrs/web.away")  # the page answers 404 now
    before = len(mailbox())
    try:
        done = downtime(provisioned, "downtime", "run", "--window", window["id"], "--force",
                        "--reason", "drill of a failed update")  # fmt: skip
    finally:
        lab_exec(APP, "mv", "/opt/simrs/web.away", "/opt/simrs/web")
        lab_exec(APP, "systemctl", "restart", "simrs-web")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "STOPPED" in done.stdout and "SIMRS web page" in done.stdout
    sent = mails(mailbox, before)
    starting = [m for m in sent if to(m) in DEPARTMENTS]
    assert sorted(map(to, starting)) == sorted(DEPARTMENTS), "only the 'starting' notices"
    [failure] = [m for m in sent if to(m) == IT]
    assert failure["X-SPO-Event"] == "downtime-failed"
    assert "SIMRS web page" in failure.get_body().get_content()
    assert "downtime-back-in-service" not in [m["X-SPO-Event"] for m in sent]


def test_database_servers_change_packages_only_in_the_windows(provisioned):
    hold = "/etc/apt/apt.conf.d/52spo-maintenance-window"
    assert 'APT::Periodic::Unattended-Upgrade "0";' in lab_exec(DB, "cat", hold).stdout
    assert lab_exec(APP, "test", "-e", hold, check=False).returncode == 1, "not configured there"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_downtime_report_is_rendered_from_the_runs(provisioned, window, lang):
    done = spo("--runs-dir", str(provisioned), "report", "downtime", window["id"], "--lang", lang)
    text = done.stdout
    assert f"1. {APP} → 2. {DB} → 3. {MIRROR}" in text, "the hosts in their order"
    cells = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("| ")
    ]
    for department in ("Rawat Jalan", "Instalasi Farmasi", "Instalasi Gawat Darurat"):
        assert any(department in row and "✔" in " ".join(row) for row in cells), department
    assert any("SIMRS web page" in row and "✘" in row for row in cells), "the check that failed"
    assert "security update of the kernel" in text and "drill of a failed update" in text
