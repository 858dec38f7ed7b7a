"""Running the database and archive tools: argument lists only, a clean environment, and
streams piped between them without an uncompressed copy on disk."""

import contextlib
import errno
import fcntl
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from .compress import Codec
from .errors import DestinationFull, ToolError

CHUNK = 1 << 20
# Children get only these from our environment: never PGPASSWORD, MYSQL_PWD or anything else a
# caller may have exported. C.UTF-8 keeps tool messages in English so we can recognise them.
_INHERITED = ("PATH", "HOME", "TMPDIR", "TZ")
_NO_SPACE = "No space left on device"


def child_env(**extra: str) -> dict[str, str]:
    env = {key: os.environ[key] for key in _INHERITED if key in os.environ}
    env.setdefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    env.update(LANG="C.UTF-8", LC_ALL="C.UTF-8")
    env.update(extra)
    return env


class Proc:
    """A started tool whose stderr goes to an unnamed temporary file (no pipe to deadlock on)."""

    def __init__(self, argv: list[str], env: dict[str, str], stdin=None, stdout=None) -> None:
        self.argv = argv
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 -- lives as long as the process
        try:
            self.popen = subprocess.Popen(
                argv, stdin=stdin, stdout=stdout, stderr=self._err, env=env, close_fds=True
            )
        except FileNotFoundError:
            self._err.close()
            raise ToolError(
                f"the program {argv[0]} is not installed on this host",
                f"install the package that provides {argv[0]}",
            ) from None

    def stderr(self) -> str:
        self._err.seek(0)
        return self._err.read().decode("utf-8", "replace").strip()

    def wait(self) -> int:
        return self.popen.wait()

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait()

    def check(self, what: str, hint: str) -> None:
        """Raise a ToolError naming the tool, its exit status and the end of its stderr."""
        code = self.wait()
        if code != 0:
            raise tool_error(self.argv[0], code, self.stderr(), what, hint)

    def close(self) -> None:
        self.kill()
        self._err.close()


def tool_error(tool: str, code: int, stderr: str, what: str, hint: str) -> ToolError:
    tail = "\n".join(stderr.splitlines()[-8:])
    if _NO_SPACE in stderr:
        return DestinationFull(
            f"{what}: the destination ran out of space ({tool}: {tail})",
            "free space or pick a bigger destination; nothing partial was kept",
        )
    return ToolError(f"{what}: {tool} exited with status {code}: {tail}", hint)


def run(
    argv: list[str],
    env: dict[str, str],
    what: str,
    hint: str,
    stdin: str = "",
    cwd: str | None = None,
) -> str:
    """Run a short command and return its stdout (``cwd``: for a tool run as another user,
    a directory it may enter)."""
    try:
        done = subprocess.run(
            argv, input=stdin.encode(), capture_output=True, env=env, check=False, cwd=cwd
        )
    except FileNotFoundError:
        raise ToolError(
            f"{what}: the program {argv[0]} is not installed on this host",
            f"install the package that provides {argv[0]}",
        ) from None
    if done.returncode != 0:
        raise tool_error(argv[0], done.returncode, done.stderr.decode(errors="replace"), what, hint)
    return done.stdout.decode("utf-8", "replace")


def pump(
    chunks: Iterable[bytes],
    sink: BinaryIO | None,
    watch: Callable[[bytes], None] | None = None,
    sink_may_close: bool = False,
) -> int:
    """Copy chunks to sink, returning the byte count; ``watch`` sees every chunk.

    A reader that stops early (``pg_restore --list`` after the table of contents) is fine only
    when ``sink_may_close``; the rest of the stream is then still read and counted.
    """
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if watch:
            watch(chunk)
        if sink is None:
            continue
        try:
            sink.write(chunk)
        except BrokenPipeError:
            if not sink_may_close:
                raise
            sink = None
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            raise _full(sink) from exc
    return total


def _full(sink) -> DestinationFull:
    return DestinationFull(
        f"the destination ran out of space writing {getattr(sink, 'name', 'a file')}",
        "free space or pick a bigger destination; nothing partial was kept",
    )


def _widen(*pipes: BinaryIO) -> None:
    """Bigger pipes mean fewer wake-ups of the processes on both ends; a hint only (not a
    pipe, or over the system's limit: left as it is)."""
    for pipe in pipes:
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, CHUNK)


def splice_all(source: BinaryIO, sink: BinaryIO) -> int:
    """Move the whole stream of the pipe ``source`` into ``sink`` inside the kernel, without
    copying it through Python; return the byte count. Errors are those of ``pump``."""
    _widen(source, sink)
    total = 0
    while True:
        try:
            moved = os.splice(source.fileno(), sink.fileno(), CHUNK)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise  # BrokenPipeError included: the caller knows what it means
            raise _full(sink) from exc
        if moved == 0:
            return total
        total += moved


