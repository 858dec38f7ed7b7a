"""`spo inventory`: commands about a site's inventory."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group()
def inventory() -> None:
    """Check a site's inventory against the SPO policy."""


@inventory.command()
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_context
def check(ctx: click.Context, path: Path | None, as_json: bool) -> None:
    """Check the inventory at PATH (default: the -i inventory) against the SPO policy.

    Every violation is reported at once, each with its file and line, what is allowed, the
    SPO requirement it breaks and how to fix it. Exits 1 when there are errors.
    """
    from spo.inventory.check import check_inventory  # noqa: PLC0415 - keeps `spo --help` fast
    from spo.paths import default_inventory  # noqa: PLC0415

    path = path or getattr(ctx.obj, "inventory", None) or default_inventory()
    report = check_inventory(path)
    if as_json:
        findings = [finding.as_dict() for finding in report.findings]
        output = {"ok": not report.errors, "summary": report.summary(), "findings": findings}
        click.echo(json.dumps(output, indent=2, ensure_ascii=False, default=str))
    else:
        for finding in report.findings:
            click.echo(finding.text())
        click.echo(report.summary())
    ctx.exit(1 if report.errors else 0)
