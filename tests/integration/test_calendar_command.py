"""The SPO calendar through the host command (S1.3, S3.1, S3.2, S3.4), with the clock set by
``--now`` (and by faketime for a backup that must really be four days old): the weekly window,
an overrun, monthly copies to a NAS and an external disk that comes and goes, and the
manual backup's age."""

import json
import shutil
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dbhelpers import PG_SEED, PSQL, psql
from hosthelpers import MODULE_UTILS, NEEDS_ROOT, PYTHON, Host, mount, mount_point, notify_config
from spo_backup import schedule

pytestmark = [pytest.mark.integration, NEEDS_ROOT]
WIB = "+07:00"
RETENTION = {"keep_last": 5, "utc_offset_minutes": 7 * 60}


def _calendar(nas: Path, external: Path) -> dict:
    return {
        "weekly": {"day": "saturday", "start": "12:00", "end": "12:30", "keep": 5},
        "monthly": {
            "day": 1,
            "escalate_after_days": 7,
            "targets": [
                {"name": "nas", "path": str(nas / "spo" / "monthly"), "mount_point": str(nas)},
                {"name": "external", "path": str(external / "spo"), "mount_point": str(external)},
            ],
        },
        "manual_max_age_days": 3,
    }


@pytest.fixture
def external(tmp_path):
    """The external disk's mount point; tests plug it in (mount) or leave it out."""
    with mount_point(tmp_path / "external") as folder:
        yield folder


@pytest.fixture
def host(tmp_path, nas_dir, external, pg_db, smtp, webhook) -> Host:
    source = {
        "name": "simrs",
        "type": "postgresql",
        "database": pg_db(PG_SEED),
        "login_user": "postgres",
        "login_host": "127.0.0.1",
        "globals": False,
    }
    made = Host(
        tmp_path,
        nas_dir,
        [source],
        retention=RETENTION,
        offsite=[],
        calendar=_calendar(nas_dir, external),
        notify=notify_config(smtp, webhook, tmp_path),
    )
    made.smtp = smtp
    return made


def _names(folder: Path, kind: str) -> list[str]:
    return sorted(p.name for p in folder.glob(f"*_{kind}")) if folder.is_dir() else []


def _calendar_records(host: Host, job: str) -> list[dict]:
    return [r for r in host.history("calendar") if r["job"] == job]


def test_weekly_full_runs_in_its_window_into_the_weekly_folder_and_not_after(host) -> None:
    weekly = Path(host.data["backup_root"]) / "weekly"
    done = host.run("weekly", "--now", f"2026-11-21T12:00:00{WIB}")  # a Saturday
    assert done.returncode == 0, done.stderr
    [made] = _names(weekly, "weekly-full")
    manifest = json.loads((weekly / made / "manifest.json").read_text())
    assert manifest["kind"] == "weekly-full" and manifest["verified_at"]
    [record] = _calendar_records(host, "weekly-full")
    assert record["result"] == "ok" and record["overran_minutes"] == 0
    assert record["backups"] == [made]
    assert record["window"]["start"].startswith("2026-11-21T12:00:00")

    late = host.run("weekly", "--now", f"2026-11-21T12:40:00{WIB}")
    assert late.returncode == 1
    assert "may start only between 12:00 and 12:30 on saturday" in late.stderr
    assert "it is 12:40 on saturday: not started" in late.stderr
    assert _names(weekly, "weekly-full") == [made]
    assert _calendar_records(host, "weekly-full")[-1]["result"] == "not-started"
    assert host.smtp.events() == []


