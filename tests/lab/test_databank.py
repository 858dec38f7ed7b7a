"""The unit data bank on the lab's storage host (issue 9: S0.1, S0.2, S0.5), reached with the
real smbclient from the application server: each unit's staff reach their unit's share only,
an IT administrator reaches all, a wrong password is refused and logged, and a staff member
removed from the inventory loses the account while the unit keeps every file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from labhelpers import LAB_INVENTORY, lab_exec, md_rows, report, spo
from spo.report_render import size

pytestmark = pytest.mark.lab

CLIENT, NAS = "simrs-app", "nas"


def lab_passwords() -> dict[str, str]:
    """The staff passwords of the lab's vault (lab-only values)."""
    vault = LAB_INVENTORY / "group_vars" / "all" / "vault.yml"
    shown = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-vault")), "view", "--vault-password-file",
         str(LAB_INVENTORY / ".vault-password"), str(vault)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return yaml.safe_load(shown.stdout)["vault_data_bank_passwords"]


def smb(user: str, password: str, share: str, command: str, *options: str):
    """smbclient on the application server, the password in a root-only file, not argv."""
    auth = f"/root/.smb-{user}"
    lab_exec(CLIENT, "sh", "-c", f"umask 077 && printf 'username = %s\\npassword = %s\\n' "
             f"'{user}' '{password}' > {auth}")  # fmt: skip
    return lab_exec(CLIENT, "smbclient", f"//{NAS}/{share}", "-A", auth, "-c", command,
                    *options, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def bank(provisioned):
    return lab_passwords()


def test_staff_reach_their_units_share_only(bank):
    wrote = smb("siti", bank["siti"], "farmasi", "put /etc/hostname stok-obat.txt; ls")
    assert wrote.returncode == 0, wrote.stdout + wrote.stderr
    assert "stok-obat.txt" in wrote.stdout
    owner = lab_exec(NAS, "stat", "-c", "%G %a", "/srv/databank/farmasi/stok-obat.txt").stdout
    assert owner.split() == ["bank-farmasi", "660"], "the unit's group, not others"
    denied = smb("siti", bank["siti"], "rekam-medis", "ls")
    assert denied.returncode != 0 and "NT_STATUS_ACCESS_DENIED" in denied.stdout + denied.stderr


def test_an_it_administrator_reaches_every_unit(bank):
    for share in ("farmasi", "rekam-medis"):
        done = smb("it-admin", bank["it-admin"], share, "ls")
        assert done.returncode == 0, f"{share}: {done.stdout}{done.stderr}"


def test_a_wrong_password_is_refused_and_logged(bank):
    refused = smb("budi", "not-the-password", "rekam-medis", "ls")
    assert "NT_STATUS_LOGON_FAILURE" in refused.stdout + refused.stderr
    journal = lab_exec(NAS, "journalctl", "--since", "-5min", "--no-pager", "-o", "cat").stdout
    assert any(
        "budi" in line and "NT_STATUS_WRONG_PASSWORD" in line for line in journal.splitlines()
    )


def test_a_removed_staff_member_loses_the_account_and_the_unit_keeps_the_files(
    bank, provisioned, tmp_path
):
    made = smb("budi", bank["budi"], "rekam-medis", "put /etc/hostname resume-medis.txt")
    assert made.returncode == 0, made.stdout + made.stderr
    site = tmp_path / "site"
    shutil.copytree(LAB_INVENTORY, site)
    settings = site / "group_vars" / "storage_servers" / "data_bank.yml"
    data = yaml.safe_load(settings.read_text())
    data["data_bank_users"] = [u for u in data["data_bank_users"] if u["name"] != "budi"]
    settings.write_text(yaml.safe_dump(data))
    try:
        spo("-i", str(site), "--runs-dir", str(provisioned), "-l", NAS, "provision")
        assert lab_exec(NAS, "id", "budi", check=False).returncode != 0
        assert "budi" not in lab_exec(NAS, "pdbedit", "--list").stdout
        kept = lab_exec(NAS, "ls", "/srv/databank/rekam-medis").stdout.split()
        assert "resume-medis.txt" in kept, "removing an account never deletes the unit's files"
        gone = smb("budi", bank["budi"], "rekam-medis", "ls")
        assert "NT_STATUS_LOGON_FAILURE" in gone.stdout + gone.stderr
    finally:
        spo("--runs-dir", str(provisioned), "-l", NAS, "provision")  # budi back, as the lab has it
    assert smb("budi", bank["budi"], "rekam-medis", "ls").returncode == 0
    changes = md_rows(report(provisioned, "quarterly", "--lang", "en"), "Account changes")
    budi = [row[3] for row in changes[1:] if row[2] == "budi" and row[4] == "-"]
    assert budi[-2:] == ["account removed", "account created"], changes


def verify_units(runs) -> dict[str, dict]:
    """`spo databank verify`: the storage host's integrity check, now."""
    done = spo("--runs-dir", str(runs), "databank", "verify", "--json", check=False)
    assert done.returncode in (0, 1), done.stderr
    return {record["unit"]: record for record in json.loads(done.stdout)}


def test_integrity_tells_an_edit_from_corruption_and_a_deletion(bank, provisioned, mailbox):
    folder = "/srv/databank/farmasi"
    stamp = time.strftime("%H%M%S")  # new files each run: the lab keeps the share's files
    edit, damage, gone = (f"{n}-{stamp}.txt" for n in ("resep", "faktur", "arsip"))
    names = (edit, damage, gone)
    made = smb("siti", bank["siti"], "farmasi", "; ".join(f"put /etc/hostname {n}" for n in names))
    assert made.returncode == 0, made.stdout + made.stderr
    time.sleep(3)  # older than the monitor's two seconds for files still being written
    verify_units(provisioned)  # the listing the next check compares with
    edited = smb("siti", bank["siti"], "farmasi", f"put /etc/os-release {edit}")
    assert edited.returncode == 0, edited.stdout + edited.stderr
    # One byte altered under the same size and modification time: what a failing disk does.
    corrupt = (
        "import os, sys\n"
        "path = sys.argv[1]\n"
        "info = os.stat(path)\n"
        "data = bytearray(open(path, 'rb').read()); data[0] ^= 0x20\n"
        "open(path, 'wb').write(bytes(data))\n"
        "os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))\n"
    )
    lab_exec(NAS, "python3", "-c", corrupt, f"{folder}/{damage}")
    lab_exec(NAS, "rm", f"{folder}/{gone}")
    mails_before = len(mailbox())
    farmasi = verify_units(provisioned)["farmasi"]
    assert farmasi["result"] == "suspect"
    assert edit in farmasi["changed"]
    assert [s["path"] for s in farmasi["suspect"]] == [damage]
    assert farmasi["deleted"] == [gone]
    lines = lab_exec(NAS, "cat", "/var/lib/spo/history.jsonl").stdout.splitlines()
    recorded = [r for r in map(json.loads, lines) if r.get("unit") == "farmasi"]
    assert recorded[-1]["record"] == "integrity" and recorded[-1]["suspect_count"] == 1
    [notice] = [m for m in mailbox()[mails_before:] if damage in m.replace("=\n", "")]
    assert "X-SPO-Event: integrity-suspect" in notice
    # The damaged file is removed, as IT would before restoring it: the unit is clean again
    # (a suspect file is reported by every check until it is restored, edited or deleted).
    lab_exec(NAS, "rm", f"{folder}/{damage}")
    cleaned = verify_units(provisioned)["farmasi"]
    assert cleaned["result"] == "ok" and cleaned["deleted"] == [damage]


def test_the_quarterly_report_is_read_from_the_quarters_records(bank, provisioned, tmp_path):
    workstation = f"UJI{time.strftime('%H%M%S')}"  # names this test's attempt in the log
    wrong = smb("siti", "bukan-sandinya", "farmasi", "ls", "--netbiosname", workstation)
    assert "NT_STATUS_LOGON_FAILURE" in wrong.stdout + wrong.stderr
    refused = smb("siti", bank["siti"], "rekam-medis", "ls")
    assert "NT_STATUS_ACCESS_DENIED" in refused.stdout + refused.stderr
    verify_units(provisioned)  # an integrity check of this quarter
    site = tmp_path / "site"
    shutil.copytree(LAB_INVENTORY, site)
    problem = f"Disk NAS penuh {time.strftime('%H%M%S')}"
    spo("-i", str(site), "incident", "add", "--host", NAS, "--category", "hardware",
        "--problem", problem, "--resolution", "Arsip lama dipindah ke disk eksternal")  # fmt: skip
    text = report(provisioned, "quarterly", "--lang", "en")
    client = "10.89.60.14"  # simrs-app's address in the lab network
    logins = md_rows(text, "Failed logins")
    mine = [row for row in logins[1:] if row[5] == workstation]
    assert [(row[1], row[2], row[4], row[6]) for row in mine] == [
        (NAS, "siti", client, "wrong password (NT_STATUS_WRONG_PASSWORD)")
    ], logins
    denied = md_rows(text, "Denied accesses")
    assert any(row[2:5] == ["siti", client, "rekam-medis"] for row in denied[1:]), denied
    # The space per unit is what the host holds now, counted there.
    counted = lab_exec(NAS, "find", "/srv/databank/farmasi", "-type", "f", "-printf", "%s\n")
    sizes = [int(n) for n in counted.stdout.split()]
    units = {row[0]: row for row in md_rows(text, "Use per unit")[1:]}
    assert units["farmasi"][1:4] == [NAS, str(len(sizes)), size(sum(sizes))]
    assert units["rekam-medis"][5].startswith("1.0 GB ("), "its quota in the lab inventory"
    checks = {row[0]: row for row in md_rows(text, "Checks per unit")[1:]}
    assert int(checks["farmasi"][1]) >= 1 and int(checks["rekam-medis"][1]) >= 1
    # The incident lives in the site's inventory: the report of this site shows it.
    assert problem not in text
    html = report(provisioned, "quarterly", "--lang", "id", "--format", "html")
    assert "Login gagal" in html and workstation in html
    of_site = spo("-i", str(site), "--runs-dir", str(provisioned), "report", "quarterly")
    incidents = [row for row in md_rows(of_site.stdout) if problem in row]
    assert len(incidents) == 1 and "Arsip lama dipindah ke disk eksternal" in incidents[0]
