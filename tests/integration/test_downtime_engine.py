"""The host side of a planned downtime (S4): the notices to the departments through a real
SMTP server (aiosmtpd, STARTTLS + AUTH) and a local webhook receiver, and the health checks
a host runs on itself after its restart, against this machine's real PostgreSQL and MariaDB,
a local HTTP server, a closed port and a systemd unit that does not exist."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hosthelpers import NEEDS_ROOT, SMTP_SECRET, free_port, notify_config
from spo_backup import config, downtime, health, history

pytestmark = [pytest.mark.integration, NEEDS_ROOT]

WINDOW = {
    "id": "2026-12",
    "start": "2026-12-12T21:00:00+07:00",
    "estimate_min": 15,
    "estimate_max": 30,
    "services": ["SIMRS Khanza", "PACS"],
    "hosts": ["db01.rs.example", "app01.rs.example"],
}


def _departments(hook) -> list[dict]:
    port = hook.server_port
    return [
        {
            "name": "Instalasi Rawat Jalan",
            "email": ["irj@rs.example", "kepala.irj@rs.example"],
            "webhook": None,
        },
        {
            "name": "Instalasi Gawat Darurat",
            "email": ["igd@rs.example"],
            "webhook": f"http://127.0.0.1:{port}/igd?token=igd-Rahasia",
            "phone": "1234",  # the inventory may keep more about a unit: ignored
        },
    ]


@pytest.fixture
def cfg(tmp_path, backup_json, smtp, webhook) -> config.Config:
    return config.load(backup_json(notify=notify_config(smtp, webhook, tmp_path)))


def _mails_to(smtp, *addresses: str) -> list:
    return [m for m in smtp.messages if m["To"] == ", ".join(addresses)]


def test_departments_are_told_before_during_and_after_and_it_alone_of_a_failure(
    cfg, smtp, webhook
) -> None:
    departments = _departments(webhook)
    sent = {
        "announce": downtime.send(cfg, "announce", WINDOW, departments, "budi", "security updates"),
        "starting": downtime.send(cfg, "starting", WINDOW, departments, "budi"),
        "back-in-service": downtime.send(
            cfg, "back-in-service", {**WINDOW, "measured_minutes": 18}, departments, "budi"
        ),
    }
    for kind, results in sent.items():
        assert [(r["department"], r["channel"], r["delivered"]) for r in results] == [
            ("Instalasi Rawat Jalan", "email", True),
            ("Instalasi Gawat Darurat", "email", True),
            ("Instalasi Gawat Darurat", "webhook", True),
        ], kind
        assert results[0]["to"] == "irj@rs.example, kepala.irj@rs.example"
        assert results[2]["to"] == f"http://127.0.0.1:{webhook.server_port}/igd"

    irj = _mails_to(smtp, "irj@rs.example", "kepala.irj@rs.example")
    igd = _mails_to(smtp, "igd@rs.example")
    events = ["downtime-announce", "downtime-starting", "downtime-back-in-service"]
    assert [m["X-SPO-Event"] for m in irj] == [m["X-SPO-Event"] for m in igd] == events
    assert len(smtp.messages) == 6  # one mail per department and notice, nobody else

    # The announcement: both languages in one mail, Indonesian first, the real plan.
    announce = irj[0]
    assert announce["Subject"] == (
        "[SPO] Pemberitahuan pemeliharaan server terjadwal: Sabtu, 12 Desember 2026 "
        "(RSUD Uji) / [SPO] Planned server maintenance: Saturday 12 December 2026 (RSUD Uji)"
    )
    text = announce.get_content()
    assert text.index("Yth. Instalasi Rawat Jalan,") < text.index("To: Instalasi Rawat Jalan")
    for said in (
        "Waktu mulai: Sabtu, 12 Desember 2026 pukul 21:00 (UTC+07:00)",
        "Perkiraan lama gangguan: 15\u201330 menit",
        "Perkiraan selesai: paling lambat pukul 21:30",
        "Layanan yang terdampak: SIMRS Khanza, PACS",
        "Server: db01.rs.example, app01.rs.example",
        "Keterangan: security updates",
        "Petugas: budi",
        "Start: Saturday 12 December 2026 at 21:00 (UTC+07:00)",
        "Estimated downtime: 15\u201330 minutes",
        "Affected services: SIMRS Khanza, PACS",
    ):
        assert said in text, said
    assert "Gawat Darurat" not in text  # each department gets its own mail
    assert "Yth. Instalasi Gawat Darurat," in igd[0].get_content()

    starting = igd[1]
    assert "Pemeliharaan server terjadwal dimulai sekarang" in starting["Subject"]
    assert "starts now" in starting["Subject"]
    assert "dimulai sekarang, " in starting.get_content()

    back = igd[2].get_content()
    assert "Sistem sudah dapat digunakan kembali" in igd[2]["Subject"]
    assert "Lama gangguan: 18 menit (perkiraan: 15\u201330 menit)." in back
    assert "The downtime lasted 18 minutes (estimated: 15\u201330 minutes)." in back

    # The webhook of the IGD: JSON with the event, the department, the window, both texts.
    posts = [p["body"] for p in webhook.posts]
    assert [p["event"] for p in posts] == events
    for post in posts:
        assert post["department"] == "Instalasi Gawat Darurat" and post["site"] == "RSUD Uji"
        assert post["window"]["id"] == "2026-12" and post["window"]["estimate_max"] == 30
        assert post["text_id"].startswith("[SPO] ") and "Instalasi Gawat Darurat" in post["text_en"]
    assert "pukul 21:00 (UTC+07:00)" in posts[0]["text_id"]
    assert posts[2]["window"]["measured_minutes"] == 18 and "18 minutes" in posts[2]["text_en"]

    # The run stops: IT support alone is told, on the config's own email and webhook.
    failed = downtime.send(
        cfg,
        "failed",
        {**WINDOW, "untouched": ["app01.rs.example"]},
        departments,
        "budi",
        error="apt-get upgrade on db01.rs.example: dpkg was interrupted",
    )
    assert [(r["department"], r["channel"], r["to"], r["delivered"]) for r in failed] == [
        ("IT", "email", "it@rs.example", True),
        ("IT", "webhook", webhook.url.split("?")[0], True),
    ]
    assert len(smtp.messages) == 7 and smtp.messages[-1]["To"] == "it@rs.example"
    assert smtp.events()[-1] == "downtime-failed"
    assert "PEMELIHARAAN GAGAL" in smtp.messages[-1]["Subject"]
    it_mail = smtp.messages[-1].get_content()
    assert "dpkg was interrupted" in it_mail and "app01.rs.example" in it_mail
    assert "(not updated or restarted): app01.rs.example" in it_mail
    assert [m["X-SPO-Event"] for m in irj + igd].count("downtime-failed") == 0
    it_post = webhook.posts[-1]["body"]
    assert it_post["event"] == "downtime-failed" and it_post["department"] == "IT"
    assert it_post["error"].endswith("dpkg was interrupted")

    # Every delivery is in the history: who was told what, when, by which channel.
    lines = list(history.read(cfg.history_file, record="notification"))
    assert [(n["event"], n["department"], n["channel"], n["delivered"]) for n in lines] == [
        (event, dept, channel, True)
        for event in events
        for dept, channel in (
            ("Instalasi Rawat Jalan", "email"),
            ("Instalasi Gawat Darurat", "email"),
            ("Instalasi Gawat Darurat", "webhook"),
        )
    ] + [("downtime-failed", "IT", "email", True), ("downtime-failed", "IT", "webhook", True)]
    assert all(n["window"] == "2026-12" and n["by"] == "budi" for n in lines)
    assert all(n["host"] == "simrs-db" and n["time"].endswith("Z") for n in lines)
    written = cfg.history_file.read_text() + b"".join(smtp.raw).decode()
    assert "igd-Rahasia" not in cfg.history_file.read_text()
    assert SMTP_SECRET not in written


def test_a_department_that_cannot_be_reached_is_recorded_and_the_others_still_told(
    cfg, smtp
) -> None:
    departments = [
        {"name": "Farmasi", "email": [], "webhook": f"http://127.0.0.1:{free_port()}/farmasi"},
        {"name": "Laboratorium", "email": ["lab@rs.example"], "webhook": None},
    ]
    results = downtime.send(cfg, "announce", WINDOW, departments)
    assert [(r["department"], r["delivered"]) for r in results] == [
        ("Farmasi", False),
        ("Laboratorium", True),
    ]
    assert "Connection refused" in results[0]["error"]
    assert [m["To"] for m in smtp.messages] == ["lab@rs.example"]
    recorded = list(history.read(cfg.history_file, record="notification"))
    assert [(n["department"], n["delivered"], n["error"]) for n in recorded] == [
        (r["department"], r["delivered"], r["error"]) for r in results
    ]


# -- health checks ------------------------------------------------------------------------


@pytest.fixture
def web():
    """A local HTTP server: /ok answers 200, /down 503, /moved redirects to /ok."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/moved":
                self.send_response(302)
                self.send_header("Location", "/ok")
            else:
                self.send_response({"/ok": 200, "/down": 503}.get(path, 404))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_health_checks_against_the_real_services_of_this_machine(web, pg_db, mariadb_db) -> None:
    pg = pg_db("CREATE TABLE pasien (id int); INSERT INTO pasien VALUES (1), (2), (3);")
    my = mariadb_db("CREATE TABLE pasien (id int); INSERT INTO pasien VALUES (1), (2);")
    closed = free_port()
    once = {"retries": 1, "delay": 0}
    checks = [
        {"name": "pg port", "type": "port", "port": 5432, **once},
        {
            "name": "pg socket",
            "type": "sql",
            "engine": "postgresql",
            "database": pg,
            "query": "SELECT count(*) FROM pasien",
            **once,
        },
        {
            "name": "pg tcp",
            "type": "sql",
            "engine": "postgresql",
            "login_host": "127.0.0.1",
            "login_port": 5432,
            "login_user": "postgres",
            **once,
        },
        {
            "name": "pg no db",
            "type": "sql",
            "engine": "postgresql",
            "database": "spo_none_9",
            **once,
        },
        {
            "name": "mariadb socket",
            "type": "sql",
            "engine": "mariadb",
            "database": my,
            "query": "SELECT COUNT(*) FROM pasien",
            **once,
        },
        {
            "name": "mariadb bad query",
            "type": "sql",
            "engine": "mariadb",
            "database": my,
            "query": "SELECT * FROM no_such_table",
            **once,
        },
        {"name": "closed port", "type": "port", "port": closed, **once},
        {"name": "web ok", "type": "http", "url": f"{web}/ok", **once},
        {"name": "web down", "type": "http", "url": f"{web}/down?token=t0k", **once},
        {"name": "web moved, followed", "type": "http", "url": f"{web}/moved", **once},
        {"name": "web moved, as is", "type": "http", "url": f"{web}/moved", "status": 302, **once},
        {"name": "no such unit", "type": "systemd", "unit": "spo-no-such-unit.service", **once},
    ]
    results = {r["name"]: r for r in health.run(checks)}
    assert list(results) == [c["name"] for c in checks]  # in order, one each
    passed = {name for name, r in results.items() if r["ok"]}
    assert passed == {
        "pg port",
        "pg socket",
        "pg tcp",
        "mariadb socket",
        "web ok",
        "web moved, followed",
        "web moved, as is",
    }
    assert results["pg port"]["detail"] == "port 5432 on 127.0.0.1: open"
    assert results["pg socket"]["detail"].endswith("'SELECT count(*) FROM pasien': 3")
    assert "local socket, as OS user postgres" in results["pg socket"]["detail"]
    assert "127.0.0.1:5432 as postgres" in results["pg tcp"]["detail"]
    assert 'database "spo_none_9" does not exist' in results["pg no db"]["detail"]
    assert results["mariadb socket"]["detail"].endswith("'SELECT COUNT(*) FROM pasien': 2")
    assert "no_such_table' doesn't exist" in results["mariadb bad query"]["detail"]
    assert results["closed port"]["detail"] == f"port {closed} on 127.0.0.1: connection refused"
    assert results["web down"]["detail"] == f"{web}/down answered HTTP 503, expected 200"
    assert results["web moved, as is"]["detail"] == f"{web}/moved answered HTTP 302"
    unit = results["no such unit"]
    assert not unit["ok"] and "systemd unit spo-no-such-unit.service" in unit["detail"]
    assert all(r["attempts"] == 1 and r["seconds"] >= 0 for r in results.values())
    assert set(results["pg port"]) == {"name", "type", "ok", "detail", "seconds", "attempts"}


