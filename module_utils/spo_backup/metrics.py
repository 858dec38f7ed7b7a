"""The Prometheus textfile (node_exporter textfile collector) of the host's backups.

Recomputed from the history file and the catalogs at every write, never kept in memory, so
it is right whichever run (cron, manual, a crashed one's successor) writes it last.
"""

from . import atomic, catalog, history, manifest, offsite
from .config import Config

# name -> (type, help); the order of this table is the order in the file.
METRICS = {
    "spo_backup_last_success_timestamp_seconds": (
        "gauge",
        "Unix time the last successful run of the source ended (0: never).",
    ),
    "spo_backup_last_duration_seconds": ("gauge", "Duration of the last run of the source."),
    "spo_backup_last_size_bytes": ("gauge", "Stored size of the last successful backup."),
    "spo_backup_count": ("gauge", "Complete backups of the source in the local backup root."),
    "spo_backup_last_run_success": ("gauge", "1 if the last run of the source succeeded."),
    "spo_backup_offsite_count": (
        "gauge",
        "Complete backups of the source at the offsite (absent while it is unreachable).",
    ),
    "spo_backup_offsite_up": ("gauge", "1 if the offsite is mounted and marked."),
}

# name -> [(labels, value)]
Samples = dict[str, list[tuple[dict[str, str], float]]]


def render(cfg: Config) -> str:
    samples: Samples = {name: [] for name in METRICS}
    runs = history.last_runs(cfg.history_file)
    local = catalog.list_backups(cfg.backup_root)[0]
    for source in cfg.sources:
        labels = {"source": source.name}
        seen = runs.get(source.name, {})
        last, good = seen.get("last"), seen.get("ok")
        ended = manifest.parse_time(good["ended_at"]).timestamp() if good else 0
        samples["spo_backup_last_success_timestamp_seconds"].append((labels, ended))
        if last:
            samples["spo_backup_last_duration_seconds"].append((labels, last["duration_seconds"]))
            samples["spo_backup_last_run_success"].append((labels, int(last["result"] == "ok")))
        if good and good.get("size_bytes") is not None:
            samples["spo_backup_last_size_bytes"].append((labels, good["size_bytes"]))
        mine = [b for b in local if b.host == cfg.host and b.source == source.name]
        samples["spo_backup_count"].append((labels, len(mine)))
    for off in cfg.offsite:
        up = offsite.reachable(off)
        samples["spo_backup_offsite_up"].append(({"offsite": off.name}, int(up)))
        for source in cfg.sources if up else ():
            number = len(offsite.backups_of(off.path, cfg.host, source.name))
            labels = {"source": source.name, "offsite": off.name}
            samples["spo_backup_offsite_count"].append((labels, number))
    return format_samples(samples)


def format_samples(samples: Samples, table: dict[str, tuple[str, str]] = METRICS) -> str:
    """The exposition text: each metric of ``table`` (name -> type, help) with its samples."""
    lines = []
    for name, (kind, text) in table.items():
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        for labels, value in samples[name]:
            shown = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            lines.append(f"{name}{{{shown}}} {value!r}" if shown else f"{name} {value!r}")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def write(cfg: Config) -> None:
    if cfg.metrics_file is not None:
        cfg.metrics_file.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(cfg.metrics_file, render(cfg))
