"""Plain text tables for the terminal: a heading row (Indonesian / English) and aligned
columns, nothing that needs a wide screen or colours."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

Column = tuple[str, Callable[[object], object]]


def render(columns: Sequence[Column], items: Iterable[object]) -> str:
    rows = [[heading for heading, _ in columns]]
    rows += [[str(value(item)) for _, value in columns] for item in items]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
