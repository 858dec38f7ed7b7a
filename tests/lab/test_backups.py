"""Automatic backups on the lab hosts (issue 4: S1.1, S1.2, S1.4, S1.5, S2.1, S2.2).

The tests run in file order on one provisioned lab: each step builds on the
backups the earlier ones made, as a real host's history would.
"""

from __future__ import annotations

import json
import shlex

import pytest

from labhelpers import lab_exec, spo

pytestmark = pytest.mark.lab

DB = "simrs-db"
CRON_FILE = "/etc/cron.d/spo-backup"


def cron_lines(host: str) -> dict[str, str]:
    """Source name -> its cron line, from the host's cron file."""
    text = lab_exec(host, "cat", CRON_FILE).stdout
    lines = {}
    for line in text.splitlines():
        if line.startswith("#") or "--source" not in line:
            continue
        source = line.split("--source", 1)[1].split()[0]
        lines[source] = line
    return lines


def cron_command(host: str, source: str) -> list[str]:
    """The exact command cron runs for a source (the fields after minute..user)."""
    return shlex.split(cron_lines(host)[source])[6:]


def run_cron(host: str, source: str):
    return lab_exec(host, *cron_command(host, source), check=False)


def backups(host: str, root: str, source: str) -> list[str]:
    """Valid backup folders of a source under a root on a host, oldest first."""
    script = (
        "import json, pathlib, sys\n"
        "root = pathlib.Path(sys.argv[1])\n"
        "names = [p.parent.name for p in root.glob('*/manifest.json')\n"
        "         if json.loads(p.read_text())['source'] == sys.argv[2]]\n"
        "print('\\n'.join(sorted(names)))\n"
    )
    out = lab_exec(host, "python3", "-c", script, root, source).stdout
    return out.split()


def test_crontab_runs_each_source_at_the_inventory_interval(provisioned):
    db = cron_lines(DB)
    assert set(db) == {"sik", "simrs"}
    # spo_backup_interval_minutes: 60 -> every hour at minute 5 (S1.1).
    for line in db.values():
        assert line.startswith("5 * * * * root /usr/local/sbin/spo-backup"), line
        assert "--kind automatic --triggered-by cron" in line
    app = cron_lines("simrs-app")
    assert app["simrs-app"].startswith("5 2 * * * root "), "the program files run daily (1440 min)"


def test_the_cron_command_makes_a_verified_backup_here_and_on_the_nas(provisioned):
    before = backups(DB, "/var/backups/spo", "sik")
    result = run_cron(DB, "sik")
    assert result.returncode == 0, result.stderr
    after = backups(DB, "/var/backups/spo", "sik")
    new = sorted(set(after) - set(before))
    assert len(new) == 1
    listing = json.loads(lab_exec(DB, "/usr/local/sbin/spo-backup", "list", "--json").stdout)
    assert listing, "spo-backup list shows the backups"
    # The copy on the storage host itself, checked byte for byte against the manifest.
    copy = f"/srv/nas/spo/simrs-db/{new[0]}"
    check = (
        "import hashlib, json, pathlib, sys\n"
        "folder = pathlib.Path(sys.argv[1])\n"
        "manifest = json.loads((folder / 'manifest.json').read_text())\n"
        "bad = [n for n, f in manifest['files'].items()\n"
        "       if hashlib.sha256((folder / n).read_bytes()).hexdigest() != f['sha256']]\n"
        "print(json.dumps({'files': len(manifest['files']), 'bad': bad}))\n"
    )
    verdict = json.loads(lab_exec("nas", "python3", "-c", check, copy).stdout)
    assert verdict["files"] >= 1 and verdict["bad"] == []


def test_the_program_files_backup_runs_on_the_application_server(provisioned):
    result = run_cron("simrs-app", "simrs-app")
    assert result.returncode == 0, result.stderr
    assert backups("simrs-app", "/var/backups/spo", "simrs-app")
    assert backups("nas", "/srv/nas/spo/simrs-app", "simrs-app")


