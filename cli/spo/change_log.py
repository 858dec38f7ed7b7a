"""Database changes on request (S3.9): the request, each approval of its chain and its
application, as plain YAML files under ``<inventory>/changes/<YYYY>/``, committed to the site's
git repository like the troubleshooting log.

The requesting user writes to the technical director, who asks the president director, who on
approval forwards to the director of finance and general administration, who forwards to the
head of SIRS, who has the IT team do it: ``spo_change_approvers`` lists that chain, copied into
each request. One file per step, each written once and never edited, so git shows every step:

    <ID>.request.yml                   the request, with its SQL script and the script's sha256
    <ID>.approval-<NN>-<role>.yml      one approval, NN = 01.. in the order of the chain
    <ID>.applied.yml                   the application, written by the apply command

Every approval records the sha256 of the SQL its approver saw; a change may be applied only
when the whole chain approved, in order, the SQL that is in the request file now.
Pure logic, no click, no Ansible.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import yaml

from spo.archive_register import (
    TEXT,
    TIME,
    Rule,
    check,
    is_backup_name,
    is_count,
    is_optional_text,
    is_sha256,
    is_text,
    is_utc_time,
    parse_time,
    utc_now,
    write_once,
)
from spo.incident_log import INCIDENT_ID, slug
from spo.inventory.findings import Finding, shown_path

REQUIREMENT = "S3.9"
CHANGE_DIR = "changes"
ENGINES = ("postgresql", "mariadb")
RESULTS = ("ok", "failed")
DEFAULT_CHAIN = (
    "technical director",
    "president director",
    "director of finance and general administration",
    "head of SIRS",
)
CHANGE_ID = INCIDENT_ID  # 20261207T081500Z-<slug of the title>
FILE_NAME = re.compile(
    r"^(?P<id>[^./]+)\.(?:(?P<request>request)|approval-(?P<step>[0-9]{2,})-(?P<role>[a-z0-9-]+)"
    r"|(?P<applied>applied))\.yml$"
)
HEADER = """\
# Perubahan data (SPO S3.9): satu berkas ini mencatat satu permintaan pembaruan basis data,
# satu persetujuan dalam rantai persetujuannya, atau pelaksanaannya. Ditulis oleh `spo change`;
# jangan diubah, simpan (commit) di repositori git situs.
# Database change (SPO S3.9): this file records one request to change data in a database, one
# approval of its chain, or its application. Written by `spo change`; do not edit it, commit it
# to the site's git repository.
"""
RESTORE = "restore the file from the site's git history (git log -p -- <this file>)"
NEW_REQUEST = "or file a new change request and have it approved again"


class ChangeError(Exception):
    """A change that cannot be requested, approved or applied; the message says why and how to
    fix it."""


@dataclass
class Request:
    requirement: str
    id: str
    title: str
    requester: str
    unit: str
    reason: str
    host: str
    database: str
    engine: str
    sql: str
    sql_sha256: str
    chain: list[str]
    requested_at: str
    recorded_by: str
    inventory_commit: str | None


@dataclass
class Approval:
    requirement: str
    id: str
    step: int
    role: str
    approver: str
    approved_at: str
    sql_sha256: str
    recorded_by: str


@dataclass
class Applied:
    requirement: str
    id: str
    applied_at: str
    run_id: str
    pre_change_backup: str
    statements: list[dict]
    rows_total: int
    result: str
    error: str | None
    recorded_by: str


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def same_role(a: str, b: str) -> bool:
    """Roles are typed by hand: "Head of SIRS" and "head of  sirs" are the same role."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def is_chain(value) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(is_text(role) for role in value)
        and len({" ".join(role.split()).casefold() for role in value}) == len(value)
    )


def is_step(value) -> bool:
    return is_count(value) and value >= 1


def is_statements(value) -> bool:
    return isinstance(value, list) and all(
        isinstance(s, dict)
        and set(s) == {"statement", "rows"}
        and is_text(s["statement"])
        and (s["rows"] is None or is_count(s["rows"]))
        for s in value
    )


