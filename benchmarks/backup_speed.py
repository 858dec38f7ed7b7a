#!/usr/bin/env python3
"""How fast the backup engine dumps and restores, next to the stock tools, on one machine.

Builds (or reuses) a PostgreSQL database ``spo_bench`` of at least 1 GB and a MariaDB one of
about 0.7 GB of generated hospital data, then times in one run:

- PostgreSQL dump: the engine (custom format streamed through zstd -T0) vs ``pg_dump -Fc``
  (its default gzip) vs ``pg_dump -Fc -Z0`` (no compression);
- PostgreSQL restore: the engine vs ``pg_restore`` with the same ``--jobs``, into new databases;
- MariaDB dump: the engine vs ``mariadb-dump --single-transaction | gzip`` (what
  community.mysql's ``.gz`` target runs) vs mydumper with as many threads.

It prints a table and the issue's target checks and writes everything to JSON.
Run with the project's venv: ``.venv/bin/python benchmarks/backup_speed.py`` (see README.md).
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "module_utils"))  # the engine, as hosts import it
sys.path.insert(0, str(HERE))

import bench_data  # noqa: E402
from bench_measure import MB, Priority, Quiet, Step, fsync_tree, pipe_to_file, remove, run_checked  # noqa: E402

from spo_backup import VERSION, backup, jobs, manifest, postgres, verify  # noqa: E402
from spo_backup.compress import CODECS  # noqa: E402
from spo_backup.session import Connection  # noqa: E402

DEFAULT_SCRATCH = "/var/tmp"  # noqa: S108 -- on disk like a real destination, not a tmpfs
TARGET_SPEEDUP, TARGET_SIZE, TARGET_VS_RAW = 3.0, 1.1, 1.10
# The bare pipes shown for context: the engine's own codec without the engine (no Python in
# the data path, no row counts, one stream), and zstd's default level.
PIPES = (
    ("pipe_z0_zstd", CODECS["zstd"].compress, "the engine's codec without the engine"),
    ("pipe_z0_zstd3", ("zstd", "-q", "-T0", "-3", "-c"), "zstd's default level 3"),
)
log = bench_data.log


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0, help="data size factor (0.01: smoke run)")
    p.add_argument("--repeat", type=int, default=1, help="times each tool is measured (median)")
    p.add_argument("--jobs", type=int, default=2, help="pg_restore --jobs and mydumper threads")
    p.add_argument("--json", type=Path, help="results file (default: benchmarks/results/...)")
    p.add_argument("--keep", action="store_true", help="keep the scratch dumps")
    p.add_argument("--scratch", type=Path, default=Path(DEFAULT_SCRATCH))
    p.add_argument("--rebuild", action="store_true", help="rebuild the databases even if right")
    p.add_argument(
        "--idle-share",
        type=float,
        default=0.15,
        help="before each run wait until other programs use at most this share of the CPUs",
    )
    p.add_argument("--max-wait", type=float, default=600, help="seconds to wait for quiet")
    p.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness for the benchmark and both servers while measuring (e.g. -10 on a "
        "shared machine; needs root); 0 leaves priorities alone",
    )
    p.add_argument("--only", choices=["postgresql", "mariadb"], help="benchmark one engine only")
    p.add_argument("--database", help="database name (default spo_bench, or with the scale)")
    p.add_argument("--pg-host", default="/var/run/postgresql", help="host or socket folder")
    p.add_argument("--pg-port", type=int, default=5432)
    p.add_argument("--pg-user", default="postgres")
    p.add_argument("--my-socket", default="/run/mysqld/mysqld.sock")
    p.add_argument("--my-user", default="root")
    args = p.parse_args(argv)
    suffix = "" if args.scale == 1 else f"_s{args.scale:g}".replace(".", "_")
    args.database = args.database or f"spo_bench{suffix}"
    args.json = args.json or HERE / "results" / f"backup_speed{suffix}.json"
    return args


# --------------------------------------------------------------------------- machine


def _first_line(argv: list[str]) -> str:
    if not shutil.which(argv[0]):
        return "not installed"
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return ((done.stdout or done.stderr).strip().splitlines() or ["?"])[0]


def machine_info() -> dict:
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as info:
        mem_kb = int(info.readline().split()[1])
    release = {}
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release") as info:
            release = dict(line.rstrip().split("=", 1) for line in info if "=" in line)
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "os": release.get("PRETTY_NAME", "").strip('"') or platform.platform(),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def tool_versions(pg: bench_data.Runner, my: bench_data.Runner) -> dict:
    versions = {
        name: _first_line([name, "--version"])
        for name in ("pg_dump", "pg_restore", "mariadb-dump", "zstd", "gzip", "mydumper")
    }
    versions["spo_backup_engine"] = VERSION
    versions["postgresql_server"] = pg.sql("SHOW server_version;", "postgres").strip()
    versions["mariadb_server"] = my.sql("SELECT VERSION();").strip()
    return versions


# --------------------------------------------------------------------------- PostgreSQL


def pg_steps(args, scratch: Path, pg: bench_data.Runner) -> tuple[list[Step], list]:
    """The PostgreSQL steps, and what drops the databases they restore into."""
    db, j = args.database, args.jobs
    conn = Connection(host=args.pg_host, port=args.pg_port, user=args.pg_user)
    login = ["-h", args.pg_host, "-p", str(args.pg_port), "-U", args.pg_user]
    fc, z0, piped = scratch / "pg_dump-Fc.dump", scratch / "pg_dump-Fc-Z0.dump", scratch / "pipe"
    ours, ours_parallel = scratch / "engine-pg", scratch / "engine-pg-parallel"
    made: dict = {}

    def engine_dump(fmt: str, root: Path):
        def dump() -> None:
            job = jobs.database_job(
                "postgresql", conn, db, kind="manual", triggered_by="benchmark", fmt=fmt, jobs=j
            )
            made[fmt] = Path(backup.run(backup.Destination(root), job, verify_after=False)["path"])

        return dump

    def fresh(target: str, create: bool):
        def prepare() -> None:
            pg.sql(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE);', "postgres")

        def run_restore(source: Path) -> None:
            if create:
                pg.sql(f'CREATE DATABASE "{target}" TEMPLATE template0;', "postgres")
            run_checked(
                ["pg_restore", *login, "-d", target, "--exit-on-error", "-j", str(j), source]
            )

        return prepare, run_restore

    r_raw, r_ours = f"{db}_restore_raw", f"{db}_restore_engine"
    prep_raw, restore_raw = fresh(r_raw, create=True)
    prep_ours, _unused = fresh(r_ours, create=False)
    dump, restore = "PostgreSQL dump", f"PostgreSQL restore (--jobs {j})"

    def engine_restore(fmt: str, key: str, note: str) -> Step:
        return Step(
            restore,
            key,
            f"engine restore of the {fmt} backup (jobs={j})",
            lambda: jobs.restore_database(conn, made[fmt], r_ours, jobs=j),
            None,
            prep_ours,
            "pg_restore_fc",
            note=note,
        )

    plain = ["pg_dump", *login, "-Fc", "-Z0", "-d", db]
    return [
        Step(
            dump,
            "pg_dump_fc",
            "pg_dump -Fc (gzip, default)",
            lambda: run_checked(["pg_dump", *login, "-Fc", "-d", db, "-f", fc]),
            fc,
            lambda: remove(fc),
        ),
        Step(
            dump,
            "pg_dump_z0",
            "pg_dump -Fc -Z0 (no compression)",
            lambda: run_checked([*plain, "-f", z0]),
            z0,
            lambda: remove(z0),
            "pg_dump_fc",
        ),
        Step(
            dump,
            "engine_pg_dump",
            "engine dump (custom | zstd -T0)",
            engine_dump("custom", ours),
            ours,
            lambda: remove(ours),
            "pg_dump_fc",
            note="backup.run(verify_after=False): dump, exact row counts in the dump's "
            "snapshot, globals, sha256, manifest, fsync",
        ),
        Step(
            dump,
            "engine_pg_parallel",
            # As the engine runs it: the parts' zstd share the cores (compress.Codec.sharing).
            f"engine dump (parallel, {j} jobs, each | zstd -T{max(1, (os.cpu_count() or 1) // j)})",
            engine_dump("parallel", ours_parallel),
            ours_parallel,
            lambda: remove(ours_parallel),
            "pg_dump_fc",
            note=f"format parallel: the biggest tables' data in {j} more dumps side by side in "
            "the same snapshot; the format the engine uses for big databases",
        ),
        Step(
            dump,
            "engine_pg_verify",
            "engine verify of the custom backup",
            lambda: verify.check(made["custom"]),
            None,
            None,
            None,
            info=True,
            note="what backup.run adds by default (verify_after=True)",
        ),
        *(
            Step(
                dump,
                key,
                f"pg_dump -Fc -Z0 | {' '.join(codec)} (shell pipe)",
                lambda codec=codec: pipe_to_file(plain, list(codec), piped),
                piped,
                lambda: remove(piped),
                "pg_dump_fc",
                info=True,
                note=note,
            )
            for key, codec, note in PIPES
        ),
        Step(
            restore,
            "pg_restore_fc",
            f"pg_restore -j {j} from pg_dump -Fc",
            lambda: restore_raw(fc),
            None,
            prep_raw,
            note="includes CREATE DATABASE",
        ),
        Step(
            restore,
            "pg_restore_z0",
            f"pg_restore -j {j} from pg_dump -Fc -Z0",
            lambda: restore_raw(z0),
            None,
            prep_raw,
            "pg_restore_fc",
            info=True,
        ),
        engine_restore(
            "custom",
            "engine_pg_restore",
            "jobs.restore_database: verify, decompress to a scratch file (a parallel "
            "pg_restore needs to seek), pg_restore, row counts checked",
        ),
        Step(
            restore,
            "engine_pg_restore_noverify",
            "engine restore, without its verify",
            lambda: postgres.restore(
                conn, made["custom"], manifest.read(made["custom"]), r_ours, jobs=j
            ),
            None,
            prep_ours,
            "pg_restore_fc",
            info=True,
            note="postgres.restore alone: the verify step left out",
        ),
        engine_restore(
            "parallel",
            "engine_pg_restore_parallel",
            "jobs.restore_database: verify, the schema, every part's data side by side "
            "(streamed, no scratch copy), then indexes and constraints with --jobs",
        ),
    ], [prep_raw, prep_ours]


# --------------------------------------------------------------------------- MariaDB


def _no_long_queries(my: bench_data.Runner, timeout: float) -> None:
    """mydumper refuses to start while any query has run 60 s (its --long-query-guard), as a
    FLUSH TABLES WITH READ LOCK would wait behind it: wait up to ``timeout`` for that to clear."""
    sql = (
        "SELECT COALESCE(MAX(TIME), 0) FROM information_schema.PROCESSLIST "
        "WHERE COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump') AND ID <> CONNECTION_ID();"
    )
    deadline, told = time.monotonic() + timeout, False
    while int(float(my.sql(sql).strip() or 0)) >= 30 and time.monotonic() < deadline:
        if not told:
            log("    another session has a query running for 30 s or more: waiting for it")
            told = True
        time.sleep(5)


def my_steps(args, scratch: Path, my: bench_data.Runner) -> list[Step]:
    db, j = args.database, args.jobs
    conn = Connection(user=args.my_user, socket=args.my_socket)
    dump_argv = [
        "mariadb-dump",
        f"--socket={args.my_socket}",
        f"--user={args.my_user}",
        "--single-transaction",
        "--quick",
        "--routines",
        "--triggers",
        "--events",
        "--hex-blob",
        "--no-tablespaces",
        db,
    ]
    gz, raw, ours, mydir = (
        scratch / "mariadb-dump.sql.gz",
        scratch / "mariadb-dump.sql",
        scratch / "engine-mariadb",
        scratch / "mydumper",
    )
    made: dict = {}

    def engine_dump() -> None:
        job = jobs.database_job("mariadb", conn, db, kind="manual", triggered_by="benchmark")
        made["folder"] = Path(backup.run(backup.Destination(ours), job, verify_after=False)["path"])

    def prepare_mydumper() -> None:
        remove(mydir)
        _no_long_queries(my, args.max_wait)

    def mydumper() -> None:
        run_checked(
            [
                "mydumper",
                "-S",
                args.my_socket,
                "-u",
                args.my_user,
                "-B",
                db,
                "-t",
                str(j),
                "-c",
                "-G",
                "-E",
                "-R",
                "--trx-consistency-only",
                "-v",
                "1",
                "-o",
                str(mydir),
            ]
        )
        fsync_tree(mydir)

    group = "MariaDB dump"
    steps = [
        Step(
            group,
            "mariadb_dump_gzip",
            "mariadb-dump --single-transaction | gzip",
            lambda: pipe_to_file(dump_argv, ["gzip", "-c"], gz),
            gz,
            lambda: remove(gz),
            note="community.mysql mysql_db state=dump target=*.gz; same options as the engine",
        ),
        Step(
            group,
            "mariadb_dump_raw",
            "mariadb-dump (no compression)",
            lambda: pipe_to_file(dump_argv, None, raw),
            raw,
            lambda: remove(raw),
            "mariadb_dump_gzip",
            info=True,
        ),
        Step(
            group,
            "engine_mariadb_dump",
            "engine dump (mariadb-dump | zstd -T0)",
            engine_dump,
            ours,
            lambda: remove(ours),
            "mariadb_dump_gzip",
            note="backup.run(verify_after=False): counts under a brief read lock, dump, "
            "sha256, manifest, fsync",
        ),
        Step(
            group,
            "engine_mariadb_verify",
            "engine verify of that backup",
            lambda: verify.check(made["folder"]),
            None,
            None,
            None,
            info=True,
        ),
        Step(
            group,
            "mydumper",
            f"mydumper -t {j} -c (gzip per file)",
            mydumper,
            mydir,
            prepare_mydumper,
            "mariadb_dump_gzip",
            note="--trx-consistency-only -G -E -R; output fsynced like the others",
        ),
    ]
    if not shutil.which("mydumper"):
        steps[-1].skip("mydumper is not installed: apt-get install mydumper")
    return steps


# --------------------------------------------------------------------------- report


def summarize(steps: list[Step], source_bytes: dict[str, int]) -> list[dict]:
    by_key = {s.key: s for s in steps}
    rows = []
    for s in steps:
        seconds, out = s.median("seconds"), s.median("output_bytes")
        base = by_key.get(s.baseline) if s.baseline else (None if s.info else s)
        base_s = base.median("seconds") if base else None
        base_out = base.median("output_bytes") if base else None
        src = source_bytes[s.group.split()[0]]
        rows.append(
            {
                "group": s.group,
                "key": s.key,
                "tool": s.tool,
                "status": s.status,
                "error": s.error,
                "baseline": base.key if base else None,
                "informational": s.info,
                "note": s.note,
                "seconds": seconds,
                "seconds_min": s.least("seconds"),
                "source_mb_per_second": round(src / MB / seconds, 1) if seconds else None,
                "output_bytes": out,
                "time_vs_baseline": round(seconds / base_s, 3) if seconds and base_s else None,
                "size_vs_baseline": round(out / base_out, 3) if out and base_out else None,
                "client_cpu_seconds": s.median("client_cpu_seconds"),
                "machine_cpu_seconds": s.median("machine_cpu_seconds"),
                "runs": s.runs,
            }
        )
    return rows


def targets(rows: list[dict]) -> list[dict]:
    """The issue's targets, for each of the engine's PostgreSQL formats."""
    r = {row["key"]: row for row in rows}
    found = []
    for key in ("engine_pg_parallel", "engine_pg_dump"):
        found += _targets_of(r.get(key), r.get("pg_dump_fc"), r.get("pg_dump_z0"))
    return found


def _targets_of(ours, fc, z0) -> list[dict]:
    if not (ours and fc and z0) or None in (ours["seconds"], fc["seconds"], z0["seconds"]):
        return [{"target": "PostgreSQL dump targets", "pass": None, "detail": "not measured"}]
    who = ours["tool"]
    speed = fc["seconds"] / ours["seconds"]
    size = ours["output_bytes"] / fc["output_bytes"]
    vs_raw = ours["seconds"] / z0["seconds"]
    # No schedule on this machine's cores can finish the work in less than CPU / cores: the
    # floor shows how much of the gap to the raw dump is the compression's CPU itself.
    cores = os.cpu_count() or 1
    floor = ours["machine_cpu_seconds"] / cores if ours.get("machine_cpu_seconds") else None
    floor_text = (
        f"; its CPU (all processes, servers included): {ours['machine_cpu_seconds']:.1f} s "
        f"against {z0['machine_cpu_seconds']:.1f} s, so on {cores} cores no run can take less "
        f"than {floor:.1f} s = {floor / z0['seconds']:.3f}x"
        if floor and z0.get("machine_cpu_seconds")
        else ""
    )
    return [
        {
            "target": f"{who} >= {TARGET_SPEEDUP:g}x faster than pg_dump -Fc",
            "value": round(speed, 2),
            "pass": speed >= TARGET_SPEEDUP,
            "detail": f"{fc['seconds']:.1f} s / {ours['seconds']:.1f} s = {speed:.2f}x",
        },
        {
            "target": f"{who} size <= {TARGET_SIZE:g}x pg_dump -Fc",
            "value": round(size, 3),
            "pass": size <= TARGET_SIZE,
            "detail": f"{ours['output_bytes'] / MB:.1f} MB / {fc['output_bytes'] / MB:.1f} MB "
            f"= {size:.3f}x",
        },
        {
            "target": f"{who} time <= {TARGET_VS_RAW:.2f}x pg_dump -Fc -Z0",
            "value": round(vs_raw, 3),
            "pass": vs_raw <= TARGET_VS_RAW,
            "detail": f"{ours['seconds']:.1f} s / {z0['seconds']:.1f} s = {vs_raw:.3f}x"
            + floor_text,
            "cpu_floor_vs_raw": round(floor / z0["seconds"], 3) if floor else None,
        },
    ]


def _fmt(value, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def table(rows: list[dict]) -> str:
    head = (
        f"{'tool':<50} {'seconds':>8} {'min s':>7} {'MB/s':>7} {'out MB':>8} {'time/base':>9} "
        f"{'size/base':>9} {'cpu s':>6} {'all cpu':>7}"
    )
    lines, group = [], None
    for row in rows:
        if row["group"] != group:
            group = row["group"]
            lines += ["", f"{group}", head, "-" * len(head)]
        tool = ("  " if row["informational"] else "") + row["tool"]
        if row["key"] == row["baseline"]:
            tool += " [base]"
        if row["status"] != "ok":
            lines.append(f"{tool:<50} {row['status'].upper()}: {row['error'][:60]}")
            continue
        out = row["output_bytes"] / MB if row["output_bytes"] else None
        lines.append(
            f"{tool:<50} {_fmt(row['seconds'], '8.1f')} {_fmt(row['seconds_min'], '7.1f')} "
            f"{_fmt(row['source_mb_per_second'], '7.1f')} {_fmt(out, '8.1f'):>8} "
            f"{_fmt(row['time_vs_baseline'], '9.2f'):>9} "
            f"{_fmt(row['size_vs_baseline'], '9.3f'):>9} "
            f"{_fmt(row['client_cpu_seconds'], '6.1f'):>6} "
            f"{_fmt(row['machine_cpu_seconds'], '7.1f'):>7}"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def _runners(args) -> tuple[bench_data.Runner, bench_data.Runner]:
    pg = bench_data.Runner(
        [
            "psql",
            "-X",
            "-q",
            "-A",
            "-t",
            "-F",
            "\t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            args.pg_host,
            "-p",
            str(args.pg_port),
            "-U",
            args.pg_user,
        ],
        lambda db: ["-d", db],
    )
    my = bench_data.Runner(
        [
            "mariadb",
            f"--socket={args.my_socket}",
            f"--user={args.my_user}",
            "--batch",
            "--skip-column-names",
        ],
        lambda db: [f"--database={db}"],
    )
    return pg, my


def _warm(runner: bench_data.Runner, database: str) -> None:
    """Read every table once so no tool pays for the first read from disk."""
    sql = "".join(f"SELECT count(*) FROM {t};" for t in bench_data.PG_ROWS)  # noqa: S608
    runner.sql(sql, database)


def server_pids(pg: bench_data.Runner, my: bench_data.Runner) -> list[int]:
    """The postmaster's and mariadbd's process ids, from their pid files (we run as root)."""
    pids = []
    for path in (
        Path(pg.sql("SHOW data_directory;", "postgres").strip()) / "postmaster.pid",
        Path(my.sql("SELECT @@pid_file;").strip()),
    ):
        try:
            pids.append(int(path.read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            log(f"cannot read {path}: that server keeps its priority")
    return pids


def _stop(signum, _frame) -> None:
    raise SystemExit(128 + signum)  # runs the finally blocks: scratch and restored dbs go


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    started = time.monotonic()
    pg, my = _runners(args)
    sources, steps, cleanups = {}, [], []
    args.scratch.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="spo-bench-", dir=args.scratch))
    quiet = Quiet(args.idle_share, args.max_wait)
    try:
        if args.only in (None, "postgresql"):
            built = bench_data.build_pg(pg, args.database, args.scale, args.rebuild)
            sources["PostgreSQL"] = {
                "database": args.database,
                **built,
                **bench_data.pg_size(pg, args.database),
            }
            pg_list, cleanups = pg_steps(args, scratch, pg)
            steps += pg_list
        if args.only in (None, "mariadb"):
            built = bench_data.build_my(my, args.database, args.scale, args.rebuild)
            sources["MariaDB"] = {
                "database": args.database,
                **built,
                **bench_data.my_size(my, args.database),
            }
            steps += my_steps(args, scratch, my)
        for name, src in sources.items():
            log(
                f"{name} {src['database']}: {src['database_bytes'] / MB:,.0f} MB on disk "
                f"({src['table_bytes'] / MB:,.0f} MB tables without indexes)"
            )
        with Priority(args.nice, server_pids(pg, my), log):
            for group in dict.fromkeys(s.group for s in steps):
                members = [s for s in steps if s.group == group]
                log(f"{group}: warming the cache, then {args.repeat} round(s) of every tool")
                _warm(pg if group.startswith("PostgreSQL") else my, args.database)
                for i in range(args.repeat):
                    for step in members:
                        step.measure_once(i, args.repeat, quiet, log)
    finally:
        for drop in cleanups:
            drop()  # restored databases are never kept
        if args.keep:
            log(f"scratch kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    source_bytes = {name: src["database_bytes"] for name, src in sources.items()}
    rows = summarize(steps, source_bytes)
    checks = targets(rows) if "PostgreSQL" in sources else []
    report(args, rows, checks, sources, (pg, my), scratch, quiet, time.monotonic() - started)
    return 0


def report(args, rows, checks, sources, runners, scratch, quiet: Quiet, runtime) -> None:
    if "PostgreSQL" in sources:  # what pg_dump sends: the size of the -Z0 dump
        z0 = next((r["output_bytes"] for r in rows if r["key"] == "pg_dump_z0"), None)
        sources["PostgreSQL"]["dump_stream_bytes"] = z0
    now = datetime.datetime.now(datetime.UTC)
    result = {
        "benchmark": "backup_speed",
        "date": now.isoformat(timespec="seconds"),
        "command": " ".join(["benchmarks/backup_speed.py", *(sys.argv[1:])]),
        "scale": args.scale,
        "repeat": args.repeat,
        "jobs": args.jobs,
        "generator_version": bench_data.GENERATOR_VERSION,
        "statistic": "median of the repeats (seconds_min: the fastest)",
        "units": "MB = 10^6 bytes; MB/s = source database size on disk / seconds; "
        "machine_cpu_seconds = CPU of every process during the run, servers included, "
        "steal excluded",
        "machine": machine_info(),
        "versions": tool_versions(*runners),
        "nice": args.nice,
        "quiet_wait": {
            "max_other_share": args.idle_share,
            "seconds_waited": round(quiet.waited_total, 1),
            "runs_measured_while_busy": quiet.gave_up,
            "max_steal_share": quiet.max_steal_share,
            "runs_measured_again_for_steal": quiet.measured_again,
        },
        "scratch": str(scratch) if args.keep else f"{scratch} (removed)",
        "sources": sources,
        "results": rows,
        "targets": checks,
        "runtime_seconds": round(runtime, 1),
    }
    print(
        f"backup_speed {result['date']}  scale {args.scale:g}  repeat {args.repeat}  "
        f"jobs {args.jobs}  {result['machine']['cores']} cores  {result['machine']['cpu']}"
    )
    for name, src in sources.items():
        print(
            f"{name} {src['database']}: {src['database_bytes'] / MB:,.0f} MB on disk, "
            f"{src['table_bytes'] / MB:,.0f} MB in tables"
        )
    print(table(rows))
    print(
        "\nseconds: median of the runs; MB/s: source database size on disk / seconds; "
        "out MB: 10^6 bytes;\ntime/base, size/base: against the [base] row; cpu s: CPU "
        "time of the client tools and this script (servers not included);\nall cpu: CPU time "
        "of every process on the machine during the run, servers included, steal excluded."
    )
    if quiet.gave_up:
        print(f"WARNING: {quiet.gave_up} run(s) measured while other programs kept the CPUs busy")
    print()
    for check in checks:
        verdict = {True: "PASS", False: "FAIL", None: "N/A "}[check["pass"]]
        print(f"{verdict}  {check['target']}: {check['detail']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\nruntime {runtime / 60:.1f} min; results in {args.json}")


if __name__ == "__main__":
    sys.exit(main())
