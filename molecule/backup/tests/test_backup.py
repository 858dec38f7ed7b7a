"""The backup role on a real host: schedule, configuration, secrets, and a real run."""

import json
import shlex

import pytest

CRON = "/etc/cron.d/spo-backup"


def cron_entries(host):
    entries = {}
    for line in host.file(CRON).content_string.splitlines():
        if "--source" in line and not line.startswith("#"):
            entries[line.split("--source", 1)[1].split()[0]] = line
    return entries


def test_each_source_has_its_cron_schedule(host):
    entries = cron_entries(host)
    assert entries["sik"].startswith("5 * * * * root ")
    assert entries["simrs"].startswith("*/30 * * * * root ")
    assert entries["app"].startswith("5 2 * * * root ")


def test_secrets_are_root_only_files_never_in_the_config(host):
    secret = host.file("/etc/spo/secrets/db.password")
    assert secret.mode == 0o600 and secret.user == "root"
    headers = host.file("/etc/spo/secrets/webhook-headers.json")
    assert headers.mode == 0o600 and headers.user == "root"
    assert json.loads(headers.content_string) == {"Authorization": "Bearer molecule-only-T0ken"}
    config = host.file("/etc/spo/backup.json").content_string
    assert "molecule-only-Pa55" not in config and "molecule-only-T0ken" not in config
    assert json.loads(config)["retention"]["keep_last"] == 5
    webhook = json.loads(config)["notify"]["webhook"]
    assert webhook["headers_file"] == "/etc/spo/secrets/webhook-headers.json"


@pytest.mark.parametrize("source", ["sik", "simrs", "app"])
def test_the_cron_command_makes_a_verified_backup_and_an_offsite_copy(host, source):
    command = shlex.join(shlex.split(cron_entries(host)[source])[6:])
    host.run_test(command)
    listing = json.loads(host.check_output("/usr/local/sbin/spo-backup list --json"))
    text = json.dumps(listing)
    assert source in text
    copies = host.check_output(f"ls /srv/offsite | grep _{source}_ || true").split()
    assert copies, f"no offsite copy of {source}"
    history = [
        json.loads(line)
        for line in host.file("/var/lib/spo/history.jsonl").content_string.splitlines()
    ]
    last = [r for r in history if r.get("record") == "run" and r["source"] == source][-1]
    assert last["result"] == "ok"
    assert "molecule-only-Pa55" not in host.file("/var/lib/spo/history.jsonl").content_string


def test_the_weekly_restore_drill_is_scheduled_on_friday_evening(host):
    lines = [
        line
        for line in host.file(CRON).content_string.splitlines()
        if " drill " in line and not line.startswith("#")
    ]
    # spo_drill_day friday, spo_drill_time 21:00 (S3.6): cron counts Sunday as 0.
    assert lines == [
        "0 21 * * 5 root /usr/local/sbin/spo-backup --config /etc/spo/backup.json drill "
        "--triggered-by cron"
    ]
    drill = json.loads(host.file("/etc/spo/backup.json").content_string)["drill"]
    assert drill == {"scratch_dir": "/var/lib/spo-drill", "from": "local"}
