"""Every report `spo` renders is kept: a copy under ``<runs-dir>/reports/<YYYY>/`` and a line
in ``<runs-dir>/reports/index.jsonl`` (when, which report of what, language, format, file,
sha256, operator). The checklists the SPOs end in (S0.4, S3.5, S3.8, S3.9, S4) are then on
record as produced, for the auditors and `spo audit`, and can be printed again as they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from spo.runner import operator

INDEX = "index.jsonl"


def folder(runs_dir: Path) -> Path:
    return Path(runs_dir) / "reports"


def keep(runs_dir: Path, kind: str, subject: str, lang: str, fmt: str, text: str) -> Path:
    """Store one rendered report and index it; returns the stored file."""
    now = datetime.now(UTC)
    safe = re.sub(r"[^A-Za-z0-9.-]+", "-", subject).strip("-") or "all"
    where = folder(runs_dir) / f"{now:%Y}"
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{now:%Y%m%dT%H%M%S%fZ}-{kind}-{safe}.{lang}.{fmt}"
    data = text.encode("utf-8")
    path.write_bytes(data)
    line = {
        "time": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "kind": kind,
        "subject": subject,
        "lang": lang,
        "format": fmt,
        "file": str(path.relative_to(folder(runs_dir))),
        "sha256": hashlib.sha256(data).hexdigest(),
        "operator": operator(),
    }
    # One write of one line in append mode: lines of concurrent commands never interleave.
    fd = os.open(folder(runs_dir) / INDEX, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (json.dumps(line, sort_keys=True) + "\n").encode("utf-8"))
    finally:
        os.close(fd)
    return path


def read_index(runs_dir: Path) -> list[dict]:
    """The kept reports, oldest first; a damaged line is skipped (the files stay)."""
    path = folder(runs_dir) / INDEX
    if not path.is_file():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            found.append(entry)
    return found
