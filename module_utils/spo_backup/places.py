"""Every place this host's backups live, listed from their manifests: its own folder, the
weekly folder, each offsite and each monthly copy target (a month folder per month)."""

from pathlib import Path

from . import catalog, manifest, offsite, weekly
from .config import Config
from .errors import BackupError


def everywhere(cfg: Config) -> list[dict]:
    found = [listing("local", cfg.backup_root)]
    if cfg.calendar.weekly is not None:
        found.append(listing("weekly", weekly.target(cfg).root))
    for off in cfg.offsite:
        found.append(listing(f"offsite {off.name}", off.path, _unreachable(off)))
    if cfg.calendar.monthly is not None:
        for target in cfg.calendar.monthly.targets:
            found.append(_monthly(target))
    return found


def _monthly(target) -> dict:
    """A monthly target holds one folder per month, each a folder of backups. An external
    disk is plugged in only now and then, so its absence is not an error here."""
    place = listing(f"monthly {target.name}", target.path, _unreachable(target))
    place["optional"] = True
    if place["error"] is None and target.path.is_dir():
        place["backups"], place["unrecognised"] = [], {}
        for month in sorted(p for p in target.path.iterdir() if p.is_dir()):
            part = listing(place["where"], month)
            place["backups"] += part["backups"]
            place["unrecognised"].update(part["unrecognised"])
    return place


def _unreachable(off) -> str | None:
    try:
        offsite.check(off)
    except BackupError as exc:
        return str(exc)
    return None


def listing(where: str, root: Path, error: str | None = None) -> dict:
    found, skipped = ([], {}) if error else catalog.list_backups(root)
    return {
        "where": where,
        "path": str(root),
        "error": error,
        "optional": False,
        "backups": [
            {
                "name": b.name,
                "host": b.host,
                "source": b.source,
                "kind": b.kind,
                "time": manifest.iso(b.time),
                "bytes": b.manifest.get("stored_bytes"),
                "duration_seconds": b.manifest.get("duration_seconds"),
                "verified": b.verified,
                "pinned": b.pinned,
            }
            for b in found
        ],
        "unrecognised": skipped,
    }
