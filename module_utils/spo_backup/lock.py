"""One run per source at a time.

The lock is ``fcntl.flock`` on ``<root>/.lock-<source>``: the kernel drops it when its holder
dies, even by kill -9, so a dead run can never block the next one. The file also records who
holds it (pid, host, start time) for the refusal message; finding such a record when the lock
was free means the previous holder died, and is reported as a recovered stale lock.
"""

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import manifest
from .errors import LockHeld


@dataclass
class Held:
    path: Path
    stale: dict | None  # the record a dead holder left behind, if any


def _record(handle) -> dict | None:
    handle.seek(0)
    text = handle.read().strip()
    try:
        return json.loads(text) if text else None
    except ValueError:
        return {"unreadable": text[:200]}


@contextlib.contextmanager
def hold(root: Path, source: str, purpose: str = "backup") -> Iterator[Held]:
    path = root / f".lock-{source}"
    with open(os.open(path, os.O_RDWR | os.O_CREAT, 0o644), "r+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            who = _record(handle) or {}
            raise LockHeld(
                f"another {who.get('purpose', 'run')} of source {source!r} is running: "
                f"pid {who.get('pid', '?')} on host {who.get('host', '?')}, "
                f"started {who.get('started_at', '?')} (lock {path})",
                "wait for it to finish; if that process no longer exists on that host, "
                "check that the destination's file locking works (NFS lockd)",
            ) from None
        stale = _record(handle)
        handle.seek(0)
        handle.truncate()
        json.dump(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started_at": manifest.iso(manifest.utc_now()),
                "purpose": purpose,
            },
            handle,
        )
        handle.flush()
        try:
            yield Held(path, stale)
        finally:
            # An empty file means "released cleanly"; the kernel lock goes with the close.
            handle.seek(0)
            handle.truncate()
            handle.flush()
