"""The destination contract: a declared mount point (NAS, external disk) must really be
mounted and carry the marker file before anything is written.

Without it a backup to an unplugged disk silently fills the root file system under the empty
mount point, and the "off-server copy" of S1.3/S2.1 does not exist.
"""

import os
from pathlib import Path

from .errors import DestinationError

MARKER = ".spo-backup-destination"


def check(root: Path, mount_point: bool = False, marker: str = MARKER) -> None:
    """Refuse an unusable destination; only reads, never writes."""
    if not mount_point:
        return
    hint = (
        f"mount the NAS or external disk on {root}, check that {root / marker} exists on it "
        "(create it once when preparing the disk), then run again; nothing was written"
    )
    if not root.is_dir():
        raise DestinationError(f"the backup destination {root} does not exist", hint)
    if root.stat().st_dev == root.parent.stat().st_dev:
        raise DestinationError(
            f"the backup destination {root} is declared a mount point but nothing is mounted "
            f"there (same device as {root.parent})",
            hint,
        )
    if not (root / marker).is_file():
        raise DestinationError(
            f"the backup destination {root} is mounted but has no marker file {marker}: "
            "it may be the wrong disk",
            hint,
        )
    if not os.access(root, os.W_OK):
        raise DestinationError(f"the backup destination {root} is mounted read-only", hint)


def check_removable(root: Path, backup_root: Path) -> None:
    """A destination chosen by hand (a flash disk, an external disk, a laptop share) must be
    another device than the system disk and the host's own backups, or it protects nothing."""
    hint = (
        f"plug in and mount the external disk, then give its mount point (or a folder on it) "
        f"instead of {root}; nothing was written"
    )
    if not root.is_dir():
        raise DestinationError(f"the manual backup destination {root} does not exist", hint)
    device = root.stat().st_dev
    for other in (Path("/"), backup_root):
        if other.exists() and other.stat().st_dev == device:
            raise DestinationError(
                f"the manual backup destination {root} is on the same disk as {other}: "
                "nothing external is mounted there",
                hint,
            )
    if not os.access(root, os.W_OK):
        raise DestinationError(f"the manual backup destination {root} is read-only", hint)


def prepare(root: Path, mount_point: bool = False, marker: str = MARKER) -> None:
    """Check the contract, then create a plain (non-mount) destination if missing."""
    check(root, mount_point, marker)
    if not mount_point:
        root.mkdir(mode=0o750, parents=True, exist_ok=True)
