"""The archive register (S1.6): records written once, duplicates refused, malformed files
reported by file and key; `spo archive add/list` with the playbook run faked."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from spo import archive_register as register
from spo.archive import MANIFEST_TASK, PLAYBOOK
from spo.host_data import events_dir
from spo.main import cli
from spo.paths import PLAYBOOKS
from spo.records import RunRecord

BACKUP = "20250104T050000.000Z_simrs-db_sik_manual"
DUMP_SHA = "ab" * 32


def manifest(**changes) -> dict:
    """A manifest as module_utils/spo_backup/backup.py writes it."""
    data = {
        "schema": 1, "name": BACKUP, "host": "simrs-db", "source": "sik",
        "source_type": "mariadb", "kind": "manual", "started_at": "2025-01-04T05:00:00.000Z",
        "ended_at": "2025-01-04T05:00:09.000Z", "stored_bytes": 4096,
        "files": {"sik.sql.zst": {"sha256": DUMP_SHA, "bytes": 4096, "content": "dump"}},
        "status": "complete", "verified_at": "2025-01-04T05:00:10.000Z",
    }  # fmt: skip
    return {**data, **changes}


def manifest_bytes(**changes) -> bytes:
    return json.dumps(manifest(**changes), indent=2).encode()


def make_record(**changes) -> register.ArchiveRecord:
    facts = register.manifest_facts(manifest_bytes(), BACKUP, "simrs-db:/b/manifest.json")
    fields = {
        "requirement": "S1.6", "host": "simrs-db", **facts, "medium": "External disk 3",
        "handed_to": "Budi (IT support)", "recorded_by": "sari",
        "recorded_at": "2025-02-01T08:30:00Z", "note": None, "inventory_commit": "abc123",
    }  # fmt: skip
    return register.ArchiveRecord(**{**fields, **changes})


# --- manifest ---------------------------------------------------------------------------


def test_manifest_facts_identify_the_backup_by_the_manifest_bytes():
    content = manifest_bytes()
    facts = register.manifest_facts(content, BACKUP, "simrs-db:/b/manifest.json")
    assert facts == {
        "backup": BACKUP,
        "source": "sik",
        "kind": "manual",
        "backup_time": "2025-01-04T05:00:00.000Z",
        "stored_bytes": 4096,
        "manifest_sha256": hashlib.sha256(content).hexdigest(),
        "files": {"sik.sql.zst": DUMP_SHA},
    }


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        ({"status": "partial"}, "status", '"complete"'),
        ({"verified_at": None}, "verified_at", "never verified"),
        ({"schema": 2}, "schema", "pick another backup"),
        ({"name": "other"}, "name", "renamed"),
    ],
)
def test_an_unfinished_or_unverified_backup_is_refused(changes, key, words):
    with pytest.raises(register.RegisterError) as caught:
        register.manifest_facts(manifest_bytes(**changes), BACKUP, "simrs-db:/b/manifest.json")
    message = str(caught.value)
    assert f"simrs-db:/b/manifest.json: error: {key}:" in message
    assert words in message
    assert "allowed:" in message and "fix:" in message


def test_a_damaged_manifest_is_refused():
    with pytest.raises(register.RegisterError, match=r"is not JSON.*pick another backup"):
        register.manifest_facts(b"{half", BACKUP, "simrs-db:/b/manifest.json")


# --- writing and reading ----------------------------------------------------------------


def test_a_record_is_one_plain_yaml_file_per_handover(tmp_path):
    record = make_record()
    path = register.write_record(tmp_path / "archive", record)
    assert path == tmp_path / "archive" / "2025" / f"20250201T083000Z-{BACKUP}.yml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Register arsip cadangan (SPO S1.6)")
    assert "# Backup archive register (SPO S1.6)" in text
    # Plain YAML: times stay text, the record reads back exactly.
    assert yaml.safe_load(text) == json.loads(json.dumps(vars(record)))
    assert not list(path.parent.glob(".*")), "no temporary file left behind"


def test_an_existing_record_file_is_never_replaced(tmp_path):
    path = register.write_record(tmp_path, make_record())
    before = path.read_bytes()
    with pytest.raises(register.RegisterError, match="never replaced"):
        register.write_record(tmp_path, make_record(medium="another disk"))
    assert path.read_bytes() == before


def test_a_record_with_a_blank_field_is_not_written(tmp_path):
    with pytest.raises(register.RegisterError, match="handed_to"):
        register.write_record(tmp_path, make_record(handed_to="  "))
    assert not list(tmp_path.rglob("*"))


def test_the_same_backup_on_the_same_medium_is_refused(tmp_path):
    register.write_record(tmp_path, make_record())
    entries, findings = register.read_register(tmp_path)
    assert findings == []
    with pytest.raises(register.RegisterError) as caught:
        register.refuse_duplicate(entries, BACKUP, "external  DISK 3")
    message = str(caught.value)
    assert f"20250201T083000Z-{BACKUP}.yml" in message and "--again" in message
    register.refuse_duplicate(entries, BACKUP, "External disk 4")
    register.refuse_duplicate(
        entries, "20250105T050000.000Z_simrs-db_sik_manual", "External disk 3"
    )


def test_the_register_lists_valid_records_oldest_first_and_names_each_bad_key(tmp_path):
    register.write_record(tmp_path, make_record(recorded_at="2025-03-01T00:00:00Z"))
    register.write_record(tmp_path, make_record(recorded_at="2025-01-01T00:00:00Z"))
    bad = tmp_path / "2025" / "20250102T000000Z-bad.yml"
    data = vars(make_record())
    bad.write_text(yaml.safe_dump({**data, "stored_bytes": "big", "medum": "x"}))
    (tmp_path / "2025" / "20250103T000000Z-list.yml").write_text("- not a mapping\n")

    entries, findings = register.read_register(tmp_path)

    assert [e.record.recorded_at for e in entries] == [
        "2025-01-01T00:00:00Z",
        "2025-03-01T00:00:00Z",
    ]
    by_key = {(f.file.rsplit("/", 1)[-1], f.key): f for f in findings}
    assert set(by_key) == {
        ("20250102T000000Z-bad.yml", "stored_bytes"),
        ("20250102T000000Z-bad.yml", "medum"),
        ("20250103T000000Z-list.yml", "(file)"),
    }
    assert "did you mean 'medium'" in by_key[("20250102T000000Z-bad.yml", "medum")].fix


def test_a_hand_written_unquoted_time_is_reported(tmp_path):
    path = tmp_path / "2025" / "x.yml"
    path.parent.mkdir()
    text = register.render(make_record()).replace("'2025-02-01T08:30:00Z'", "2025-02-01T08:30:00Z")
    path.write_text(text)
    record, findings = register.read_record(path)
    assert record is None
    assert [(f.key, f.allowed) for f in findings] == [("recorded_at", register.TIME)]


def test_a_rule_for_every_record_field_in_order():
    assert tuple(rule.key for rule in register.RECORD_RULES) == register.FIELDS


def test_the_playbook_reads_the_manifest_in_the_task_the_command_looks_for():
    [play] = yaml.safe_load((PLAYBOOKS / PLAYBOOK).read_text())
    [task] = [t for t in play["tasks"] if t["name"] == MANIFEST_TASK]
    assert task["ansible.builtin.slurp"]["src"].endswith("/manifest.json")


# --- the commands, with the playbook run faked --------------------------------------------


class FakeRun:
    """Stands in for spo.runner.run_playbook: events as ansible-runner leaves them."""

    def __init__(self, tmp_path, content: bytes):
        self.tmp_path, self.content, self.calls = tmp_path, content, []

    def __call__(self, opts, playbook, command, extravars=None):
        self.calls.append((opts.limit, playbook, extravars))
        record = RunRecord(
            id=f"run{len(self.calls)}", command=command, argv=[], operator="sari",
            playbook=playbook, inventory=str(opts.inventory), inventory_commit=None,
            check=opts.check, limit=opts.limit, started="2025-02-01T08:30:00+00:00",
            artifacts=str(self.tmp_path / "artifacts"), rc=0, status="successful",
            hosts={opts.limit: {"result": "ok"}},
        )  # fmt: skip
        events_dir(record).mkdir(parents=True)
        res = {
            "content": base64.b64encode(self.content).decode(),
            "encoding": "base64",
            "source": f"/var/backups/spo/{extravars['archive_backup']}/manifest.json",
        }
        data = {"host": opts.limit, "task": MANIFEST_TASK, "res": res}
        event = {"event": "runner_on_ok", "counter": 1, "event_data": data}
        (events_dir(record) / "1-abc.json").write_text(json.dumps(event))
        return record


@pytest.fixture
def site(tmp_path, monkeypatch):
    inventory = tmp_path / "site"
    inventory.mkdir()
    fake = FakeRun(tmp_path, manifest_bytes())
    monkeypatch.setattr("spo.archive.run_playbook", fake)
    times = iter(["2025-02-01T08:30:00Z", "2025-02-01T09:00:00Z", "2025-02-02T10:00:00Z"])
    monkeypatch.setattr(register, "utc_now", lambda: next(times))
    return inventory, fake


def spo(inventory, *args):
    return CliRunner().invoke(cli, ["-i", str(inventory), "archive", *args])


def add(inventory, *extra):
    return spo(inventory, "add", BACKUP, "--host", "simrs-db", "--medium", "External disk 3",
               "--handed-to", "Budi", *extra)  # fmt: skip


def test_add_records_the_manifest_read_on_the_host(site):
    inventory, fake = site
    result = add(inventory, "--note", "monthly copy")
    assert result.exit_code == 0, result.output
    assert fake.calls == [("simrs-db", "archive_manifest.yml", {"archive_backup": BACKUP})]
    [path] = (inventory / "archive").rglob("*.yml")
    data = yaml.safe_load(path.read_text())
    assert data["manifest_sha256"] == hashlib.sha256(manifest_bytes()).hexdigest()
    assert (data["host"], data["medium"], data["handed_to"], data["note"]) == (
        "simrs-db", "External disk 3", "Budi", "monthly copy",
    )  # fmt: skip
    assert f"recorded: {path}" in result.output


def test_add_refuses_a_second_record_on_the_same_medium_unless_again(site):
    inventory, fake = site
    assert add(inventory).exit_code == 0
    refused = add(inventory)
    assert refused.exit_code == 1
    assert f"20250201T083000Z-{BACKUP}.yml" in refused.output and "--again" in refused.output
    assert len(fake.calls) == 1, "refused before anything ran on the host"
    assert add(inventory, "--again").exit_code == 0
    assert len(list((inventory / "archive").rglob("*.yml"))) == 2


def test_add_refuses_an_unverified_backup(site):
    inventory, fake = site
    fake.content = manifest_bytes(verified_at=None)
    result = add(inventory)
    assert result.exit_code == 1
    assert f"simrs-db:/var/backups/spo/{BACKUP}/manifest.json: error: verified_at" in result.output
    assert not (inventory / "archive").exists()


def test_add_refuses_a_name_that_is_a_path(site):
    inventory, fake = site
    result = spo(inventory, "add", "../etc", "--host", "h", "--medium", "m", "--handed-to", "x")
    assert result.exit_code == 2 and "backup folder name" in result.output
    assert fake.calls == []


def test_list_round_trips_and_reports_a_malformed_file(site):
    inventory, _fake = site
    assert add(inventory).exit_code == 0
    assert add(inventory, "--medium", "DVD 7").exit_code == 0
    (inventory / "archive" / "2025" / "20250101T000000Z-broken.yml").write_text("requirement: S1\n")

    listed = spo(inventory, "list", "--json")
    assert listed.exit_code == 1
    records = json.loads(listed.stdout)
    for record in records:
        on_disk = yaml.safe_load((inventory / record.pop("file")).read_text())
        assert record == on_disk
    assert [r["medium"] for r in records] == ["External disk 3", "DVD 7"]
    assert "20250101T000000Z-broken.yml: error: requirement:" in listed.stderr
    assert "20250101T000000Z-broken.yml: error: backup: is missing" in listed.stderr

    table = spo(inventory, "list")
    assert table.exit_code == 1
    heading, *rows = table.stdout.splitlines()
    assert "Diserahkan / Handed over" in heading and "Diterima oleh / Handed to" in heading
    sha = hashlib.sha256(manifest_bytes()).hexdigest()
    assert len(rows) == 2 and sha[:12] in rows[0] and sha[:13] not in rows[0]


def test_list_of_an_empty_register(site):
    inventory, _fake = site
    result = spo(inventory, "list")
    assert result.exit_code == 0 and "no handovers recorded" in result.output


def test_ansible_does_not_read_the_register_as_inventory(tmp_path):
    """Record files live in the inventory folder for the auditors; Ansible must skip them."""
    root = Path(__file__).resolve().parents[2]
    site = tmp_path / "site"
    shutil.copytree(root / "inventories" / "lab", site)
    record = site / "archive" / "2026" / "20261122T010000Z-x.yml"
    record.parent.mkdir(parents=True)
    record.write_text("requirement: S1.6\nfiles:\n  dump.sql.zst: abc\nnote: test\n")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(site), "--graph"],
        env={**os.environ, "ANSIBLE_CONFIG": str(root / "ansible.cfg")},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "@db_servers" in done.stdout
    assert "@files" not in done.stdout and "@note" not in done.stdout
    assert "not a valid group definition" not in done.stderr
