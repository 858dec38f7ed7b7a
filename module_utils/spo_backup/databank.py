"""``spo-backup databank verify``: integrity monitoring of the units' central data bank (S0.3).

Each unit's folder (S0.1) is walked without following symlinks, every file is hashed
(sha256, streamed), and the listing is compared with the one the previous check saved:

- added: a path that was not there before;
- changed: the content differs and so does the size or the modification time: normal editing;
- suspect: the content differs while the size and the modification time are both unchanged
  (no ordinary program writes a file that way: a failing disk, a storage fault, or someone
  setting the time back), or the file cannot be read at all (the error is named);
- deleted: a path that is gone;
- unchanged: counted only.

The first check of a unit is its baseline: every file is added. The listing is saved
atomically, only after a complete walk, under the data bank's state folder (never walked
itself). A suspect file keeps its previous entry there, so every check reports it again
until it is restored (the old content back) or edited (a new modification time). A missing or
unreadable unit folder fails the check and keeps the saved listing. Every check leaves an
``integrity`` record per unit in the history; a suspect or failed one is notified.
"""

import contextlib
import errno
import hashlib
import json
import logging
import os
import stat
import time
from datetime import datetime
from pathlib import Path

from . import atomic, history, lock, manifest, notify, runner
from .config import Config, ConfigError, Unit
from .errors import BackupError

log = logging.getLogger(__name__)
SCHEMA = 1
LISTED = 100  # entries of each list a history record keeps; the count beside it says all
NOTICE_LINES = 20  # suspect files a notice names; the rest are in the history
CHUNK = 1 << 20
# A file whose modification time is this close to the moment it was hashed can be written
# again within the same timestamp tick (or during the hashing): its next change of content
# under the same time is then ordinary writing, not damage ("racy", as git calls it).
RACY_NS = 2_000_000_000
_OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_NOATIME = getattr(os, "O_NOATIME", 0)  # reading the data bank must not touch its files
_KINDS = {
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
}
_AGAIN = "the saved listing is kept: the next check compares with it again"


def state_dir(cfg: Config) -> Path:
    """Where the saved listings and the units' locks live."""
    return cfg.databank.state_dir or cfg.state_dir / "databank"


def units(cfg: Config, names: list[str] | tuple = ()) -> list[Unit]:
    """The named units (all when none); an unknown name, or no unit at all, is refused."""
    known = {unit.name: unit for unit in cfg.databank.units}
    if not known:
        raise ConfigError(
            f"{cfg.path}: databank.units: no data bank unit to check",
            "declare the data bank's units in the inventory and run the backup role again "
            "(it renders this file)",
        )
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ConfigError(
            f"{cfg.path}: no data bank unit named {', '.join(map(repr, unknown))}",
            f"use one of: {', '.join(known)}",
        )
    return [known[name] for name in dict.fromkeys(names)] or list(known.values())


def verify(cfg: Config, names: list[str] | tuple = (), now: datetime | None = None) -> list[dict]:
    """Check the named units (all when none); return their records (also in the history).
    ``now``: the checks' time, for tests."""
    records = []
    for unit in units(cfg, names):
        record = verify_unit(cfg, unit, now or manifest.utc_now())
        history.keep(cfg.history_file, record)
        _log(record)
        if record["result"] != "ok":
            runner.quietly("notification", lambda r=record: _tell(cfg, r))
        records.append(record)
    return records


def new_record(cfg: Config, unit: Unit, started: datetime) -> dict:
    record = {
        "record": "integrity",
        "time": manifest.iso(started),
        "site": cfg.site,
        "host": cfg.host,
        "unit": unit.name,
        "path": str(unit.path),
        "baseline": False,
        "files": None,
        "bytes": None,
        "quota_bytes": unit.quota_bytes,
        "over_quota": None,  # bytes above the unit's quota, once counted
        "unchanged": None,
    }
    for name in ("added", "changed", "suspect", "deleted"):
        record.update({name: [], f"{name}_count": 0})
    return {**record, "result": None, "error": None, "duration_seconds": None}


