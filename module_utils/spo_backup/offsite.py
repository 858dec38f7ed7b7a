"""Off-server copies (S1.2, S2.1, S3.4): every local backup of a source that an offsite lacks
is copied there, checked on arrival and published atomically; the offsite is then pruned with
the local policy, so both keep the same backups.

Catch-up rather than "copy the new one": a backup made while the NAS was down is copied by
the next run that finds it mounted.
"""

import contextlib
import os
import shutil
from pathlib import Path

from . import atomic, catalog, destination, manifest, prune
from .config import Offsite
from .errors import DestinationError, VerifyError

_HINT = (
    "the copy was not published; check the NAS (free space, network, disk errors) and run "
    "the backup again: missing copies are made by the next run"
)


def check(offsite: Offsite) -> None:
    """The destination contract on the mount point; only reads, never writes."""
    if offsite.mount_point is None:
        return
    try:
        destination.check(offsite.mount_point, True, offsite.marker)
    except DestinationError as exc:
        raise DestinationError(f"offsite {offsite.name}: {exc.what}", exc.hint) from None


def sync(
    local_root: Path, offsite: Offsite, host: str, source: str, policy: prune.Policy, now=None
) -> dict:
    """Copy what is missing, prune; return what was copied, removed, kept and not understood."""
    check(offsite)  # before the first write under the mount point
    root = offsite.path
    root.mkdir(mode=0o750, parents=True, exist_ok=True)
    atomic.clean_leftovers(root, host)
    present = {b.name for b in catalog.list_backups(root)[0]}
    copied = [
        copy(b, root).name for b in backups_of(local_root, host, source) if b.name not in present
    ]
    pruned = catalog.apply_prune(root, policy, now, sources={source}, dry_run=False)
    return {
        "offsite": offsite.name,
        "path": str(root),
        "copied": copied,
        "removed": pruned["removed"],
        "count": len(backups_of(root, host, source)),
        # Folders without a valid manifest are never counted nor deleted: a person must look.
        "unrecognised": pruned["skipped"],
    }


def backups_of(root: Path, host: str, source: str) -> list[catalog.Backup]:
    return [b for b in catalog.list_backups(root)[0] if b.host == host and b.source == source]


def reachable(offsite: Offsite) -> bool:
    try:
        check(offsite)
    except DestinationError:
        return False
    return True


def copy(backup: catalog.Backup, root: Path) -> Path:
    with atomic.staging(root, backup.name) as stage:
        for rel in _all_files(backup.path):
            target = stage.path / rel
            target.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
            shutil.copyfile(backup.path / rel, target)
            with contextlib.suppress(OSError):  # CIFS may refuse modes; content is what counts
                shutil.copymode(backup.path / rel, target)
        atomic.fsync_tree(stage.path)
        arrived(stage.path, backup.manifest, backup.name)
        return stage.commit()


def _all_files(folder: Path) -> list[str]:
    return [
        *manifest.payload_files(folder),
        *(n for n in manifest.NOT_PAYLOAD if (folder / n).exists()),
    ]


def arrived(folder: Path, expected: dict, name: str) -> None:
    """The copy has the source's manifest and every payload file its checksum, read back from
    the destination (not from this host's page cache)."""
    problems = {}
    if manifest.read(folder) != expected:
        problems[manifest.FILENAME] = "differs from the local manifest"
    for extra in sorted(set(manifest.payload_files(folder)) - set(expected["files"])):
        problems[extra] = "file is not in the manifest"
    for rel, info in sorted(expected["files"].items()):
        path = folder / rel
        if not path.is_file():
            problems[rel] = "file is missing"
            continue
        _drop_cache(path)
        found = manifest.sha256_file(path)
        if found != info["sha256"]:
            problems[rel] = f"sha256 is {found} at the destination, {info['sha256']} here"
    if problems:
        detail = "; ".join(f"{rel}: {why}" for rel, why in problems.items())
        raise VerifyError(f"the copy of {name} arrived damaged: {detail}", _HINT, problems)


def _drop_cache(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