def test_a_second_provision_changes_nothing(provisioned):
    spo("--runs-dir", str(provisioned), "provision")
    record = json.loads(spo("--runs-dir", str(provisioned), "runs", "--json").stdout)[-1]
    assert record["command"] == "provision"
    assert {h: r["changed"] for h, r in record["hosts"].items()} == dict.fromkeys(
        record["hosts"], 0
    )


def test_backup_now_runs_the_same_pipeline_through_the_module(provisioned):
    before = backups(DB, "/var/backups/spo", "simrs")
    proc = spo("--runs-dir", str(provisioned), "backup", "now", "--host", DB, "--source", "simrs",
               "--reason", "before the SIMRS upgrade")  # fmt: skip
    assert "simrs: ok" in proc.stdout
    new = sorted(set(backups(DB, "/var/backups/spo", "simrs")) - set(before))
    assert len(new) == 1 and new[0].endswith("_simrs_manual")
    manifest = json.loads(lab_exec(DB, "cat", f"/var/backups/spo/{new[0]}/manifest.json").stdout)
    assert manifest["trigger"] == {
        "by": "spo backup now (root)",
        "reason": "before the SIMRS upgrade",
    }
    assert new[0] in backups("nas", "/srv/nas/spo/simrs-db", "simrs")
    # Notification lines (the mirror's status job writes some too) may follow the run's line.
    lines = lab_exec(DB, "cat", "/var/lib/spo/history.jsonl").stdout.splitlines()
    last = [r for r in map(json.loads, lines) if r.get("record") == "run"][-1]
    assert last["source"] == "simrs" and last["kind"] == "manual" and last["result"] == "ok"


def test_an_unmounted_nas_fails_the_run_writes_nothing_and_mails_it(provisioned, mailbox):
    before = len(mailbox())  # other tests of the session mail too
    lab_exec(DB, "umount", "/mnt/nas")
    try:
        failed = run_cron(DB, "sik")
        assert failed.returncode != 0
        assert "/mnt/nas" in failed.stderr
        assert lab_exec(DB, "ls", "-A", "/mnt/nas").stdout == "", "nothing written under it"
        mails = mailbox()[before:]
        assert len(mails) == 1
        assert "/mnt/nas" in mails[0]
    finally:
        lab_exec(DB, "mount", "/mnt/nas")
    # The next good run copies what was missed and sends one recovery notice, no more.
    assert run_cron(DB, "sik").returncode == 0
    mails = mailbox()[before:]
    assert len(mails) == 2
    local = backups(DB, "/var/backups/spo", "sik")
    assert backups("nas", "/srv/nas/spo/simrs-db", "sik")[-2:] == local[-2:]


def test_eight_runs_leave_exactly_the_five_newest_here_and_on_the_nas(provisioned):
    history_before = lab_exec(DB, "cat", "/var/lib/spo/history.jsonl").stdout.splitlines()
    for _ in range(8):
        assert run_cron(DB, "sik").returncode == 0
    local = backups(DB, "/var/backups/spo", "sik")
    offsite = backups("nas", "/srv/nas/spo/simrs-db", "sik")
    assert len(local) == 5
    assert offsite == local

    # Every run left a history line and the metrics follow the catalog.
    history = lab_exec(DB, "cat", "/var/lib/spo/history.jsonl").stdout.splitlines()
    new = [json.loads(line) for line in history[len(history_before) :]]
    runs_of_sik = [r for r in new if r.get("record") == "run" and r["source"] == "sik"]
    assert len(runs_of_sik) == 8
    assert all(r["result"] == "ok" for r in runs_of_sik)
    metrics = lab_exec(DB, "cat", "/var/lib/prometheus/node-exporter/spo_backup.prom").stdout
    assert 'spo_backup_count{source="sik"} 5' in metrics
    assert 'spo_backup_last_run_success{source="sik"} 1' in metrics
