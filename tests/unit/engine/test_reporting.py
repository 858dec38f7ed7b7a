"""The history file and the Prometheus textfile computed from it and the catalogs."""

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from spo_backup import config, destination, history, metrics, prune


def _run(source: str, result: str, ended: str, **extra) -> dict:
    return {
        "record": "run",
        "time": ended,
        "ended_at": ended,
        "source": source,
        "result": result,
        "duration_seconds": 12.5,
        "size_bytes": 2048 if result == "ok" else None,
        **extra,
    }


def test_history_lines_are_whole_even_from_parallel_writers(tmp_path) -> None:
    path = tmp_path / "lib" / "history.jsonl"
    payload = "x" * 5000  # bigger than a pipe buffer: torn lines would show

    def write(n: int) -> None:
        for i in range(50):
            history.append(path, _run(f"s{n}", "ok", "2025-01-01T00:00:00Z", note=payload, i=i))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = path.read_text().splitlines()
    assert len(lines) == 200 and all(json.loads(line)["schema_version"] == 1 for line in lines)
    assert oct(path.stat().st_mode & 0o777) == "0o640"


def test_damaged_lines_are_skipped_and_filters_apply(tmp_path) -> None:
    path = tmp_path / "history.jsonl"
    history.append(path, _run("sik", "failed", "2025-01-01T00:00:00Z"))
    with open(path, "a") as handle:
        handle.write('{"record": "run", "tim')  # a disk that filled mid-line
        handle.write("\n")
    history.append(path, {"record": "notification", "time": "2025-01-02T00:00:00Z"})
    history.append(path, _run("sik", "ok", "2025-01-03T00:00:00Z"))
    since = datetime(2025, 1, 2, tzinfo=UTC)
    assert [r["result"] for r in history.read(path, record="run")] == ["failed", "ok"]
    assert len(list(history.read(path, since=since))) == 2
    runs = history.last_runs(path)["sik"]
    assert (runs["last"]["result"], runs["failed"]["time"]) == ("ok", "2025-01-01T00:00:00Z")


def _cfg(tmp_path: Path, offsite=()) -> config.Config:
    return config.Config(
        path=tmp_path / "backup.json",
        site="RSUD Uji",
        host="simrs-db",
        backup_root=tmp_path / "backups",
        history_file=tmp_path / "history.jsonl",
        state_dir=tmp_path / "state",
        metrics_file=tmp_path / "textfile" / "spo_backup.prom",
        retention=prune.Policy(),
        compression="auto",
        sources=(config.Source("sik", "mariadb"), config.Source("app", "files")),
        offsite=offsite,
        notify=config.Notify(),
    )


def _samples(text: str) -> dict[str, float]:
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if not line.startswith("#")
    }


def test_metrics_follow_history_and_catalogs(tmp_path, make_backup) -> None:
    nas = tmp_path / "nas"
    nas.mkdir()
    cfg = _cfg(tmp_path, (config.Offsite("nas", nas, None), config.Offsite("usb", nas, nas)))
    for _ in range(2):
        make_backup(cfg.backup_root)
    make_backup(nas)
    make_backup(cfg.backup_root, host="other-host")  # not this host's: not counted
    history.append(cfg.history_file, _run("sik", "ok", "2025-01-01T00:00:10Z"))
    history.append(cfg.history_file, _run("sik", "failed", "2025-01-02T00:00:00Z"))
    metrics.write(cfg)
    text = cfg.metrics_file.read_text()
    for name, (kind, _help) in metrics.METRICS.items():
        assert f"# HELP {name} " in text and f"# TYPE {name} {kind}\n" in text
    assert _samples(text) == {
        'spo_backup_last_success_timestamp_seconds{source="sik"}': 1735689610.0,
        'spo_backup_last_success_timestamp_seconds{source="app"}': 0.0,  # never
        'spo_backup_last_duration_seconds{source="sik"}': 12.5,
        'spo_backup_last_size_bytes{source="sik"}': 2048.0,
        'spo_backup_count{source="sik"}': 2.0,
        'spo_backup_count{source="app"}': 0.0,
        'spo_backup_last_run_success{source="sik"}': 0.0,
        'spo_backup_offsite_count{source="sik",offsite="nas"}': 1.0,
        'spo_backup_offsite_count{source="app",offsite="nas"}': 0.0,
        'spo_backup_offsite_up{offsite="nas"}': 1.0,
        'spo_backup_offsite_up{offsite="usb"}': 0.0,  # not a mount point: no count at all
    }
    assert not [p for p in cfg.metrics_file.parent.iterdir() if p.name != "spo_backup.prom"]


def test_marker_alone_does_not_make_an_offsite_up(tmp_path) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    (usb / destination.MARKER).write_text("")
    cfg = _cfg(tmp_path, (config.Offsite("usb", usb, usb),))
    assert _samples(metrics.render(cfg))['spo_backup_offsite_up{offsite="usb"}'] == 0
    assert os.listdir(usb) == [destination.MARKER]
