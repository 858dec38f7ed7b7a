"""The host command as cron runs it: ``python3 -m spo_backup`` on the system python (stdlib
only), against the real local MariaDB and PostgreSQL, an offsite on a real separate mount
(tmpfs), a real SMTP server (aiosmtpd, STARTTLS + AUTH) and a local webhook receiver."""

import json
import shutil
import zipapp
from pathlib import Path

import pytest

from hosthelpers import (
    DB_SECRET,
    MODULE_UTILS,
    NEEDS_ROOT,
    SMTP_SECRET,
    Host,
    free_port,
    mount,
    notify_config,
    sources_config,
)
from spo_backup import destination

pytestmark = [pytest.mark.integration, NEEDS_ROOT]


def test_run_makes_verified_local_and_offsite_backups_with_history_and_metrics(
    tmp_path, nas_dir, pg_db, mariadb_db
) -> None:
    mount(nas_dir)
    host = Host(tmp_path, nas_dir, sources_config(tmp_path, pg_db, mariadb_db))
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
    host = Host(tmp_path, nas_dir, [source], notify=notify_config(smtp, webhook, tmp_path))

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
        "port": free_port(),  # nothing listens there
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
    sources = sources_config(tmp_path, pg_db, mariadb_db)
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
