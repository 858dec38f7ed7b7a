"""The archive register (S1.6): one plain YAML file per handover of a backup to archive media,
under ``<inventory>/archive/<YYYY>/``, committed to the site's git repository so an auditor
reads what was archived, when and by whom, and the history of every file.

Pure logic, no Ansible and no click: check a backup's manifest, make a record, write it
without ever replacing a file, read and validate the register.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import yaml

from spo.inventory.findings import Finding, close_match, shown_path, shown_value

REQUIREMENT = "S1.6"
ARCHIVE_DIR = "archive"
MANIFEST_SCHEMA = 1  # module_utils/spo_backup/manifest.py SCHEMA
# Backup folder names (module_utils/spo_backup/catalog.py), never a path.
BACKUP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
HEADER = """\
# Register arsip cadangan (SPO S1.6): satu berkas ini mencatat satu penyerahan cadangan ke
# media arsip: cadangan apa, kapan, oleh siapa, kepada siapa. Ditulis oleh `spo archive add`;
# jangan diubah, simpan (commit) di repositori git situs.
# Backup archive register (SPO S1.6): this file records one handover of a backup to archive
# media: which backup, when, by whom, to whom. Written by `spo archive add`; do not edit it,
# commit it to the site's git repository.
"""
RECORD_FIX = (
    "restore the file from the site's git history (git log -p -- <this file>), or remove it and "
    "record the handover again with `spo archive add`"
)


class RegisterError(Exception):
    """A handover that cannot be recorded; the message says why and how to fix it."""


@dataclass
class ArchiveRecord:
    requirement: str
    backup: str
    host: str
    source: str
    kind: str
    backup_time: str
    stored_bytes: int
    manifest_sha256: str
    files: dict[str, str]
    medium: str
    handed_to: str
    recorded_by: str
    recorded_at: str
    note: str | None
    inventory_commit: str | None


FIELDS = tuple(f.name for f in fields(ArchiveRecord))


@dataclass(frozen=True)
class Entry:
    """A valid record and the file it was read from."""

    path: Path
    record: ArchiveRecord


# Value checks: each takes a value and says whether it is allowed.
def is_text(value) -> bool:
    return isinstance(value, str) and value.strip() != ""


def is_optional_text(value) -> bool:
    return value is None or isinstance(value, str)


def is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def is_sha256(value) -> bool:
    return isinstance(value, str) and SHA256.match(value) is not None


def is_backup_name(value) -> bool:
    return isinstance(value, str) and BACKUP_NAME.match(value) is not None


def is_utc_time(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return parse_time(value).utcoffset() is not None
    except ValueError:
        return False


def is_file_sums(value) -> bool:
    return isinstance(value, dict) and all(
        is_text(name) and is_sha256(digest) for name, digest in value.items()
    )


@dataclass(frozen=True)
class Rule:
    key: str
    test: Callable[[object], bool]
    allowed: str
    fix: str = RECORD_FIX


TEXT = "non-empty text"
TIME = 'a quoted ISO 8601 time with its zone, e.g. "2025-01-04T05:00:00Z"'
RECORD_RULES = (
    Rule("requirement", lambda v: v == REQUIREMENT, f"{REQUIREMENT!r}"),
    Rule("backup", is_backup_name, "a backup folder name (letters, digits, dots, dashes, _)"),
    Rule("host", is_text, TEXT),
    Rule("source", is_text, TEXT),
    Rule("kind", is_text, TEXT),
    Rule("backup_time", is_utc_time, TIME),
    Rule("stored_bytes", is_count, "a whole number of bytes, 0 or more"),
    Rule("manifest_sha256", is_sha256, "64 lowercase hex digits"),
    Rule("files", is_file_sums, "a mapping of file name -> 64 lowercase hex digits"),
    Rule("medium", is_text, TEXT),
    Rule("handed_to", is_text, TEXT),
    Rule("recorded_by", is_text, TEXT),
    Rule("recorded_at", is_utc_time, TIME),
    Rule("note", is_optional_text, "text or null"),
    Rule("inventory_commit", is_optional_text, "a git commit or null"),
)

# What a manifest must say before its backup may be archived: complete and verified, as
# catalog.load() tells a verified backup.
PICK_ANOTHER = "pick another backup (list them on the host with `spo-backup list`)"
MANIFEST_RULES = (
    Rule("schema", lambda v: v == MANIFEST_SCHEMA, f"{MANIFEST_SCHEMA}", PICK_ANOTHER),
    Rule(
        "status",
        lambda v: v == "complete",
        '"complete"',
        f"the backup never finished; {PICK_ANOTHER}",
    ),
    Rule(
        "verified_at",
        is_utc_time,
        "the time the backup was verified",
        f"this backup was never verified after it was written; {PICK_ANOTHER}",
    ),
    Rule("host", is_text, TEXT, PICK_ANOTHER),
    Rule("source", is_text, TEXT, PICK_ANOTHER),
    Rule("kind", is_text, TEXT, PICK_ANOTHER),
    Rule("started_at", is_utc_time, TIME, PICK_ANOTHER),
    Rule("stored_bytes", is_count, "a whole number of bytes", PICK_ANOTHER),
    Rule(
        "files",
        lambda v: (
            isinstance(v, dict) and all(is_sha256((f or {}).get("sha256")) for f in v.values())
        ),
        "a mapping of file name -> {sha256: 64 hex digits}",
        PICK_ANOTHER,
    ),
)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def check(data: dict, rules: tuple[Rule, ...], file: str, fix: str = "") -> list[Finding]:
    """Every key of ``data`` that is missing or breaks its rule; ``fix`` replaces the rules'."""
    findings = []
    for rule in rules:
        if rule.key not in data:
            findings.append(finding(file, rule, "is missing", fix=fix))
        elif not rule.test(data[rule.key]):
            value = data[rule.key]
            message = f"is {shorten(shown_value(value))}, which is not allowed"
            findings.append(finding(file, rule, message, value, fix))
    return findings


