"""The execution environment for AWX runs the same Ansible as `spo`: ansible-builder accepts
its definition, and it pins the ansible-core and collection versions `spo` installs, covering
every collection the roles and playbooks name."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = Path(yaml.__file__).parents[1] / "ansible_collections"


def pinned(package: str) -> str:
    text = (ROOT / "pyproject.toml").read_text()
    return re.search(rf'"{re.escape(package)}==([^"]+)"', text)[1]


def test_ansible_builder_makes_a_build_context_with_our_pins(tmp_path):
    builder = Path(sys.executable).with_name("ansible-builder")
    done = subprocess.run(
        [str(builder), "create", "-f", str(ROOT / "execution-environment.yml"), "-c",
         str(tmp_path)], capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    containerfile = (tmp_path / "Containerfile").read_text()
    assert f"ansible-core=={pinned('ansible-core')}" in containerfile
    assert f"ansible-runner=={pinned('ansible-runner')}" in containerfile


def test_the_collections_are_those_spo_uses_at_the_same_versions():
    wanted = yaml.safe_load((ROOT / "awx" / "requirements.yml").read_text())["collections"]
    versions = {c["name"]: c["version"] for c in wanted}
    for name, version in versions.items():
        manifest = COLLECTIONS.joinpath(*name.split("."), "MANIFEST.json")
        assert json.loads(manifest.read_text())["collection_info"]["version"] == version, name
    used = set()
    for path in [*ROOT.glob("roles/**/*.yml"), *ROOT.glob("roles/**/*.j2"),
                 *ROOT.glob("playbooks/**/*.yml")]:  # fmt: skip
        used |= set(re.findall(r"\b((?:community|ansible)\.[a-z_]+)\.[a-z_]+", path.read_text()))
    used -= {"ansible.builtin", "ansible.plugins"}  # in ansible-core itself
    assert used and used <= set(versions), sorted(used - set(versions))