def _rules(kind: type) -> tuple[Rule, ...]:
    common = (
        Rule("requirement", lambda v: v == REQUIREMENT, f"{REQUIREMENT!r}", RESTORE),
        Rule(
            "id",
            lambda v: isinstance(v, str) and bool(CHANGE_ID.match(v)),
            "a change id such as 20261207T081500Z-correct-patient-birth-date",
            RESTORE,
        ),
        Rule("recorded_by", is_text, TEXT, RESTORE),
    )
    sha = "64 lowercase hex digits"
    if kind is Request:
        rest = (
            ("title", is_text, TEXT),
            ("requester", is_text, TEXT),
            ("unit", is_text, TEXT),
            ("reason", is_text, TEXT),
            ("host", is_text, TEXT),
            ("database", is_text, TEXT),
            ("engine", lambda v: v in ENGINES, ", ".join(ENGINES)),
            ("sql", is_text, "the SQL script, non-empty text"),
            ("sql_sha256", is_sha256, sha),
            ("chain", is_chain, "a list of approver roles, at least one, each once"),
            ("requested_at", is_utc_time, TIME),
            ("inventory_commit", is_optional_text, "a git commit or null"),
        )
    elif kind is Approval:
        rest = (
            ("step", is_step, "a whole number, 1 or more: the place of the role in the chain"),
            ("role", is_text, TEXT),
            ("approver", is_text, TEXT),
            ("approved_at", is_utc_time, TIME),
            ("sql_sha256", is_sha256, sha),
        )
    else:
        rest = (
            ("applied_at", is_utc_time, TIME),
            ("run_id", is_text, TEXT),
            ("pre_change_backup", is_backup_name, "a backup folder name"),
            ("statements", is_statements, "a list of {statement: text, rows: number or null}"),
            ("rows_total", is_count, "a whole number of rows, 0 or more"),
            ("result", lambda v: v in RESULTS, ", ".join(RESULTS)),
            ("error", is_optional_text, "text or null"),
        )
    return (*common, *(Rule(key, test, allowed, RESTORE) for key, test, allowed in rest))


def _check(data: dict, kind: type, file: str, fix: str = "") -> list[Finding]:
    return [
        dataclasses.replace(f, requirement=REQUIREMENT)
        for f in check(data, _rules(kind), file, fix)
    ]


@dataclass
class Change:
    request: Request
    approvals: list[Approval]  # valid approvals of the request's chain, in step order
    applied: Applied | None
    path: Path  # the request file

    @property
    def sql_sha256(self) -> str:
        """The sha256 of the SQL in the request file now (not the one it records)."""
        return sha256(self.request.sql)

    @property
    def edited(self) -> bool:
        """The request's SQL no longer matches the sha256 recorded with it."""
        return self.sql_sha256 != self.request.sql_sha256

    @property
    def void_approvals(self) -> list[Approval]:
        """Approvals given to another SQL than the one in the request file now."""
        return [a for a in self.approvals if a.sql_sha256 != self.sql_sha256]

    @property
    def missing(self) -> list[str]:
        """The roles of the chain that have not approved, in chain order."""
        given = {(a.step, a.role) for a in self.approvals}
        return [r for n, r in enumerate(self.request.chain, 1) if (n, r) not in given]

    @property
    def next_role(self) -> str | None:
        missing = self.missing
        return missing[0] if missing else None

    @property
    def complete(self) -> bool:
        return not self.missing and not self.void_approvals

    @property
    def state(self) -> str:
        if self.applied is not None:
            return "applied" if self.applied.result == "ok" else "failed"
        if self.void_approvals:
            return "void: the SQL changed after approval"
        if self.next_role is not None:
            return f"waiting for {self.next_role}"
        return "approved"


def _time(now: datetime | None) -> str:
    if now is None:
        return utc_now()
    return now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _slug(text: str, fallback: str) -> str:
    return slug(text) if re.search(r"[a-z0-9]", text.lower()) else fallback


def _path(root: Path, change_id: str, suffix: str) -> Path:
    return root / CHANGE_DIR / change_id[:4] / f"{change_id}.{suffix}.yml"


def _approval_suffix(step: int, role: str) -> str:
    return f"approval-{step:02d}-{_slug(role, 'role')}"


