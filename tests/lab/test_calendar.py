"""The SPO backup calendar on the lab (issue 5: S1.3, S3.1, S3.2, S3.4), through the command
cron runs on simrs-db with its clock set by ``--now`` (and by faketime for a backup that must
really be four days old), and through `spo backup status|manual|list` on the control node.

The tests run in file order on the provisioned lab; the "external disk" is a tmpfs the tests
mount on simrs-db and take away.
"""

from __future__ import annotations

import email
import email.policy
import json
import time
from datetime import datetime, timedelta

import pytest

from labhelpers import lab_exec, podman, spo

pytestmark = pytest.mark.lab

DB = "simrs-db"
SPO_BACKUP = "/usr/local/sbin/spo-backup"
CRON_FILE = "/etc/cron.d/spo-backup"
WEEKLY = "/var/backups/spo/weekly"
EXTERNAL = "/media/external"
NAS_MONTHLY = "/srv/nas/spo/simrs-db-monthly"  # /mnt/nas/simrs-db-monthly seen from the NAS
SATURDAY = "2026-11-21T{}+07:00"


def host_command(*args: str, check: bool = True):
    return lab_exec(DB, SPO_BACKUP, *args, check=check)


def names(host: str, folder: str, suffix: str = "") -> list[str]:
    listing = lab_exec(host, "sh", "-c", f"ls {folder} 2>/dev/null", check=False).stdout.split()
    return sorted(n for n in listing if n.endswith(suffix) and not n.startswith("."))


def unplug_external() -> None:
    lab_exec(DB, "sh", "-c", f"while mountpoint -q {EXTERNAL}; do umount {EXTERNAL}; done")


def plug_in_external() -> None:
    lab_exec(DB, "mount", "-t", "tmpfs", "-o", "size=512m", "tmpfs", EXTERNAL)
    lab_exec(DB, "touch", f"{EXTERNAL}/.spo-backup-destination")


def text_of(mail: str) -> str:
    """A received mail's decoded text (bodies are quoted-printable on the wire)."""
    message = email.message_from_string(mail, policy=email.policy.default)
    return f"{message['Subject']}\n{message.get_body(('plain',)).get_content()}"


def events(mails: list[str]) -> list[str]:
    return [
        line.split(":", 1)[1].strip()
        for mail in mails
        for line in mail.splitlines()
        if line.startswith("X-SPO-Event:")
    ]


def test_cron_holds_the_calendar_jobs_at_the_inventory_times(provisioned):
    text = lab_exec(DB, "cat", CRON_FILE).stdout
    command = f"root {SPO_BACKUP} --config /etc/spo/backup.json"
    assert f"0 12 * * 6 {command} weekly --triggered-by cron" in text  # Saturday 12:00
    assert f"0 6 * * * {command} monthly" in text
    assert f"0 8 * * * {command} status --notify" in text


def test_the_weekly_full_runs_in_its_window_and_not_after_it(provisioned):
    before = names(DB, WEEKLY, "_weekly-full")
    done = host_command("weekly", "--now", SATURDAY.format("12:00:00"), "--triggered-by", "cron")
    made = sorted(set(names(DB, WEEKLY, "_weekly-full")) - set(before))
    assert [name.split("_")[2] for name in made] == ["sik", "simrs"], done.stderr
    for name in made:
        manifest = json.loads(lab_exec(DB, "cat", f"{WEEKLY}/{name}/manifest.json").stdout)
        assert manifest["kind"] == "weekly-full" and manifest["verified_at"]

    late = host_command("weekly", "--now", SATURDAY.format("12:40:00"), check=False)
    assert late.returncode == 1
    assert "it is 12:40 on saturday: not started" in late.stderr
    assert set(names(DB, WEEKLY, "_weekly-full")) == set(before) | set(made)


def test_a_slow_weekly_run_is_kept_and_mailed_as_an_overrun(provisioned, mailbox):
    sql = "BEGIN; LOCK TABLE donor IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;"
    held = (
        "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND granted "
        "AND relation = 'donor'::regclass;"
    )
    psql = ["runuser", "-u", "postgres", "--", "psql", "-X", "-At", "-d", "simrs", "-c"]
    # A session holding a table lock makes pg_dump wait: a really slow dump, no fake.
    podman("exec", "--detach", f"spo-lab-{DB}", *psql, sql)
    for _ in range(100):
        if lab_exec(DB, *psql, held).stdout.strip() == "1":
            break
        time.sleep(0.1)
    before = names(DB, WEEKLY, "_weekly-full")
    done = host_command("weekly", "--now", SATURDAY.format("12:29:57"))
    assert "overran its window by 1 min (kept)" in done.stderr
    made = sorted(set(names(DB, WEEKLY, "_weekly-full")) - set(before))
    assert len(made) == 2
    history = lab_exec(DB, "cat", "/var/lib/spo/history.jsonl").stdout.splitlines()
    record = [r for r in map(json.loads, history) if r["record"] == "calendar"][-1]
    assert (record["job"], record["overran_minutes"], record["result"]) == ("weekly-full", 1, "ok")
    for _ in range(50):
        if "overrun" in events(mailbox()):
            break
        time.sleep(0.2)
    [mail] = [text_of(m) for m in mailbox() if "X-SPO-Event: overrun" in m]
    assert "12:00-12:30" in mail and made[-1] in mail