def verify_unit(cfg: Config, unit: Unit, started: datetime) -> dict:
    clock = time.monotonic()
    record = new_record(cfg, unit, started)
    try:
        root = state_dir(cfg)
        # The listings name the units' files, which may be confidential (S0.2): root only.
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        with lock.hold(root, unit.name, purpose="spo-backup databank verify"):
            _check(unit, root, started, record)
    except BackupError as exc:
        record.update(result="failed", error=str(exc))
    except OSError as exc:  # the state folder or its lock
        record.update(result="failed", error=f"data bank state {state_dir(cfg)}: {exc}")
    except Exception as exc:  # a bug: still recorded and notified
        log.exception("integrity check of data bank unit %s: unexpected error", unit.name)
        record.update(result="failed", error=f"unexpected {type(exc).__name__}: {exc}")
    record["duration_seconds"] = round(time.monotonic() - clock, 3)
    return record


def _check(unit: Unit, root: Path, started: datetime, record: dict) -> None:
    saved_at = root / f"{unit.name}.json"
    previous = _saved(saved_at, unit)
    current, unreadable = walk(unit, root)
    if previous and not current and not unreadable:
        raise BackupError(
            f"the folder {unit.path} of data bank unit {unit.name} is empty, while the last "
            f"check found {len(previous)} file(s)",
            f"check that the data bank's disk is mounted (an unmounted disk leaves an empty "
            f"folder); {_AGAIN}; if the unit really removed everything, remove {saved_at} "
            "and the next check takes a new baseline",
        )
    found, keep = compare(previous or {}, current, unreadable)
    record.update(
        baseline=previous is None,
        files=len(current) + sum(1 for rel in unreadable if not rel.endswith("/")),
        bytes=sum(e["size"] for e in current.values() if "link" not in e and "type" not in e),
        unchanged=found.pop("unchanged"),
    )
    if unit.quota_bytes is not None:
        record["over_quota"] = max(0, record["bytes"] - unit.quota_bytes)
        if record["over_quota"]:
            log.warning("data bank unit %s uses %d bytes above its quota of %d", unit.name,
                        record["over_quota"], unit.quota_bytes)  # fmt: skip
    for name, entries in found.items():
        record.update({name: entries[:LISTED], f"{name}_count": len(entries)})
    try:
        atomic.write_json(
            saved_at,
            {
                "schema": SCHEMA,
                "unit": unit.name,
                "path": str(unit.path),
                "time": manifest.iso(started),
                "files": keep,
            },
        )
    except OSError as exc:
        raise BackupError(
            f"the listing {saved_at} of data bank unit {unit.name} cannot be saved: {exc}",
            f"free space or fix the disk of {root}; the next check compares with the "
            "previous listing again",
        ) from None
    record["result"] = "suspect" if found["suspect"] else "ok"


