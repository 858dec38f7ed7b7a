"""``spo-backup digest``: per source, what the last 24 hours of the history say, sent as one
notice. Its result is "failed" unless every source's last run succeeded and each had a
success in the period: a digest never reads as good news while something is wrong."""

from datetime import datetime, timedelta

from . import catalog, history, manifest, notify, offsite
from .config import Config

PERIOD = timedelta(hours=24)


def build(cfg: Config, now: datetime | None = None) -> notify.Notice:
    now = now or manifest.utc_now()
    recent = list(history.read(cfg.history_file, now - PERIOD, record="run"))
    last = history.last_runs(cfg.history_file)
    local = catalog.list_backups(cfg.backup_root)[0]
    reachable = {off.name: offsite.reachable(off) for off in cfg.offsite}
    rows, healthy = [], True
    for source in cfg.sources:
        runs = [r for r in recent if r["source"] == source.name]
        ok = sum(r["result"] == "ok" for r in runs)
        seen = last.get(source.name, {})
        healthy &= bool(ok) and seen.get("last", {}).get("result") == "ok"
        good = seen.get("ok")
        rows.append(
            {
                "source": source.name,
                "ok": ok,
                "failed": len(runs) - ok,
                "last_success": notify.local_time(manifest.parse_time(good["ended_at"]))
                if good
                else None,
                "count": sum(b.host == cfg.host and b.source == source.name for b in local),
                "offsite": {
                    off.name: len(offsite.backups_of(off.path, cfg.host, source.name))
                    if reachable[off.name]
                    else None
                    for off in cfg.offsite
                },
                "error": runs[-1]["error"] if runs else None,  # only while still failing
            }
        )
    result = "ok" if healthy else "failed"
    return notify.Notice(
        "digest",
        result,
        now,
        values={
            "summary": notify.word(f"digest.summary.{result}"),
            "lines": lambda language: "\n".join(_line(language, row) for row in rows),
        },
    )


def _line(language: str, row: dict) -> str:
    def say(key: str, **values) -> str:
        return notify.text(language, key, **values)

    offsites = ", ".join(
        f"{name} {say('unreachable') if number is None else number}"
        for name, number in row["offsite"].items()
    )
    line = say(
        "digest.line",
        **{
            **row,
            "last_success": row["last_success"] or say("never"),
            "offsite": offsites or say("none"),
        },
    )
    return f"{line}\n{say('digest.error', error=row['error'])}" if row["error"] else line
