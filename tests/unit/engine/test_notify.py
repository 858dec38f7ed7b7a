import email
import json
import re
import socket
import threading
from datetime import UTC, datetime
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from spo_backup import config, notify

WHEN = datetime(2025, 1, 4, 5, 0, tzinfo=UTC)


def _cfg(tmp_path: Path, email=None, webhook=None, languages=("id", "en")) -> config.Config:
    return config.Config(
        path=tmp_path / "backup.json",
        site="RSUD Uji",
        host="simrs-db",
        backup_root=tmp_path / "backups",
        history_file=tmp_path / "history.jsonl",
        state_dir=tmp_path / "state",
        metrics_file=None,
        retention=config.prune.Policy(),
        compression="auto",
        sources=(),
        offsite=(),
        notify=config.Notify(languages=languages, email=email, webhook=webhook),
    )


def _failure() -> notify.Notice:
    values = {
        "kind": "automatic",
        "last_success": notify.word("never"),
        "backup": "",
        "size": "",
        "offsite": "",
        "failed_since": "",
    }
    return notify.Notice("failure", "failed", WHEN, "sik", "mariadb-dump: access denied", values)


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    indonesian, english = notify.catalogue("id"), notify.catalogue("en")
    assert set(indonesian) == set(english)
    for key in indonesian:
        names = [set(re.findall(r"\$(\w+)", text[key])) for text in (indonesian, english)]
        assert names[0] == names[1], key


def test_failure_is_said_in_both_languages_with_the_error(tmp_path) -> None:
    cfg = _cfg(tmp_path)
    subject_id, body_id = notify.compose(cfg, _failure(), "id")
    subject_en, body_en = notify.compose(cfg, _failure(), "en")
    assert subject_id == "[SPO] GAGAL: backup sik di simrs-db (RSUD Uji)"
    assert subject_en == "[SPO] FAILED: backup of sik on simrs-db (RSUD Uji)"
    assert "belum pernah" in body_id and "never" in body_en
    assert "mariadb-dump: access denied" in body_id and "mariadb-dump: access denied" in body_en


def test_results_make_failure_recovery_or_nothing(tmp_path) -> None:
    seen = [
        notify.transition(tmp_path, "sik", ok, WHEN)[0]
        for ok in (True, False, False, True, True, False)
    ]
    assert seen == [None, "failure", "failure", "recovery", None, "failure"]


def test_recovery_knows_when_the_failures_began(tmp_path) -> None:
    notify.transition(tmp_path, "sik", False, WHEN)
    notify.transition(tmp_path, "sik", False, WHEN.replace(hour=6))
    _event, previous = notify.transition(tmp_path, "sik", True, WHEN.replace(hour=7))
    assert previous["since"] == "2025-01-04T05:00:00.000Z"


def test_a_recovery_notice_for_a_failed_run_is_a_bug(tmp_path) -> None:
    with pytest.raises(ValueError, match="only for a successful run"):
        notify.send(_cfg(tmp_path), notify.Notice("recovery", "failed", WHEN, "sik"))


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_undeliverable_email_is_reported_not_raised(tmp_path) -> None:
    mail = config.Email("127.0.0.1", _closed_port(), False, None, None, "a@b", ("c@d",))
    [attempt] = notify.send(_cfg(tmp_path, email=mail), _failure())
    assert attempt["delivered"] is False
    assert attempt["error"].startswith(f"email via 127.0.0.1:{mail.port} to c@d failed")


@pytest.fixture
def plain_smtp():
    """A real SMTP server without TLS or AUTH, keeping what it receives."""
    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope) -> str:
            received.append(email.message_from_bytes(envelope.content, policy=default))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=_closed_port())
    controller.start()
    yield controller.port, received
    controller.stop()


def test_one_email_holds_both_languages_indonesian_first(tmp_path, plain_smtp) -> None:
    port, received = plain_smtp
    mail = config.Email("127.0.0.1", port, False, None, None, "spo@rs.example", ("it@rs.example",))
    [attempt] = notify.send(_cfg(tmp_path, email=mail), _failure())
    assert attempt["delivered"] is True
    [message] = received
    assert message["Subject"] == (
        "[SPO] GAGAL: backup sik di simrs-db (RSUD Uji) / "
        "[SPO] FAILED: backup of sik on simrs-db (RSUD Uji)"
    )
    assert message["X-SPO-Event"] == "failure" and message["To"] == "it@rs.example"
    body = message.get_content()
    assert body.index("Kesalahan:") < body.index("Error:")


def test_smtp_password_file_readable_by_others_is_not_used(tmp_path, plain_smtp) -> None:
    port, received = plain_smtp
    secret = tmp_path / "smtp.password"
    secret.write_text("hunter2")
    secret.chmod(0o644)
    mail = config.Email("127.0.0.1", port, False, "spo", secret, "a@b.example", ("c@d.example",))
    [attempt] = notify.send(_cfg(tmp_path, email=mail), _failure())
    assert attempt["delivered"] is False
    assert "can be read by group or others (mode 0644)" in attempt["error"]
    assert received == [] and "hunter2" not in attempt["error"]


@pytest.fixture
def receiver():
    posts = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            posts.append((self.headers.get("X-Token"), body))
            self.send_response(500 if body["source"] == "broken" else 200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", posts
    server.shutdown()
    server.server_close()


def test_webhook_body_is_stable_and_carries_both_languages(tmp_path, receiver) -> None:
    url, posts = receiver
    headers = tmp_path / "headers.json"
    headers.write_text('{"X-Token": "t0ken"}')
    headers.chmod(0o600)
    cfg = _cfg(tmp_path, webhook=config.Webhook(url, headers), languages=("en",))
    [attempt] = notify.send(cfg, _failure())
    assert attempt == {
        "channel": "webhook",
        "event": "failure",
        "source": "sik",
        "delivered": True,
        "error": None,
    }
    [(token, body)] = posts
    assert token == "t0ken"
    assert set(body) == {
        "event",
        "site",
        "host",
        "source",
        "result",
        "error",
        "time",
        "text_id",
        "text_en",
    }
    assert (body["event"], body["result"], body["time"]) == (
        "failure",
        "failed",
        "2025-01-04T05:00:00.000Z",
    )
    assert body["text_id"].startswith("[SPO] GAGAL") and body["text_en"].startswith("[SPO] FAILED")


def test_webhook_error_status_is_an_undelivered_notice(tmp_path, receiver) -> None:
    url, _posts = receiver
    notice = _failure()
    notice.source = "broken"
    [attempt] = notify.send(_cfg(tmp_path, webhook=config.Webhook(url + "?token=abc")), notice)
    assert attempt["delivered"] is False
    assert attempt["error"].startswith(f"webhook {url} answered HTTP 500")
    assert "token=abc" not in attempt["error"]


def test_sizes_read_like_people_write_them() -> None:
    assert [notify.human_size(n) for n in (0, 999, 2048, 5 * 1024**3)] == [
        "0 B",
        "999 B",
        "2.0 KB",
        "5.0 GB",
    ]
