"""Backup folders: names that sort by time, and listing a destination by manifest time.

A folder is ``<UTC time>_<host>_<source>_<kind>``, e.g.
``20250104T050000.000Z_simrs-db_sik_weekly-full``. Names only help people; every decision
(listing order, pruning) uses the manifest's ``started_at``.
"""

import contextlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import atomic, lock, manifest, prune
from .errors import BackupError

_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")


def label(text: str, what: str) -> str:
    """Host and source names become part of folder names: letters, digits, dots, dashes."""
    if not _LABEL.match(text or ""):
        raise BackupError(
            f"the {what} name {text!r} cannot be used in a backup name",
            "use only letters, digits, dots and dashes, starting with a letter or digit",
        )
    return text


def slug(text: str, what: str) -> str:
    """A usable label made from a host or database name (``simrs_db`` -> ``simrs-db``)."""
    return label(re.sub(r"[^A-Za-z0-9.-]", "-", text).strip(".-") or what, what)


def host_label(hostname: str) -> str:
    return slug(hostname, "host")


def backup_name(started: datetime, host: str, source: str, kind: str) -> str:
    if kind not in manifest.KINDS:
        raise BackupError(
            f"unknown backup kind {kind!r}", f"use one of {', '.join(manifest.KINDS)}"
        )
    stamp = manifest.iso(started).replace("-", "").replace(":", "")
    return f"{stamp}_{label(host, 'host')}_{label(source, 'source')}_{kind}"


def source_of(name: str) -> str:
    """The source in a backup folder name (labels hold no underscore, see ``label``)."""
    return name.split("_")[2]


@dataclass
class Backup:
    path: Path
    host: str
    source: str
    kind: str
    time: datetime  # manifest started_at, the only clock prune trusts
    verified: bool
    pinned: str | None
    manifest: dict = field(repr=False)

    @property
    def name(self) -> str:
        return self.path.name


def load(folder: Path) -> Backup:
    data = manifest.read(folder)
    pin = folder / manifest.PIN
    return Backup(
        path=folder,
        host=data["host"],
        source=data["source"],
        kind=data["kind"],
        time=manifest.parse_time(data["started_at"]),
        verified=bool(data.get("verified_at")),
        pinned=json.loads(pin.read_text())["reason"] if pin.exists() else None,
        manifest=data,
    )


def list_backups(root: Path) -> tuple[list[Backup], dict[str, str]]:
    """Complete backups under ``root`` by manifest time, and the folders skipped with why.

    Hidden entries (staging, locks, deletions in progress) are never backups.
    """
    backups, skipped = [], {}
    if not root.is_dir():
        return [], {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        try:
            backups.append(load(entry))
        except (BackupError, KeyError, ValueError) as exc:
            skipped[entry.name] = str(exc)
    backups.sort(key=lambda b: (b.time, b.name))
    return backups, skipped


# Prune decides and deletes under this lock, and pinning takes it too: a backup pinned
# while a prune runs is never deleted on a decision taken before the pin.
_PRUNE_LOCK = "prune"


def pin(folder: Path, reason: str) -> None:
    """Keep a backup through every prune (used for the monthly copy, S3.4)."""
    manifest.read(folder)
    with lock.hold(folder.parent, _PRUNE_LOCK, purpose="pin"):
        atomic.write_json(
            folder / manifest.PIN, {"reason": reason, "at": manifest.iso(manifest.utc_now())}
        )


def unpin(folder: Path) -> bool:
    """Let prune decide about a backup again; False when it was not pinned."""
    manifest.read(folder)
    with lock.hold(folder.parent, _PRUNE_LOCK, purpose="unpin"):
        try:
            (folder / manifest.PIN).unlink()
        except FileNotFoundError:
            return False
        atomic.fsync_dir(folder)
    return True


def apply_prune(
    root: Path, policy, now: datetime | None = None, sources=None, dry_run: bool = True
) -> dict:
    """Decide (``prune.decide``) for every backup under ``root``; unless ``dry_run``, delete
    those removed whose source is in ``sources`` (all when None)."""
    with contextlib.ExitStack() as held:
        if not dry_run and root.is_dir():
            held.enter_context(lock.hold(root, _PRUNE_LOCK, purpose="prune"))
        backups, skipped = list_backups(root)
        items = [
            prune.Item(b.name, b.host, b.source, b.time, b.verified, b.pinned) for b in backups
        ]
        decisions = prune.decide(items, policy, now or manifest.utc_now())
        doomed = [
            d.name for d in decisions if not d.keep and (sources is None or d.source in sources)
        ]
        for name in [] if dry_run else doomed:
            atomic.remove(root / name)
    return {
        "decisions": [
            {
                "name": d.name,
                "host": d.host,
                "source": d.source,
                "action": "keep" if d.keep else "remove",
                "reasons": list(d.reasons),
            }
            for d in decisions
        ],
        "removed": [] if dry_run else doomed,
        "would_remove": doomed if dry_run else [],
        "skipped": skipped,
    }
