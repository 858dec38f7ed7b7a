"""Taking a backup, whatever the source: the order of operations every engine shares.

destination contract -> lock -> clean what dead runs left -> write into a hidden staging
folder -> checksum -> verify -> manifest -> fsync and rename into place.
"""

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import VERSION, atomic, catalog, destination, lock, manifest, verify


@dataclass
class Destination:
    root: Path
    mount_point: bool = False
    marker: str = destination.MARKER


@dataclass
class Job:
    """What to back up and why; ``write`` puts the payload in a folder and returns the
    engine's manifest fields, ``content_of`` names each payload file's content."""

    source: str
    source_type: str  # postgresql, mariadb, files
    kind: str
    write: Callable[[Path], dict]
    content_of: Callable[[str], str]
    triggered_by: str = "unknown"
    reason: str = ""
    host: str | None = None


def plan(dest: Destination, job: Job) -> dict:
    """What ``run`` would do, checked without writing anything (Ansible check mode)."""
    destination.check(dest.root, dest.mount_point, dest.marker)
    host = catalog.host_label(job.host or socket.gethostname())
    name = catalog.backup_name(manifest.utc_now(), host, job.source, job.kind)
    return {"would_write": str(dest.root / name), "source": job.source, "kind": job.kind}


def run(dest: Destination, job: Job, verify_after: bool = True) -> dict:
    host = catalog.host_label(job.host or socket.gethostname())
    catalog.label(job.source, "source")
    destination.prepare(dest.root, dest.mount_point, dest.marker)
    with lock.hold(dest.root, job.source) as held:
        cleaned = atomic.clean_leftovers(dest.root, host)
        started = manifest.utc_now()
        name = catalog.backup_name(started, host, job.source, job.kind)
        with atomic.staging(dest.root, name) as stage:
            fields = job.write(stage.path)
            ended = manifest.utc_now()
            files = manifest.describe_files(stage.path, job.content_of)
            data = {
                "schema": manifest.SCHEMA,
                "name": name,
                "host": host,
                "source": job.source,
                "source_type": job.source_type,
                "kind": job.kind,
                "engine": {"name": "spo-backup", "version": VERSION},
                "trigger": {"by": job.triggered_by, "reason": job.reason},
                "started_at": manifest.iso(started),
                "ended_at": manifest.iso(ended),
                "duration_seconds": round((ended - started).total_seconds(), 3),
                "stored_bytes": sum(f["bytes"] for f in files.values()),
                "files": files,
                "status": "complete",
                "verified_at": None,
                **fields,
            }
            if verify_after:
                report = verify.check_payload(stage.path, data)
                data["verified_at"] = manifest.iso(manifest.utc_now())
                if data.get("raw_bytes") is None:
                    data["raw_bytes"] = report["raw_bytes"]
            atomic.write_json(stage.path / manifest.FILENAME, data)
            path = stage.commit()
    return {"path": str(path), "manifest": data, "cleaned": cleaned, "stale_lock": held.stale}
