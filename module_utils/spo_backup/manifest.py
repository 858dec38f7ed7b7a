"""manifest.json: what a backup holds, how it was made, and the checksum of every payload file."""

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from .errors import BackupError

SCHEMA = 1
FILENAME = "manifest.json"
PIN = "pinned.json"  # written beside the manifest when a monthly copy must outlive pruning
NOT_PAYLOAD = (FILENAME, PIN)
KINDS = ("automatic", "manual", "weekly-full", "monthly-copy", "pre-change", "pre-restore")


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def payload_files(folder: Path) -> list[str]:
    """Relative paths of every payload file of a backup folder, sorted."""
    found = []
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            rel = os.path.relpath(os.path.join(dirpath, name), folder)
            if rel not in NOT_PAYLOAD:
                found.append(rel)
    return sorted(found)


def describe_files(folder: Path, content_of) -> dict[str, dict]:
    """sha256, size and content kind (``content_of(relpath)``) of every payload file.

    The files are hashed side by side (hashlib lets go of the GIL): a parallel backup's parts
    are hashed in the time of the biggest one.
    """
    rels = payload_files(folder)
    with ThreadPoolExecutor(max_workers=min(len(rels), os.cpu_count() or 1) or 1) as pool:
        digests = pool.map(lambda rel: sha256_file(folder / rel), rels)
        return {
            rel: {
                "sha256": digest,
                "bytes": (folder / rel).stat().st_size,
                "content": content_of(rel),
            }
            for rel, digest in zip(rels, digests, strict=True)
        }


def read(folder: Path) -> dict:
    path = folder / FILENAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(
            f"{folder} has no {FILENAME}: it is not a complete backup",
            "pick another backup (list them with backup_verify or spo backup list)",
        ) from None
    except (OSError, ValueError) as exc:
        raise BackupError(
            f"the manifest {path} cannot be read: {exc}",
            "the backup is damaged; pick another one and check the destination disk",
        ) from None
    if data.get("schema") != SCHEMA or data.get("status") != "complete":
        raise BackupError(
            f"the manifest {path} is not a complete schema-{SCHEMA} manifest",
            "pick another backup; this one was not finished or is from another version",
        )
    return data
