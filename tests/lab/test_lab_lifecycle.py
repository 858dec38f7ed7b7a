"""`spo lab up` and `spo lab down` on a one-host lab of its own, so the shared
lab stays up for the other tests."""

from __future__ import annotations

import json

import pytest

from labhelpers import podman, podman_inspect, spo

pytestmark = pytest.mark.lab

CONTAINER = "spo-labtest-solo"
NETWORK = "spo-labtest"


@pytest.fixture
def solo_inventory(tmp_path, lab):  # lab: the image is built once, by the shared lab
    inventory = tmp_path / "solo"
    inventory.mkdir()
    (inventory / "hosts.yml").write_text(
        "all:\n  children:\n    db_servers:\n      hosts:\n        solo:\n"
        f"          ansible_host: {CONTAINER}\n"
        "          spo_lab_ip: 10.89.61.11\n"
        "  vars:\n"
        f"    spo_lab_network: {NETWORK}\n"
        "    spo_lab_subnet: 10.89.61.0/24\n"
    )
    yield inventory
    podman("rm", "--force", CONTAINER)
    podman("network", "rm", NETWORK)


def test_lab_up_is_idempotent_and_down_removes_everything(solo_inventory):
    first = spo("-i", str(solo_inventory), "lab", "up").stdout
    assert "solo" in first and "created" in first
    second = spo("-i", str(solo_inventory), "lab", "up").stdout
    assert "unchanged" in second and "created" not in second

    status = json.loads(spo("-i", str(solo_inventory), "lab", "status", "--json").stdout)
    assert status[0]["state"] == "running"

    down = spo("-i", str(solo_inventory), "lab", "down").stdout
    assert "removed" in down
    assert podman_inspect(CONTAINER) is None
    assert podman("network", "exists", NETWORK).returncode != 0
    # Status now says the host is absent, and exits non-zero.
    after = spo("-i", str(solo_inventory), "lab", "status", check=False)
    assert after.returncode == 1 and "absent" in after.stdout


def test_lab_up_recreates_a_container_whose_definition_changed(solo_inventory):
    spo("-i", str(solo_inventory), "lab", "up")
    hosts = solo_inventory / "hosts.yml"
    hosts.write_text(hosts.read_text().replace("10.89.61.11", "10.89.61.21"))
    out = spo("-i", str(solo_inventory), "lab", "up").stdout
    assert "recreated" in out
    networks = podman_inspect(CONTAINER)["NetworkSettings"]["Networks"]
    assert networks[NETWORK]["IPAddress"] == "10.89.61.21"
