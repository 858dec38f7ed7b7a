"""The troubleshooting log (S0.4, S2.5): problems met and how they were resolved, as plain YAML
files under ``<inventory>/incidents/<YYYY>/``, committed to the site's git repository like the
archive register, for the quarterly report and the auditors.

An incident is one file when it is opened and a second when it is resolved: records are written
once and never edited, so the git history shows every step. Pure logic, no click, no Ansible.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import yaml

from spo.archive_register import (
    TEXT,
    TIME,
    Rule,
    check,
    is_optional_text,
    is_text,
    is_utc_time,
    parse_time,
    utc_now,
    write_once,
)
from spo.inventory.findings import Finding, shown_path

REQUIREMENT = "S0.4"
INCIDENT_DIR = "incidents"
CATEGORIES = (
    "hardware",
    "network",
    "operating-system",
    "database",
    "application",
    "security",
    "power",
    "other",
)
INCIDENT_ID = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[a-z0-9-]{1,40}$")
HEADER = """\
# Log gangguan (SPO S0.4): satu berkas mencatat satu gangguan dibuka, atau penyelesaiannya.
# Ditulis oleh `spo incident`; jangan diubah, simpan (commit) di repositori git situs.
# Troubleshooting log (SPO S0.4): this file records one problem opened, or its resolution.
# Written by `spo incident`; do not edit it, commit it to the site's git repository.
"""


class IncidentError(Exception):
    """An incident that cannot be recorded; the message says why and how to fix it."""


@dataclass
class Opened:
    requirement: str
    id: str
    host: str
    category: str
    problem: str
    opened_at: str
    recorded_by: str
    inventory_commit: str | None


@dataclass
class Resolved:
    requirement: str
    id: str
    resolution: str
    resolved_at: str
    recorded_by: str


def _rules(kind: type) -> tuple[Rule, ...]:
    fix = "restore the file from the site's git history (git log -p -- <this file>)"
    common = (
        Rule("requirement", lambda v: v == REQUIREMENT, f"{REQUIREMENT!r}", fix),
        Rule(
            "id",
            lambda v: isinstance(v, str) and bool(INCIDENT_ID.match(v)),
            "an incident id such as 20261207T081500Z-disk-full",
            fix,
        ),
        Rule("recorded_by", is_text, TEXT, fix),
    )
    if kind is Opened:
        return (
            *common,
            Rule("host", is_text, TEXT, fix),
            Rule("category", lambda v: v in CATEGORIES, ", ".join(CATEGORIES), fix),
            Rule("problem", is_text, TEXT, fix),
            Rule("opened_at", is_utc_time, TIME, fix),
            Rule("inventory_commit", is_optional_text, "a git commit or null", fix),
        )
    return (
        *common,
        Rule("resolution", is_text, TEXT, fix),
        Rule("resolved_at", is_utc_time, TIME, fix),
    )


@dataclass
class Incident:
    opened: Opened
    resolved: Resolved | None
    path: Path

    @property
    def open(self) -> bool:
        return self.resolved is None


def slug(text: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return words[:40].rstrip("-") or "incident"


def _path(root: Path, incident_id: str, suffix: str = "") -> Path:
    return root / INCIDENT_DIR / incident_id[:4] / f"{incident_id}{suffix}.yml"


def _write(root: Path, record, suffix: str, what: str) -> Path:
    data = asdict(record)
    findings = check(data, _rules(type(record)), f"the new {what}", "give allowed values")
    if findings:
        raise IncidentError("nothing was written:\n" + "\n".join(f.text() for f in findings))
    text = HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return write_once(_path(root, record.id, suffix), text, IncidentError)


def open_incident(
    root: Path,
    host: str,
    category: str,
    problem: str,
    by: str,
    commit: str | None,
    now: datetime | None = None,
) -> Opened:
    at = now.isoformat(timespec="seconds").replace("+00:00", "Z") if now else utc_now()
    stamp = at.replace("-", "").replace(":", "").replace("Z", "")[:15] + "Z"
    record = Opened(
        REQUIREMENT, f"{stamp}-{slug(problem)}", host, category, problem.strip(), at, by, commit
    )
    _write(root, record, "", "incident")
    return record


def resolve(root: Path, incident_id: str, resolution: str, by: str) -> Resolved:
    if not _path(root, incident_id).is_file():
        raise IncidentError(
            f"no incident {incident_id} in {shown_path(root / INCIDENT_DIR)}: "
            "list them with `spo incident list`"
        )
    record = Resolved(REQUIREMENT, incident_id, resolution.strip(), utc_now(), by)
    _write(root, record, ".resolved", "resolution")
    return record


def _load(path: Path, kind: type) -> tuple[object | None, list[Finding]]:
    file = shown_path(path)
    whole = Rule(
        "(file)", lambda _: False, f"an incident record: a YAML mapping of {kind.__name__}"
    )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, [Finding(file, None, whole.key, f"cannot be read: {exc}", whole.allowed, "")]
    if not isinstance(data, dict):
        return None, [Finding(file, None, whole.key, "is not a YAML mapping", whole.allowed, "")]
    findings = check(data, _rules(kind), file)
    extra = sorted(set(data) - set(kind.__dataclass_fields__))
    if extra:
        findings.append(
            Finding(
                file,
                None,
                extra[0],
                "is not a key of the record",
                ", ".join(kind.__dataclass_fields__),
                "remove it",
            )
        )
    return (None if findings else kind(**data)), findings


def read_log(root: Path) -> tuple[list[Incident], list[Finding]]:
    """Every incident, oldest first, with its resolution when there is one, and what is wrong
    with the files that are not valid records."""
    folder = root / INCIDENT_DIR
    opened: dict[str, tuple[Opened, Path]] = {}
    resolutions: dict[str, Resolved] = {}
    findings: list[Finding] = []
    for path in sorted(folder.rglob("*.yml")) if folder.is_dir() else []:
        if path.name.startswith("."):
            continue
        kind = Resolved if path.name.endswith(".resolved.yml") else Opened
        record, problems = _load(path, kind)
        findings += problems
        if isinstance(record, Opened):
            opened[record.id] = (record, path)
        elif isinstance(record, Resolved):
            resolutions[record.id] = record
    incidents = [Incident(o, resolutions.get(i), p) for i, (o, p) in opened.items()]
    incidents.sort(key=lambda i: (parse_time(i.opened.opened_at), i.opened.id))
    return incidents, findings
