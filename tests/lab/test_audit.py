"""`spo demo` on the lab (the session's lab is the demo's: labhelpers.provisioned), then `spo
audit` (issue 10): after the demo every applicable requirement is met; a stopped mirror and
deleted backups are reported as exactly the requirements they break, and the audit then exits
non-zero."""

from __future__ import annotations

import json

import pytest

from labhelpers import ROOT, lab_exec, spo

pytestmark = pytest.mark.lab

DEMO_SITE = ROOT / "var" / "demo" / "site"
DB, MIRROR = "simrs-db", "simrs-mirror"


def audit(runs) -> tuple[int, dict[str, dict]]:
    done = spo("-i", str(DEMO_SITE), "--runs-dir", str(runs), "audit", "--format", "json",
               check=False)  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    found = json.loads(done.stdout)
    return done.returncode, {r["requirement"]: r for r in found["requirements"]}


def not_met(found: dict[str, dict]) -> set[str]:
    return {rid for rid, r in found.items() if r["status"] == "not met"}


def test_after_the_demo_every_applicable_requirement_is_met(provisioned):
    code, found = audit(provisioned)
    assert not_met(found) == set() and code == 0, {r: found[r]["gap"] for r in not_met(found)}
    assert len(found) == 31
    # What the demo did is judged met, on evidence; what it cannot have done yet is not applicable.
    done_by_the_demo = {
        "S0.1", "S0.2", "S0.3", "S0.4", "S0.5", "S1.1", "S1.2", "S1.3", "S1.4", "S1.5", "S1.6",
        "S2.1", "S2.2", "S2.3", "S2.4", "S2.5", "S2.6", "S3.3", "S3.5", "S3.6", "S3.9",
        "S4.1", "S4.2", "S4.3", "S4.4", "S4.5",
    }  # fmt: skip
    assert {rid for rid, r in found.items() if r["status"] == "met"} == done_by_the_demo
    assert all(found[rid]["evidence"] for rid in done_by_the_demo)
    reports = sorted(p.name for p in (ROOT / "var" / "demo" / "reports").iterdir())
    assert "change.id.html" in reports and "quarterly.en.html" in reports


def test_a_stopped_mirror_breaks_exactly_mirroring(provisioned):
    lab_exec(MIRROR, "mariadb", "-e", "STOP REPLICA")
    try:
        code, found = audit(provisioned)
    finally:
        lab_exec(MIRROR, "mariadb", "-e", "START REPLICA")
    assert not_met(found) == {"S3.3"} and code == 1
    assert "simrs-mirror" in found["S3.3"]["gap"]


def test_deleted_backups_break_exactly_the_backup_requirements(provisioned):
    # Every automatic backup of the databases taken out of simrs-db's own folder by hand (and
    # put back afterwards, so the lab stays whole for the other tests and the next run).
    aside = "/var/backups/spo-audit-test"
    lab_exec(DB, "sh", "-c", f"mkdir -p {aside} && mv /var/backups/spo/*_simrs-db_*_automatic "
             f"{aside}/")  # fmt: skip
    try:
        code, found = audit(provisioned)
    finally:
        lab_exec(DB, "sh", "-c", f"mv {aside}/* /var/backups/spo/ && rmdir {aside}")
    assert not_met(found) == {"S1.1", "S1.5", "S2.2", "S2.6"} and code == 1
    assert "gone without retention pruning them" in found["S1.5"]["gap"]
    assert "spo backup now --host simrs-db" in found["S1.1"]["gap"]
