"""The shape of an inventory: groups, hosts, and where their variables come from.

`parse_hosts` walks hosts.yml (Ansible's YAML inventory format) into this model and reports
what Ansible would accept silently or misread: unknown keys, bad group names, hosts in no group.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from spo.inventory.findings import Finding, close_match, shown_path

GROUP_KEYS = ("hosts", "children", "vars")
IMPLICIT_GROUPS = ("all", "ungrouped")
# Ansible warns about other characters and may rewrite them; we refuse them.
GROUP_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
GROUP_NAME_RULE = "letters, digits and underscores, not starting with a digit (no dashes)"
HOST_RANGE = re.compile(r"\[([0-9]+|[a-z]):([0-9]+|[a-z])(?::([0-9]+))?\]")


@dataclass
class Source:
    """Variables from one place: a vars file, or a `vars:` block or host entry of hosts.yml."""

    path: Path
    data: dict  # a loader.LineDict: the values and the line of each key


@dataclass
class Group:
    name: str
    parents: set[str] = field(default_factory=set)
    hosts: set[str] = field(default_factory=set)
    inline: list[Source] = field(default_factory=list)
    files: list[Source] = field(default_factory=list)
    priority: int = 1  # ansible_group_priority: orders groups of the same depth


@dataclass
class Host:
    name: str
    line: int | None = None
    inline: list[Source] = field(default_factory=list)
    files: list[Source] = field(default_factory=list)


@dataclass
class Inventory:
    hosts_file: Path
    findings: list[Finding] = field(default_factory=list)
    groups: dict[str, Group] = field(default_factory=lambda: {n: Group(n) for n in IMPLICIT_GROUPS})
    hosts: dict[str, Host] = field(default_factory=dict)

    def named_groups(self) -> list[str]:
        return [name for name in self.groups if name not in IMPLICIT_GROUPS]

    def sources(self) -> Iterator[Source]:
        for entity in [*self.groups.values(), *self.hosts.values()]:
            yield from entity.inline
            yield from entity.files

    def ancestors(self, group: str) -> set[str]:
        found: set[str] = set()
        todo = [group]
        while todo:
            for parent in self.groups[todo.pop()].parents - found:
                found.add(parent)
                todo.append(parent)
        return found

    def depth(self, group: str) -> int:
        parents = self.groups[group].parents
        return 1 + max(map(self.depth, parents)) if parents else 0

    def layers(self, host: str | None = None) -> list[Source]:
        """The sources of a host's variables (of group all for None), lowest precedence first.

        Ansible's order: hosts.yml vars of all, group_vars/all, hosts.yml vars of the other
        groups then their group_vars (groups by depth, priority, name), then the host's own.
        """
        names = {"all"}
        for group in self.groups.values():
            if host in group.hosts:
                names |= {group.name} | self.ancestors(group.name)
        groups = sorted(
            (self.groups[n] for n in names), key=lambda g: (self.depth(g.name), g.priority, g.name)
        )
        everything, others = groups[0], groups[1:]  # `all` is the only group of depth 0
        own = self.hosts[host] if host else Host("")
        return [
            *everything.inline,
            *everything.files,
            *(source for group in others for source in group.inline),
            *(source for group in others for source in group.files),
            *own.inline,
            *own.files,
        ]

    def merged_vars(self, host: str | None = None) -> dict:
        """What a host's variables come to (plain values; templates are not expanded)."""
        merged: dict = {}
        for source in self.layers(host):
            merged.update((k, v) for k, v in source.data.items() if isinstance(k, str))
        return merged

    def unknown(self, kind: str, name: str, path: Path) -> Finding:
        """A group_vars or host_vars entry whose group or host hosts.yml does not have."""
        known = sorted(self.groups if kind == "group" else self.hosts)
        match = close_match(name, known)
        return Finding(
            shown_path(path),
            None,
            name,
            f"{kind}_vars for a {kind} that is not in {shown_path(self.hosts_file)}"
            + (f"; did you mean {match}?" if match else ""),
            allowed=f"a {kind} of the inventory: {', '.join(known)}",
            fix=f"rename it to {match}" if match else f"add the {kind} to hosts.yml, or delete it",
        )


def expand_hosts(pattern: str) -> list[str]:
    """Ansible's host ranges: db[01:03] is db01, db02, db03; [a:c] works for letters."""
    match = HOST_RANGE.search(pattern)
    if not match:
        return [pattern]
    first, last, step = match.group(1), match.group(2), max(1, int(match.group(3) or 1))
    if first.isdigit() and last.isdigit():
        values = [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1, step)]
    elif first.isalpha() and last.isalpha():
        values = [chr(c) for c in range(ord(first), ord(last) + 1, step)]
    else:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [host for value in values for host in expand_hosts(head + value + tail)]


