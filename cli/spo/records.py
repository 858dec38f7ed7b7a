"""Run records: one `run.json` per run, the start of the audit trail."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

SCHEMA_VERSION = 1
RECORD_FILE = "run.json"


@dataclass
class RunRecord:
    id: str
    command: str
    argv: list[str]
    operator: str
    playbook: str
    inventory: str
    inventory_commit: str | None
    check: bool
    limit: str | None
    started: str
    artifacts: str
    ended: str | None = None
    duration_seconds: float | None = None
    rc: int | None = None
    status: str = "running"
    hosts: dict[str, dict] = field(default_factory=dict)
    error: str | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def ok(self) -> bool:
        return self.rc == 0 and all(h["result"] in ("ok", "changed") for h in self.hosts.values())


def write_record(run_dir: Path, record: RunRecord) -> Path:
    """Write run.json atomically: a reader never sees half a record."""
    path = run_dir / RECORD_FILE
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(asdict(record), fh, indent=2, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return path


def read_records(runs_dir: Path) -> tuple[list[RunRecord], list[str]]:
    """Every recorded run, oldest first, and a problem line per unreadable record."""
    records, problems = [], []
    for path in sorted(Path(runs_dir).glob(f"*/{RECORD_FILE}")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            data.pop("schema_version", None)
            records.append(RunRecord(**data))
        except (OSError, ValueError, TypeError) as exc:
            problems.append(f"{path}: unreadable run record ({exc})")
    return sorted(records, key=lambda r: r.started), problems
