"""The mirror monitor (S3.3: the mirror may miss at most ``policy_seconds`` of changes).

``status`` asks each mirrored database server of this host where it stands (primary, mirror
or stopped) and how far behind it is, and holds that against the policy; ``heartbeat``
makes the primary write the time into a replicated table, so a mirror can tell an idle
primary from a broken stream; ``tell`` sends a notice when the policy starts or stops
being met; ``metrics_text`` is the Prometheus textfile of it all.

Evaluation is pure (``mirror_postgres.evaluate``, ``mirror_mariadb.evaluate``, ``finish``,
``breaches``): the servers are only asked in ``mirror_postgres.query`` and
``mirror_mariadb.query``.
"""

import math
from datetime import datetime
from pathlib import Path

from . import atomic, manifest, metrics, mirror_mariadb, mirror_postgres, notify, runner
from .config import Config
from .errors import BackupError, ToolError
from .mirror_config import MirrorConfig

STATE = "mirror"  # <state_dir>/mirror.json: whether the policy was met at the last check
TEXTFILE = "spo_mirror.prom"
METRICS = {
    "spo_mirror_up": (
        "gauge",
        "1 if the engine replicates: a mirror receiving from its primary, a primary sending.",
    ),
    "spo_mirror_lag_seconds": ("gauge", "How many seconds of changes the mirror may be missing."),
    "spo_mirror_lag_bytes": ("gauge", "WAL the mirror received but has not replayed yet."),
    "spo_mirror_wal_archive_age_seconds": (
        "gauge",
        "Age of the newest WAL segment in this host's pgBackRest repository.",
    ),
    "spo_mirror_policy_seconds": ("gauge", "The most the policy lets the mirror miss (S3.3)."),
    "spo_mirror_ok": ("gauge", "1 if the mirror policy is met on this host."),
}


def status(cfg: Config, mcfg: MirrorConfig, now: datetime) -> dict:
    engines = []
    if mcfg.postgresql is not None:
        pg = mcfg.postgresql
        archive = None
        if pg.pgbackrest is not None:
            archive = mirror_postgres.newest_archived_wal(pg.pgbackrest.archive_dir, now)
        facts = mirror_postgres.query(pg.port, mcfg.heartbeat_database)
        engines.append(mirror_postgres.evaluate(facts, archive, now))
    if mcfg.mariadb is not None:
        facts = mirror_mariadb.query(mcfg.mariadb.socket, mcfg.heartbeat_database)
        engines.append(mirror_mariadb.evaluate(facts))
    return report(cfg, mcfg.policy_seconds, engines, now)


def report(cfg: Config, policy: int, engines: list[dict], now: datetime) -> dict:
    """The whole report from the engines' evaluations."""
    finished = [finish(engine, policy) for engine in engines]
    found = [f"{e['engine']}: {text}" for e in finished for text in e["breaches"]]
    return {
        "host": cfg.host,
        "site": cfg.site,
        "time": manifest.iso(now),
        "policy_seconds": policy,
        "ok": not found,
        "breaches": found,
        "engines": finished,
    }


def finish(engine: dict, policy: int) -> dict:
    """An engine's evaluation with its ``ok`` and its breaches, said in English."""
    found = [notify.text("en", key, **values) for key, values in breaches(engine, policy)]
    head = {"engine": engine["engine"], "role": engine["role"], "ok": not found}
    return {**head, "breaches": found, **engine}


def breaches(engine: dict, policy: int) -> list[tuple[str, dict]]:
    """What breaks the policy, as (message key, values): a stopped server anywhere; on a
    mirror a lag over the policy or unknown, broken replication, a stale WAL archive."""
    if engine["role"] == "stopped":
        return [("mirror.breach.stopped", {"error": engine["error"]})]
    if engine["role"] != "mirror":
        return []
    found = []
    state, lag = engine["state"], engine["lag_seconds"]
    if state == "broken":
        found.append(("mirror.breach.broken", {"error": engine["last_error"] or "-"}))
    if lag is None and state != "broken":
        found.append(("mirror.breach.lag-unknown", {"state": state}))
    elif lag is not None and lag > policy:
        found.append(("mirror.breach.lag", {"lag": math.ceil(lag), "policy": policy}))
    archive = engine.get("archive")
    if archive is not None and archive["age_seconds"] is None:
        found.append(("mirror.breach.no-archive", {"folder": archive["folder"]}))
    elif archive is not None and archive["age_seconds"] > policy:
        age = math.ceil(archive["age_seconds"])
        found.append(("mirror.breach.archive", {"age": age, "policy": policy}))
    return found


# -- the heartbeat ---------------------------------------------------------------------------


