"""Commands that are one playbook run: parse, run, print the summary, exit."""

from __future__ import annotations

import dataclasses
import sys

import click

from spo.host_data import task_results
from spo.runner import run_playbook


def summarize(record) -> None:
    click.echo("")
    for host, res in sorted(record.hosts.items()):
        click.echo(
            f"{host:<16} {res['result']:<12} ok={res['ok']} changed={res['changed']} "
            f"failed={res['failed']} unreachable={res['unreachable']} skipped={res['skipped']}"
        )
    verdict = "succeeded" if record.ok else "FAILED"
    click.echo(f"run {record.id} {verdict} in {record.duration_seconds} s")
    click.echo(f"record: spo runs show {record.id}")


def run_and_report(
    ctx: click.Context, playbook: str, name: str, extravars: dict | None = None
) -> None:
    """Run a playbook, print the summary, exit non-zero unless every host succeeded."""
    record = run_playbook(ctx.obj, playbook, command=name, extravars=extravars)
    summarize(record)
    if not record.ok:
        sys.exit(2 if record.hosts else 1)


def read_task_results(
    ctx: click.Context,
    playbook: str,
    task: str,
    name: str,
    host: str | None = None,
    exit_status: int | None = None,
    extravars: dict | None = None,
) -> dict[str, dict]:
    """Run a playbook that reads something on the hosts (only ``host`` when given); return
    host -> the module result of its task named ``task``. Its progress goes to stderr: stdout
    is the command's table or JSON.

    A failed run, or one that brought nothing back, is summarized and ends the command with
    ``exit_status``; by default 2 when a host failed, 1 when none was reached.
    """
    # Only this read is limited: a command may read other hosts after it.
    opts = dataclasses.replace(ctx.obj, limit=host) if host else ctx.obj
    run = run_playbook(opts, playbook, name, extravars=extravars, to_stderr=True)
    results = task_results(run, task)
    if not run.ok or not results:
        summarize(run)
        sys.exit(exit_status or (2 if run.hosts else 1))
    return {h: r.res for h, r in results.items()}


def playbook_command(name: str, playbook: str, doc: str) -> click.Command:
    """A click command that runs one playbook with the global options."""

    @click.command(name=name, help=doc)
    @click.pass_context
    def command(ctx: click.Context) -> None:
        run_and_report(ctx, playbook, name)

    return command
