"""Timing helpers: wall time, CPU time and output size of one benchmark step, repeated."""

import contextlib
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

MB = 1_000_000


def du(path: Path) -> int:
    """Bytes of a file or of every file under a folder."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def fsync_tree(path: Path) -> None:
    """What pg_dump -f and the engine do before they exit; shell pipes into a file do not."""
    for file in [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]:
        fd = os.open(file, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _client_cpu() -> float:
    """CPU seconds of this process and every child it has waited for (the dump tools)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _machine_cpu() -> tuple[float, float]:
    """CPU seconds all cores spent working (every process, servers included) and seconds the
    hypervisor gave our virtual CPUs to other guests (steal), from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    steal = fields[7] if len(fields) > 7 else 0
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - idle - steal) / tick, steal / tick


def _machine_busy() -> float:
    """CPU seconds the cores were not ours to use: work and steal alike (for the quiet wait)."""
    return sum(_machine_cpu())


def run_checked(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, check=False, **kwargs)
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip()[-800:]
        raise RuntimeError(f"{argv[0]} exited with status {done.returncode}: {err}")
    return done


def pipe_to_file(producer: list[str], consumer: list[str] | None, out: Path) -> None:
    """``producer | consumer > out`` without a shell or Python in the data path, then fsync."""
    with (
        open(out, "xb") as sink,
        tempfile.TemporaryFile() as err1,
        tempfile.TemporaryFile() as err2,
    ):
        if consumer is None:
            procs = [(subprocess.Popen(producer, stdout=sink, stderr=err1), err1)]
        else:
            first = subprocess.Popen(producer, stdout=subprocess.PIPE, stderr=err1)
            second = subprocess.Popen(consumer, stdin=first.stdout, stdout=sink, stderr=err2)
            first.stdout.close()  # the consumer holds the read end now
            procs = [(first, err1), (second, err2)]
        codes = [p.wait() for p, _err in procs]
        sink.flush()
        os.fsync(sink.fileno())
        for (p, err), code in zip(procs, codes, strict=True):
            if code != 0:
                err.seek(0)
                tail = err.read().decode(errors="replace")[-800:]
                raise RuntimeError(f"{p.args[0]} exited with status {code}: {tail}")


@dataclass
class Step:
    """One tool's measurement: ``run`` is timed ``repeat`` times, ``prepare`` is not."""

    group: str
    key: str
    tool: str
    run: Callable[[], None]
    output: Path | None = None
    prepare: Callable[[], None] | None = None
    baseline: str | None = None  # key of the step this one is compared with
    info: bool = False  # shown for context, not part of a target
    note: str = ""
    runs: list[dict] = field(default_factory=list)
    status: str = "pending"
    error: str = ""

    def measure_once(self, i: int, repeat: int, quiet: "Quiet", log: Callable[[str], None]) -> None:
        """Run once more (the caller interleaves tools round by round)."""
        if self.status in ("failed", "skipped"):
            return
        for attempt in range(1, quiet.steal_retries + 2):
            run = self._timed(quiet, log)
            if run is None:
                return
            run["attempt"] = attempt
            if not quiet.stolen(run) or attempt > quiet.steal_retries:
                break
            quiet.measured_again += 1
            log(
                f"    the hypervisor took {run['steal_seconds']:.1f} CPU-s during "
                f"{run['seconds']:.1f} s: measuring again"
            )
        self.runs.append(run)
        self.status = "ok"
        log(f"  {self.tool} [{i + 1}/{repeat}]: {run['seconds']:.1f} s")

    def _timed(self, quiet: "Quiet", log: Callable[[str], None]) -> dict | None:
        """One timed run after its preparation, or None when the tool failed."""
        if self.prepare:
            self.prepare()
        os.sync()  # earlier steps' dirty pages are not this step's writes
        others = quiet.wait(log)
        cpu, (work, steal) = _client_cpu(), _machine_cpu()
        started = time.perf_counter()
        try:
            self.run()
        except Exception as exc:  # one failing tool must not stop the rest
            self.status, self.error = "failed", str(exc)[-1500:]
            log(f"  {self.tool}: FAILED: {self.error}")
            return None
        seconds = time.perf_counter() - started
        work_after, steal_after = _machine_cpu()
        return {
            "seconds": round(seconds, 3),
            "client_cpu_seconds": round(_client_cpu() - cpu, 2),
            # Every process's CPU (database servers too), without stolen time.
            "machine_cpu_seconds": round(work_after - work, 2),
            "steal_seconds": round(steal_after - steal, 2),
            "output_bytes": du(self.output) if self.output else None,
            "other_load_before": round(others, 2),
            "loadavg_after": os.getloadavg()[0],
        }

    def skip(self, why: str) -> None:
        self.status, self.error = "skipped", why

    def median(self, name: str) -> float | None:
        values = [r[name] for r in self.runs if r[name] is not None]
        return statistics.median(values) if values else None

    def least(self, name: str) -> float | None:
        values = [r[name] for r in self.runs if r[name] is not None]
        return min(values) if values else None