def read_chunks(stream: BinaryIO) -> Iterable[bytes]:
    # read1: hand on what the pipe has now, so watchers see the start of a stream early.
    return iter(lambda: stream.read1(CHUNK), b"")


def lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Re-cut a stream of chunks into lines (each with its newline), for stream filters."""
    rest = b""
    for chunk in chunks:
        *whole, rest = (rest + chunk).split(b"\n")
        for line in whole:
            yield line + b"\n"
    if rest:
        yield rest


def _close_input(stream: BinaryIO | None) -> None:
    if stream is not None:
        with contextlib.suppress(BrokenPipeError):
            stream.close()


def dump_to_file(
    argv: list[str],
    env: dict[str, str],
    out: Path,
    codec: Codec,
    what: str,
    hint: str,
    watch: Callable[[bytes], None] | None = None,
) -> int:
    """Run ``argv`` and store its stdout compressed in ``out``; return the raw byte count.

    A compressor that reports its input size reads the tool's pipe itself: a hop through this
    process cost about a CPU-second per GB on a small server (benchmarks/README.md). Otherwise
    (or when ``watch`` must see the stream) the stream passes through here, counted on its way.
    """
    direct = watch is None and bool(codec.report)
    procs: list[Proc] = []
    try:
        with open(out, "xb") as sink:
            producer = Proc(argv, env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
            procs.append(producer)
            if direct:
                _widen(producer.popen.stdout)
                compressor = Proc(
                    [*codec.compress, *codec.report], env, stdin=producer.popen.stdout, stdout=sink
                )
                procs.append(compressor)
                raw = 0  # the compressor reports it, below
            else:
                raw = _relay(producer, sink, codec, env, procs, watch)
            # Only the compressor holds the pipe now: if it dies, the tool gets SIGPIPE.
            producer.popen.stdout.close()
            # The compressor's error (e.g. no space) explains a producer killed by SIGPIPE.
            for proc in reversed(procs):
                proc.check(what, hint)
            if raw < 0:
                raise ToolError(f"{what}: the compressor stopped reading", hint)
            sink.flush()
            os.fsync(sink.fileno())
        if direct:
            raw = codec.input_size(procs[-1].stderr())
            if raw is None:  # a compressor version that words its summary otherwise: count it
                raw, _out = stream_file(out, codec, None, env, what, hint)
        return raw
    finally:
        for proc in procs:
            proc.close()


def _relay(producer: Proc, sink, codec: Codec, env, procs: list[Proc], watch) -> int:
    """Move the producer's stream into the compressor (or the file); return the byte count,
    -1 when the compressor stopped reading (its own error says why)."""
    if codec.compress:
        compressor = Proc(list(codec.compress), env, stdin=subprocess.PIPE, stdout=sink)
        procs.append(compressor)
        target = compressor.popen.stdin
    else:
        target = sink
    try:
        if watch is None and hasattr(os, "splice"):
            raw = splice_all(producer.popen.stdout, target)
        else:
            raw = pump(read_chunks(producer.popen.stdout), target, watch)
    except BrokenPipeError:
        raw = -1
    if target is not sink:
        _close_input(target)
    return raw


def stream_file(
    path: Path,
    codec: Codec,
    consumer: list[str] | None,
    env: dict[str, str],
    what: str,
    hint: str,
    transform: Callable[[Iterable[bytes]], Iterable[bytes]] | None = None,
    watch: Callable[[bytes], None] | None = None,
    consumer_may_stop: bool = False,
) -> tuple[int, str]:
    """Decompress ``path`` into ``consumer``'s stdin (or nowhere); return (raw bytes, stdout).

    Decompression errors (a damaged file) and consumer errors both raise.
    """
    procs: list[Proc] = []
    try:
        with tempfile.TemporaryFile() as out, open(path, "rb") as source:
            if codec.decompress:
                decomp = Proc(list(codec.decompress), env, stdin=source, stdout=subprocess.PIPE)
                procs.append(decomp)
                stream = decomp.popen.stdout
            else:
                stream = source
            sink = None
            if consumer:
                reader = Proc(consumer, env, stdin=subprocess.PIPE, stdout=out)
                procs.append(reader)
                sink = reader.popen.stdin
            chunks = read_chunks(stream)
            try:
                raw = pump(
                    transform(chunks) if transform else chunks, sink, watch, consumer_may_stop
                )
            except BrokenPipeError:
                raw = -1  # the consumer died; its own error says why, below
            _close_input(sink)
            if stream is not source:
                stream.close()  # a decompressor still writing gets EPIPE instead of hanging
            for proc in reversed(procs):
                proc.check(what, hint)
            if raw < 0:
                raise ToolError(f"{what}: {consumer[0]} stopped reading its input", hint)
            out.seek(0)
            return raw, out.read().decode("utf-8", "replace")
    finally:
        for proc in procs:
            proc.close()
