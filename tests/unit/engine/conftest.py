"""Fixtures for engine unit tests: real backups made by the engine from a tiny payload."""

from pathlib import Path

import pytest

from spo_backup import backup


@pytest.fixture
def make_backup():
    """``make_backup(root, source, host="simrs-db", payload=b"...")`` -> the backup folder."""

    def make(root: Path, source: str = "sik", host: str = "simrs-db", payload=b"data") -> Path:
        def write(stage: Path) -> dict:
            (stage / "data.txt").write_bytes(payload)
            return {}

        job = backup.Job(source, "files", "automatic", write, lambda _rel: "text", host=host)
        return Path(backup.run(backup.Destination(root), job)["path"])

    return make