@dataclass
class Quiet:
    """Wait, before each run, until other programs leave the CPUs nearly idle.

    A shared machine (CI, other test suites) steals cores mid-measurement; waiting for a quiet
    moment and interleaving the tools round by round keep the comparison fair.
    """

    max_share: float = 0.15  # busy share of all cores, measured over ``window`` seconds
    timeout: float = 600
    window: float = 2.0
    # A virtual machine's neighbours take cores mid-run too (steal): a run that lost more than
    # this share of the cores' time is measured again, at most ``steal_retries`` times.
    max_steal_share: float = 0.05
    steal_retries: int = 2
    waited_total: float = 0.0
    gave_up: int = 0
    measured_again: int = 0

    def stolen(self, run: dict) -> bool:
        cores = os.cpu_count() or 1
        return run["steal_seconds"] > self.max_steal_share * run["seconds"] * cores

    def share(self) -> float:
        before = _machine_busy()
        time.sleep(self.window)
        return (_machine_busy() - before) / self.window / (os.cpu_count() or 1)

    def wait(self, log: Callable[[str], None]) -> float:
        """The busy share of the last sample (0..1) before giving the go."""
        started = time.monotonic()
        share = self.share()
        told = False
        while share > self.max_share:
            if time.monotonic() - started > self.timeout:
                self.gave_up += 1
                log(f"    machine still {share:.0%} busy after {self.timeout:.0f} s: measuring")
                break
            if not told:
                log(f"    other programs keep the CPUs {share:.0%} busy: waiting for quiet")
                told = True
            share = self.share()
        self.waited_total += time.monotonic() - started
        return share


def _tasks(pid: int) -> list[int]:
    """Every thread of a process (Linux renices threads one by one)."""
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            kids.append(int(entry))
    return kids


class Priority:
    """Raise the CPU priority of the benchmark and of the database servers while it runs.

    On a machine shared with other work the dumps otherwise measure the neighbours' load.
    Children of this process inherit its niceness; the servers' processes and threads (and
    so the backends and connection threads they start) are reniced and put back after.
    """

    def __init__(self, nice: int, server_pids: list[int], log: Callable[[str], None]) -> None:
        self.nice, self.server_pids, self.log = nice, server_pids, log
        self.saved: dict[int, int] = {}

    def _set(self, tid: int, value: int) -> None:
        with contextlib.suppress(OSError):  # gone already, or not ours to change
            self.saved.setdefault(tid, os.getpriority(os.PRIO_PROCESS, tid))
            os.setpriority(os.PRIO_PROCESS, tid, value)

    def __enter__(self) -> "Priority":
        if self.nice == 0:
            return self
        try:
            self.own = os.getpriority(os.PRIO_PROCESS, 0)
            os.setpriority(os.PRIO_PROCESS, 0, self.nice)
        except OSError as exc:
            self.log(f"cannot raise the priority ({exc}): measuring at normal priority")
            self.nice = 0
            return self
        for pid in self.server_pids:
            for proc in [pid, *_children(pid)]:
                for tid in _tasks(proc):
                    self._set(tid, self.nice)
        self.log(f"priority: nice {self.nice} for the benchmark and {len(self.saved)} server tasks")
        return self

    def __exit__(self, *exc) -> None:
        if self.nice == 0:
            return
        for pid in self.server_pids:
            # Backends and threads started meanwhile inherited the raised value: they get the
            # server's own original one.
            for proc in [pid, *_children(pid)]:
                for tid in _tasks(proc):
                    with contextlib.suppress(OSError):
                        os.setpriority(
                            os.PRIO_PROCESS, tid, self.saved.get(tid, self.saved.get(pid, 0))
                        )
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, self.own)