def test_a_service_still_starting_gets_its_retries() -> None:
    port = free_port()

    def start_late() -> None:
        time.sleep(1.0)
        with socket.socket() as listener:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", port))
            listener.listen()
            listener.settimeout(10)
            with listener.accept()[0]:
                pass

    thread = threading.Thread(target=start_late, daemon=True)
    thread.start()
    checks = [
        {"name": "late", "type": "port", "port": port, "retries": 20, "delay": 0.25},
        {"name": "never", "type": "port", "port": free_port(), "retries": 3, "delay": 0.1},
    ]
    started = time.monotonic()
    late, never = health.run(checks)
    thread.join(10)
    assert late["ok"] and late["attempts"] > 1 and late["seconds"] >= 0.9
    assert not never["ok"] and never["attempts"] == 3
    assert "connection refused (still failing after 3 tries in" in never["detail"]
    assert time.monotonic() - started < 10  # side by side, not one after the other


def test_a_malformed_check_is_refused_before_anything_runs() -> None:
    with pytest.raises(health.HealthCheckError) as caught:
        health.run([{"type": "port", "port": 5432}, {"type": "port", "prot": 5432}])
    assert "checks[1]: unknown key(s) prot for a port check" in caught.value.what
    with pytest.raises(health.HealthCheckError, match=r"checks\[0\]\.engine"):
        health.run([{"type": "sql", "engine": "oracle"}])
    assert json.dumps(health.run([])) == "[]"
