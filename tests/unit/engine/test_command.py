"""The spo-backup command in-process, on a program-files source (tar only, no servers)."""

import json
import logging
import socket
from pathlib import Path

import pytest

from spo_backup import cli, lock


@pytest.fixture
def host(tmp_path, backup_json) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    (app / "index.php").write_text("<?php")
    return backup_json(sources=[{"name": "app", "type": "files", "path": str(app)}])


def _backups(host: Path) -> list[Path]:
    return sorted((host.parent / "backups").glob("*_app_*"))


def test_run_list_prune_and_verify(host, capsys) -> None:
    for _ in range(6):
        assert cli.main(["--config", str(host), "run", "--kind", "automatic"]) == 0
    assert len(_backups(host)) == 5
    capsys.readouterr()
    assert cli.main(["--config", str(host), "list"]) == 0
    listing = capsys.readouterr().out
    assert "local " in listing and "5 backup(s)" in listing and "verified" in listing
    assert cli.main(["--config", str(host), "prune", "--dry-run"]) == 0
    assert "would remove 0 backup(s)" in capsys.readouterr().out
    newest = _backups(host)[-1]
    assert cli.main(["verify", str(newest)]) == 0
    (newest / "files.tar.zst").write_bytes(b"damaged")
    assert cli.main(["verify", str(newest)]) == 1
    assert "failed verification" in capsys.readouterr().err


def test_unknown_source_is_a_usage_error(host, capsys) -> None:
    assert cli.main(["--config", str(host), "run", "--source", "sikk"]) == 2
    assert "no source named 'sikk'" in capsys.readouterr().err
    assert not (host.parent / "history.jsonl").exists()


def test_failing_source_exits_1_and_says_which(host, capsys) -> None:
    data = json.loads(host.read_text())
    data["sources"][0]["path"] = str(host.parent / "gone")
    host.write_text(json.dumps(data))
    assert cli.main(["--config", str(host), "run"]) == 1
    err = capsys.readouterr().err
    assert "source app: FAILED: the program directory" in err
    assert "run FAILED for 1 of 1 source(s): app" in err


def test_digest_dry_run_prints_both_languages(host, capsys) -> None:
    cli.main(["--config", str(host), "run"])
    capsys.readouterr()
    assert cli.main(["--config", str(host), "digest", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Ringkasan harian" in out and "Daily backup digest" in out
    assert "- app: 1 berhasil, 0 gagal" in out and "- app: 1 succeeded, 0 failed" in out


def test_logs_go_to_syslog_too(tmp_path) -> None:
    address = tmp_path / "log"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as syslog:
        syslog.bind(str(address))
        cli.setup_logging(syslog=address)
        logging.getLogger("spo_backup.runner").error("source sik: FAILED: disk full")
        received = syslog.recv(4096).decode()
    cli.setup_logging(syslog=tmp_path / "none")  # leave no handler on the closed socket
    assert received.startswith("<27>")  # daemon.err
    assert "spo-backup: ERROR: source sik: FAILED: disk full" in received


def test_a_second_run_of_the_same_source_is_refused_and_recorded(host, capsys) -> None:
    (host.parent / "state").mkdir()
    with lock.hold(host.parent / "state", "app", purpose="spo-backup run"):
        assert cli.main(["--config", str(host), "run", "--source", "app"]) == 1
    assert "another spo-backup run of source 'app' is running" in capsys.readouterr().err
    [record] = map(json.loads, (host.parent / "history.jsonl").read_text().splitlines())
    assert record["result"] == "failed" and record["backup"] is None
