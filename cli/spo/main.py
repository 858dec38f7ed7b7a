"""The `spo` command line: global options and lazily loaded command groups.

Command modules are imported only when their command runs, and none of them
imports Ansible at module level, so `spo --help` stays fast.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import click

from spo.paths import default_inventory, default_runs_dir

# command name -> "module:attribute" of the click command or group.
COMMANDS = {
    "archive": "spo.archive:archive",
    "audit": "spo.audit:audit",
    "backup": "spo.backup:backup",
    "change": "spo.change:change",
    "databank": "spo.databank:databank",
    "demo": "spo.demo:demo",
    "diagnose": "spo.diagnose:diagnose",
    "downtime": "spo.downtime:downtime",
    "incident": "spo.incident:incident",
    "drill": "spo.drill:drill",
    "lab": "spo.lab:lab",
    "inventory": "spo.inventory.command:inventory",
    "mirror": "spo.mirror:mirror",
    "ping": "spo.ping:ping",
    "provision": "spo.provision:provision",
    "report": "spo.report:report",
    "restore": "spo.restore:restore",
    "runs": "spo.runs:runs",
}


@dataclass
class Options:
    """Global options every command receives through the click context."""

    inventory: Path
    limit: str | None
    check: bool
    verbose: int
    runs_dir: Path


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-i",
    "--inventory",
    type=click.Path(path_type=Path),
    default=default_inventory,
    show_default="inventories/lab",
    envvar="SPO_INVENTORY",
    help="Inventory directory of the site.",
)
@click.option("-l", "--limit", help="Run on these hosts or groups only (Ansible pattern).")
@click.option("-C", "--check", is_flag=True, help="Ansible check mode: report, change nothing.")
@click.option("-v", "--verbose", count=True, help="More detail; repeat for more.")
@click.option(
    "--runs-dir",
    type=click.Path(path_type=Path),
    default=default_runs_dir,
    show_default="var/runs",
    envvar="SPO_RUNS_DIR",
    help="Where each run's record and artifacts are kept.",
)
@click.version_option(package_name="spo-automation")
@click.pass_context
def cli(ctx: click.Context, inventory, limit, check, verbose, runs_dir) -> None:
    """Run the hospital's SPO (Standar Prosedur Operasional) as code."""
    ctx.obj = Options(inventory, limit, check, verbose, runs_dir)
