"""The built-in lab: four real systemd hosts that Ansible reaches (issue 2)."""

from __future__ import annotations

import json
import shutil

import pytest

from labhelpers import LAB_HOSTS, podman, podman_inspect, spo

pytestmark = pytest.mark.lab


def test_lab_has_four_running_systemd_hosts(lab):
    rows = json.loads(spo("-i", str(lab), "lab", "status", "--json").stdout)
    assert {r["host"] for r in rows} == LAB_HOSTS
    for row in rows:
        assert row["state"] == "running", row
        assert row["systemd"] in ("running", "degraded"), row


def test_lab_up_again_changes_nothing(lab):
    before = {h: podman_inspect(f"spo-lab-{h}") for h in LAB_HOSTS}
    out = spo("-i", str(lab), "lab", "up").stdout
    after = {h: podman_inspect(f"spo-lab-{h}") for h in LAB_HOSTS}
    for host in LAB_HOSTS:
        assert f"{host}" in out
        assert before[host]["Id"] == after[host]["Id"]
        assert before[host]["State"]["StartedAt"] == after[host]["State"]["StartedAt"]
    assert out.count("unchanged") == len(LAB_HOSTS)
    assert "building" not in out and "created" not in out


def test_lab_hosts_resolve_each_other_by_inventory_name(lab):
    proc = podman("exec", "spo-lab-simrs-db", "getent", "hosts", "simrs-mirror", "nas")
    assert "10.89.60.12" in proc.stdout and "10.89.60.13" in proc.stdout


def test_check_mode_ping_reaches_every_host_and_is_recorded(lab, tmp_path):
    runs = tmp_path / "runs"
    proc = spo("-i", str(lab), "--runs-dir", str(runs), "--check", "ping")
    # A progress line per task and host, as they happen.
    for host in LAB_HOSTS:
        assert f"ok          {host}" in proc.stdout
    records = json.loads(spo("--runs-dir", str(runs), "runs", "--json").stdout)
    assert len(records) == 1
    record = records[0]
    assert record["command"] == "ping" and record["check"] is True
    assert record["status"] == "successful" and record["rc"] == 0
    assert set(record["hosts"]) == LAB_HOSTS
    assert all(h["result"] == "ok" and h["failed"] == 0 for h in record["hosts"].values())
    assert record["inventory_commit"], "the inventory's git commit is part of the record"
    listing = spo("--runs-dir", str(runs), "runs").stdout
    assert record["id"] in listing and "simrs-db=ok" in listing


def test_a_host_that_cannot_be_reached_fails_the_run(lab, tmp_path):
    inventory = tmp_path / "inventory"
    shutil.copytree(lab, inventory)
    hosts = inventory / "hosts.yml"
    hosts.write_text(hosts.read_text().replace("        nas:\n", "        nas:\n        ghost:\n"))
    (inventory / "host_vars" / "ghost.yml").write_text(
        "---\nansible_host: spo-lab-no-such-container\n"
    )
    runs = tmp_path / "runs"
    proc = spo("-i", str(inventory), "--runs-dir", str(runs), "ping", check=False)
    assert proc.returncode != 0
    assert "UNREACHABLE" in proc.stdout or "FAILED" in proc.stdout
    record = json.loads(spo("--runs-dir", str(runs), "runs", "--json").stdout)[0]
    assert record["hosts"]["simrs-db"]["result"] == "ok"
    assert record["hosts"]["ghost"]["result"] in ("unreachable", "failed")
