"""The restore drill without database servers: which backup it takes, its records and
summary lines, the live-folder refusal, and a program-files drill through the command."""

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from spo_backup import cli, config, drill, history, manifest, notify, offsite

WHEN = datetime(2025, 1, 10, 21, 0, tzinfo=UTC)


def test_the_newest_backup_of_the_source_and_host_is_chosen_by_manifest_time(
    tmp_path, make_backup
) -> None:
    root = tmp_path / "backups"
    first = make_backup(root, "sik")
    second = make_backup(root, "sik")
    make_backup(root, "simrs")
    make_backup(root, "sik", host="other-db")  # a shared NAS holds other hosts' backups too
    assert drill.newest(offsite.backups_of(root, "simrs-db", "sik")).path == second
    # Names only help people: a folder whose name sorts last but whose manifest is older.
    data = json.loads((second / manifest.FILENAME).read_text())
    data["started_at"] = "2000-01-01T00:00:00.000Z"
    (second / manifest.FILENAME).write_text(json.dumps(data))
    assert drill.newest(offsite.backups_of(root, "simrs-db", "sik")).path == first
    assert drill.newest([]) is None


def test_rpo_is_the_age_of_the_restored_data_in_whole_seconds() -> None:
    assert drill.rpo_seconds(WHEN, WHEN - timedelta(hours=2, seconds=0.9)) == 7200


@pytest.mark.parametrize(
    ("scratch", "live"),
    [("srv/app", "srv/app"), ("srv/app/drill", "srv/app"), ("srv", "srv/app")],
)
def test_a_scratch_folder_overlapping_the_live_folder_is_refused(tmp_path, scratch, live) -> None:
    with pytest.raises(drill.Refused, match="overlaps the live program folder"):
        drill.apart(tmp_path / scratch, tmp_path / live)


def test_a_link_to_the_live_folder_is_refused_and_a_sibling_is_not(tmp_path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "app")
    with pytest.raises(drill.Refused):
        drill.apart(tmp_path / "link" / "drill", tmp_path / "app")
    assert "is apart from" in drill.apart(tmp_path / "drill", tmp_path / "app")


def _cfg(backup_json, **keys) -> config.Config:
    return config.load(backup_json(**keys))


def test_a_new_record_has_every_field_and_says_nothing_yet(tmp_path, backup_json) -> None:
    app = {"name": "app", "type": "files", "path": str(tmp_path / "app")}
    cfg = _cfg(backup_json, sources=[app])
    record = drill.new_record(cfg, cfg.source("app"), WHEN, "cron")
    assert record == {
        "record": "drill",
        "time": "2025-01-10T21:00:00.000Z",
        "site": "RSUD Uji",
        "host": "simrs-db",
        "source": "app",
        "source_type": "files",
        "backup": None,
        "backup_time": None,
        "from": "local",
        "target": None,
        "triggered_by": "cron",
        "checks": [],
        "tables": {},
        "files": None,
        "rto_seconds": None,
        "rpo_seconds": None,
        "started_at": "2025-01-10T21:00:00.000Z",
        "ended_at": None,
        "duration_seconds": None,
        "result": None,
        "error": None,
    }


def test_summary_lines_say_result_backup_rto_rpo_and_why() -> None:
    ok = {"source": "sik", "result": "ok", "backup": "B", "from": "nas"}
    ok |= {"rto_seconds": 12.34, "rpo_seconds": 5400, "error": None}
    assert drill.summary(ok) == "sik: OK, backup B from nas, RTO 12.3 s, RPO 1.5 h"
    refused = {**ok, "result": "refused", "rto_seconds": None, "error": "identity: it is live"}
    assert (
        drill.summary(refused) == "sik: REFUSED, backup B from nas, RPO 1.5 h; identity: it is live"
    )


@pytest.fixture
def files_host(tmp_path, backup_json) -> Path:
    app = tmp_path / "app"
    (app / "conf").mkdir(parents=True)
    (app / "index.php").write_text("<?php")
    (app / "conf" / "db.ini").write_text("host=localhost")
    os.symlink("index.php", app / "default.php")
    source = {"name": "app", "type": "files", "path": str(app)}
    return backup_json(sources=[source], drill={"scratch_dir": str(tmp_path / "drill")})


