"""Stream codecs: zstd (multi-threaded) when the host has it, gzip otherwise, or none.

Payload never exists uncompressed on disk: the dump tool's stdout is piped straight into the
compressor whose stdout is the payload file (see ``proc.dump_to_file``).
"""

import shutil
from dataclasses import dataclass

from .errors import BackupError


@dataclass(frozen=True)
class Codec:
    name: str
    suffix: str
    compress: tuple[str, ...]  # empty: store as is
    decompress: tuple[str, ...]


CODECS = {
    # -T0: one worker per core. Level 2, not zstd's default 3: on the benchmark's hospital data
    # it costs about 2% more bytes (1.07x pg_dump's gzip) for clearly less CPU, and on a small
    # server the CPU is what makes a backup slow (benchmarks/README.md).
    "zstd": Codec("zstd", ".zst", ("zstd", "-q", "-T0", "-2", "-c"), ("zstd", "-q", "-d", "-c")),
    "gzip": Codec("gzip", ".gz", ("gzip", "-c", "-6"), ("gzip", "-d", "-c")),
    "none": Codec("none", "", (), ()),
}


def choose(name: str = "auto", which=shutil.which) -> Codec:
    """The codec to write with; ``auto`` prefers zstd and falls back to gzip."""
    if name == "auto":
        name = "zstd" if which("zstd") else "gzip"
    codec = CODECS.get(name)
    if codec is None:
        raise BackupError(f"unknown compression {name!r}", f"use one of auto, {', '.join(CODECS)}")
    if codec.compress and not which(codec.compress[0]):
        raise BackupError(
            f"compression {name} was asked for but the {codec.compress[0]} program is not "
            "installed on this host",
            f"install the {codec.compress[0]} package or use compression: auto",
        )
    return codec


def for_file(filename: str) -> Codec:
    """The codec a payload file was written with, from its suffix."""
    for codec in CODECS.values():
        if codec.suffix and filename.endswith(codec.suffix):
            return codec
    return CODECS["none"]
