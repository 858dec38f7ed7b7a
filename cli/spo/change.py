"""`spo change`: database changes on request through the approval chain (S3.9).

`request` files the change (its SQL script and the chain of `spo_change_approvers`) as a
versioned record in the inventory; `approve` records one approval, in the chain's order only;
`apply` runs it only when the whole chain approved the SQL that is in the request now: a
pre-change backup on the database's host, then the script in one transaction, and the
application is recorded beside the request. The records are change_log's; the work on the host
is the engine's (module backup_change); the report is `spo report change ID`.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from spo import change_log as log
from spo.archive import not_blank
from spo.host_data import task_results
from spo.playbook_command import summarize
from spo.runner import inventory_commit, operator, run_playbook
from spo.site_vars import group_all

PLAYBOOK = "change_apply.yml"
TASK = "Run the approved script after a pre-change backup"


def _run(step, *args, **kwargs):
    try:
        return step(*args, **kwargs)
    except log.ChangeError as exc:
        raise click.ClickException(str(exc)) from None


def chain_of(inventory: Path) -> tuple[str, ...]:
    """The site's approval chain: spo_change_approvers, else the SPO's own."""
    chain = group_all(inventory).get("spo_change_approvers")
    return tuple(chain) if chain else log.DEFAULT_CHAIN


@click.group()
def change() -> None:
    """Database changes on request, through the approval chain (S3.9)."""


@change.command()
@click.option("--title", required=True, callback=not_blank, help="What the change does.")
@click.option("--requester", required=True, callback=not_blank, help="Who asks for it.")
@click.option("--unit", required=True, callback=not_blank, help="The requester's unit.")
@click.option("--reason", required=True, callback=not_blank, help="Why it is needed.")
@click.option("--host", required=True, callback=not_blank, help="The database's host.")
@click.option("--database", required=True, callback=not_blank)
@click.option("--engine", type=click.Choice(log.ENGINES), required=True)
@click.option(
    "--sql-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The script to run (data changes; it runs in one transaction of its own).",
)
@click.pass_context
def request(ctx: click.Context, sql_file: Path, **fields: str) -> None:
    """File a change request; its approval chain is the inventory's spo_change_approvers."""
    root = Path(ctx.obj.inventory)
    chain = chain_of(root)
    made = _run(log.request, root, sql=sql_file.read_text(encoding="utf-8"), chain=chain,
                by=operator(), commit=inventory_commit(root), **fields)  # fmt: skip
    click.echo(f"change {made.id} requested; sha256 of its SQL {made.sql_sha256}")
    click.echo(f"approvals, in this order: {' -> '.join(chain)}")
    click.echo("commit the new file under changes/ to the site's git repository")


@change.command()
@click.argument("change_id")
@click.option("--as", "role", required=True, callback=not_blank, help="The approver's role.")
@click.option("--name", required=True, callback=not_blank, help="The approver's name.")
@click.pass_context
def approve(ctx: click.Context, change_id: str, role: str, name: str) -> None:
    """Record the approval of ROLE, the next in the chain."""
    root = Path(ctx.obj.inventory)
    found = _run(log.find, root, change_id)
    done = _run(log.approve, root, found.request.id, role, name, operator())
    after = _run(log.find, root, found.request.id)
    click.echo(f"change {done.id}: step {done.step} ({done.role}) approved by {done.approver}")
    click.echo(f"now: {after.state}")


@change.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Every change with its state; exits 2 when a record file is not valid."""
    changes, findings = log.read(Path(ctx.obj.inventory))
    if as_json:
        click.echo(json.dumps([_json(c) for c in changes], indent=2))
    else:
        for c in changes:
            click.echo(f"{c.request.id}  {c.request.host}/{c.request.database}  {c.state}")
            click.echo(f"    {c.request.title} ({c.request.requester}, {c.request.unit})")
    for finding in findings:
        click.echo(finding.text(), err=True)
    if findings:
        sys.exit(2)


def _json(c: log.Change) -> dict:
    return {
        "request": asdict(c.request),
        "approvals": [asdict(a) for a in c.approvals],
        "applied": asdict(c.applied) if c.applied else None,
        "state": c.state,
        "path": str(c.path),
    }


@change.command()
@click.argument("change_id")
@click.pass_context
def show(ctx: click.Context, change_id: str) -> None:
    """One change: the request, its SQL, each approval, the application."""
    c = _run(log.find, Path(ctx.obj.inventory), change_id)
    r = c.request
    click.echo(f"{r.id}: {r.title}\n  state: {c.state}")
    click.echo(f"  requested by {r.requester} ({r.unit}) at {r.requested_at}: {r.reason}")
    click.echo(f"  {r.engine} database {r.database} on {r.host}; sha256 {c.sql_sha256}")
    click.echo("  SQL:\n" + "".join(f"    {line}\n" for line in r.sql.splitlines()), nl=False)
    void = {id(a) for a in c.void_approvals}
    for a in c.approvals:
        mark = "VOID " if id(a) in void else ""
        click.echo(f"  {mark}step {a.step} {a.role}: {a.approver} at {a.approved_at}")
    for role in c.missing:
        click.echo(f"  waiting: {role}")
    if c.applied:
        a = c.applied
        error = f": {a.error}" if a.error else ""
        click.echo(f"  applied {a.applied_at} ({a.result}), run {a.run_id}, backup "
                   f"{a.pre_change_backup}, {a.rows_total} row(s){error}")  # fmt: skip


@change.command()
@click.argument("change_id")
@click.pass_context
def apply(ctx: click.Context, change_id: str) -> None:
    """Run an approved change on its database's host: the whole chain must have approved the
    SQL in the request now; a pre-change backup first, then the script in one transaction.
    With --check: the checks only, nothing backed up or changed, nothing recorded."""
    root = Path(ctx.obj.inventory)
    found = _run(log.find, root, change_id)
    _run(log.check_ready, found)
    r = found.request
    extravars = {
        "spo_change": {
            "id": r.id,
            "engine": r.engine,
            "database": r.database,
            "sql_base64": base64.b64encode(r.sql.encode("utf-8")).decode("ascii"),
            "sql_sha256": r.sql_sha256,
            "by": operator(),
            "approved_by": [f"{a.role} - {a.approver}" for a in found.approvals],
        }
    }
    ctx.obj = dataclasses.replace(ctx.obj, limit=r.host)
    run = run_playbook(ctx.obj, PLAYBOOK, f"change apply {r.id}", extravars)
    summarize(run)
    result = task_results(run, TASK).get(r.host)
    record = result.res.get("record") if result else None
    if ctx.obj.check:
        sys.exit(0 if run.ok else 1)
    if not isinstance(record, dict) or record.get("result") not in ("ok", "failed"):
        # Refused on the host, or never reached it: nothing ran, nothing to record.
        why = (record or {}).get("error") or "the host was not reached"
        raise click.ClickException(f"change {r.id} was not applied: {why}")
    applied = log.Applied(
        requirement=log.REQUIREMENT,
        id=r.id,
        applied_at=record["time"],
        run_id=run.id,
        pre_change_backup=record["pre_change_backup"],
        statements=record["statements"],
        rows_total=record["rows_total"] or 0,
        result=record["result"],
        error=record["error"],
        recorded_by=operator(),
    )
    path = _run(log.record_applied, root, r.id, applied)
    click.echo(
        f"change {r.id}: {record['result']}, {applied.rows_total} row(s); recorded in {path}"
    )
    click.echo(f"report: spo report change {r.id}; commit {path.name} to the site's repository")
    if record["result"] != "ok":
        sys.exit(1)