def heartbeat(mcfg: MirrorConfig, now: datetime) -> list[dict]:
    """Write the beat on each engine whose local server is the primary; per engine what was
    done (``written``) or why not (``error``). Never raises for one engine's failure."""
    sides = []
    if mcfg.postgresql is not None:
        sides.append((mirror_postgres, mcfg.postgresql.port))
    if mcfg.mariadb is not None:
        sides.append((mirror_mariadb, mcfg.mariadb.socket))
    return [_beat(side, where, mcfg.heartbeat_database, now) for side, where in sides]


def _beat(side, where, database: str, now: datetime) -> dict:
    """``side``: mirror_postgres or mirror_mariadb; ``where``: its port or socket."""
    try:
        return {"engine": side.ENGINE, **side.write_heartbeat(where, database, now), "error": None}
    except BackupError as exc:
        error = exc
        if isinstance(exc, ToolError) and any(sign in exc.what for sign in side.MISSING):
            error = BackupError(
                f"{side.ENGINE} heartbeat: the database {database} or its table "
                f"{side.HEARTBEAT_TABLE} does not exist ({' '.join(exc.what.split())})",
                "run the db_mirror role: it creates both on the primary",
            )
    failed = {"role": None, "written": False, "beat": None, "error": str(error)}
    return {"engine": side.ENGINE, **failed}


# -- notices ---------------------------------------------------------------------------------


def tell(cfg: Config, report: dict, now: datetime) -> list[dict]:
    """A notice when the policy stops being met (mirror-breach) and when it is met again
    (mirror-recovered); nothing while it stays as it was. Returns the delivery attempts."""
    _event, previous = notify.transition(cfg.state_dir, STATE, report["ok"], now)
    was_ok = previous.get("result") != "failed"  # no state yet: as if it had been met
    if report["ok"] == was_ok:
        return []
    policy = report["policy_seconds"]
    if not report["ok"]:
        if "failure" not in cfg.notify.on:
            return []
        notice = notify.Notice(
            "mirror-breach",
            "failed",
            now,
            values={"policy": policy, "lines": lambda lang: _breach_lines(report, lang)},
        )
    else:
        if "recovery" not in cfg.notify.on:
            return []
        since = previous.get("since")
        notice = notify.Notice(
            "mirror-recovered",
            "ok",
            now,
            values={
                "policy": policy,
                "since": notify.local_time(manifest.parse_time(since)) if since else "",
                "lines": lambda lang: _state_lines(report, lang),
            },
        )
    attempts = notify.send(cfg, notice)
    runner.record_notices(cfg, attempts)
    return attempts


def _breach_lines(report: dict, language: str) -> str:
    policy = report["policy_seconds"]
    return "\n".join(
        f"- {engine['engine']}: {notify.text(language, key, **values)}"
        for engine in report["engines"]
        for key, values in breaches(engine, policy)
    )


def _state_lines(report: dict, language: str) -> str:
    lines = []
    for engine in report["engines"]:
        if engine["role"] == "mirror":
            lag = engine["lag_seconds"]
            shown = f"{lag:.0f}" if lag is not None else "?"
            values = {"engine": engine["engine"], "state": engine["state"], "lag": shown}
            lines.append(notify.text(language, "mirror.line.mirror", **values))
        else:
            lines.append(notify.text(language, "mirror.line.primary", engine=engine["engine"]))
    return "\n".join(lines)


# -- metrics ---------------------------------------------------------------------------------


def metrics_text(report: dict) -> str:
    samples: metrics.Samples = {name: [] for name in METRICS}
    for engine in report["engines"]:
        labels = {"engine": engine["engine"]}
        samples["spo_mirror_up"].append((labels, int(_replicating(engine))))
        for key in ("lag_seconds", "lag_bytes"):
            if engine.get(key) is not None:
                samples[f"spo_mirror_{key}"].append((labels, engine[key]))
        archive = engine.get("archive")
        if archive is not None and archive["age_seconds"] is not None:
            samples["spo_mirror_wal_archive_age_seconds"].append(({}, archive["age_seconds"]))
    samples["spo_mirror_policy_seconds"].append(({}, report["policy_seconds"]))
    samples["spo_mirror_ok"].append(({}, int(report["ok"])))
    return metrics.format_samples(samples, METRICS)


def _replicating(engine: dict) -> bool:
    if engine["role"] == "mirror":
        return engine["state"] in ("streaming", "catching-up")
    if engine["role"] == "primary" and engine["engine"] == mirror_postgres.ENGINE:
        return any(replica["state"] == "streaming" for replica in engine["replicas"])
    return engine["role"] == "primary" and bool(engine["replicas"])  # MariaDB: connected ones


def write_metrics(cfg: Config, report: dict) -> Path | None:
    """``spo_mirror.prom`` beside the backup metrics file, when the host has one."""
    if cfg.metrics_file is None:
        return None
    path = cfg.metrics_file.parent / TEXTFILE
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(path, metrics_text(report))
    return path