def test_a_weekly_run_that_ends_after_its_window_is_kept_and_reported(host) -> None:
    database = host.data["sources"][0]["database"]
    # A session holding a table lock makes pg_dump wait: a real slow dump, about 5 s.
    holder = subprocess.Popen(
        [*PSQL, "-d", database, "-c",
         "BEGIN; LOCK TABLE pasien IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(5); COMMIT;"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            held = "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND "
            held += "relation = 'pasien'::regclass AND granted;"
            if psql(held, database).strip() == "1":
                break
            time.sleep(0.05)
        done = host.run("weekly", "--now", f"2026-11-21T12:29:58{WIB}")
    finally:
        holder.wait(timeout=30)
    assert done.returncode == 0, done.stderr
    assert "overran its window by 1 min (kept)" in done.stderr
    [record] = _calendar_records(host, "weekly-full")
    assert record["overran_minutes"] == 1 and record["result"] == "ok"
    assert _names(Path(host.data["backup_root"]) / "weekly", "weekly-full") == record["backups"]
    assert host.smtp.events() == ["overrun"]
    body = host.smtp.messages[0].get_content()
    assert "melewati jendela waktu 1 menit" in host.smtp.messages[0]["Subject"]
    assert "12:00-12:30" in body and record["backups"][0] in body


def _first_of_next_month(moment: datetime) -> datetime:
    return (moment.replace(day=28) + timedelta(days=4)).replace(day=1, hour=8, minute=0)


def test_monthly_copies_wait_for_the_external_disk_and_keep_their_backups_pinned(
    host, nas_dir, external
) -> None:
    mount(nas_dir)
    root = Path(host.data["backup_root"])
    assert host.run("weekly", "--now", f"2026-11-21T12:00:00{WIB}").returncode == 0
    for _ in range(2):
        assert host.backup().returncode == 0
    local_now = datetime.now(schedule.zone(RETENTION["utc_offset_minutes"]))
    month = local_now.strftime("%Y-%m")
    copy_day = _first_of_next_month(local_now)
    last_daily = _names(root, "automatic")[-1]
    [weekly] = _names(root / "weekly", "weekly-full")

    first = host.run("monthly", "--now", copy_day.isoformat())
    assert first.returncode == 1, first.stderr
    assert f"monthly copy {month} -> nas: ok" in first.stdout
    assert f"monthly copy {month} -> external: skipped" in first.stdout
    nas_month = nas_dir / "spo" / "monthly" / month
    assert sorted(p.name for p in nas_month.iterdir()) == sorted([weekly, last_daily])
    assert (root / last_daily / "pinned.json").is_file()
    assert (root / "weekly" / weekly / "pinned.json").is_file()
    assert not any(external.iterdir())  # nothing written under the absent disk's mount point
    assert host.smtp.events() == ["copy-skipped"]

    # Six more automatic backups: keep-last 5 would drop the month's last daily, the pin keeps it.
    for _ in range(6):
        assert host.backup().returncode == 0
    assert last_daily in _names(root, "automatic") and len(_names(root, "automatic")) == 6

    later = host.run("monthly", "--now", (copy_day + timedelta(days=8)).isoformat())
    assert later.returncode == 1
    assert host.smtp.events() == ["copy-skipped", "copy-escalation"]
    assert "ESKALASI" in host.smtp.messages[-1]["Subject"]

    mount(external)
    done = host.run("monthly", "--now", (copy_day + timedelta(days=9)).isoformat())
    assert done.returncode == 0, done.stdout + done.stderr
    ext_month = external / "spo" / month
    assert sorted(p.name for p in ext_month.iterdir()) == sorted([weekly, last_daily])
    for copy in ext_month.iterdir():  # the copies verify on their own
        check = host.run("verify", str(copy))
        assert check.returncode == 0, check.stderr
    assert not (root / last_daily / "pinned.json").exists()
    record = _calendar_records(host, "monthly-copy")[-1]
    assert record["result"] == "ok" and record["months"][month]["completed"]
    # No longer pinned, the old daily goes with the next prune; the copies stay.
    assert host.backup().returncode == 0
    assert last_daily not in _names(root, "automatic")
    assert (ext_month / last_daily / "manifest.json").is_file()
    # A later run has nothing left to do for that month.
    again = host.run("monthly", "--now", (copy_day + timedelta(days=10)).isoformat())
    assert (
        again.returncode == 0 and month not in _calendar_records(host, "monthly-copy")[-1]["months"]
    )


@pytest.mark.skipif(not shutil.which("faketime"), reason="faketime is installed by ./dev setup")
def test_a_four_day_old_manual_backup_is_flagged_and_a_new_one_clears_it(host, external) -> None:
    refused = host.run("run", "--kind", "manual", "--to", str(external))
    assert refused.returncode == 1
    assert "is on the same disk as" in refused.stderr and not any(external.iterdir())

    mount(external)
    old = subprocess.run(
        ["faketime", "-f", "-4d", PYTHON, "-m", "spo_backup", "--config", str(host.config),
         "run", "--kind", "manual", "--to", str(external), "--triggered-by", "Budi (IT)"],
        env={"PYTHONPATH": str(MODULE_UTILS), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert old.returncode == 0, old.stderr
    [made] = _names(external, "manual")
    assert json.loads((external / made / "manifest.json").read_text())["trigger"]["by"] == (
        "Budi (IT)"
    )
    report = json.loads(host.run("status", "--json", "--notify").stdout)
    [simrs] = report["sources"]
    assert simrs["manual_overdue"] and 3.9 < simrs["manual_age_days"] < 4.1
    assert simrs["last"]["manual"]["destination"] == str(external)
    # The refused run was a failure and was told; the overdue notice comes on its own.
    assert report["overdue"] == ["simrs"] and host.smtp.events() == ["failure", "manual-overdue"]
    assert "simrs: backup manual terakhir 4" in host.smtp.messages[-1].get_content()

    assert host.run("run", "--kind", "manual", "--to", str(external)).returncode == 0
    report = json.loads(host.run("status", "--json", "--notify").stdout)
    assert report["overdue"] == [] and report["sources"][0]["manual_age_days"] < 0.1
    assert host.smtp.events() == ["failure", "manual-overdue"]  # nothing more to tell
