"""Stream codecs: zstd (multi-threaded) when the host has it, gzip otherwise, or none.

Payload never exists uncompressed on disk: the dump tool's stdout is piped straight into the
compressor whose stdout is the payload file (see ``proc.dump_to_file``).
"""

import os
import re
import shutil
from dataclasses import dataclass, replace

from .errors import BackupError


@dataclass(frozen=True)
class Codec:
    name: str
    suffix: str
    compress: tuple[str, ...]  # empty: store as is
    decompress: tuple[str, ...]
    # Arguments after which the compressor reports how many bytes it read (see input_size);
    # empty when it cannot, and the stream is then counted on its way in.
    report: tuple[str, ...] = ()

    def input_size(self, stderr: str) -> int | None:
        """The byte count the compressor reported reading, or None when it said none."""
        found = _ZSTD_SIZES.findall(stderr) if self.report else []
        return int(found[-1]) if found else None

    def sharing(self, streams: int, cores: int | None = None) -> "Codec":
        """This codec for one of ``streams`` compressors running side by side.

        zstd's ``-T0`` starts a worker per core in every stream; with several streams on a
        small server those workers fight over the same cores (2 streams on 2 cores: 4 workers
        and 2 readers), which costs more CPU than it saves (benchmarks/README.md). Each stream
        gets its share of the cores instead, at least one worker.
        """
        if "-T0" not in self.compress or streams < 2:
            return self
        share = max(1, (cores or os.cpu_count() or 1) // streams)
        return replace(
            self, compress=tuple(f"-T{share}" if arg == "-T0" else arg for arg in self.compress)
        )


# zstd's closing summary at -vvv (its 4th verbosity level): "(1080796374 B => 297285405 B, ...)"
# from 1.5, "(1080796374 => 297285405 bytes, ...)" before.
_ZSTD_SIZES = re.compile(r"\(\s*(\d+)(?: B)? =>\s*\d+(?: B| bytes),")

CODECS = {
    # -T0: one worker per core. Level 1 with level 3's hash table (hlog=15, 128 KiB, still in
    # a core's cache) instead of zstd's default 3: on the benchmark's hospital data about as
    # small as level 2 for level 1's CPU, and on a small server the CPU is what makes a
    # backup slow (benchmarks/README.md). Any zstd since 1.3 reads and writes these streams.
    "zstd": Codec(
        "zstd",
        ".zst",
        ("zstd", "-q", "-T0", "-1", "--zstd=hlog=15", "-c"),
        ("zstd", "-q", "-d", "-c"),
        report=("-vvv",),
    ),
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
