"""Several mariadb-dump processes at once, and loading their files back at once.

The caller holds writes paused while they start (see ``mariadb``); ``dump_all`` tells it
when every process has begun writing, which mariadb-dump only does once its
``--single-transaction`` snapshot is open.
"""

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import proc
from .compress import Codec

# mariadb-dump writes this before the first table, after its snapshot is open.
STREAM_START = b"-- Table structure for table"


def balance(sizes: dict[str, int], jobs: int) -> list[list[str]]:
    """Tables in at most ``jobs`` groups of about equal size (biggest first into the
    smallest group, the one with fewer tables on a tie), each sorted by name; no empty group."""
    groups: list[tuple[int, list[str]]] = [(0, []) for _ in range(max(1, jobs))]
    for name in sorted(sizes, key=lambda n: (-sizes[n], n)):
        index = min(range(len(groups)), key=lambda i: (groups[i][0], len(groups[i][1]), i))
        total, names = groups[index]
        groups[index] = (total + sizes[name], [*names, name])
    return [sorted(names) for _total, names in groups if names]


class _StartWatch:
    """Sees when a stream has written ``STREAM_START`` (also across a chunk boundary)."""

    def __init__(self) -> None:
        self.tail = b""
        self.seen = False

    def __call__(self, chunk: bytes) -> bool:
        if not self.seen:
            window = self.tail + chunk
            self.seen = STREAM_START in window
            self.tail = window[-len(STREAM_START) :]
        return self.seen


def dump_all(
    streams: dict[str, list[str]],
    env: dict[str, str],
    stage: Path,
    codec: Codec,
    what: str,
    hint: str,
    all_ready: Callable[[], None],
    hold: set[str] | frozenset = frozenset(),
) -> int:
    """Run every ``relpath -> argv`` dump at once into ``stage/relpath``; call ``all_ready``
    once each has begun its first table, or ended for those in ``hold`` (or failed).
    Return the raw bytes."""
    pending = len(streams)
    codec = codec.sharing(len(streams))
    guard = threading.Lock()
    ready = threading.Event()

    def work(rel: str, argv: list[str]) -> int:
        watch, counted = _StartWatch(), [False]

        def count_once() -> None:
            nonlocal pending
            with guard:
                if not counted[0]:
                    counted[0] = True
                    pending -= 1
                    if pending == 0:
                        ready.set()

        def on_chunk(chunk: bytes) -> None:
            if rel not in hold and watch(chunk):
                count_once()

        try:
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            return proc.dump_to_file(argv, env, stage / rel, codec, what, hint, watch=on_chunk)
        finally:
            count_once()  # a worker that failed early must not keep the lock held

    with ThreadPoolExecutor(max_workers=len(streams)) as pool:
        futures = [pool.submit(work, rel, argv) for rel, argv in streams.items()]
        ready.wait()
        all_ready()
        return sum(future.result() for future in futures)


def load_all(files: Iterable[str], load: Callable[[str], object], jobs: int) -> None:
    """``load`` every file, ``jobs`` at a time; the first failure is raised once the others
    have finished (a load still running in the background must not outlive the call)."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(load, name) for name in files]
    for future in futures:
        future.result()
