"""The weekly full backup (S3.1, S3.2): every source of the host into the weekly folder, only
inside its window. A run that would start outside the window does not start; one that ends
after the window is kept, and the overrun is recorded and notified.

The weekly folder stays on the host's disk (the B2D copy); the monthly copies take its
backups to the NAS and the external disk.
"""

import time
from datetime import datetime, timedelta

from . import history, manifest, notify, prune, runner, schedule
from .config import Config
from .errors import BackupError

JOB = "weekly-full"


class WindowClosed(BackupError):
    """The weekly backup was asked for outside its window."""


def settings(cfg: Config) -> schedule.Weekly:
    return cfg.calendar_part(
        "weekly",
        "the weekly full backup has no window",
        "set spo_weekly_full_day/start/end in the inventory and run the backup role",
    )


def target(cfg: Config) -> runner.Target:
    weekly = settings(cfg)
    keep = prune.Policy(keep_last=weekly.keep, utc_offset_minutes=cfg.retention.utc_offset_minutes)
    return runner.Target(cfg.backup_root / weekly.folder, keep)


def run(cfg: Config, now: datetime, triggered_by: str = "cron", reason: str = "") -> dict:
    """Run the weekly full backup if ``now`` is inside its window; return the calendar record
    (also appended to the history). Raises WindowClosed, after recording it, when outside."""
    weekly = settings(cfg)
    local = now.astimezone(schedule.zone(cfg.retention.utc_offset_minutes))
    start, end = schedule.window_of(weekly, local)
    record = {
        "record": "calendar",
        "job": JOB,
        "time": manifest.iso(now),
        "site": cfg.site,
        "host": cfg.host,
        "triggered_by": triggered_by,
        "window": {"start": start.isoformat(), "end": end.isoformat()},
    }
    if not start <= local < end:
        message = (
            f"the weekly full backup may start only between {_clock(start)} and {_clock(end)} "
            f"on {schedule.DAYS[weekly.day]}; it is {_clock(local)} on "
            f"{schedule.DAYS[local.weekday()]}: not started"
        )
        history.append(cfg.history_file, {**record, "result": "not-started", "error": message})
        raise WindowClosed(
            message,
            "run it in its window (cron does), or take an on-demand backup with "
            "`spo-backup run --kind manual` instead",
        )
    clock = time.monotonic()
    runs = runner.run(
        cfg, kind=JOB, triggered_by=triggered_by, reason=reason or "weekly full backup (S3.1)",
        target=target(cfg),
    )  # fmt: skip
    ended = now + timedelta(seconds=time.monotonic() - clock)
    late = schedule.overrun_minutes(end, ended)
    failed = [r["source"] for r in runs if r["result"] != "ok"]
    record.update(
        ended_at=manifest.iso(ended),
        result="failed" if failed else "ok",
        overran_minutes=late,
        backups=[r["backup"] for r in runs if r["backup"]],
        failed=failed,
    )
    history.append(cfg.history_file, record)
    if late:
        _tell_overrun(cfg, record, ended, start, end)
    return record


def _tell_overrun(cfg: Config, record: dict, ended: datetime, start, end) -> None:
    notice = notify.Notice(
        "overrun",
        record["result"],
        ended,
        values={
            "minutes": record["overran_minutes"],
            "window": f"{_clock(start)}-{_clock(end)}",
            "backups": ", ".join(record["backups"]) or notify.word("none"),
        },
    )
    runner.record_notices(cfg, notify.send(cfg, notice))


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M")
