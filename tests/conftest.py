"""Make the engine importable as plain ``spo_backup`` (how hosts run it) for the tests, and
the fixtures engine tests of every folder share."""

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "module_utils"))


@pytest.fixture
def backup_json(tmp_path):
    """``backup_json(**keys)`` -> the path of a host's backup.json in tmp_path: host simrs-db,
    no sources, no metrics file, no notices, unless ``keys`` (top-level keys) say otherwise."""

    def write(**keys) -> Path:
        data = {
            "schema_version": 1,
            "site": "RSUD Uji",
            "host": "simrs-db",
            "backup_root": str(tmp_path / "backups"),
            "history_file": str(tmp_path / "history.jsonl"),
            "state_dir": str(tmp_path / "state"),
            "metrics_file": None,
            "retention": {"keep_last": 5},
            "sources": [],
            "offsite": [],
            "notify": {"email": None, "webhook": None},
            **keys,
        }
        path = tmp_path / "backup.json"
        path.write_text(json.dumps(data))
        return path

    return write
