"""The host command as cron runs it: ``python3 -m spo_backup`` on the system python (stdlib
only), against the real local MariaDB and PostgreSQL, an offsite on a real separate mount
(tmpfs), a real SMTP server (aiosmtpd, STARTTLS + AUTH) and a local webhook receiver."""

import email
import email.policy
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import zipapp
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from dbhelpers import MARIADB_SEED, PG_SEED
from spo_backup import destination

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting the offsite tmpfs needs root"),
]
MODULE_UTILS = Path(__file__).resolve().parents[2] / "module_utils"
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else shutil.which("python3")
DB_SECRET = "db-Rahasia-7f3a9c"  # a test secret that must never show up
SMTP_SECRET = "smtp-Rahasia-41d2e8"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _secret_file(path: Path, text: str, mode: int = 0o600) -> Path:
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
    port = _free_port()
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


@pytest.fixture
def nas_dir(tmp_path):
    """The NAS mount point; tests mount it or leave it unmounted. Always unmounted after."""
    folder = tmp_path / "nas"
    folder.mkdir()
    yield folder
    while subprocess.run(["mountpoint", "-q", str(folder)], check=False).returncode == 0:
        subprocess.run(["umount", str(folder)], check=True)


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
        return _backups(Path(self.data["backup_root"]), source)

    def offsite(self, source: str) -> list[str]:
        return _backups(self.nas / "spo" / "simrs-db", source)

    def everything_written(self) -> str:
        """Every text the command produced or left: where a secret must never be."""
        lib = self.root / "lib"
        files = [p.read_text() for p in lib.rglob("*") if p.is_file()]
        return "\n".join([*self.outputs, *files, Path(self.data["metrics_file"]).read_text()])


def _backups(root: Path, source: str) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.name.endswith(f"_{source}_automatic"))


def _notify(smtp: Inbox, hook, tmp_path: Path) -> dict:
    return {
        "languages": ["id", "en"],
        "on": ["failure", "recovery"],
        "digest": True,
        "email": {
            "host": "127.0.0.1",
            "port": smtp.port,
            "starttls": True,
            "user": "spo",
            "password_file": str(_secret_file(tmp_path / "smtp.password", SMTP_SECRET)),
            "from": "spo@rs.example",
            "to": ["it@rs.example"],
            "ca_file": str(smtp.cert),
        },
        "webhook": {"url": hook.url, "headers_file": None},
    }


def _sources(tmp_path, pg_db, mariadb_db) -> list[dict]:
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
            "password_file": str(_secret_file(tmp_path / "simrs.password", DB_SECRET)),
            "format": "custom",
            "jobs": 1,
        },
        {"name": "app", "type": "files", "path": str(app), "exclude": ["*.log", "tmp/*"]},
    ]


def test_run_makes_verified_local_and_offsite_backups_with_history_and_metrics(
    tmp_path, nas_dir, pg_db, mariadb_db
) -> None:
    mount(nas_dir)
    host = Host(tmp_path, nas_dir, _sources(tmp_path, pg_db, mariadb_db))
    done = host.backup()
    assert done.returncode == 0, done.stderr
    runs = host.history()
    assert [(r["source"], r["result"]) for r in runs] == [
        ("sik", "ok"),
        ("simrs", "ok"),
        ("app", "ok"),
    ]
    for run in runs:
        manifest = json.loads(Path(run["manifest"]).read_text())
        assert manifest["verified_at"] and manifest["trigger"]["by"] == "cron"
        assert run["size_bytes"] == manifest["stored_bytes"] > 0
        assert run["offsite"][0]["copied"] == [run["backup"]]
        copy = nas_dir / "spo" / "simrs-db" / run["backup"]
        assert host.run("verify", str(copy)).returncode == 0
        assert json.loads((copy / "manifest.json").read_text()) == manifest
    metrics = host.metrics()
    for source in ("sik", "simrs", "app"):
        assert metrics[f'spo_backup_count{{source="{source}"}}'] == 1
        assert metrics[f'spo_backup_last_run_success{{source="{source}"}}'] == 1
        assert metrics[f'spo_backup_offsite_count{{source="{source}",offsite="nas"}}'] == 1
        assert metrics[f'spo_backup_last_success_timestamp_seconds{{source="{source}"}}'] > 0
    assert metrics['spo_backup_offsite_up{offsite="nas"}'] == 1
    listing = json.loads(host.run("list", "--json").stdout)
    assert [len(place["backups"]) for place in listing] == [3, 3]
    assert DB_SECRET not in host.everything_written()


