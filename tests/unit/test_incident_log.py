"""The troubleshooting log (S0.4): versioned incident records in the inventory, written once."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from spo import incident_log as log
from spo.main import cli

LAB = Path(__file__).resolve().parents[2] / "inventories" / "lab"


@pytest.fixture
def site(tmp_path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(LAB, copy)
    return copy


def spo(site: Path, *args: str):
    return CliRunner().invoke(cli, ["-i", str(site), "incident", *args])


def test_an_incident_is_opened_and_resolved_as_two_files_never_edited(site):
    moment = datetime(2026, 12, 7, 8, 15, tzinfo=UTC)
    opened = log.open_incident(site, "simrs-db", "hardware", "Disk /dev/sdb full!", "sari", None,
                               moment)  # fmt: skip
    assert opened.id == "20261207T081500Z-disk-dev-sdb-full"
    first = site / "incidents" / "2026" / f"{opened.id}.yml"
    text = first.read_text()
    assert text.startswith("# Log gangguan (SPO S0.4)")
    assert yaml.safe_load(text)["problem"] == "Disk /dev/sdb full!"
    log.resolve(site, opened.id, "old logs moved to the NAS, disk at 61 %", "budi")
    assert first.read_text() == text, "the opening record is never rewritten"
    [incident], findings = log.read_log(site)
    assert findings == [] and not incident.open
    assert incident.resolved.resolution == "old logs moved to the NAS, disk at 61 %"
    with pytest.raises(log.IncidentError, match="already exists and is never replaced"):
        log.resolve(site, opened.id, "again", "budi")


def test_the_command_records_lists_and_refuses_what_it_cannot(site):
    done = spo(site, "add", "--host", "simrs-app", "--category", "application",
               "--problem", "SIMRS login page times out")  # fmt: skip
    assert done.exit_code == 0, done.output
    incident_id = done.output.split()[1]
    listed = json.loads(spo(site, "list", "--open", "--json").output)
    assert [(i["id"], i["host"], i["resolved"]) for i in listed] == [
        (incident_id, "simrs-app", None)]  # fmt: skip
    assert spo(site, "resolve", incident_id, "--resolution", "Tomcat restarted").exit_code == 0
    assert json.loads(spo(site, "list", "--open", "--json").output) == []
    again = spo(site, "resolve", incident_id, "--resolution", "twice")
    assert again.exit_code == 1 and "already resolved" in again.output
    unknown = spo(site, "resolve", "20260101T000000Z-nothing", "--resolution", "x")
    assert unknown.exit_code == 1 and "no incident 20260101T000000Z-nothing" in unknown.output
    wrong = spo(site, "add", "--host", "x", "--category", "weather", "--problem", "rain")
    assert wrong.exit_code == 2 and "'weather' is not one of" in wrong.output


def test_a_damaged_record_is_named_by_file_and_key(site):
    opened = log.open_incident(site, "nas", "power", "UPS alarm", "sari", None)
    path = site / "incidents" / opened.id[:4] / f"{opened.id}.yml"
    data = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**data, "category": "weather"}))
    incidents, findings = log.read_log(site)
    assert incidents == []
    assert [(f.key, "not allowed" in f.message) for f in findings] == [("category", True)]
    listed = spo(site, "list")
    assert listed.exit_code == 2 and "category" in listed.output
