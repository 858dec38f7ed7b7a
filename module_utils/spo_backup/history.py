"""The host's backup history: one JSON line per run and source, and one per notification.

Append-only (O_APPEND, so two runs writing at once never interleave inside a line) and
fsynced, because metrics, digests and the auditors' reports are computed from it alone.
Each line's ``"record"`` says its kind: ``run`` (a backup), ``calendar`` (a weekly full backup
or monthly copy), ``drill`` (a test restore), ``restore``, ``change`` (S3.9), ``integrity``
(the data bank's check) and ``notification``.
"""

import json
import logging
import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from . import manifest
from .errors import BackupError, Refused

SCHEMA_VERSION = 1
log = logging.getLogger(__name__)


def append(path: Path, record: dict) -> None:
    line = json.dumps({"schema_version": SCHEMA_VERSION, **record}, sort_keys=True) + "\n"
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def keep(path: Path, record: dict) -> dict:
    """Append ``record``; when it cannot be written the record's result becomes "failed": no
    record means no proof for the auditors. Returns the record."""
    try:
        append(path, record)
    except OSError as exc:
        errors = [record.get("error"), f"history {path}: {exc}"]
        record.update(result="failed", error="; ".join(e for e in errors if e))
    return record


def conclude(path: Path, record: dict, clock: float, action) -> dict:
    """Run ``action()`` (what a restore or a change does to the ``record``), then stamp the
    record with its end, duration (from ``clock``, a time.monotonic()), result - ok, refused
    (``Refused``: nothing was changed) or failed - and error, and keep it."""
    try:
        action()
        result, error = "ok", None
    except Refused as exc:
        result, error = "refused", str(exc)
    except BackupError as exc:
        result, error = "failed", str(exc)
    record.update(
        ended_at=manifest.iso(manifest.utc_now()),
        duration_seconds=round(time.monotonic() - clock, 3),
        result=result,
        error=error,
    )
    return keep(path, record)


def read(path: Path, since: datetime | None = None, record: str | None = None) -> Iterator[dict]:
    """Records in file order; a damaged line (a disk that filled mid-write) is skipped with a
    warning rather than hiding every later record."""
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 -- closed by the with below
    except FileNotFoundError:
        return
    with handle:
        for number, line in enumerate(handle, 1):
            try:
                data = json.loads(line)
                moment = manifest.parse_time(data["time"])
            except (ValueError, KeyError, TypeError):
                log.warning("%s line %d is not a history record; skipped", path, number)
                continue
            if (record is None or data.get("record") == record) and (
                since is None or moment >= since
            ):
                yield data


def last_runs(path: Path) -> dict[str, dict]:
    """Per source: the last run, the last successful run, and the last failed run."""
    found: dict[str, dict] = {}
    for data in read(path, record="run"):
        entry = found.setdefault(data["source"], {})
        entry["last"] = data
        entry["ok" if data.get("result") == "ok" else "failed"] = data
    return found
