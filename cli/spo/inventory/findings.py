"""One problem (or notice) found in an inventory, at one place, with how to fix it."""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path


def shown_path(path: Path) -> str:
    """A path relative to the working directory when it is inside it, else as given."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return os.fspath(path)


def shown_value(value: object) -> str:
    """A value as it would be written in YAML flow style (JSON is valid YAML)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def close_match(word: str, candidates: Iterable[str]) -> str | None:
    """The likeliest intended spelling of a mistyped name, for a "did you mean" hint."""
    matches = difflib.get_close_matches(word, [str(c) for c in candidates], n=1, cutoff=0.75)
    return matches[0] if matches else None


@dataclass(frozen=True)
class Finding:
    file: str  # from shown_path()
    line: int | None
    key: str  # a variable name, `spo_x[2]` for a list item, or `all.children.x` in hosts.yml
    message: str  # what is wrong, ending with the requirement it breaks when there is one
    allowed: str = ""
    fix: str = ""
    value: object = None
    requirement: str = ""  # an ID of REQUIREMENTS.md, e.g. S1.5
    severity: str = "error"  # or "notice": reported, does not fail the check

    def text(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        lines = [f"{where}: {self.severity}: {self.key}: {self.message}"]
        if self.allowed:
            lines.append(f"    allowed: {self.allowed}")
        if self.fix:
            lines.append(f"    fix: {self.fix}")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return asdict(self)

    def sort_key(self) -> tuple:
        return (self.file, self.line or 0, self.key, self.message)
