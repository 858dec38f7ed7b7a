"""The SPO policy schema, the validator that understands its custom keywords, and plain words.

The schema (cli/spo/schema/inventory.schema.yml) is the one place the policy is defined; the
options of the project's roles are added to it at run time from their argument specs, so a
role's public variables are checked with the same validator.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from spo.inventory.findings import Finding, shown_path
from spo.inventory.loader import Vaulted, load_yaml

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema" / "inventory.schema.yml"

# A Jinja expression: its value is known only when Ansible runs.
TEMPLATE = re.compile(r"\{\{|\{%")

FORMATS = {
    "iana-timezone": "an IANA time zone name such as Asia/Jakarta",
    "ipv4": "an IPv4 address such as 10.89.60.11",
    "ipv4-network": "an IPv4 network in CIDR form such as 10.89.60.0/24",
}
KINDS = {
    "string": "text",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "empty",
}
# Ansible argument-spec types and their JSON Schema types; others (raw, json...) are not checked.
ARG_TYPES = {
    "str": "string",
    "path": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "list": "array",
    "dict": "object",
}

FORMAT_CHECKER = FormatChecker(formats=("ipv4",))


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@FORMAT_CHECKER.checks("iana-timezone")
def _is_timezone(value: object) -> bool:
    if not isinstance(value, str):
        return True
    # Without tzdata on this machine, accept what looks like Area/Location.
    return value in _zones() if _zones() else bool(re.fullmatch(r"[A-Za-z_]+(/[\w+-]+)+", value))


@FORMAT_CHECKER.checks("ipv4-network", raises=ValueError)
def _is_network(value: object) -> bool:
    return not isinstance(value, str) or ("/" in value and bool(ipaddress.IPv4Network(value)))


def _ordered(validator, rules, instance, schema):
    """x-ordered: each rule's `then` value is after (strict) or not before its `first` value."""
    if not validator.is_type(instance, "object"):
        return
    for rule in rules:
        first, then = rule["first"], rule["then"]
        # Missing or malformed values are reported by their own keywords.
        if not all(_is_valid(validator, instance, key, schema) for key in (first, then)):
            continue
        before, after = instance[first], instance[then]
        if after < before or (rule["strict"] and after == before):
            yield ValidationError(rule["message"], path=[then], validator_value=rule)


def _is_valid(validator, instance: dict, key: str, schema: dict) -> bool:
    subschema = schema["properties"][key]
    return key in instance and next(validator.descend(instance[key], subschema), None) is None


def _unknown(validator, message, instance, schema):
    """x-unknown: used under additionalProperties, so each unknown key is its own error."""
    yield ValidationError(message)


def _encrypted(validator, expected, instance, schema):
    """x-encrypted: whether the value is an inline `!vault` value, which cannot be checked."""
    if isinstance(instance, Vaulted) != expected:
        yield ValidationError("is encrypted" if expected is False else "is not encrypted")


SpoValidator = validators.extend(
    Draft202012Validator, {"x-ordered": _ordered, "x-unknown": _unknown, "x-encrypted": _encrypted}
)


@functools.cache
def _schema_text() -> str:
    return SCHEMA_FILE.read_text(encoding="utf-8")


@dataclass
class Policy:
    schema: dict
    findings: list[Finding] = field(default_factory=list)  # about the roles' argument specs

    @classmethod
    def load(cls, roles_dir: Path | None) -> Policy:
        schema = yaml.safe_load(_schema_text())
        options, findings = role_options(roles_dir)
        for name, option in options.items():
            schema["properties"].setdefault(name, option)
        return cls(schema, findings)

    @functools.cached_property
    def validator(self):
        return SpoValidator(self.schema, format_checker=FORMAT_CHECKER)

    def property(self, key: str) -> dict:
        return self.schema["properties"].get(key, {})

    def cite(self, requirement: str) -> str:
        """The requirement in words, ' (S1.5: keep at least 5 distinct backups)', or ''."""
        text = self.schema["x-requirements"].get(requirement)
        return f" ({requirement}: {text})" if requirement else ""

    def describe(self, schema: dict) -> str:
        """What a value of `schema` may be, in plain words."""
        schema = self.resolve(schema)
        kind = schema.get("type")
        choices = "one of " + ", ".join(map(str, schema["enum"])) if "enum" in schema else None
        words = schema.get("title") or choices or FORMATS.get(schema.get("format", ""))
        if words:
            return words
        if kind in ("integer", "number"):
            return _range(KINDS[kind], schema.get("minimum"), schema.get("maximum"))
        if kind == "array" and "items" in schema:
            return f"a list of {self.describe(schema['items'])}"
        return KINDS.get(kind, "any value") + (", not empty" if schema.get("minLength") else "")

    def resolve(self, schema: dict) -> dict:
        """The schema a value is checked against: $ref followed, a role option's `if` skipped."""
        if "else" in schema:
            return self.resolve(schema["else"])
        if "$ref" in schema:
            target = self.schema["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
            return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema


def _range(noun: str, low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{noun} from {low} to {high}"
    if low is not None:
        return f"{noun} of at least {low}"
    return f"{noun} of at most {high}" if high is not None else noun


def option_schema(role: str, spec: dict) -> dict:
    """The JSON Schema of one option of a role's meta/argument_specs.yml."""
    typed: dict = {}
    kind = ARG_TYPES.get(spec.get("type", "str"))
    if kind:
        typed["type"] = kind
    if kind == "array":
        typed["items"] = (
            {"type": ARG_TYPES[spec["elements"]]} if spec.get("elements") in ARG_TYPES else {}
        )
    if spec.get("choices"):
        (typed["items"] if kind == "array" else typed)["enum"] = list(spec["choices"])
    description = spec.get("description", "")
    schema = {
        # A template or a vaulted value is known only when the role runs: Ansible checks it then.
        "if": {"anyOf": [{"type": "string", "pattern": TEMPLATE.pattern}, {"x-encrypted": True}]},
        "then": True,
        "else": typed,
        "description": " ".join(description) if isinstance(description, list) else description,
        "x-role": role,
    }
    if "default" in spec:
        schema["default"] = spec["default"]
    return schema


def role_options(roles_dir: Path | None) -> tuple[dict[str, dict], list[Finding]]:
    """The public variables of every role under `roles_dir`, from their argument specs."""
    options: dict[str, dict] = {}
    findings: list[Finding] = []
    spec_files = sorted(roles_dir.glob("*/meta/argument_specs.y*ml")) if roles_dir else []
    for spec_file in spec_files:
        role = spec_file.parents[1].name
        data, problems = load_yaml(spec_file)
        findings += problems
        entry_points = data.get("argument_specs") if isinstance(data, dict) else None
        if not isinstance(entry_points, dict):
            if not problems:
                message = "has no `argument_specs:` mapping, so the role's variables are unknown"
                findings.append(Finding(shown_path(spec_file), None, "argument_specs", message))
            continue
        for entry in entry_points.values():
            specs = entry.get("options") if isinstance(entry, dict) else None
            for name, spec in (specs or {}).items():
                if isinstance(spec, dict):
                    options.setdefault(name, option_schema(role, spec))
    return options, findings
