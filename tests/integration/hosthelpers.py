"""Helpers and fixtures for tests of the host command as cron runs it (``python3 -m
spo_backup`` on the system python): a host's files under tmp_path, an offsite on a real
separate mount (tmpfs), a real SMTP server (aiosmtpd, STARTTLS + AUTH) and a local webhook
receiver."""

import contextlib
import email
import email.policy
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from dbhelpers import MARIADB_SEED, PG_SEED
from spo_backup import destination

NEEDS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
MODULE_UTILS = Path(__file__).resolve().parents[2] / "module_utils"
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else shutil.which("python3")
DB_SECRET = "db-Rahasia-7f3a9c"  # a test secret that must never show up
SMTP_SECRET = "smtp-Rahasia-41d2e8"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def secret_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text + "\n")
    path.chmod(mode)
    return path


class Inbox:
    """aiosmtpd handler keeping every message, parsed."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.raw.append(envelope.content)
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"

    def events(self) -> list[str]:
        return [m["X-SPO-Event"] for m in self.messages]


@pytest.fixture
def smtp(tmp_path):
    """A real SMTP server that refuses anything but STARTTLS then AUTH with SMTP_SECRET."""
    cert, key = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"spo",
            SMTP_SECRET.encode(),
        )
        return AuthResult(success=ok)

    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        auth_require_tls=True,
        auth_required=True,
        authenticator=authenticate,
    )
    controller.start()
    inbox.port, inbox.cert = port, cert
    yield inbox
    controller.stop()


@pytest.fixture
def webhook():
    posts: list[dict] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            posts.append({"body": json.loads(body), "auth": self.headers.get("Authorization")})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.posts = posts
    server.url = f"http://127.0.0.1:{server.server_port}/hook?token=abc"
    yield server
    server.shutdown()
    server.server_close()


def mount(folder: Path) -> None:
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)], check=True)
    (folder / destination.MARKER).write_text("")


@contextlib.contextmanager
def mount_point(folder: Path) -> Iterator[Path]:
    """An empty mount point that tests mount or leave unmounted; always unmounted after."""
    folder.mkdir()
    try:
        yield folder
    finally:
        while subprocess.run(["mountpoint", "-q", str(folder)], check=False).returncode == 0:
            subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def nas_dir(tmp_path):
    """The NAS mount point."""
    with mount_point(tmp_path / "nas") as folder:
        yield folder


class Host:
    """The files of one host (config, backups, history...) under tmp_path, and its command."""

    def __init__(self, tmp_path: Path, nas: Path, sources: list[dict], **extra) -> None:
        self.root = tmp_path
        self.nas = nas
        self.config = tmp_path / "etc" / "backup.json"
        self.config.parent.mkdir()
        self.data = {
            "schema_version": 1,
            "site": "RSUD Uji",
            "host": "simrs-db",
            "backup_root": str(tmp_path / "backups"),
            "history_file": str(tmp_path / "lib" / "history.jsonl"),
            "state_dir": str(tmp_path / "lib" / "state"),
            "metrics_file": str(tmp_path / "textfile" / "spo_backup.prom"),
            "retention": {
                "keep_last": 5,
                "keep_hourly": 0,
                "keep_daily": 0,
                "keep_weekly": 0,
                "keep_monthly": 0,
            },
            "compression": "auto",
            "sources": sources,
            "offsite": [
                {
                    "name": "nas",
                    "path": str(nas / "spo" / "simrs-db"),
                    "mount_point": str(nas),
                    "marker": destination.MARKER,
                }
            ],
            "notify": {"languages": ["id", "en"], "on": ["failure", "recovery"], "digest": False},
            **extra,
        }
        self.config.write_text(json.dumps(self.data, indent=2))
        self.outputs: list[str] = []

    def run(
        self, *args: str, command: tuple = (PYTHON, "-m", "spo_backup")
    ) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [*command, "--config", str(self.config), *args],
            env={**os.environ, "PYTHONPATH": str(MODULE_UTILS)},
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.outputs += [done.stdout, done.stderr]
        return done

    def backup(self, *args: str) -> subprocess.CompletedProcess:
        return self.run("run", "--triggered-by", "cron", *args)

    def history(self, record: str = "run") -> list[dict]:
        lines = Path(self.data["history_file"]).read_text().splitlines()
        return [r for r in map(json.loads, lines) if r["record"] == record]

    def metrics(self) -> dict[str, float]:
        text = Path(self.data["metrics_file"]).read_text()
        return {
            line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line and not line.startswith("#")
        }

    def local(self, source: str) -> list[str]:
        return backups_named(Path(self.data["backup_root"]), source)

    def offsite(self, source: str) -> list[str]:
        return backups_named(self.nas / "spo" / "simrs-db", source)

    def everything_written(self) -> str:
        """Every text the command produced or left: where a secret must never be."""
        lib = self.root / "lib"
        files = [p.read_text() for p in lib.rglob("*") if p.is_file()]
        return "\n".join([*self.outputs, *files, Path(self.data["metrics_file"]).read_text()])


def backups_named(root: Path, source: str) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.name.endswith(f"_{source}_automatic"))


def notify_config(smtp: Inbox, hook, tmp_path: Path) -> dict:
    return {
        "languages": ["id", "en"],
        "on": ["failure", "recovery"],
        "digest": True,
        "email": {
            "host": "127.0.0.1",
            "port": smtp.port,
            "starttls": True,
            "user": "spo",
            "password_file": str(secret_file(tmp_path / "smtp.password", SMTP_SECRET)),
            "from": "spo@rs.example",
            "to": ["it@rs.example"],
            "ca_file": str(smtp.cert),
        },
        "webhook": {"url": hook.url, "headers_file": None},
    }


def sources_config(tmp_path, pg_db, mariadb_db) -> list[dict]:
    app = tmp_path / "app"
    (app / "tmp").mkdir(parents=True)
    (app / "index.php").write_text("<?php echo 'SIMRS';")
    (app / "error.log").write_text("not backed up")
    return [
        {
            "name": "sik",
            "type": "mariadb",
            "database": mariadb_db(MARIADB_SEED),
            "login_user": "root",
            "login_host": "localhost",
            "login_port": None,
            "login_unix_socket": None,
            "password_file": None,
            "jobs": 1,
        },
        {
            "name": "simrs",
            "type": "postgresql",
            "database": pg_db(PG_SEED),
            "login_user": "postgres",
            "login_host": "127.0.0.1",
            # trust auth ignores it, but it travels the whole way: it must leak nowhere.
            "password_file": str(secret_file(tmp_path / "simrs.password", DB_SECRET)),
            "format": "custom",
            "jobs": 1,
        },
        {"name": "app", "type": "files", "path": str(app), "exclude": ["*.log", "tmp/*"]},
    ]
