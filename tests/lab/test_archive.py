"""The archive register against a real backup on the lab (S1.6): `spo archive add` reads the
manifest on simrs-db, writes one plain YAML record, and `spo archive list` reads it back.

The records go into a copy of the lab inventory, so inventories/lab never changes.
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from labhelpers import LAB_INVENTORY, lab_exec, spo

pytestmark = pytest.mark.lab

DB = "simrs-db"
MEDIUM = "External disk WD-2TB no. 3"


def backup_names() -> set[str]:
    listing = json.loads(lab_exec(DB, "/usr/local/sbin/spo-backup", "list", "--json").stdout)
    return {b["name"] for place in listing if place["where"] == "local" for b in place["backups"]}


@pytest.fixture
def site(provisioned, tmp_path):
    """The provisioned lab driven from a copy of its inventory (with its vault password)."""
    inventory = tmp_path / "lab"
    shutil.copytree(LAB_INVENTORY, inventory)
    assert (inventory / ".vault-password").is_file()
    return inventory, provisioned


def test_a_handover_is_recorded_listed_and_not_recorded_twice(site):
    inventory, runs = site
    options = ("-i", str(inventory), "--runs-dir", str(runs))
    before = backup_names()
    spo(*options, "backup", "now", "--host", DB, "--source", "sik", "--reason", "to archive")
    [backup] = sorted(backup_names() - before)
    folder = f"/var/backups/spo/{backup}"

    spo(*options, "archive", "add", backup, "--host", DB, "--medium", MEDIUM,
        "--handed-to", "Budi (IT support)", "--note", "monthly copy")  # fmt: skip

    [path] = (inventory / "archive").rglob("*.yml")
    assert path.parent.parent == inventory / "archive" and path.name.endswith(f"-{backup}.yml")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Register arsip cadangan") and "$ANSIBLE_VAULT" not in text
    record = yaml.safe_load(text)
    manifest = json.loads(lab_exec(DB, "cat", f"{folder}/manifest.json").stdout)
    assert record["requirement"] == "S1.6"
    assert (record["backup"], record["host"], record["source"]) == (backup, DB, "sik")
    assert record["backup_time"] == manifest["started_at"]
    assert record["stored_bytes"] == manifest["stored_bytes"]
    assert record["files"] == {name: f["sha256"] for name, f in manifest["files"].items()}
    sha = lab_exec(DB, "sha256sum", f"{folder}/manifest.json").stdout.split()[0]
    assert record["manifest_sha256"] == sha
    assert (record["medium"], record["handed_to"], record["note"]) == (
        MEDIUM, "Budi (IT support)", "monthly copy",
    )  # fmt: skip

    listed = json.loads(spo("-i", str(inventory), "archive", "list", "--json").stdout)
    assert len(listed) == 1
    assert inventory / listed[0].pop("file") == path
    assert listed[0] == record

    again = spo(*options, "archive", "add", backup, "--host", DB, "--medium", MEDIUM.upper(),
                "--handed-to", "Budi", check=False)  # fmt: skip
    assert again.returncode != 0
    assert path.name in again.stderr and "--again" in again.stderr
    assert len(list((inventory / "archive").rglob("*.yml"))) == 1
    assert not (LAB_INVENTORY / "archive").exists(), "the repository's lab inventory is untouched"
