"""Monthly copies (S3.4): from the copy day on, the previous month's chosen backups (the
weekly fulls and each source's last daily) go to every monthly target (the NAS and the
external disk), each copy checked by checksum on arrival.

The chosen backups are pinned first, so prune never removes them before every target has
its copy; they are unpinned once all have. A target that is absent (the external disk not
plugged in) is skipped, recorded and notified, and retried by the next run (cron runs this
daily); after ``escalate_after_days`` of absence the notice escalates. Progress lives in
``<state_dir>/monthly.json``, so a crash or an absent disk never loses or repeats a copy.
"""

import json
from datetime import datetime
from pathlib import Path

from . import atomic, catalog, history, manifest, notify, offsite, runner, schedule, weekly
from .config import Config, ConfigError
from .errors import BackupError

STATE = "monthly.json"


def settings(cfg: Config) -> schedule.Monthly:
    return cfg.calendar_part(
        "monthly",
        "no monthly copy targets are set",
        "set the monthly copy targets in the inventory and run the backup role",
    )


def candidates(cfg: Config) -> list[catalog.Backup]:
    """Backups of this host a monthly copy may take: its own folder and the weekly folder."""
    roots = [cfg.backup_root]
    if cfg.calendar.weekly is not None:
        roots.append(weekly.target(cfg).root)
    return [b for root in roots for b in catalog.list_backups(root)[0] if b.host == cfg.host]


def run(cfg: Config, now: datetime) -> dict:
    """Open the due month if it is new, then copy what every open month still lacks."""
    monthly = settings(cfg)
    tz = schedule.zone(cfg.retention.utc_offset_minutes)
    path = cfg.state_dir / STATE
    state = load_state(path)
    due = schedule.due_month(monthly, now.astimezone(tz))
    if due not in state["months"]:
        chosen = schedule.select(candidates(cfg), due, tz, monthly.select)
        for backup in chosen:
            catalog.pin(backup.path, f"monthly copy {due} (S3.4)")
        state["months"][due] = {
            "opened": manifest.iso(now),
            "selected": {b.name: str(b.path) for b in chosen},
            "copied": {t.name: [] for t in monthly.targets},
            "absent_since": {},
            "escalated": [],
            "completed": None,
        }
        _save(path, state)
    record = {
        "record": "calendar",
        "job": "monthly-copy",
        "time": manifest.iso(now),
        "site": cfg.site,
        "host": cfg.host,
        "months": {},
    }
    for month, entry in sorted(state["months"].items()):
        if entry["completed"] is None:
            record["months"][month] = _copy_month(cfg, monthly, month, entry, now, path, state)
    outcomes = [t["result"] for m in record["months"].values() for t in m["targets"].values()]
    record["result"] = (
        "failed" if "failed" in outcomes else "pending" if "skipped" in outcomes else "ok"
    )
    history.append(cfg.history_file, record)
    return record


def _copy_month(cfg, monthly, month: str, entry: dict, now, path: Path, state: dict) -> dict:
    report: dict = {"selected": sorted(entry["selected"]), "targets": {}}
    for target in monthly.targets:
        done = entry["copied"].setdefault(target.name, [])
        try:
            offsite.check(target)
        except BackupError as exc:
            report["targets"][target.name] = _absent(cfg, monthly, month, entry, target, exc, now)
            _save(path, state)
            continue
        entry["absent_since"].pop(target.name, None)
        try:
            for name, folder in sorted(entry["selected"].items()):
                if name not in done:
                    _copy_one(Path(folder), target.path / month)
                    done.append(name)
                    _save(path, state)  # a crash later never repeats this copy
        except (BackupError, OSError) as exc:
            report["targets"][target.name] = {"result": "failed", "error": str(exc)}
            continue
        report["targets"][target.name] = {"result": "ok", "copied": sorted(done)}
    if all(set(entry["selected"]) <= set(entry["copied"].get(t.name, [])) for t in monthly.targets):
        for folder in entry["selected"].values():
            if Path(folder).is_dir():
                catalog.unpin(Path(folder))
        entry["completed"] = manifest.iso(now)
        _save(path, state)
    report["completed"] = entry["completed"]
    return report


def _copy_one(folder: Path, root: Path) -> None:
    """Copy a backup into the month's folder at the target, or check a copy already there."""
    backup = catalog.load(folder)
    root.mkdir(mode=0o750, parents=True, exist_ok=True)
    if (root / backup.name).is_dir():
        offsite.arrived(root / backup.name, backup.manifest, backup.name)
        return
    offsite.copy(backup, root)


def _absent(cfg, monthly, month: str, entry: dict, target, exc: BackupError, now) -> dict:
    """Record an absent target; tell once when it first goes missing and once on escalation."""
    first = target.name not in entry["absent_since"]
    since = entry["absent_since"].setdefault(target.name, manifest.iso(now))
    days = (now - manifest.parse_time(since)).days
    event = None
    if days >= monthly.escalate_after_days and target.name not in entry["escalated"]:
        entry["escalated"].append(target.name)
        event = "copy-escalation"
    elif first:
        event = "copy-skipped"
    if event:
        notice = notify.Notice(
            event,
            "failed",
            now,
            error=str(exc),
            values={"month": month, "target": target.name, "days": days},
        )
        runner.record_notices(cfg, notify.send(cfg, notice))
    return {"result": "skipped", "error": str(exc), "absent_since": since, "absent_days": days}


def load_state(path: Path) -> dict:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"months": {}}
    except ValueError as exc:
        raise ConfigError(
            f"the monthly copy state {path} is damaged: {exc}",
            "look at it: it lists which copies exist; move it aside only after checking the "
            "targets by hand",
        ) from None
    return state


def _save(path: Path, state: dict) -> None:
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    atomic.write_json(path, state)
