"""Every module's documentation (its own options plus the shared doc fragments) matches the
argument spec it really validates, and ansible-doc renders it."""

import ast
import importlib
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

import spo_backup

REPO = Path(__file__).resolve().parents[3]
MODULES = sorted(p.stem for p in (REPO / "library").glob("*.py"))


class _Captured(Exception):
    def __init__(self, kwargs: dict) -> None:
        super().__init__("captured")
        self.kwargs = kwargs


def _argument_spec(name: str, monkeypatch) -> dict:
    """Run the module file until it builds its AnsibleModule, and keep what it passed."""
    import ansible.module_utils.basic as basic  # noqa: PLC0415 -- patched per test

    path = REPO / "library" / f"{name}.py"
    for node in ast.walk(ast.parse(path.read_text())):  # the engine modules it imports
        if isinstance(node, ast.ImportFrom) and node.module == "ansible.module_utils.spo_backup":
            for alias in node.names:
                importlib.import_module(f"spo_backup.{alias.name}")
    monkeypatch.setitem(sys.modules, "ansible.module_utils.spo_backup", spo_backup)

    def capture(**kwargs):
        raise _Captured(kwargs)

    monkeypatch.setattr(basic, "AnsibleModule", capture)
    with pytest.raises(_Captured) as caught:
        runpy.run_path(str(path), run_name="__main__")
    assert caught.value.kwargs["supports_check_mode"] is True
    return caught.value.kwargs["argument_spec"]


@pytest.fixture(scope="module")
def docs() -> dict:
    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "ansible-doc"), "-M", "library", "--json", *MODULES],
        cwd=REPO,
        env={**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "WARNING" not in done.stderr, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", MODULES)
def test_documented_options_are_exactly_the_argument_spec(name, docs, monkeypatch) -> None:
    documented = docs[name]["doc"]["options"]
    spec = _argument_spec(name, monkeypatch)
    assert sorted(documented) == sorted(spec)
    for option, rules in spec.items():
        doc = documented[option]
        assert doc["description"], f"{name}.{option} has no description"
        assert doc.get("type", "str") == rules.get("type", "str"), f"{name}.{option} type"
        assert doc.get("required", False) == rules.get("required", False), f"{name}.{option}"
        assert doc.get("default") == rules.get("default"), f"{name}.{option} default"
        assert doc.get("choices") == rules.get("choices"), f"{name}.{option} choices"
        assert doc.get("elements") == rules.get("elements"), f"{name}.{option} elements"
    secrets = {o for o, rules in spec.items() if "password" in o}
    assert all(spec[o].get("no_log") for o in secrets)


@pytest.mark.parametrize("name", MODULES)
def test_module_docs_have_examples_and_return(name, docs) -> None:
    assert docs[name]["examples"].strip()
    assert docs[name]["return"]
