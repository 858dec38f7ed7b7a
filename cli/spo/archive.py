"""`spo archive ...`: the register of backups handed over to archive media (S1.6).

The register itself (records, files, validation) is spo.archive_register; this module reads
the backup's manifest on its host through a recorded playbook run and talks to the operator.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import sys
from pathlib import Path

import click

from spo import archive_register as register
from spo import tables
from spo.host_data import task_results
from spo.inventory.findings import shown_path
from spo.playbook_command import summarize
from spo.runner import inventory_commit, operator, run_playbook

PLAYBOOK = "archive_manifest.yml"
MANIFEST_TASK = "Read the backup manifest"  # the task's name in the playbook
COLUMNS = (
    ("Diserahkan / Handed over", lambda r: r.recorded_at),
    ("Cadangan / Backup", lambda r: r.backup),
    ("Server / Host", lambda r: r.host),
    ("Media / Medium", lambda r: r.medium),
    ("Diterima oleh / Handed to", lambda r: r.handed_to),
    ("Dicatat oleh / Recorded by", lambda r: r.recorded_by),
    ("SHA-256 manifest", lambda r: r.manifest_sha256[:12]),
)


def archive_root(ctx: click.Context) -> Path:
    return Path(ctx.obj.inventory) / register.ARCHIVE_DIR


def not_blank(_ctx, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise click.BadParameter("must not be empty", param=param)
    return value.strip() if value is not None else None


def backup_name(_ctx, param: click.Parameter, value: str) -> str:
    if not register.BACKUP_NAME.match(value):
        raise click.BadParameter(
            "expected a backup folder name such as 20250104T050000.000Z_simrs-db_sik_manual "
            "(list them on the host with `spo-backup list`)",
            param=param,
        )
    return value


def refuse(step, *args):
    """Run a register step; its RegisterError becomes the command's error."""
    try:
        return step(*args)
    except register.RegisterError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def archive() -> None:
    """The register of backups handed over to archive media (S1.6)."""


@archive.command()
@click.argument("backup", callback=backup_name)
@click.option("--host", required=True, help="The host that holds the backup.")
@click.option(
    "--medium",
    required=True,
    callback=not_blank,
    help="The archive medium, e.g. 'external disk WD-2TB no. 3'.",
)
@click.option(
    "--handed-to", required=True, callback=not_blank, help="Who received the medium (IT support)."
)
@click.option(
    "--from",
    "folder",
    callback=not_blank,
    help="The folder on the host that holds the backup, e.g. the external disk of a manual "
    "backup (default: the host's backup root).",
)
@click.option("--note", callback=not_blank, help="Anything else the record should say.")
@click.option(
    "--again",
    is_flag=True,
    help="Record it even though this backup is already recorded on this medium.",
)
@click.pass_context
def add(ctx: click.Context, backup, host, medium, handed_to, folder, note, again) -> None:
    """Record that BACKUP on HOST was handed over on an archive medium.

    Writes one new file under <inventory>/archive/<year>/; commit it to the site's git
    repository. With --check, shows the record and writes nothing.
    """
    root = archive_root(ctx)
    entries, findings = register.read_register(root)
    for found in findings:
        click.echo(f"warning: {found.text()}", err=True)
    if not again:
        refuse(register.refuse_duplicate, entries, backup, medium)

    ctx.obj = dataclasses.replace(ctx.obj, limit=host)
    extravars = {"archive_backup": backup, **({"archive_from": folder} if folder else {})}
    run = run_playbook(ctx.obj, PLAYBOOK, f"archive add {backup}", extravars)
    if not run.ok:
        summarize(run)
        sys.exit(2 if run.hosts else 1)
    results = task_results(run, MANIFEST_TASK)
    if len(results) != 1:
        raise click.ClickException(
            f"--host {host} matched {len(results)} hosts ({', '.join(sorted(results))}); "
            "name the one host that holds the backup"
        )
    found_on, result = next(iter(results.items()))
    content = base64.b64decode(result.res["content"])
    facts = refuse(register.manifest_facts, content, backup, f"{found_on}:{result.res['source']}")
    record = register.ArchiveRecord(
        requirement=register.REQUIREMENT,
        host=found_on,
        **facts,
        medium=medium,
        handed_to=handed_to,
        recorded_by=operator(),
        recorded_at=register.utc_now(),
        note=note,
        inventory_commit=inventory_commit(Path(ctx.obj.inventory)),
    )
    if ctx.obj.check:
        click.echo(register.render(record))
        click.echo("check mode: nothing was written")
        return
    path = refuse(register.write_record, root, record)
    click.echo(f"recorded: {shown_path(path)}")
    click.echo("commit it to the site's git repository so the register keeps its history")


@archive.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List the handovers recorded in the register, oldest first.

    A malformed record file is reported (file and key) and makes the exit status 1; the
    valid records are listed all the same.
    """
    root = archive_root(ctx)
    entries, findings = register.read_register(root)
    for found in findings:
        click.echo(found.text(), err=True)
    if as_json:
        listed = [
            {**dataclasses.asdict(e.record), "file": str(e.path.relative_to(root.parent))}
            for e in entries
        ]
        click.echo(json.dumps(listed, indent=2, ensure_ascii=False))
    elif entries:
        click.echo(tables.render(COLUMNS, [e.record for e in entries]))
    else:
        click.echo(f"no handovers recorded in {shown_path(root)}")
    if findings:
        sys.exit(1)
