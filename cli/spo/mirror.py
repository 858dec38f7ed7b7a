"""`spo mirror ...`: the live copies of the databases on the backup server (S3.3).

The mirroring is the db_mirror role and the hosts' engine; these commands run their
playbooks and show what the hosts report.
"""

from __future__ import annotations

import json
import sys

import click

from spo import mirror_views, tables
from spo.archive import not_blank
from spo.playbook_command import read_task_results, run_and_report
from spo.runner import operator

STATUS_PLAYBOOK = "mirror_status.yml"
STATUS_TASK = "Read the mirror status"  # the task's name in the playbook
UNREADABLE = 2  # exit status when the hosts could not be read (1 is a breach of the policy)

FAILOVER_WARNING = """\
Failover menjadikan {host} server database utama (primary), memagari primary lama agar tidak
menerima perubahan lagi, dan mengarahkan aplikasi ke {host}. Tidak ada yang dijalankan;
tambahkan --yes untuk melakukannya.
Failover makes {host} the primary database server, fences the old primary so that it takes
no more writes, and repoints the application at {host}. Nothing was run; add --yes to do it."""

FAILOVER_NEXT = """\
Berikutnya: ubah db_mirror_primary menjadi {host} di inventory (group_vars/all) lalu commit;
bangun ulang primary lama sebagai mirror dengan `spo mirror reseed --host <primary lama>`.
Next: set db_mirror_primary to {host} in the inventory (group_vars/all) and commit it;
rebuild the old primary as a mirror with `spo mirror reseed --host <old primary>`."""

RESEED_WARNING = """\
Reseed membangun ulang {host} sebagai mirror dari primary saat ini: data database di {host}
disisihkan (disimpan) lalu diganti salinan baru. Tidak ada yang dijalankan; tambahkan --yes
untuk melakukannya.
Reseed rebuilds {host} as a mirror of the current primary: the databases on {host} are set
aside (kept) and replaced by a fresh copy. Nothing was run; add --yes to do it."""


def refuse_unless(yes: bool, warning: str) -> None:
    """Stop with ``warning`` (what the command would do) unless the operator said --yes."""
    if not yes:
        click.echo(warning, err=True)
        sys.exit(2)


@click.group()
def mirror() -> None:
    """Database mirroring to the backup server (S3.3)."""


@mirror.command()
@click.option("--host", help="Only this host (or group).")
@click.option("--json", "as_json", is_flag=True, help="Print each host's status as JSON.")
@click.option("--metrics", is_flag=True, help="Print each host's Prometheus metrics.")
@click.pass_context
def status(ctx: click.Context, host: str | None, as_json: bool, metrics: bool) -> None:
    """Where each mirror stands against the policy: state, upstream, lag in seconds and bytes,
    age of the newest archived WAL segment; and each primary's position and replicas.

    A breach is named on stderr and makes the exit status 1; hosts that could not be read
    make it 2.
    """
    if as_json and metrics:
        raise click.UsageError("--json and --metrics do not go together: choose one")
    results = read_task_results(
        ctx, STATUS_PLAYBOOK, STATUS_TASK, "mirror status", host, exit_status=UNREADABLE
    )
    if as_json:
        click.echo(json.dumps({h: r["status"] for h, r in results.items()}, indent=2))
    elif metrics:
        click.echo(mirror_views.metrics_text(results), nl=False)
    else:
        click.echo(tables.render(mirror_views.MIRROR_COLUMNS, mirror_views.mirror_rows(results)))
        primaries = mirror_views.primary_rows(results)
        if primaries:
            click.echo("")
            click.echo(tables.render(mirror_views.PRIMARY_COLUMNS, primaries))
    breaches = mirror_views.breach_lines(results)
    if breaches:
        click.echo("\npencerminan melanggar kebijakan / mirroring breaches the policy:", err=True)
        for line in breaches:
            click.echo(f"  {line}", err=True)
        sys.exit(1)


@mirror.command()
@click.option("--to", "to", required=True, help="The mirror host to make the primary.")
@click.option("--reason", required=True, callback=not_blank, help="Why, for the record.")
@click.option(
    "--fenced-by-hand",
    "fenced_by_hand",
    help="The old primary cannot be reached: say how you made sure it is off (recorded).",
)
@click.option("--yes", is_flag=True, help="Do it: without --yes it only says what it would do.")
@click.pass_context
def failover(
    ctx: click.Context, to: str, reason: str, fenced_by_hand: str | None, yes: bool
) -> None:
    """Make the mirror host named by --to the primary: promote its databases, fence the old
    primary so that it takes no more writes, and repoint the application at the new one.
    An old primary that cannot be reached is refused unless --fenced-by-hand says how it was
    switched off. Recorded with your name and the reason."""
    refuse_unless(yes, FAILOVER_WARNING.format(host=to))
    extravars = {"mirror_failover_to": to, "mirror_by": operator(), "mirror_reason": reason}
    if fenced_by_hand:
        extravars["mirror_fenced_by_hand"] = fenced_by_hand
    run_and_report(ctx, "mirror_failover.yml", f"mirror failover {to}", extravars)
    if not ctx.obj.check:
        click.echo(FAILOVER_NEXT.format(host=to))


@mirror.command()
@click.option("--host", required=True, help="The host to rebuild as a mirror.")
@click.option("--reason", required=True, callback=not_blank, help="Why, for the record.")
@click.option("--yes", is_flag=True, help="Do it: without --yes it only says what it would do.")
@click.pass_context
def reseed(ctx: click.Context, host: str, reason: str, yes: bool) -> None:
    """Rebuild HOST as a mirror of the current primary (a fenced old primary, a broken
    mirror): its database copy is replaced by a fresh one. Recorded with your name and the
    reason."""
    refuse_unless(yes, RESEED_WARNING.format(host=host))
    extravars = {"mirror_reseed_host": host, "mirror_by": operator(), "mirror_reason": reason}
    run_and_report(ctx, "mirror_reseed.yml", f"mirror reseed {host}", extravars)