def test_eight_runs_with_keep_last_five_leave_five_locally_and_offsite(
    tmp_path, nas_dir, mariadb_db
) -> None:
    mount(nas_dir)
    db = mariadb_db("CREATE TABLE t (a int); INSERT INTO t VALUES (1);")
    source = {"name": "sik", "type": "mariadb", "database": db, "login_user": "root"}
    host = Host(tmp_path, nas_dir, [source])
    made = []
    for _ in range(8):
        assert host.backup().returncode == 0
        made.append(host.history()[-1]["backup"])
    assert host.local("sik") == host.offsite("sik") == sorted(made)[-5:]
    assert host.metrics()['spo_backup_offsite_count{source="sik",offsite="nas"}'] == 5
    assert host.metrics()['spo_backup_count{source="sik"}'] == 5
    assert len(host.history()) == 8


def test_unmounted_nas_fails_names_mount_point_writes_nothing_and_notifies_once(
    tmp_path, nas_dir, mariadb_db, smtp, webhook
) -> None:
    (nas_dir / destination.MARKER).write_text("")  # even the marker cannot stand in for a mount
    db = mariadb_db("CREATE TABLE t (a int);")
    source = {"name": "sik", "type": "mariadb", "database": db, "login_user": "root"}
    host = Host(tmp_path, nas_dir, [source], notify=_notify(smtp, webhook, tmp_path))

    failed = host.backup()
    assert failed.returncode == 1
    assert f"{nas_dir} is declared a mount point but nothing is mounted" in failed.stderr
    assert "run FAILED for 1 of 1 source(s): sik" in failed.stderr
    assert [p.name for p in nas_dir.iterdir()] == [destination.MARKER]
    assert host.local("sik")  # the local backup was still made
    assert host.history()[-1]["result"] == "failed"
    assert str(nas_dir) in host.history()[-1]["error"]
    assert smtp.events() == ["failure"] and [p["body"]["event"] for p in webhook.posts] == [
        "failure"
    ]
    mail = smtp.messages[0].get_content()
    assert "GAGAL" in smtp.messages[0]["Subject"] and "FAILED" in smtp.messages[0]["Subject"]
    assert str(nas_dir) in mail and "Kesalahan" in mail and "What to do" in mail
    post = webhook.posts[0]["body"]
    assert post["result"] == "failed" and str(nas_dir) in post["error"]
    assert set(post) >= {"event", "host", "source", "result", "error", "time", "text_id", "text_en"}
    assert host.metrics()['spo_backup_last_run_success{source="sik"}'] == 0
    assert host.metrics()['spo_backup_offsite_up{offsite="nas"}'] == 0

    mount(nas_dir)
    assert host.backup().returncode == 0
    assert host.backup().returncode == 0
    assert smtp.events() == ["failure", "recovery"]  # exactly one recovery, no success notices
    assert [p["body"]["event"] for p in webhook.posts] == ["failure", "recovery"]
    assert webhook.posts[1]["body"]["result"] == "ok" and webhook.posts[1]["body"]["error"] is None
    assert len(host.offsite("sik")) == 3  # the backup made while the NAS was down caught up
    delivered = host.history("notification")
    assert [(n["channel"], n["event"], n["delivered"]) for n in delivered] == [
        ("email", "failure", True),
        ("webhook", "failure", True),
        ("email", "recovery", True),
        ("webhook", "recovery", True),
    ]

    digest = host.run("digest")
    assert digest.returncode == 0, digest.stderr
    assert smtp.events()[-1] == "digest" and "1 gagal" in smtp.messages[-1].get_content()
    written = host.everything_written() + b"".join(smtp.raw).decode() + json.dumps(webhook.posts)
    assert SMTP_SECRET not in written
    assert "token=abc" not in "".join(host.outputs)


