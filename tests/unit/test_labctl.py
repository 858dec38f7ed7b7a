"""The lab's container definitions and image cache key, without podman."""

from __future__ import annotations

from pathlib import Path

from spo import labctl

HOSTS = (
    labctl.LabHost("simrs-db", "spo-lab-simrs-db", "10.89.60.11", fuse=True),
    labctl.LabHost("nas", "spo-lab-nas", "10.89.60.13", fuse=False),
)
SPEC = labctl.LabSpec(Path("inv"), "spo-lab", "10.89.60.0/24", HOSTS)


def test_each_host_resolves_its_peers_but_not_itself():
    args = labctl.run_args(HOSTS[0], SPEC, "img")
    assert "nas:10.89.60.13" in args
    assert not any(a.startswith("simrs-db:") for a in args)
    assert args[-2:] == ["img", "/sbin/init"]


def test_fuse_only_where_the_inventory_asks():
    assert "/dev/fuse" in labctl.run_args(HOSTS[0], SPEC, "img")
    assert "/dev/fuse" not in labctl.run_args(HOSTS[1], SPEC, "img")


def test_config_hash_changes_with_the_definition():
    one = labctl.config_hash(labctl.run_args(HOSTS[0], SPEC, "img:a"))
    assert one == labctl.config_hash(labctl.run_args(HOSTS[0], SPEC, "img:a"))
    assert one != labctl.config_hash(labctl.run_args(HOSTS[0], SPEC, "img:b"))


def test_image_tag_follows_the_recipe(tmp_path, monkeypatch):
    script, packages = tmp_path / "build.sh", tmp_path / "packages.txt"
    script.write_text("#!/bin/sh\n")
    packages.write_text("systemd\n")
    monkeypatch.setattr(labctl, "IMAGE_RECIPE", (script, packages))
    first = labctl.image_tag()
    assert first.startswith("localhost/spo-lab:")
    packages.write_text("systemd\npostgresql\n")
    assert labctl.image_tag() != first


def test_load_spec_reads_the_lab_inventory():
    root = Path(__file__).resolve().parents[2]
    spec = labctl.load_spec(root / "inventories" / "lab")
    assert {h.name for h in spec.hosts} == {"simrs-db", "simrs-mirror", "nas", "simrs-app"}
    assert spec.network == "spo-lab"
    assert all(h.container == f"spo-lab-{h.name}" for h in spec.hosts)
