"""Where the project's files are, found from this package's location."""

from __future__ import annotations

import os
from pathlib import Path

# cli/spo/paths.py -> the repository root.
PROJECT_ROOT = Path(os.environ.get("SPO_PROJECT_ROOT", Path(__file__).resolve().parents[2]))
PLAYBOOKS = PROJECT_ROOT / "playbooks"
ANSIBLE_CFG = PROJECT_ROOT / "ansible.cfg"
LAB_DIR = PROJECT_ROOT / "lab"
CONTAINERS_CONF = LAB_DIR / "containers.conf"


def default_inventory() -> Path:
    return PROJECT_ROOT / "inventories" / "lab"


def default_runs_dir() -> Path:
    return PROJECT_ROOT / "var" / "runs"
