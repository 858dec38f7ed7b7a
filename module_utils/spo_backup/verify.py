"""Verification: every payload file has the checksum the manifest recorded, and the restore
tool can read it (``pg_restore --list``, a full decompression, the dump's closing line, the
row count of a part of COPY text)."""

from pathlib import Path

from . import manifest, proc
from .compress import for_file
from .errors import ToolError, VerifyError

_HINT = (
    "do not restore from this backup: pick an older verified one, and check the "
    "destination disk and the transfer that copied it"
)
# Closing lines the tools write last: a dump cut short lacks them.
_TRAILERS = {
    "mariadb-sql": b"-- Dump completed",
    "pg-globals": b"PostgreSQL database cluster dump complete",
}
# The restore tool reading the decompressed stream.
_READERS = {
    "pg-custom": ["pg_restore", "--list"],
    "tar": ["tar", "--list", "--file=-"],
}


def check(folder: Path) -> dict:
    """Verify a published backup; return the report or raise VerifyError naming the files."""
    return check_payload(folder, manifest.read(folder))


def check_payload(folder: Path, data: dict) -> dict:
    problems: dict[str, str] = {}
    raw_total = 0
    listed = data["files"]
    for extra in sorted(set(manifest.payload_files(folder)) - set(listed)):
        problems[extra] = "file is not in the manifest"
    for rel, info in sorted(listed.items()):
        path = folder / rel
        if not path.is_file():
            problems[rel] = "file is missing"
            continue
        found = manifest.sha256_file(path)
        if found != info["sha256"]:
            problems[rel] = f"sha256 is {found}, the manifest recorded {info['sha256']}"
            continue
        try:
            rows = _rows_of(data, rel) if info["content"] == "pg-copy" else None
            raw_total += _readable(folder, rel, info["content"], rows)
        except ToolError as exc:
            problems[rel] = f"not readable: {exc.what}"
    if problems:
        detail = "; ".join(f"{rel}: {why}" for rel, why in problems.items())
        raise VerifyError(f"backup {folder.name} failed verification: {detail}", _HINT, problems)
    return {"backup": folder.name, "ok": True, "files": sorted(listed), "raw_bytes": raw_total}


def _rows_of(data: dict, rel: str) -> int:
    """The rows the manifest counted for a part of bare COPY text (a line each)."""
    (table,) = data["details"]["parts"][rel]
    return data["tables"][table]


def _readable(folder: Path, rel: str, content: str, rows: int | None = None) -> int:
    """Decompress the whole file through its reader; return the decompressed size.

    ``rows``: the lines the file must hold (COPY text has no closing line to look for)."""
    env = proc.child_env()
    what = f"reading {rel}"
    if content == "pg-toc":
        proc.run(["pg_restore", "--list", str(folder / Path(rel).parent)], env, what, _HINT)
    tail = bytearray()
    lines = [0]

    def keep_tail(chunk: bytes) -> None:
        tail.extend(chunk)
        del tail[:-512]
        if rows is not None:
            lines[0] += chunk.count(b"\n")

    raw, _out = proc.stream_file(
        folder / rel,
        for_file(rel),
        _READERS.get(content),
        env,
        what,
        _HINT,
        watch=keep_tail,
        consumer_may_stop=True,  # pg_restore --list stops after the table of contents
    )
    if rows is not None and lines[0] != rows:
        raise ToolError(
            f"{rel} holds {lines[0]} rows, the manifest counted {rows}: the dump was cut short",
            _HINT,
        )
    trailer = _TRAILERS.get(content)
    if trailer and trailer not in tail:
        raise ToolError(
            f"{rel} does not end with {trailer.decode()!r}: the dump was cut short", _HINT
        )
    return raw


def restored_counts(wanted: dict[str, int], restored: dict[str, int], what: str) -> dict:
    """A restore is complete only when every restored table holds the rows the backup
    counted; return the restored counts of the wanted tables."""
    wrong = {n: (rows, restored.get(n)) for n, rows in wanted.items() if restored.get(n) != rows}
    if wrong:
        detail = ", ".join(f"{n}: backup {a}, restored {b}" for n, (a, b) in sorted(wrong.items()))
        raise ToolError(
            f"{what}: row counts differ from the backup ({detail})",
            "the restore is incomplete; drop the target and restore again",
        )
    return {n: restored[n] for n in wanted}