def _saved(path: Path, unit: Unit) -> dict | None:
    """The listing the previous check saved; None when there is none (a baseline)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        if data["schema"] != SCHEMA or not isinstance(files, dict):
            raise ValueError(f"not a schema-{SCHEMA} listing")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(
            f"the saved listing {path} of data bank unit {unit.name} cannot be read: {exc}",
            f"it is what damage is found against: check the disk of {path.parent}; to start "
            f"again from the folder as it is now, remove {path} (the next check is a new "
            "baseline)",
        ) from None
    if data.get("path") != str(unit.path):
        log.warning(
            "data bank unit %s moved from %s to %s: this check is a new baseline",
            unit.name,
            data.get("path"),
            unit.path,
        )
        return None
    return files


# -- the walk -----------------------------------------------------------------------------


def walk(unit: Unit, skip: Path) -> tuple[dict[str, dict], dict[str, str]]:
    """Every entry under the unit's folder but ``skip`` (the monitor's own state):
    ``({relpath: entry}, {relpath: why it cannot be read})``; a folder that cannot be listed
    is named with a trailing slash. Symlinks are listed, never followed.

    Every file is read whole every time: a damaged block leaves the size and the times as
    they were, so only the content can show it. The cost is a full read of the data bank
    per check (sha256 runs at several hundred MB/s a core, so the disk sets the pace).
    """
    try:
        top = os.stat(unit.path)
        if not stat.S_ISDIR(top.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "not a folder")
        with os.scandir(unit.path) as found:
            first = list(found)
    except OSError as exc:
        missing = isinstance(exc, FileNotFoundError)
        raise BackupError(
            f"the folder {unit.path} of data bank unit {unit.name} "
            + ("does not exist" if missing else f"cannot be read: {_error(exc)}"),
            f"check that the data bank's disk is mounted and the folder is there; {_AGAIN}",
        ) from None
    try:
        own = os.stat(skip)
        skipped = (own.st_dev, own.st_ino)
    except OSError:
        skipped = None
    listing: dict[str, dict] = {}
    unreadable: dict[str, str] = {}
    buffer = memoryview(bytearray(CHUNK))
    pending = [("", first)]
    while pending:
        prefix, entries = pending.pop()
        for entry in entries:
            rel = prefix + entry.name
            try:
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    if (info.st_dev, info.st_ino) != skipped:
                        pending.append((rel + "/", _listed(entry.path, rel, unreadable)))
                    continue
                listing[rel] = _entry(entry.path, info, buffer)
            except OSError as exc:
                unreadable[rel] = f"cannot be read: {_error(exc)}"
    return listing, unreadable


def _listed(path: str, rel: str, unreadable: dict[str, str]) -> list[os.DirEntry]:
    try:
        with os.scandir(path) as found:
            return list(found)
    except OSError as exc:
        unreadable[rel + "/"] = f"folder cannot be listed: {_error(exc)}"
        return []


def _entry(path: str, info: os.stat_result, buffer: memoryview) -> dict:
    if stat.S_ISREG(info.st_mode):
        return hash_file(path, buffer)
    times = {"mtime_ns": info.st_mtime_ns, "ctime_ns": info.st_ctime_ns}
    if stat.S_ISLNK(info.st_mode):
        target = os.readlink(path)
        digest = hashlib.sha256(os.fsencode(target)).hexdigest()
        return {"sha256": digest, "size": info.st_size, **times, "link": target}
    kind = _KINDS.get(stat.S_IFMT(info.st_mode), "special file")
    return {"sha256": None, "size": 0, **times, "type": kind}  # never opened: a fifo blocks


def hash_file(path: str, buffer: memoryview | None = None) -> dict:
    """sha256, size and times of a regular file, read in chunks (any size, little memory)."""
    buffer = buffer if buffer is not None else memoryview(bytearray(CHUNK))
    try:
        fd = os.open(path, _OPEN | _NOATIME)
    except PermissionError:  # O_NOATIME is for the file's owner (or root) only
        fd = os.open(path, _OPEN)
    with open(fd, "rb", buffering=0) as handle:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise OSError(errno.EINVAL, "replaced by something else than a file while checked")
        _advise(fd, "POSIX_FADV_SEQUENTIAL")
        digest = hashlib.sha256()
        while count := handle.readinto(buffer):
            digest.update(buffer[:count])
        # A full scan must not push the applications' own files out of the page cache.
        _advise(fd, "POSIX_FADV_DONTNEED")
        after = os.fstat(fd)
    entry = {
        "sha256": digest.hexdigest(),
        "size": after.st_size,
        "mtime_ns": after.st_mtime_ns,
        "ctime_ns": after.st_ctime_ns,
    }
    written = (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns)
    if written or after.st_mtime_ns >= time.time_ns() - RACY_NS:
        entry["racy"] = True
    return entry


def _advise(fd: int, advice: str) -> None:
    with contextlib.suppress(AttributeError, OSError):
        os.posix_fadvise(fd, 0, 0, getattr(os, advice))


def _error(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0)
    return f"{exc.strerror or exc}" + (f" ({name})" if name else "")


# -- the comparison -----------------------------------------------------------------------


def compare(
    previous: dict[str, dict], current: dict[str, dict], unreadable: dict[str, str]
) -> tuple[dict, dict[str, dict]]:
    """Classify every path; return the findings (sorted lists, the unchanged count) and the
    listing to save (suspect and unreadable files keep their previous entries)."""
    found: dict = {"added": [], "changed": [], "suspect": [], "deleted": [], "unchanged": 0}
    keep: dict[str, dict] = {}
    for rel, now in current.items():
        before = previous.get(rel)
        if before is None:
            found["added"].append(rel)
        elif now["sha256"] == before["sha256"]:
            found["unchanged"] += 1
        elif (
            now["size"] != before["size"]
            or now["mtime_ns"] != before["mtime_ns"]
            or before.get("racy")
        ):
            found["changed"].append(rel)
        else:
            found["suspect"].append({"path": rel, **_silent(before, now)})
            keep[rel] = before
            continue
        keep[rel] = now
    for rel, why in unreadable.items():
        kind = "unlisted" if rel.endswith("/") else "unreadable"
        found["suspect"].append({"path": rel, "why": why, "kind": kind})
    hidden = tuple(rel for rel in unreadable if rel.endswith("/"))
    for rel, before in previous.items():
        if rel in current:
            continue
        if rel in unreadable or rel.startswith(hidden):
            keep[rel] = before  # not seen, not gone: compared again next time
        else:
            found["deleted"].append(rel)
    for name in ("added", "changed", "deleted"):
        found[name].sort()
    found["suspect"].sort(key=lambda s: s["path"])
    return found, keep


def _silent(before: dict, now: dict) -> dict:
    """Why a content change under an unchanged size and modification time is suspect."""
    if now.get("ctime_ns") == before.get("ctime_ns"):
        return {
            "why": "content differs, but its size, modification time and inode change time "
            "are unchanged: it was not written through the file system (a disk or storage "
            "fault?)",
            "kind": "silent",
        }
    return {
        "why": "content differs, but its size and modification time are unchanged "
        "(rewritten and its modification time set back?)",
        "kind": "set-back",
    }


# -- telling ------------------------------------------------------------------------------


def _tell(cfg: Config, record: dict) -> None:
    suspects = record["suspect"][:NOTICE_LINES]
    more = record["suspect_count"] - len(suspects)

    def lines(language: str) -> str:
        said = [
            notify.text(
                language,
                "integrity-suspect.line",
                path=printable(s["path"]),
                # the OS's own words for an unreadable file follow "cannot be read: "
                why=notify.text(
                    language,
                    f"integrity-suspect.why.{s['kind']}",
                    error=s["why"].partition(": ")[2],
                ),
            )
            for s in suspects
        ]
        if more > 0:
            said.append(notify.text(language, "integrity-suspect.more", count=more))
        return "\n".join(said) or notify.text(language, "none")

    notice = notify.Notice(
        "integrity-suspect",
        record["result"],
        manifest.parse_time(record["time"]),
        record["unit"],
        record["error"],
        {
            "unit": record["unit"],
            "path": printable(record["path"]),
            "headline": notify.word(f"integrity-suspect.headline.{record['result']}"),
            "outcome": notify.word(f"integrity-suspect.{record['result']}"),
            "count": record["suspect_count"],
            "lines": lines,
            "error": record["error"] or notify.word("none"),
        },
    )
    runner.record_notices(cfg, notify.send(cfg, notice))


def printable(text: str) -> str:
    """A file name as mail can carry it (names that are not UTF-8 are shown escaped)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def summary(record: dict) -> str:
    """One unit's check in one line."""
    text = f"{record['unit']} ({record['path']}): {record['result'].upper()}"
    if record["files"] is not None:
        text += f", {record['files']} file(s), {notify.human_size(record['bytes'])}"
        text += ", baseline: " if record["baseline"] else ": "
        text += ", ".join(
            f"{record[f'{name}_count']} {name}"
            for name in ("added", "changed", "deleted", "suspect")
        )
        text += f", {record['unchanged']} unchanged"
    if record.get("over_quota"):
        text += f"; {notify.human_size(record['over_quota'])} over its quota of "
        text += notify.human_size(record["quota_bytes"])
    return text + (f"; {record['error']}" if record["error"] else "")


def _log(record: dict) -> None:
    if record["result"] == "ok":
        log.info("data bank check of %s", summary(record))
        return
    log.error("data bank check of %s", summary(record))
    for suspect in record["suspect"]:
        shown = printable(suspect["path"])
        log.error("unit %s: suspect %s: %s", record["unit"], shown, suspect["why"])
