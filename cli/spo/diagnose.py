"""`spo diagnose`: database damage, application damage or neither (S2.5).

The hosts check themselves (module backup_diagnose); this prints the verdict per host with
the problems found and the restore command that applies (S2.3, S2.4), or points to the
technical troubleshooting procedure when neither is damaged.
"""

from __future__ import annotations

import json
import sys

import click

from spo.playbook_command import read_task_results

PLAYBOOK = "diagnose.yml"
TASK = "Diagnose the sources"  # the task's name in the playbook
VERDICTS = {
    "database": "KERUSAKAN DATABASE / DATABASE DAMAGE",
    "application": "KERUSAKAN APLIKASI / APPLICATION DAMAGE",
    "both": "KERUSAKAN DATABASE DAN APLIKASI / DATABASE AND APPLICATION DAMAGE",
    "neither": "bukan kerusakan database atau aplikasi / neither database nor application damage",
}
DAMAGED = 1  # exit status when damage was found (2: the hosts could not be read)


@click.command()
@click.option("--host", required=True, help="Host (or group) to diagnose.")
@click.option("--json", "as_json", is_flag=True, help="Print each host's findings as JSON.")
@click.pass_context
def diagnose(ctx: click.Context, host: str, as_json: bool) -> None:
    """Tell database damage from application damage (S2.5) and say what to restore.

    Reads only. Exit status 0 when nothing is damaged, 1 when something is, 2 when a host
    could not be read.
    """
    results = read_task_results(ctx, PLAYBOOK, TASK, f"diagnose {host}", host)
    if as_json:
        click.echo(json.dumps(results, indent=2, sort_keys=True))
    else:
        for name, found in sorted(results.items()):
            click.echo(render(name, found))
    if any(r.get("verdict") != "neither" for r in results.values()):
        sys.exit(DAMAGED)


def render(host: str, found: dict) -> str:
    lines = [f"{host}: {VERDICTS.get(found.get('verdict'), found.get('verdict'))}"]
    for source in found.get("sources", []):
        state = f"damaged ({source['damage']})" if source["damage"] else "ok"
        lines.append(f"  {source['source']} ({source['type']}): {state}")
        lines += [f"    - {problem}" for problem in source["problems"]]
    if found.get("recommended"):
        lines.append("  Pulihkan dengan / restore with:")
        lines += [f"    {command}" for command in found["recommended"]]
    if found.get("procedure"):
        lines.append(f"  {found['procedure']}")
    return "\n".join(lines)
