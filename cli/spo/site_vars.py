"""The variables of an inventory's group ``all`` (its group_vars files), read on the control
node for what commands compute there: the site's name and time zone, the downtime calendar.

Vault-encrypted files are skipped: nothing read here is a secret.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml


def group_all(inventory: Path) -> dict:
    """group_vars/all.yml and group_vars/all/*.yml merged (a later file wins, as Ansible's
    alphabetical order of a group's files does)."""
    root = inventory if inventory.is_dir() else inventory.parent
    folder = root / "group_vars"
    files = [folder / "all.yml", folder / "all.yaml"]
    if (folder / "all").is_dir():
        files += sorted((folder / "all").glob("*.y*ml"))
    found: dict = {}
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):  # absent, or vault-encrypted values
            continue
        if isinstance(data, dict):
            found.update(data)
    return found


def site_settings(inventory: Path) -> tuple[str | None, tzinfo]:
    """The site's name and time zone: ``spo_site_name`` and ``spo_timezone`` of the group
    ``all``, else no name and this machine's local time zone. The one place the commands'
    time zone is decided."""
    found = group_all(inventory)
    zone: tzinfo | None = None
    if isinstance(found.get("spo_timezone"), str):
        try:
            zone = ZoneInfo(found["spo_timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
    name = found.get("spo_site_name")
    return (name if isinstance(name, str) else None), zone or datetime.now().astimezone().tzinfo