def test_undeliverable_notice_is_recorded_and_keeps_the_backups_result(
    tmp_path, nas_dir, mariadb_db
) -> None:
    mount(nas_dir)
    db = mariadb_db("CREATE TABLE t (a int);")
    good = {"name": "sik", "type": "mariadb", "database": db, "login_user": "root"}
    broken = {**good, "name": "broken", "database": "spo_no_such_db_9d1c"}
    dead_mail = {
        "host": "127.0.0.1",
        "port": _free_port(),  # nothing listens there
        "starttls": False,
        "user": None,
        "password_file": None,
        "from": "spo@rs.example",
        "to": ["it@rs.example"],
    }
    notify = {"languages": ["en"], "on": ["failure", "recovery"], "email": dead_mail}
    host = Host(tmp_path, nas_dir, [good, broken], notify=notify)
    done = host.backup()
    assert done.returncode == 1  # the failed source, not the mail, decides
    assert [(r["source"], r["result"]) for r in host.history()] == [
        ("sik", "ok"),
        ("broken", "failed"),
    ]
    assert "spo_no_such_db_9d1c" in host.history()[1]["error"]
    [attempt] = host.history("notification")
    assert attempt["delivered"] is False and "Connection refused" in attempt["error"]
    assert "failure notice of broken not delivered" in done.stderr
    assert host.backup("--source", "sik").returncode == 0


def test_group_readable_password_file_is_refused_and_other_sources_still_run(
    tmp_path, nas_dir, pg_db, mariadb_db
) -> None:
    mount(nas_dir)
    sources = _sources(tmp_path, pg_db, mariadb_db)
    Path(sources[1]["password_file"]).chmod(0o640)
    host = Host(tmp_path, nas_dir, sources)
    done = host.backup()
    assert done.returncode == 1
    assert "can be read by group or others (mode 0640)" in done.stderr
    assert "chmod 600" in done.stderr
    assert {r["source"]: r["result"] for r in host.history()} == {
        "sik": "ok",
        "simrs": "failed",
        "app": "ok",
    }
    assert DB_SECRET not in host.everything_written()


def test_config_error_names_file_and_key_and_exits_2(tmp_path, nas_dir) -> None:
    host = Host(tmp_path, nas_dir, [{"name": "sik", "type": "mariadb", "database": "x"}])
    host.data["sources"][0]["login_port"] = "3306"
    host.config.write_text(json.dumps(host.data))
    done = host.backup()
    assert done.returncode == 2
    assert f"{host.config}: sources[0].login_port: expected a port number" in done.stderr


def test_the_engine_also_runs_packed_in_one_zip_file(tmp_path, nas_dir, webhook) -> None:
    """Hosts may get the engine as one executable zip (the role's zipapp): no file paths."""
    tree = tmp_path / "pyz"
    shutil.copytree(MODULE_UTILS / "spo_backup", tree / "spo_backup")
    (tree / "__main__.py").write_text(
        "import sys\nfrom spo_backup.cli import main\nsys.exit(main())\n"
    )
    packed = tmp_path / "spo-backup"
    zipapp.create_archive(tree, packed, interpreter="/usr/bin/python3")
    packed.chmod(0o755)
    (tmp_path / "app").mkdir()
    source = {"name": "app", "type": "files", "path": str(tmp_path / "app")}
    notify = {"email": None, "webhook": {"url": webhook.url, "headers_file": None}}
    host = Host(tmp_path, nas_dir, [source], notify=notify)
    failed = host.run("run", command=(str(packed),))  # the NAS is not mounted
    assert failed.returncode == 1
    [post] = webhook.posts
    assert post["body"]["text_id"].startswith("[SPO] GAGAL")  # the catalogues were found
    assert post["body"]["text_en"].startswith("[SPO] FAILED")
    digest = host.run("digest", "--dry-run", command=(str(packed),))
    assert digest.returncode == 0 and "0 berhasil, 1 gagal" in digest.stdout
