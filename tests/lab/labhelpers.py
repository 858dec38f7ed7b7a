"""One lab for the whole test session, brought up by the real `spo lab up`.

The lab is left running at the end so a developer can look at it and the next
session starts fast; `spo lab down` removes it (and test_lab_lifecycle proves
that on a lab of its own).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spo.labctl import HOOKDIR, MAILDIR

ROOT = Path(__file__).resolve().parents[2]
SPO = Path(sys.executable).with_name("spo")
LAB_INVENTORY = ROOT / "inventories" / "lab"
LAB_HOSTS = {"simrs-db", "simrs-mirror", "nas", "simrs-app"}


def spo(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real `spo` command; on failure show what it printed."""
    env = {**os.environ, "CONTAINERS_CONF": str(ROOT / "lab" / "containers.conf")}
    proc = subprocess.run([str(SPO), *args], capture_output=True, text=True, env=env, check=False)
    if check and proc.returncode != 0:
        pytest.fail(f"spo {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def podman(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTAINERS_CONF": str(ROOT / "lab" / "containers.conf")}
    return subprocess.run(["podman", *args], capture_output=True, text=True, env=env, check=False)


def podman_inspect(container: str) -> dict | None:
    proc = podman("container", "inspect", container)
    return json.loads(proc.stdout)[0] if proc.returncode == 0 else None


def lab_exec(host: str, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command inside a lab host, as root."""
    proc = podman("exec", f"spo-lab-{host}", *command)
    if check and proc.returncode != 0:
        pytest.fail(
            f"{host}: {' '.join(command)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
        )
    return proc


@pytest.fixture(scope="session")
def lab() -> Path:
    """The shared lab: up and booted before the first lab test."""
    spo("--inventory", str(LAB_INVENTORY), "lab", "up")
    return LAB_INVENTORY


@pytest.fixture(scope="session")
def provisioned(lab, tmp_path_factory) -> Path:
    """The lab after `spo demo`, once for the session: seeded with sample data, provisioned,
    and through one SPO cycle (backups, drill, downtime, an approved change, the reports,
    the audit); the runs' dir. The demo's own outcome is judged by test_audit.py."""
    runs = tmp_path_factory.mktemp("runs")
    done = spo("-i", str(lab), "--runs-dir", str(runs), "demo", check=False)
    if "Demo finished in" not in done.stdout:
        pytest.fail(f"spo demo stopped (exit {done.returncode}):\n"
                    f"{(done.stdout + done.stderr)[-4000:]}")  # fmt: skip
    return runs


def _files(folder: str) -> list[str]:
    """Every file the stand-ins wrote in ``folder``, oldest first (they name files in arrival
    order), read in one exec: each exec costs a podman round trip."""
    script = f'cd {folder} 2>/dev/null && for f in $(LC_ALL=C ls); do cat "$f"; printf "\\0"; done'
    return lab_exec("nas", "sh", "-c", script, check=False).stdout.split("\0")[:-1]


@pytest.fixture(scope="session")
def mailbox(lab):
    """The lab's mail relay stand-in on nas (`spo lab up` runs it): the mails it received
    during this test session, oldest first."""
    earlier = len(_files(f"{MAILDIR}/new"))

    def messages() -> list[str]:
        return _files(f"{MAILDIR}/new")[earlier:]

    return messages


@pytest.fixture(scope="session")
def hooks(lab):
    """The lab's webhook receiver stand-in on nas, port 8026: what it received during this
    test session, oldest first."""
    earlier = len(_files(HOOKDIR))

    def received() -> list[dict]:
        return [json.loads(body) for body in _files(HOOKDIR)[earlier:]]

    return received


def md_rows(text: str, caption: str | None = None) -> list[list[str]]:
    """The cells of every Markdown table row of a report (header rows included); with a
    caption, only the rows of the table right under the line "*caption*"."""
    lines = text.splitlines()
    if caption is not None:
        start = lines.index(f"*{caption}*")
        lines = lines[start + 1 :]
        ends = [i for i, line in enumerate(lines) if line.startswith(("*", "#"))]
        lines = lines[: ends[0]] if ends else lines
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in lines
        if line.startswith("| ") and not line.startswith("| ---")
    ]


def report(runs, *args: str) -> str:
    """`spo report ...` rendered, as text."""
    done = spo("--runs-dir", str(runs), "report", *args, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
