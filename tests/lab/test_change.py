"""A database change through the approval chain on the lab (S3.9): requested, approved by the
four roles in order, applied on simrs-db after a pre-change backup, recorded beside the
request, and reported; refused while the chain is incomplete."""

from __future__ import annotations

import json
import re
import shutil
import time

import pytest

from labhelpers import LAB_INVENTORY, lab_exec, md_rows, spo

pytestmark = pytest.mark.lab

DB = "simrs-db"
STAMP = time.strftime("%H%M%S")  # new values each run: the lab keeps its data between runs
NAME = f"Siti Aminah {STAMP}"
SQL = (
    f"UPDATE pasien SET nm_pasien = '{NAME}' WHERE no_rkm_medis = '000011';\n"
    f"UPDATE reg_periksa SET poli = 'Anak {STAMP}' WHERE no_rkm_medis IN ('000011', '000012');\n"
)
APPROVERS = {
    "technical director": "dr. Budi Santoso",
    "president director": "dr. Ayu Lestari, Sp.A",
    "director of finance and general administration": "Agus Wijaya, S.E.",
    "head of SIRS": "Ir. Dewi Rahayu",
}


def sik(query: str) -> str:
    return lab_exec(DB, "mariadb", "--batch", "--skip-column-names", "sik", "-e", query).stdout


def test_a_change_with_the_whole_chain_is_applied_after_a_backup_and_reported(
    provisioned, tmp_path
):
    site = tmp_path / "site"
    shutil.copytree(LAB_INVENTORY, site)
    script = tmp_path / "koreksi.sql"
    script.write_text(SQL)
    here = ("-i", str(site), "--runs-dir", str(provisioned))
    made = spo(*here, "change", "request", "--title", "Koreksi nama pasien 000011",
               "--requester", "Siti Aminah", "--unit", "Instalasi Rekam Medis",
               "--reason", "Salah ketik saat pendaftaran", "--host", DB, "--database", "sik",
               "--engine", "mariadb", "--sql-file", str(script))  # fmt: skip
    change_id = re.search(r"change (\S+) requested", made.stdout)[1]
    before = sik("SELECT nm_pasien FROM pasien WHERE no_rkm_medis = '000011';")
    approvals = list(APPROVERS.items())
    for role, name in approvals[:3]:
        spo(*here, "change", "approve", change_id, "--as", role, "--name", name)
    early = spo(*here, "change", "apply", change_id, check=False)
    assert early.returncode != 0 and "head of SIRS" in early.stdout + early.stderr
    assert sik("SELECT nm_pasien FROM pasien WHERE no_rkm_medis = '000011';") == before
    spo(*here, "change", "approve", change_id, "--as", approvals[3][0], "--name", approvals[3][1])

    done = spo(*here, "change", "apply", change_id)
    assert "ok, 3 row(s)" in done.stdout, done.stdout
    assert sik("SELECT nm_pasien FROM pasien WHERE no_rkm_medis = '000011';") == f"{NAME}\n"
    listed = json.loads(spo(*here, "change", "list", "--json").stdout)
    [applied] = [c["applied"] for c in listed if c["request"]["id"] == change_id]
    assert applied["result"] == "ok" and applied["rows_total"] == 3
    assert [s["rows"] for s in applied["statements"]] == [1, 2]
    # The pre-change backup holds the data as it was before the change.
    found = lab_exec(DB, "find", "/var/backups/spo", "-maxdepth", "3", "-name",
                     applied["pre_change_backup"]).stdout.split()  # fmt: skip
    assert len(found) == 1, found
    manifest = json.loads(lab_exec(DB, "cat", f"{found[0]}/manifest.json").stdout)
    assert manifest["kind"] == "pre-change" and change_id in manifest["trigger"]["reason"]
    assert "head of SIRS - Ir. Dewi Rahayu" in manifest["trigger"]["reason"]

    again = spo(*here, "change", "apply", change_id, check=False)
    assert again.returncode != 0 and "applied" in again.stdout + again.stderr

    report = spo(*here, "report", "change", change_id, "--lang", "en").stdout
    rows = md_rows(report)
    for role, name in APPROVERS.items():
        assert any(role in row and name in row for row in rows), (role, rows)
    assert applied["pre_change_backup"] in report