class _Dumper(yaml.SafeDumper):
    """Writes text of several lines (the SQL) as a literal block a person reads as written.
    PyYAML quotes it instead when a block would not read back (carriage returns, blanks)."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_text)


def render(record: Request | Approval | Applied) -> str:
    data = asdict(record)
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    if yaml.safe_load(body) != data:  # PyYAML loses the line breaks U+0085, U+2028 there
        body = yaml.safe_dump(data, sort_keys=False, width=100)  # every non-ASCII escaped
    return HEADER + body


def _write(root: Path, record: Request | Approval | Applied, suffix: str, what: str) -> Path:
    findings = _check(asdict(record), type(record), f"the new {what}", "give an allowed value")
    if findings:
        raise ChangeError("nothing was written:\n" + "\n".join(f.text() for f in findings))
    return write_once(_path(root, record.id, suffix), render(record), ChangeError)


def request(
    root: Path,
    *,
    title: str,
    requester: str,
    unit: str,
    reason: str,
    host: str,
    database: str,
    engine: str,
    sql: str,
    chain: Sequence[str],
    by: str,
    commit: str | None,
    now: datetime | None = None,
) -> Request:
    """Record a request to change data in ``database`` on ``host`` with the script ``sql``,
    to be approved by each role of ``chain`` (spo_change_approvers) in order."""
    if not isinstance(sql, str) or not sql.strip():
        raise ChangeError(
            "the SQL script is empty: give the statements the IT team is to run; nothing was "
            "written"
        )
    if engine not in ENGINES:
        raise ChangeError(
            f"engine {engine!r} is not one of {', '.join(ENGINES)}: give the engine of the "
            "database; nothing was written"
        )
    roles = [role.strip() if isinstance(role, str) else "" for role in chain]
    if not roles or not all(roles):
        raise ChangeError(
            f"the approval chain {roles!r} is empty or has an empty role: set "
            f"spo_change_approvers in the inventory (the SPO chain is {', '.join(DEFAULT_CHAIN)}); "
            "nothing was written"
        )
    for n, role in enumerate(roles):
        if any(same_role(role, earlier) for earlier in roles[:n]):
            raise ChangeError(
                f"role {role!r} is twice in the approval chain {roles!r}: each role approves "
                "once; fix spo_change_approvers in the inventory; nothing was written"
            )
    at = _time(now)
    record = Request(
        REQUIREMENT,
        f"{parse_time(at):%Y%m%dT%H%M%SZ}-{_slug(title, 'change')}",
        title.strip(),
        requester.strip(),
        unit.strip(),
        reason.strip(),
        host.strip(),
        database.strip(),
        engine,
        sql,
        sha256(sql),
        roles,
        at,
        by,
        commit,
    )
    _write(root, record, "request", "change request")
    return record


def approve(
    root: Path, change_id: str, role: str, approver: str, by: str, now: datetime | None = None
) -> Approval:
    """Record that ``approver``, as ``role``, approved the change: the next role of its chain,
    and the SQL the request file holds now."""
    change = find(root, change_id)
    req = change.request
    file = shown_path(change.path)
    if change.applied is not None:
        raise ChangeError(
            f"change {req.id} was already applied at {change.applied.applied_at} "
            f"(result {change.applied.result}): an approval after it means nothing; file a new "
            "change request for another change"
        )
    if change.edited:
        raise ChangeError(
            f"the SQL in {file} no longer matches its sql_sha256: the file was edited after the "
            f"request; nothing may be approved: {RESTORE}, {NEW_REQUEST}"
        )
    if change.void_approvals:
        roles = ", ".join(a.role for a in change.void_approvals)
        raise ChangeError(
            f"the approvals of {roles} were given to another SQL than the one in {file} now: "
            f"the file was edited after approval; nothing may be approved: {RESTORE}, "
            f"{NEW_REQUEST}"
        )
    named = next((r for r in req.chain if same_role(r, role)), None)
    if named is None:
        raise ChangeError(
            f"role {role} is not in the chain of change {req.id}: {' → '.join(req.chain)}; "
            "give one of these roles"
        )
    given = next((a for a in change.approvals if a.role == named), None)
    if given is not None:
        raise ChangeError(
            f"change {req.id} is already approved by the {named} ({given.approver}, "
            f"{given.approved_at}): each role approves once"
        )
    if change.next_role != named:
        raise ChangeError(
            f"change {req.id} is waiting for the {change.next_role}: the {named} approves after "
            f"the {change.next_role}, in the order of the chain: {' → '.join(req.chain)}"
        )
    at = _time(now)
    previous = change.approvals[-1].approved_at if change.approvals else req.requested_at
    if parse_time(at) < parse_time(previous):
        raise ChangeError(
            f"the approval time {at} is before the previous step of change {req.id} "
            f"({previous}): check the clock of this computer"
        )
    step = req.chain.index(named) + 1
    record = Approval(REQUIREMENT, req.id, step, named, approver.strip(), at, req.sql_sha256, by)
    _write(root, record, _approval_suffix(step, named), "approval")
    return record


def check_ready(change: Change) -> None:
    """Raise ChangeError unless ``change`` may be applied now: the whole chain approved, in
    order, the SQL now in the request file, and not applied yet. The message names what is
    missing."""
    req = change.request
    file = shown_path(change.path)
    problems = []
    if change.applied is not None:
        problems.append(
            f"it was already applied at {change.applied.applied_at} (result "
            f"{change.applied.result}); a change is applied once, file a new change request for "
            "another change"
        )
    if change.edited:
        problems.append(
            f"the SQL in {file} does not match its sql_sha256 {req.sql_sha256[:12]}…: the file "
            "was edited after the request"
        )
    void = change.void_approvals
    if void:
        problems.append(
            f"the approvals of {', '.join(a.role for a in void)} were given to SQL with sha256 "
            f"{', '.join(sorted({a.sql_sha256[:12] + '…' for a in void}))}, not the SQL now in "
            f"{file} (sha256 {change.sql_sha256[:12]}…): the SQL changed after approval"
        )
    if change.missing:
        problems.append(
            f"not approved yet by the {', the '.join(change.missing)} "
            f"(next: the {change.next_role}; chain: {' → '.join(req.chain)})"
        )
    times = [("the request", req.requested_at)]
    times += [(f"the approval of the {a.role}", a.approved_at) for a in change.approvals]
    for (before, early), (after, late) in pairwise(times):
        if parse_time(late) < parse_time(early):
            problems.append(f"{after} ({late}) is dated before {before} ({early})")
    if problems:
        if change.applied is not None:
            fix = "nothing to do: it was applied"
        elif change.edited or void:
            fix = f"{RESTORE}, {NEW_REQUEST}"
        elif change.missing:
            fix = f"have the {change.next_role} approve the change first"
        else:
            fix = f"{RESTORE}; approvals are recorded in the order of the chain"
        raise ChangeError(
            f"change {req.id} cannot be applied:\n- " + "\n- ".join(problems) + f"\nfix: {fix}"
        )


def record_applied(root: Path, change_id: str, applied: Applied) -> Path:
    """Write the record of the change's application (or failure), once."""
    change = find(root, change_id)
    if applied.id != change.request.id:
        raise ChangeError(
            f"the record is of change {applied.id}, not {change.request.id}; nothing was written"
        )
    if change.applied is not None:
        raise ChangeError(
            f"change {applied.id} is already recorded as applied at {change.applied.applied_at} "
            f"in {shown_path(_path(root, applied.id, 'applied'))}; it is never replaced"
        )
    return _write(root, applied, "applied", "application record")


