import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from spo_backup import lock
from spo_backup.errors import LockHeld

HOLDER = """
import sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from spo_backup import lock
with lock.hold(Path(sys.argv[2]), "sik"):
    print("held", flush=True)
    time.sleep(60)
"""


def _holder(tmp_path):
    module_utils = str(next(p for p in sys.path if p.endswith("module_utils")))
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, module_utils, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline().strip() == "held"
    return child


def test_second_run_is_refused_naming_the_holder(tmp_path) -> None:
    child = _holder(tmp_path)
    try:
        with pytest.raises(LockHeld) as err, lock.hold(tmp_path, "sik"):
            pass
        assert f"pid {child.pid} on host {socket.gethostname()}" in str(err.value)
        with lock.hold(tmp_path, "simdondar"):  # another source is not blocked
            pass
    finally:
        child.kill()
        child.wait()


def test_lock_of_a_killed_run_is_recovered(tmp_path) -> None:
    child = _holder(tmp_path)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with lock.hold(tmp_path, "sik") as held:
        assert held.stale["pid"] == child.pid
        assert json.loads((tmp_path / ".lock-sik").read_text())["pid"] == os.getpid()


def test_stale_record_of_a_dead_pid_is_reported(tmp_path) -> None:
    (tmp_path / ".lock-sik").write_text(json.dumps({"pid": 999999, "host": "x"}))
    with lock.hold(tmp_path, "sik") as held:
        assert held.stale == {"pid": 999999, "host": "x"}
    assert (tmp_path / ".lock-sik").read_text() == ""  # released cleanly: nothing stale


def test_lock_is_released_for_the_next_run(tmp_path) -> None:
    with lock.hold(tmp_path, "sik"):
        pass
    start = time.monotonic()
    with lock.hold(tmp_path, "sik") as held:
        assert held.stale is None
    assert time.monotonic() - start < 1
