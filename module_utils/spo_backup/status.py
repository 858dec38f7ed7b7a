"""Where each source stands on the SPO calendar, from the history alone: its last good
automatic, weekly, monthly and manual backup, and whether the manual backup (S1.3) is older
than the policy allows."""

from datetime import datetime

from . import catalog, history, manifest, monthly, notify, runner
from .config import Config

KINDS = ("automatic", "weekly-full", "manual")


def build(cfg: Config, now: datetime) -> dict:
    last: dict[str, dict[str, dict]] = {s.name: {} for s in cfg.sources}
    for run in history.read(cfg.history_file, record="run"):
        if run.get("result") == "ok" and run.get("kind") in KINDS and run["source"] in last:
            last[run["source"]][run["kind"]] = {
                "time": run["time"],
                "backup": run["backup"],
                "destination": run.get("destination"),
                "triggered_by": run.get("triggered_by"),
            }
    copies = _monthly_copies(cfg)
    limit = cfg.calendar.manual_max_age_days
    sources = []
    for source in cfg.sources:
        mine = last[source.name]
        manual = mine.get("manual")
        age = None
        if manual:
            age = round((now - manifest.parse_time(manual["time"])).total_seconds() / 86400, 2)
        sources.append(
            {
                "source": source.name,
                "type": source.type,
                "last": {kind: mine.get(kind) for kind in KINDS},
                "monthly_copy": copies.get(source.name),
                "manual_age_days": age,
                "manual_overdue": age is None or age > limit,
            }
        )
    return {
        "site": cfg.site,
        "host": cfg.host,
        "time": manifest.iso(now),
        "manual_max_age_days": limit,
        "sources": sources,
        "overdue": [s["source"] for s in sources if s["manual_overdue"]],
    }


def _monthly_copies(cfg: Config) -> dict[str, dict]:
    """Per source, the latest month whose copies are complete (or still pending)."""
    state = monthly.load_state(cfg.state_dir / monthly.STATE)
    found: dict[str, dict] = {}
    for month, entry in sorted(state["months"].items()):
        for name in entry["selected"]:
            found[catalog.source_of(name)] = {"month": month, "completed": entry["completed"]}
    return found


def tell_overdue(cfg: Config, report: dict, now: datetime) -> list[dict]:
    """One notice naming every source whose manual backup is overdue (none: nothing sent)."""
    if not report["overdue"]:
        return []
    ages = {s["source"]: s["manual_age_days"] for s in report["sources"]}
    lines = [
        (lambda lang, n=n: notify.text(lang, "manual-overdue.line", source=n, age=ages[n]))
        if ages[n] is not None
        else (lambda lang, n=n: notify.text(lang, "manual-overdue.never", source=n))
        for n in report["overdue"]
    ]
    notice = notify.Notice(
        "manual-overdue",
        "failed",
        now,
        values={
            "days": report["manual_max_age_days"],
            "lines": lambda lang: "\n".join(line(lang) for line in lines),
        },
    )
    attempts = notify.send(cfg, notice)
    runner.record_notices(cfg, attempts)
    return attempts