def find(root: Path, change_id: str) -> Change:
    """The change with this id, or the only one whose id starts with it."""
    changes, findings = read(root)
    exact = [c for c in changes if c.request.id == change_id]
    if exact:
        return exact[0]
    matches = [c for c in changes if change_id and c.request.id.startswith(change_id)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ChangeError(
            f"{change_id!r} is the start of {len(matches)} change ids "
            f"({', '.join(c.request.id for c in matches)}): give more of the id"
        )
    damaged = [f for f in findings if change_id and Path(f.file).name.startswith(change_id)]
    if damaged:
        raise ChangeError(
            f"the files of change {change_id} are damaged:\n" + "\n".join(f.text() for f in damaged)
        )
    raise ChangeError(
        f"no change {change_id!r} in {shown_path(root / CHANGE_DIR)}: check the id in the "
        "list of changes"
    )


def _load(path: Path, kind: type) -> tuple[object | None, list[Finding]]:
    file = shown_path(path)
    allowed = f"a change record: a YAML mapping of {kind.__name__}"

    def whole(message: str) -> list[Finding]:
        return [Finding(file, None, "(file)", message, allowed, RESTORE, None, REQUIREMENT)]

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, whole(f"cannot be read: {exc}")
    if not isinstance(data, dict):
        return None, whole("is not a YAML mapping")
    findings = _check(data, kind, file)
    names = tuple(kind.__dataclass_fields__)
    for extra in sorted(str(key) for key in set(data) - set(names)):
        findings.append(
            Finding(file, None, extra, "is not a key of the record", ", ".join(names),
                    f"remove it; {RESTORE}", None, REQUIREMENT)
        )  # fmt: skip
    return (None if findings else kind(**data)), findings


def _mismatch(path: Path, key: str, message: str, allowed: str) -> Finding:
    return Finding(shown_path(path), None, key, message, allowed, RESTORE, None, REQUIREMENT)


def _belongs(request: Request, approval: Approval, path: Path, match) -> list[Finding]:
    """What is wrong with an approval file of this request's chain."""
    chain = request.chain
    if approval.step > len(chain):
        message = f"is {approval.step}, beyond the request's chain of {len(chain)} roles"
        return [_mismatch(path, "step", message, " → ".join(chain))]
    if chain[approval.step - 1] != approval.role:
        message = (
            f"is {approval.role!r}, but step {approval.step} of the request's chain is "
            f"{chain[approval.step - 1]!r}"
        )
        return [_mismatch(path, "role", message, " → ".join(chain))]
    if path.name != f"{request.id}.{_approval_suffix(approval.step, approval.role)}.yml":
        return [
            _mismatch(path, "step", f"is {approval.step} ({approval.role}), not what the file "
                      f"name says (step {int(match['step'])}, {match['role']})",
                      "the step and role of the file name")
        ]  # fmt: skip
    return []


def read(root: Path) -> tuple[list[Change], list[Finding]]:
    """Every change, oldest request first, with its valid approvals and its application, and
    what is wrong with the files that are not valid records (each named by file and key)."""
    folder = root / CHANGE_DIR
    records: list[tuple[Path, re.Match, object]] = []
    findings: list[Finding] = []
    for path in sorted(folder.rglob("*.yml")) if folder.is_dir() else []:
        if path.name.startswith("."):
            continue
        match = FILE_NAME.match(path.name)
        if match is None:
            findings.append(
                _mismatch(path, "(file)", "is not the name of a change record",
                          "<ID>.request.yml, <ID>.approval-<NN>-<role>.yml, <ID>.applied.yml")
            )  # fmt: skip
            continue
        kind = Request if match["request"] else Approval if match["step"] else Applied
        record, problems = _load(path, kind)
        findings += problems
        if record is None:
            continue
        if record.id != match["id"]:
            findings.append(
                _mismatch(path, "id", f"is {record.id}, not the id of the file name",
                          match["id"])
            )  # fmt: skip
            continue
        records.append((path, match, record))

    requests = {r.id: (r, p) for p, _, r in records if isinstance(r, Request)}
    approvals: dict[str, list[Approval]] = {i: [] for i in requests}
    applied: dict[str, Applied] = {}
    for path, match, record in records:
        if isinstance(record, Request):
            if record.sql_sha256 != sha256(record.sql):
                findings.append(
                    _mismatch(path, "sql", "does not match its sql_sha256: the SQL was edited "
                              "after the request", "the SQL that was requested and approved")
                )  # fmt: skip
            continue
        if record.id not in requests:
            findings.append(
                _mismatch(path, "id", f"names a change with no request file "
                          f"({record.id}.request.yml)", "the id of a requested change")
            )  # fmt: skip
        elif isinstance(record, Approval):
            problems = _belongs(requests[record.id][0], record, path, match)
            findings += problems
            if not problems:
                approvals[record.id].append(record)
        else:
            applied[record.id] = record

    changes = [
        Change(r, sorted(approvals[i], key=lambda a: a.step), applied.get(i), p)
        for i, (r, p) in requests.items()
    ]
    changes.sort(key=lambda c: (parse_time(c.request.requested_at), c.request.id))
    return changes, findings
