"""Check a site inventory against the SPO policy schema, reporting every violation at once.

Three scopes, one validator: each vars file alone (types, ranges, unknown keys), the merged
variables of group `all` (the whole policy is stated there), and the variables each host ends
up with (cross-field rules, which an override in a group or host can break).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from jsonschema import ValidationError

from spo.inventory.findings import Finding, close_match, shown_path, shown_value
from spo.inventory.loader import Vaulted, load_inventory
from spo.inventory.schema import KINDS, TEMPLATE, Policy
from spo.inventory.structure import Inventory, Source
from spo.paths import PROJECT_ROOT

ROLES_DIR = PROJECT_ROOT / "roles"
POLICY_FILE = Path("group_vars", "all", "spo_policy.yml")
# What is wrong, by the failing keyword, in words that do not repeat the schema's regexes.
PROBLEMS = {
    "minimum": "is below the floor of {limit}",
    "maximum": "is above the ceiling of {limit}",
    "type": "is {kind}, not {expected}",
    "enum": "is not one of the allowed values",
    "pattern": "is not {allowed}",
    "format": "is not {allowed}",
    "uniqueItems": "names the same value twice",
    "minItems": "has fewer than {limit} items",
    "minLength": "is empty",
}
# Keywords checked on the merged variables, not file by file.
MERGED_KEYWORDS = ("required", "x-ordered")


@dataclass
class Report:
    inventory: Inventory
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def summary(self) -> str:
        if self.errors:
            count = f"{len(self.errors)} error" + ("s" if len(self.errors) > 1 else "")
            return f"{count} in {shown_path(self.inventory.hosts_file.parent)}"
        hosts, groups = len(self.inventory.hosts), len(self.inventory.named_groups())
        return f"ok: {hosts} hosts in {groups} groups, policy complete"


def check_inventory(path: Path, roles_dir: Path | None = ROLES_DIR) -> Report:
    inventory = load_inventory(path)
    policy = Policy.load(roles_dir)
    findings = [*inventory.findings, *policy.findings]
    for source in inventory.sources():
        findings += check_source(policy, source)
    for host in [None, *inventory.hosts]:
        findings += check_merged(policy, inventory, host)
    # A rule broken in group all is broken again on every host: report it once.
    unique = {finding.sort_key(): finding for finding in findings}
    return Report(inventory, sorted(unique.values(), key=Finding.sort_key))


def check_source(policy: Policy, source: Source) -> Iterator[Finding]:
    """Types, ranges and unknown keys of one vars file or `vars:` block."""
    where = shown_path(source.path)
    for key in source.data:
        if not isinstance(key, str):
            yield Finding(
                where, _line(source.data, [key]), str(key), "a variable name must be text"
            )
    variables = {k: v for k, v in source.data.items() if isinstance(k, str)}
    for error in policy.validator.iter_errors(variables):
        if error.validator not in MERGED_KEYWORDS:
            yield _value_finding(policy, source, error)


def check_merged(policy: Policy, inventory: Inventory, host: str | None) -> Iterator[Finding]:
    """The whole policy in group all (host None); cross-field rules on what each host gets."""
    merged = inventory.merged_vars(host)
    origin: dict[str, tuple[Path, int | None]] = {}
    for source in inventory.layers(host):
        for key in source.data:
            if isinstance(key, str):
                origin[key] = (source.path, _line(source.data, [key]))
    errors = list(policy.validator.iter_errors(merged))
    for error in errors:
        if error.validator == "x-ordered":
            yield _order_finding(policy, error, merged, origin)
    if host is None and any(error.validator == "required" for error in errors):
        missing = [key for key in policy.schema["required"] if key not in merged]
        yield from _missing_findings(policy, inventory, missing)


def _value_finding(policy: Policy, source: Source, error: ValidationError) -> Finding:
    path = list(error.absolute_path)
    key = path[0]
    where, line = shown_path(source.path), _line(source.data, path)
    if error.validator == "x-unknown":
        return _unknown_key(policy, where, line, key, error.message)
    prop = policy.property(key)
    requirement = prop.get("x-requirement", "")
    raw = source.data.raw.get(key) if len(path) == 1 else None
    shown = raw if raw is not None else shown_value(error.instance)
    allowed = policy.describe(prop)
    fix = f"change it to {allowed}"
    if "default" in prop:
        label = "the SPO default" if key.startswith("spo_") else "the role's default"
        fix += f"; {label} is {shown_value(prop['default'])}"
    problem = _problem(policy, error)
    if error.validator == "type" and isinstance(error.instance, int) and ":" in (raw or ""):
        # YAML 1.1 reads unquoted 12:40 as sexagesimal 760, and Ansible uses YAML 1.1.
        problem = f"is read by YAML as the number {error.instance}; write it in quotes"
        fix = f'write it as "{raw}"'
    return Finding(
        where,
        line,
        key + "".join(f"[{part}]" for part in path[1:]),
        f"{shown} {problem}{policy.cite(requirement)}",
        allowed=allowed,
        fix=fix,
        value=error.instance,
        requirement=requirement,
    )


def _problem(policy: Policy, error: ValidationError) -> str:
    """What is wrong with the value, after the subject: "is below the floor of 5"."""
    instance, limit = error.instance, error.validator_value
    if isinstance(instance, Vaulted):
        return "is encrypted with ansible-vault; a policy value must be readable by an auditor"
    if isinstance(instance, str) and TEMPLATE.search(instance):
        return "is a Jinja template; write the value itself so an auditor can read it"
    template = PROBLEMS.get(error.validator)
    if template is None:
        return error.message
    types = limit if isinstance(limit, list) else [limit]  # for "type"; unused by the others
    return template.format(
        limit=limit,
        kind=_kind(policy, instance),
        expected=" or ".join(KINDS.get(t, str(t)) for t in types),
        allowed=policy.describe(error.schema),
    )


def _kind(policy: Policy, value: object) -> str:
    """The JSON Schema type of a YAML value, in words."""
    return next((words for kind, words in KINDS.items() if policy.validator.is_type(value, kind)))


def _unknown_key(policy: Policy, where: str, line: int | None, key: str, message: str) -> Finding:
    match = close_match(key, policy.schema["properties"])
    requirement = policy.property(match).get("x-requirement", "") if match else ""
    if match:
        message += f"; did you mean {match}?{policy.cite(requirement)}"
    return Finding(
        where,
        line,
        key,
        message,
        allowed="spo_* keys of the SPO policy, ansible_* variables, options of the project's roles",
        fix=f"rename it to {match}"
        if match
        else "remove it, or declare it in meta/argument_specs.yml of the role that reads it",
        requirement=requirement,
    )


def _order_finding(policy: Policy, error: ValidationError, merged: dict, origin: dict) -> Finding:
    rule = error.validator_value
    first, then = rule["first"], rule["then"]
    requirement = rule.get("x-requirement", "")
    path, line = origin[then]
    first_path, first_line = origin[first]
    relation = "after" if rule["strict"] else "at least"
    defaults = [shown_value(policy.property(k).get("default")) for k in (first, then)]
    return Finding(
        shown_path(path),
        line,
        then,
        f"{shown_value(merged[then])} is not {relation} {first} {shown_value(merged[first])}"
        f" ({shown_path(first_path)}:{first_line}): {rule['message']}{policy.cite(requirement)}",
        allowed=f"a value {relation} {first}",
        fix=f"raise {then} or lower {first}; the SPO defaults are {defaults[1]} and {defaults[0]}",
        value=merged[then],
        requirement=requirement,
    )


def _missing_findings(
    policy: Policy, inventory: Inventory, missing: list[str]
) -> Iterator[Finding]:
    target = shown_path(_policy_file(inventory, policy.schema["required"]))
    for key in missing:
        prop = policy.property(key)
        requirement = prop.get("x-requirement", "")
        value = prop.get("default", (prop.get("examples") or ["..."])[0])
        whose = "the SPO default" if "default" in prop else "the site's own value"
        yield Finding(
            target,
            None,
            key,
            "missing from group all, where the auditor reads the whole policy"
            + policy.cite(requirement),
            allowed=policy.describe(prop),
            fix=f"add `{key}: {shown_value(value)}` ({whose}) to {target}",
            requirement=requirement,
        )


def _policy_file(inventory: Inventory, policy_keys: list[str]) -> Path:
    """Where the policy of group all is written: the group_vars/all file with most policy keys."""
    counts = {
        source.path: sum(key in source.data for key in policy_keys)
        for source in inventory.groups["all"].files
    }
    best = max(counts, key=counts.__getitem__, default=None)
    return best if best and counts[best] else inventory.hosts_file.parent / POLICY_FILE


def _line(data: object, path: list) -> int | None:
    """The line of the deepest key or item of `path` whose line is known."""
    line = None
    for part in path:
        lines = getattr(data, "lines", None)
        if isinstance(lines, dict):
            line = lines.get(part, line)
        elif isinstance(lines, list) and isinstance(part, int) and part < len(lines):
            line = lines[part]
        data = data[part]
    return line