def test_a_files_drill_restores_compares_and_removes_its_scratch_folder(files_host, capsys) -> None:
    assert cli.main(["--config", str(files_host), "run"]) == 0
    capsys.readouterr()
    assert cli.main(["--config", str(files_host), "drill", "--json", "--triggered-by", "me"]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert record["result"] == "ok" and record["triggered_by"] == "me"
    assert [c["name"] for c in record["checks"]] == [
        "checksums",
        "identity",
        "restore",
        "integrity",
    ]
    assert record["files"] == 2  # the symlink is not a regular file
    assert record["target"].startswith(f"scratch folder {files_host.parent / 'drill'}/files-")
    assert list((files_host.parent / "drill").iterdir()) == []
    [line] = history.read(files_host.parent / "history.jsonl", record="drill")
    assert line["backup"] == record["backup"] and line["rto_seconds"] is not None


def test_a_source_without_backups_fails_and_an_undeliverable_notice_changes_nothing(
    files_host, capsys
) -> None:
    data = json.loads(files_host.read_text())
    data["notify"] = {"webhook": {"url": "http://127.0.0.1:9/hook"}}  # nothing listens there
    files_host.write_text(json.dumps(data))
    assert cli.main(["--config", str(files_host), "drill"]) == 1
    assert capsys.readouterr().out.startswith("app: FAILED, backup none from local; source app")
    lines = list(history.read(files_host.parent / "history.jsonl"))
    assert [(r["record"], r.get("result")) for r in lines] == [
        ("drill", "failed"),
        ("notification", None),
    ]
    assert "has no backup in local" in lines[0]["error"] and lines[0]["checks"] == []
    assert lines[1]["event"] == "drill-failed" and lines[1]["delivered"] is False


def test_a_target_server_with_sources_of_two_engines_is_a_usage_error(backup_json, capsys) -> None:
    sources = [
        {"name": "sik", "type": "mariadb", "database": "sik"},
        {"name": "simrs", "type": "postgresql", "database": "simrs"},
    ]
    path = backup_json(sources=sources)
    assert cli.main(["--config", str(path), "drill", "--target-host", "drill-db"]) == 2
    assert "a target server runs one engine" in capsys.readouterr().err
    assert not (path.parent / "history.jsonl").exists()


def test_the_drill_failed_notice_reads_in_both_languages(backup_json) -> None:
    cfg = _cfg(backup_json)
    values = {"outcome": notify.word("drill-failed.refused"), "backup": "B", "backup_time": "T"}
    values |= {"from": "nas", "target": "PostgreSQL server at db:5432", "check": "identity"}
    notice = notify.Notice("drill-failed", "refused", WHEN, "simrs", "it is live", values)
    id_subject, id_body = notify.compose(cfg, notice, "id")
    en_subject, en_body = notify.compose(cfg, notice, "en")
    assert id_subject == "[SPO] UJI RESTORE GAGAL: simrs di simrs-db (RSUD Uji)"
    assert en_subject == "[SPO] RESTORE DRILL FAILED: simrs on simrs-db (RSUD Uji)"
    assert "DITOLAK" in id_body and "REFUSED" in en_body and "it is live" in en_body


def test_a_scratch_dir_inside_the_live_folder_is_refused_before_anything_is_made(
    files_host, capsys
) -> None:
    assert cli.main(["--config", str(files_host), "run"]) == 0
    data = json.loads(files_host.read_text())
    scratch = Path(data["sources"][0]["path"]) / "drill"
    data["drill"]["scratch_dir"] = str(scratch)
    files_host.write_text(json.dumps(data))
    capsys.readouterr()
    assert cli.main(["--config", str(files_host), "drill", "--json"]) == 1
    [record] = json.loads(capsys.readouterr().out)
    assert record["result"] == "refused" and record["target"] is None
    assert [(c["name"], c["ok"]) for c in record["checks"]] == [
        ("checksums", True),
        ("identity", False),
    ]
    assert "overlaps the live program folder" in record["error"] and not scratch.exists()
