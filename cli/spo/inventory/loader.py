"""Read an inventory's YAML files the way Ansible does, keeping the line of every key.

Ansible reads these files with PyYAML too; we add positions so each finding points at the
line to fix, and we never import Ansible (the CLI must start fast).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from spo.inventory.findings import Finding, shown_path
from spo.inventory.structure import Inventory, Source, parse_hosts

VAULT_HEADER = "$ANSIBLE_VAULT"
# What Ansible's host_group_vars plugin tries after the bare name, in this order.
VARS_EXTENSIONS = (".yml", ".yaml", ".json")
HOSTS_FILES = ("hosts.yml", "hosts.yaml")


class LineDict(dict):
    """A mapping that remembers each key's line and the source text of unquoted scalars."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[object, int] = {}
        self.raw: dict[object, str] = {}


class LineList(list):
    """A sequence that remembers each item's line."""

    lines: list[int]


class Vaulted(str):
    """An inline `!vault` value: ciphertext, kept as text as Ansible treats it."""


class _Loader(yaml.SafeLoader):
    duplicates: list[tuple[str, int]]


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    seen: set[str] = set()
    for key_node, _ in node.value:  # before merging `<<`, whose keys may be overridden
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            if key_node.value in seen:
                loader.duplicates.append((key_node.value, key_node.start_mark.line + 1))
            seen.add(key_node.value)
    loader.flatten_mapping(node)
    mapping = LineDict()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, list | dict):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be plain text, not a list or mapping", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = key_node.start_mark.line + 1
        if isinstance(value_node, yaml.ScalarNode) and value_node.style is None:
            mapping.raw[key] = value_node.value  # unquoted, to show 12:00 read as 720
    return mapping


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    items = LineList(loader.construct_object(child, deep=True) for child in node.value)
    items.lines = [child.start_mark.line + 1 for child in node.value]
    return items


_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _sequence)
_Loader.add_constructor("!vault", lambda loader, node: Vaulted(loader.construct_scalar(node)))
_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load_yaml(path: Path) -> tuple[object, list[Finding]]:
    """The data of one YAML file, or None with the findings that say why it was not read."""
    where = shown_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        return None, [Finding(where, None, "(file)", f"cannot be read: {exc}")]
    if text.startswith(VAULT_HEADER):
        notice = "encrypted with ansible-vault; its keys are not checked"
        return None, [Finding(where, None, "(file)", notice, severity="notice")]
    loader = _Loader(text)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        return None, [_syntax_error(where, exc)]
    finally:
        loader.dispose()
    return data, [
        Finding(
            where,
            line,
            key,
            "duplicate key: YAML keeps only the last value, silently",
            fix="keep one of the two lines",
        )
        for key, line in loader.duplicates
    ]


def _syntax_error(where: str, exc: yaml.YAMLError) -> Finding:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    return Finding(
        where,
        mark.line + 1 if mark else None,
        "(syntax)",
        message,
        fix="correct the YAML at this line (indentation, a missing ':' or closing bracket)",
    )


def load_vars_file(path: Path) -> tuple[Source | None, list[Finding]]:
    data, findings = load_yaml(path)
    if data is None and not findings:  # an empty file
        data = LineDict()
    if data is None:
        return None, findings
    if not isinstance(data, dict):
        message = "a vars file must be a mapping of variable names to values"
        return None, [*findings, Finding(shown_path(path), 1, "(file)", message)]
    return Source(path, data), findings


def vars_files(directory: Path) -> tuple[dict[str, tuple[Path, list[Path]]], list[Finding]]:
    """Map each group or host name to its entry in `directory` and the files Ansible reads there.

    Ansible tries `<name>` (a file or a directory), then `<name>.yml`, `.yaml`, `.json`,
    and reads only the first that exists: the others are flagged, as they are ignored.
    """
    candidates: dict[str, list[tuple[int, Path]]] = {}
    for entry in _visible(directory):
        stem, ext = entry.stem, entry.suffix
        rank = VARS_EXTENSIONS.index(ext) + 1 if ext in VARS_EXTENSIONS else 0
        candidates.setdefault(stem if rank else entry.name, []).append((rank, entry))
    found: dict[str, tuple[Path, list[Path]]] = {}
    findings: list[Finding] = []
    for name, entries in candidates.items():
        (_, chosen), *ignored = sorted(entries)
        found[name] = (chosen, _files_in(chosen, findings) if chosen.is_dir() else [chosen])
        findings += [
            Finding(
                shown_path(path),
                None,
                "(file)",
                f"ignored by Ansible, which reads {shown_path(chosen)} for {name} instead",
                fix=f"move its variables into {shown_path(chosen)} and delete it",
            )
            for _, path in ignored
        ]
    return found, findings


def _visible(directory: Path) -> list[Path]:
    """Entries Ansible looks at: not hidden, not editor backups."""
    if not directory.is_dir():
        return []
    return sorted(
        p for p in directory.iterdir() if not p.name.startswith(".") and not p.name.endswith("~")
    )


def _files_in(directory: Path, findings: list[Finding]) -> list[Path]:
    files = []
    for entry in _visible(directory):
        if entry.is_dir() and not entry.suffix:
            files += _files_in(entry, findings)
        elif entry.suffix in ("", *VARS_EXTENSIONS):
            files.append(entry)
        else:
            message = "ignored by Ansible: only .yml, .yaml, .json or extensionless files are read"
            findings.append(Finding(shown_path(entry), None, "(file)", message, severity="notice"))
    return files


def _hosts_file(root: Path) -> Path:
    if root.is_file():
        return root
    return next((root / n for n in HOSTS_FILES if (root / n).is_file()), root / HOSTS_FILES[0])


def load_inventory(root: Path) -> Inventory:
    """Read hosts.yml, group_vars and host_vars of the inventory at `root` (or its hosts file)."""
    hosts_file = _hosts_file(root)
    if hosts_file.is_file():
        data, findings = load_yaml(hosts_file)
    else:
        data, findings = None, [Finding(shown_path(hosts_file), None, "(file)", "missing")]
    inventory = Inventory(hosts_file, findings=findings)
    if data is not None or not findings:  # an empty file is checked, an unreadable one is not
        parse_hosts(inventory, data)
    for kind, entities in (("group", inventory.groups), ("host", inventory.hosts)):
        found, found_findings = vars_files(hosts_file.parent / f"{kind}_vars")
        inventory.findings += found_findings
        for name, (entry, paths) in found.items():
            entity = entities.get(name)
            if entity is None:
                inventory.findings.append(inventory.unknown(kind, name, entry))
                continue
            for path in paths:
                source, source_findings = load_vars_file(path)
                inventory.findings += source_findings
                if source is not None:
                    entity.files.append(source)
    return inventory
