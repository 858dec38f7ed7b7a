"""`spo audit`: every requirement of the SPOs (S0.1-S4.5) judged met, not met (with the
evidence and the gap) or not applicable, from the versioned inventory and its git history,
the hosts' records and the recorded runs; for the auditors. Exits 1 when any is not met.

The facts are gathered by audit_facts (one recorded playbook run reads the hosts), judged by
audit_rules and laid out by audit_render; nothing here decides anything.
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from spo import audit_facts, audit_render, audit_rules
from spo.paths import PROJECT_ROOT
from spo.report import emit
from spo.report_render import LANGS
from spo.site_vars import site_settings


@click.command()
@click.option(
    "--site",
    help="The site's inventory under inventories/ (e.g. lab), instead of --inventory.",
)
@click.option("--format", "fmt", type=click.Choice(("md", "html", "json")), default="md",
              show_default=True)  # fmt: skip
@click.option("--lang", type=click.Choice(LANGS), default="id", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the audit to this file instead of standard output.")  # fmt: skip
@click.pass_context
def audit(ctx: click.Context, site: str | None, fmt: str, lang: str, out: Path | None) -> None:
    """Judge every SPO requirement from the records: met, not met (evidence and gap) or not
    applicable; exits 1 when any is not met."""
    if site:
        inventory = PROJECT_ROOT / "inventories" / site
        if not inventory.is_dir():
            raise click.BadParameter(f"no inventory {inventory}", param_hint="--site")
        ctx.obj = dataclasses.replace(ctx.obj, inventory=inventory)
    now = datetime.now(UTC)
    facts, run_id = audit_facts.gather(ctx, now)
    verdicts = audit_rules.evaluate(facts)
    name, tz = site_settings(Path(ctx.obj.inventory))
    text = audit_render.render(verdicts, facts, tz, lang, fmt, now, name)
    emit(text, out, (ctx, "audit", name or Path(ctx.obj.inventory).name, lang, fmt))
    click.echo(f"evidence read by run {run_id} (spo runs show {run_id})", err=True)
    sys.exit(audit_rules.exit_status(verdicts))