def finding(file: str, rule: Rule, message: str, value=None, fix: str = "") -> Finding:
    return Finding(file, None, rule.key, message, rule.allowed, fix or rule.fix, value, REQUIREMENT)


def shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def unknown_keys(data: dict, file: str) -> list[Finding]:
    findings = []
    for key in data:
        if key not in FIELDS:
            guess = close_match(str(key), FIELDS)
            hint = f"did you mean {guess!r}? " if guess else ""
            findings.append(
                Finding(file, None, str(key), "is not a field of an archive record",
                        ", ".join(FIELDS), f"{hint}{RECORD_FIX}", requirement=REQUIREMENT)
            )  # fmt: skip
    return findings


def manifest_facts(content: bytes, backup: str, file: str) -> dict:
    """The record fields a backup's manifest gives, once it proves complete and verified.

    ``content`` is manifest.json exactly as on the host: its sha256 identifies the backup.
    """
    try:
        data = json.loads(content)
    except ValueError as exc:
        raise RegisterError(
            f"{file}: is not JSON ({exc}); the backup is damaged: {PICK_ANOTHER}"
        ) from None
    if not isinstance(data, dict):
        raise RegisterError(f"{file}: is not a JSON object; the backup is damaged: {PICK_ANOTHER}")
    findings = check(data, MANIFEST_RULES, file)
    if data.get("name") != backup:
        findings.append(
            Finding(file, None, "name", f"names another backup: {shown_value(data.get('name'))}",
                    f"{backup!r}, the folder's name",
                    "the folder was renamed; give it back its own name, or pick another backup")
        )  # fmt: skip
    if findings:
        raise RegisterError(
            f"backup {backup} cannot be archived:\n" + "\n".join(f.text() for f in findings)
        )
    return {
        "backup": backup,
        "source": data["source"],
        "kind": data["kind"],
        "backup_time": data["started_at"],
        "stored_bytes": data["stored_bytes"],
        "manifest_sha256": hashlib.sha256(content).hexdigest(),
        "files": {name: f["sha256"] for name, f in sorted(data["files"].items())},
    }


def same_medium(a: str, b: str) -> bool:
    """Media are typed by hand: "Disk 3" and "disk  3" are the same disk."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def refuse_duplicate(entries: list[Entry], backup: str, medium: str) -> None:
    """One backup on one medium is recorded once, unless the operator says --again."""
    for entry in entries:
        if entry.record.backup == backup and same_medium(entry.record.medium, medium):
            raise RegisterError(
                f"backup {backup} is already recorded on medium {entry.record.medium!r} in "
                f"{shown_path(entry.path)} (handed to {entry.record.handed_to} at "
                f"{entry.record.recorded_at}); check the register with `spo archive list`, "
                "or add --again to record another handover of it on the same medium"
            )


def record_path(root: Path, record: ArchiveRecord) -> Path:
    """<root>/<YYYY>/<UTC time>-<backup>.yml: sorts by time of handover."""
    moment = parse_time(record.recorded_at).astimezone(UTC)
    return root / f"{moment:%Y}" / f"{moment:%Y%m%dT%H%M%SZ}-{record.backup}.yml"


def render(record: ArchiveRecord) -> str:
    # PyYAML quotes strings that would read back as another type (times, numbers).
    body = yaml.safe_dump(asdict(record), sort_keys=False, allow_unicode=True, width=100)
    return HEADER + body


def write_record(root: Path, record: ArchiveRecord) -> Path:
    """Write a new record file, whole or not at all; an existing file is never replaced."""
    fix = "give `spo archive add` a value that is allowed"
    findings = check(asdict(record), RECORD_RULES, "the new record", fix)
    if findings:
        raise RegisterError("nothing was written:\n" + "\n".join(f.text() for f in findings))
    return write_once(record_path(root, record), render(record), RegisterError)


def write_once(path: Path, text: str, error: type[Exception]) -> Path:
    """Write ``text`` to a new file, whole or not at all (fsynced, with its folder); an
    existing file is never replaced: ``error`` says so. Records of the registers are written
    once and only ever read afterwards."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("x", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # unlike a rename, fails when the file exists
        except FileExistsError:
            raise error(
                f"{shown_path(path)} already exists and is never replaced; record it again in "
                "a second"
            ) from None
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path


def read_record(path: Path) -> tuple[ArchiveRecord | None, list[Finding]]:
    file = shown_path(path)
    whole = Rule("(file)", lambda _: False, "an archive record: a YAML mapping of its fields")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, [finding(file, whole, f"cannot be read: {shorten(str(exc), 200)}")]
    if not isinstance(data, dict):
        return None, [finding(file, whole, "is not a YAML mapping")]
    findings = check(data, RECORD_RULES, file) + unknown_keys(data, file)
    if findings:
        return None, findings
    return ArchiveRecord(**data), []


def read_register(root: Path) -> tuple[list[Entry], list[Finding]]:
    """Every valid record under ``root``, oldest handover first, and what is wrong with the
    others (each named by file and key)."""
    entries, findings = [], []
    paths = sorted(root.rglob("*.yml")) if root.is_dir() else []
    for path in paths:
        if path.name.startswith("."):
            continue
        record, problems = read_record(path)
        findings += problems
        if record is not None:
            entries.append(Entry(path, record))
    entries.sort(key=lambda e: (parse_time(e.record.recorded_at), str(e.path)))
    return entries, findings