def parse_hosts(inventory: Inventory, data: object) -> None:
    """Fill `inventory` from the data of hosts.yml, adding a finding for each structural error."""
    _HostsParser(inventory).parse(data)


def _line(mapping: object, key: object) -> int | None:
    return getattr(mapping, "lines", {}).get(key)


class _HostsParser:
    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.where = shown_path(inventory.hosts_file)

    def error(self, line: int | None, key: str, message: str, allowed: str = "", fix: str = ""):
        self.inventory.findings.append(Finding(self.where, line, key, message, allowed, fix))

    def parse(self, data: object) -> None:
        top = data if isinstance(data, dict) else {}
        if "all" not in top:
            self.error(1, "all", "the inventory must start with `all:`", fix="write all: children:")
        for key, node in top.items():
            if key == "all":
                self.group("all", node, "all")
                continue
            fix = "indent it under all: children:"
            self.error(_line(top, key), str(key), "a group outside `all`", fix=fix)
            self.add_child("all", str(key), node, _line(top, key), str(key))
        self.check_membership()

    def group(self, name: str, node: object, path: str) -> None:
        if node is None:
            return
        if not isinstance(node, dict):
            self.error(None, path, f"group {name} must be a mapping", allowed=", ".join(GROUP_KEYS))
            return
        for key, value in node.items():
            line, key_path = _line(node, key), f"{path}.{key}"
            if key == "hosts":
                self.hosts(name, value, line, key_path)
            elif key == "children":
                self.children(name, value, line, key_path)
            elif key == "vars":
                self.vars(name, value, line, key_path)
            else:
                match = close_match(str(key), GROUP_KEYS)
                self.error(
                    line,
                    key_path,
                    "unknown key in the inventory structure"
                    + (f"; did you mean {match}?" if match else ""),
                    allowed=f"in a group: {', '.join(GROUP_KEYS)}",
                    fix=f"rename it to {match}" if match else "remove it",
                )

    def hosts(self, group: str, node: object, line: int | None, path: str) -> None:
        if node is None:
            return
        if not isinstance(node, dict):
            self.error(
                line,
                path,
                "hosts must be a mapping of host names",
                allowed="one host name per line, each followed by ':'",
                fix="write each host as `name:` on its own line (not `- name`)",
            )
            return
        for pattern, host_vars in node.items():
            for name in expand_hosts(str(pattern)):
                host = self.inventory.hosts.setdefault(name, Host(name, _line(node, pattern)))
                self.inventory.groups[group].hosts.add(name)
                if isinstance(host_vars, dict):
                    host.inline.append(Source(self.inventory.hosts_file, host_vars))
                elif host_vars is not None:
                    message = f"the variables of host {name} must be a mapping"
                    self.error(_line(node, pattern), f"{path}.{pattern}", message)

    def children(self, parent: str, node: object, line: int | None, path: str) -> None:
        if node is None:
            return
        if not isinstance(node, dict):
            self.error(line, path, "children must be a mapping of group names, not a list")
            return
        for child, child_node in node.items():
            self.add_child(parent, str(child), child_node, _line(node, child), f"{path}.{child}")

    def add_child(self, parent: str, child: str, node: object, line: int | None, path: str):
        if not GROUP_NAME.fullmatch(child):
            fix = f"rename it to {re.sub(r'[^A-Za-z0-9_]', '_', child)} (and its group_vars)"
            self.error(line, path, "not a valid Ansible group name", GROUP_NAME_RULE, fix)
        if child in ("all", parent) or child in self.inventory.ancestors(parent):
            self.error(line, path, f"group {child} cannot be inside {parent}: that is a loop")
            return
        self.inventory.groups.setdefault(child, Group(child)).parents.add(parent)
        self.group(child, node, path)

    def vars(self, group: str, node: object, line: int | None, path: str) -> None:
        if isinstance(node, dict):
            self.inventory.groups[group].inline.append(Source(self.inventory.hosts_file, node))
            priority = node.get("ansible_group_priority")
            if isinstance(priority, int):
                self.inventory.groups[group].priority = priority
        elif node is not None:
            self.error(line, path, "vars must be a mapping of variable names to values")

    def check_membership(self) -> None:
        groups = self.inventory.named_groups()
        if not self.inventory.hosts:
            self.error(None, "all", "the inventory has no hosts", fix="add hosts to the groups")
        for host in self.inventory.hosts.values():
            if not any(host.name in self.inventory.groups[g].hosts for g in groups):
                self.error(
                    host.line,
                    host.name,
                    f"host {host.name} is in no group; the SPO playbooks reach hosts by group",
                    allowed=f"a host under all.children.<group>.hosts ({', '.join(groups)})",
                    fix="move it under the hosts: of its group",
                )