def pins() -> list[str]:
    """Pinned backups on simrs-db, in its own folder and the weekly folder."""
    script = f"ls /var/backups/spo/*/pinned.json {WEEKLY}/*/pinned.json 2>/dev/null"
    return lab_exec(DB, "sh", "-c", script, check=False).stdout.split()


def copy_day() -> datetime:
    """08:00 on the first day of the month after the lab host's today."""
    today = datetime.fromisoformat(lab_exec(DB, "date", "--iso-8601=seconds").stdout.strip())
    return (today.replace(day=28) + timedelta(days=4)).replace(day=1, hour=8, minute=0, second=0)


def test_monthly_copies_reach_the_nas_now_and_the_external_disk_once_plugged_in(
    provisioned, mailbox
):
    unplug_external()
    # This month's daily backups of every source, as the hourly cron job makes them.
    host_command("run", "--kind", "automatic", "--triggered-by", "cron")
    # A fresh month on every run of these tests: forget earlier runs' monthly copies.
    lab_exec(DB, "rm", "-f", "/var/lib/spo/state/monthly.json")
    lab_exec("nas", "rm", "-rf", NAS_MONTHLY)
    day = copy_day()
    month = (day - timedelta(days=1)).strftime("%Y-%m")

    first = host_command("monthly", "--now", day.isoformat(), check=False)
    assert first.returncode == 1, first.stderr
    assert f"monthly copy {month} -> nas: ok" in first.stdout
    assert f"monthly copy {month} -> external: skipped" in first.stdout
    on_nas = names("nas", f"{NAS_MONTHLY}/{month}")
    assert {n.split("_")[3] for n in on_nas} == {"weekly-full", "automatic"}
    assert {n.split("_")[2] for n in on_nas if n.endswith("_automatic")} == {"sik", "simrs"}
    assert len(pins()) == len(on_nas)
    assert names(DB, EXTERNAL) == []  # nothing written under the empty mount point
    for _ in range(50):
        if "copy-skipped" in events(mailbox()):
            break
        time.sleep(0.2)
    assert "copy-skipped" in events(mailbox())

    plug_in_external()
    done = host_command("monthly", "--now", (day + timedelta(days=1)).isoformat())
    assert f"monthly copy {month} -> external: ok" in done.stdout
    on_disk = names(DB, f"{EXTERNAL}/spo/{month}")
    assert on_disk == on_nas
    for name in on_disk:
        host_command("verify", f"{EXTERNAL}/spo/{month}/{name}")
    assert pins() == []


def test_status_flags_a_four_day_old_manual_backup_and_a_manual_backup_clears_it(
    provisioned, mailbox
):
    lab_exec(DB, "sh", "-c", f"mountpoint -q {EXTERNAL}")  # plugged in by the test above
    lab_exec(DB, "faketime", "-f", "-4d", SPO_BACKUP, "run", "--kind", "manual",
             "--to", EXTERNAL, "--triggered-by", "Budi (IT)")  # fmt: skip
    flagged = spo("--runs-dir", str(provisioned), "backup", "status", "--host", DB, check=False)
    assert flagged.returncode == 1, flagged.stderr
    sik = next(line for line in flagged.stdout.splitlines() if " sik " in f" {line} ")
    assert "TERLAMBAT / OVERDUE" in sik and "(4.0 d)" in sik
    assert "manual backup overdue (> 3 days): simrs-db/sik, simrs-db/simrs" in flagged.stderr

    host_command("status", "--notify")
    for _ in range(50):
        if "manual-overdue" in events(mailbox()):
            break
        time.sleep(0.2)
    [mail] = [text_of(m) for m in mailbox() if "X-SPO-Event: manual-overdue" in m]
    assert "sik: backup manual terakhir 4" in mail

    spo("--runs-dir", str(provisioned), "backup", "manual", "--host", DB, "--to", EXTERNAL)
    cleared = spo("--runs-dir", str(provisioned), "backup", "status", "--host", DB, "--json")
    status = json.loads(cleared.stdout)[DB]
    assert status["overdue"] == []
    assert all(s["last"]["manual"]["destination"] == EXTERNAL for s in status["sources"])


def test_backup_list_shows_where_every_copy_of_the_weekly_fulls_is(provisioned):
    done = spo("--runs-dir", str(provisioned), "backup", "list", "--host", DB,
               "--kind", "weekly-full", "--json")  # fmt: skip
    rows = json.loads(done.stdout)
    assert rows and all(r["verified"] and r["kind"] == "weekly-full" for r in rows)
    copied = [r for r in rows if {"weekly", "monthly nas", "monthly external"} <= set(r["places"])]
    assert {r["source"] for r in copied} == {"sik", "simrs"}
    table = spo("--runs-dir", str(provisioned), "backup", "list", "--host", DB).stdout
    assert "Jenis / Kind" in table and "weekly-full" in table and "manual" in table
