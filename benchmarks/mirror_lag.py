#!/usr/bin/env python3
"""How far the PostgreSQL mirror lags production under load, on the built-in lab (S3.3).

Runs pgbench on simrs-db and, in the same seconds, samples the replication from both ends:

- on the primary, ``pg_stat_replication.replay_lag`` of the mirror: PostgreSQL's own measure of
  the time from a WAL record's flush on the primary to its replay on the mirror, plus the bytes
  not yet replayed;
- on the mirror, ``now() - pg_last_xact_replay_timestamp()``: the age of the newest replayed
  commit (under a steady load, the delay before a write on production is readable on the mirror).

For comparison it prints the bound of shipping WAL files only, as the SPO describes it ("logs
every 10 minutes"): a change may be up to ``archive_timeout`` old on the backup server, which is
what the pgBackRest archive alone still guarantees when streaming is down.

Prints median, p95 and max in seconds, checks the issue's target (median <= 1 s), and writes JSON.
Needs the lab up and provisioned (``spo lab up``, ``spo lab seed``, ``spo provision``).
Run with the project's venv: ``.venv/bin/python benchmarks/mirror_lag.py``.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PRIMARY, MIRROR = "spo-lab-simrs-db", "spo-lab-simrs-mirror"
DATABASE = "spo_bench_mirror"
TARGET_MEDIAN_SECONDS = 1.0

# Runs inside a lab host as postgres (python3-psycopg2 is in the lab image): prints one JSON
# line per sample of `query` every `every` seconds for `seconds` seconds.
SAMPLER = r"""
import json, sys, time
import psycopg2
query, every, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
conn = psycopg2.connect(dbname="postgres")
conn.autocommit = True
cur = conn.cursor()
end = time.monotonic() + seconds
while time.monotonic() < end:
    cur.execute(query)
    row = cur.fetchone()
    print(json.dumps([time.time(), *(None if v is None else float(v) for v in row)]), flush=True)
    time.sleep(every)
"""

PRIMARY_QUERY = (
    "SELECT extract(epoch FROM replay_lag), pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) "
    "FROM pg_stat_replication WHERE application_name = 'simrs-mirror' "
    "UNION ALL SELECT NULL, NULL LIMIT 1"
)
MIRROR_QUERY = "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())"


def podman(container: str, *command: str, **kwargs) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTAINERS_CONF": str(ROOT / "lab" / "containers.conf")}
    return subprocess.run(
        ["podman", "exec", "-i", container, "runuser", "-u", "postgres", "--", *command],
        capture_output=True, text=True, env=env, check=False, **kwargs,
    )  # fmt: skip


def checked(proc: subprocess.CompletedProcess[str], what: str) -> str:
    if proc.returncode != 0:
        sys.exit(f"mirror_lag: {what} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def prepare(scale: int) -> None:
    """A pgbench database on the primary (replicated to the mirror like any other)."""
    exists = podman(PRIMARY, "psql", "-Atc", "SELECT datname FROM pg_database")
    if DATABASE not in checked(exists, "listing the databases").split():
        checked(podman(PRIMARY, "createdb", DATABASE), "createdb")
        print(f"mirror_lag: pgbench -i -s {scale} (once)", file=sys.stderr)
        checked(podman(PRIMARY, "pgbench", "-i", "-q", "-s", str(scale), DATABASE), "pgbench -i")


def sample(container: str, query: str, every: float, seconds: float, out: list) -> None:
    proc = podman(container, "python3", "-", query, str(every), str(seconds), input=SAMPLER)
    out.extend(json.loads(line) for line in checked(proc, f"sampling {container}").splitlines())


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "samples": len(ordered),
        "median": round(statistics.median(ordered), 4),
        "p95": round(p95, 4),
        "max": round(ordered[-1], 4),
    }


def archive_timeout() -> int:
    out = podman(PRIMARY, "psql", "-Atc", "SHOW archive_timeout")
    text = checked(out, "reading archive_timeout").strip()
    seconds = {"s": 1, "min": 60, "h": 3600}
    for unit, factor in seconds.items():
        if text.endswith(unit):
            return int(text[: -len(unit)]) * factor
    return int(text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60, help="length of the pgbench load")
    p.add_argument("--clients", type=int, default=4, help="pgbench clients")
    p.add_argument("--scale", type=int, default=20, help="pgbench scale of the database")
    p.add_argument("--every", type=float, default=0.25, help="seconds between samples")
    p.add_argument("--json", type=Path, default=HERE / "results" / "mirror_lag.json")
    args = p.parse_args(argv)

    prepare(args.scale)
    primary, mirror = [], []
    samplers = [
        threading.Thread(target=sample, args=(c, q, args.every, args.seconds, out))
        for c, q, out in ((PRIMARY, PRIMARY_QUERY, primary), (MIRROR, MIRROR_QUERY, mirror))
    ]
    for thread in samplers:
        thread.start()
    load = podman(PRIMARY, "pgbench", "-n", "-c", str(args.clients), "-j", "2",
                  "-T", str(int(args.seconds)), DATABASE)  # fmt: skip
    for thread in samplers:
        thread.join()
    report = checked(load, "pgbench")
    tps_lines = [line for line in report.splitlines() if line.startswith("tps")]
    tps = float(tps_lines[0].split("=")[1].split()[0]) if tps_lines else None

    # replay_lag is NULL once the mirror has replayed everything and nothing new came: no lag.
    replay = [row[1] or 0.0 for row in primary]
    behind = [row[2] or 0.0 for row in primary]
    newest = [row[1] for row in mirror if row[1] is not None]
    results = {
        "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "load": {
            "tool": "pgbench",
            "clients": args.clients,
            "seconds": args.seconds,
            "scale": args.scale,
            "tps": tps,
        },
        "replay_lag_seconds": summary(replay),
        "replay_lag_null_samples": sum(1 for row in primary if row[1] is None),
        "bytes_not_replayed": summary(behind),
        "newest_replayed_commit_age_seconds": summary(newest),
        "wal_file_shipping_bound_seconds": archive_timeout(),
        "target_median_seconds": TARGET_MEDIAN_SECONDS,
    }
    results["target_met"] = results["replay_lag_seconds"]["median"] <= TARGET_MEDIAN_SECONDS

    print(f"pgbench: {args.clients} clients, {args.seconds:.0f} s, {tps} tps on simrs-db")
    print(f"{'measure':<46}{'median':>10}{'p95':>10}{'max':>10}")
    for key, label in (
        ("replay_lag_seconds", "replay lag, s (primary's pg_stat_replication)"),
        ("newest_replayed_commit_age_seconds", "newest replayed commit age, s (mirror)"),
        ("bytes_not_replayed", "bytes not yet replayed"),
    ):
        row = results[key]
        print(f"{label:<46}{row['median']:>10}{row['p95']:>10}{row['max']:>10}")
    bound = results["wal_file_shipping_bound_seconds"]
    print(f"{'WAL file shipping alone (archive_timeout), s':<46}{'':>10}{'':>10}{bound:>10}")
    verdict = "PASS" if results["target_met"] else "FAIL"
    print(f"target: median replay lag <= {TARGET_MEDIAN_SECONDS} s: {verdict} "
          f"({results['replay_lag_seconds']['median']} s)")  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
