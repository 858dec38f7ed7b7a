"""`spo change request/approve/list/show` and the refusals of `apply` that come before any
playbook runs (S3.9): the chain from the inventory, in order only, and a script edited after
approval voids the approvals."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from spo import change_log as log
from spo.main import cli

LAB = Path(__file__).resolve().parents[2] / "inventories" / "lab"
SQL = "UPDATE pasien SET nm_pasien = 'Siti Aminah' WHERE no_rkm_medis = '000123';\n"
CHAIN = ["direktur teknis", "direktur utama", "kepala SIRS"]


@pytest.fixture
def site(tmp_path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(LAB, copy)
    (copy / "group_vars" / "all" / "changes.yml").write_text(
        yaml.safe_dump({"spo_change_approvers": CHAIN})
    )
    return copy


def spo(site: Path, *args: str):
    return CliRunner().invoke(cli, ["-i", str(site), "change", *args])


def requested(site: Path, tmp_path: Path) -> str:
    script = tmp_path / "koreksi.sql"
    script.write_text(SQL)
    done = spo(site, "request", "--title", "Koreksi nama pasien 000123", "--requester",
               "Siti Aminah", "--unit", "Instalasi Rekam Medis", "--reason", "salah ketik",
               "--host", "simrs-db", "--database", "sik", "--engine", "mariadb",
               "--sql-file", str(script))  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "direktur teknis -> direktur utama -> kepala SIRS" in done.output
    return re.search(r"change (\S+) requested", done.output)[1]


def test_the_chain_comes_from_the_inventory_and_is_approved_in_order(site, tmp_path):
    change_id = requested(site, tmp_path)
    early = spo(site, "approve", change_id, "--as", "kepala SIRS", "--name", "Ir. Sari")
    assert early.exit_code == 1 and "direktur teknis" in early.output
    for role, name in zip(CHAIN, ["dr. Budi", "dr. Ani", "Ir. Sari"], strict=True):
        done = spo(site, "approve", change_id[:20], "--as", role, "--name", name)
        assert done.exit_code == 0, done.output
    assert "now: approved" in done.output
    again = spo(site, "approve", change_id, "--as", "kepala SIRS", "--name", "Ir. Sari")
    assert again.exit_code == 1 and "already" in again.output
    listed = json.loads(spo(site, "list", "--json").output)
    assert [c["state"] for c in listed] == ["approved"]
    assert [a["approver"] for a in listed[0]["approvals"]] == ["dr. Budi", "dr. Ani", "Ir. Sari"]
    shown = spo(site, "show", change_id).output
    assert SQL.strip() in shown and "step 3 kepala SIRS: Ir. Sari" in shown


def test_apply_is_refused_before_the_whole_chain_approved(site, tmp_path):
    change_id = requested(site, tmp_path)
    spo(site, "approve", change_id, "--as", "direktur teknis", "--name", "dr. Budi")
    refused = spo(site, "apply", change_id)
    assert refused.exit_code == 1
    assert "direktur utama" in refused.output and "kepala SIRS" in refused.output
    assert not list(site.glob("changes/*/*.applied.yml"))


def test_an_edited_script_after_approval_is_refused(site, tmp_path):
    change_id = requested(site, tmp_path)
    for role in CHAIN:
        spo(site, "approve", change_id, "--as", role, "--name", "Pejabat")
    [request] = site.glob(f"changes/*/{change_id}.request.yml")
    text = request.read_text().replace("no_rkm_medis = '000123'", "no_rkm_medis = '000124'")
    assert text != request.read_text()
    request.write_text(text)
    refused = spo(site, "apply", change_id)
    assert refused.exit_code == 1 and "sha256" in refused.output
    assert log.find(site, change_id).complete is False
    assert spo(site, "list").exit_code == 2, "the edited file is reported as damaged"


def test_a_site_without_a_chain_of_its_own_uses_the_spo_chain(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(LAB, site)
    script = tmp_path / "x.sql"
    script.write_text(SQL)
    done = spo(site, "request", "--title", "x", "--requester", "a", "--unit", "b", "--reason",
               "c", "--host", "simrs-db", "--database", "sik", "--engine", "mariadb",
               "--sql-file", str(script))  # fmt: skip
    assert done.exit_code == 0, done.output
    assert " -> ".join(log.DEFAULT_CHAIN) in done.output
