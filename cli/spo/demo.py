"""`spo demo`: the whole SPO cycle on the built-in lab, from nothing, in minutes, and again.

It brings the lab up, loads sample hospital data, provisions every host, then does what the
SPOs ask of an IT team once each - automatic and manual backups (handing the manual one to
the archive register), the mirror check, a restore drill, the data bank's integrity check, a
planned downtime announced and run, a data change through the whole approval chain - renders
the reports and ends with `spo audit`. Every step is a real `spo` command, recorded like any
other run; the site's registers (archive, changes) go to a copy of the lab inventory under
var/demo, so the repository stays clean.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import click

from spo.labctl import podman
from spo.paths import PROJECT_ROOT

DEMO_DIR = PROJECT_ROOT / "var" / "demo"
SPO = Path(sys.executable).with_name("spo")
DB, EXTERNAL = "simrs-db", "/media/external"
CHANGE_SQL = (
    "UPDATE pasien SET nm_pasien = 'Siti Aminah' WHERE no_rkm_medis = '000007';\n"
    "UPDATE reg_periksa SET poli = 'Anak' WHERE no_rkm_medis = '000007';\n"
)
APPROVERS = (
    ("technical director", "dr. Budi Santoso"),
    ("president director", "dr. Ayu Lestari, Sp.A"),
    ("director of finance and general administration", "Agus Wijaya, S.E."),
    ("head of SIRS", "Ir. Dewi Rahayu"),
)


class DemoError(click.ClickException):
    exit_code = 1


@dataclass
class Demo:
    site: Path
    runs_dir: Path
    reports: Path
    timings: list[tuple[str, float]] = field(default_factory=list)

    def spo(self, title: str, *args: str, quiet: bool = False) -> str:
        """One step: `spo -i SITE --runs-dir RUNS ARGS`, its output streamed (or kept)."""
        click.secho(f"\n== {title}", bold=True)
        click.echo(f"   spo {' '.join(args)}")
        argv = [str(SPO), "-i", str(self.site), "--runs-dir", str(self.runs_dir), *args]
        started = time.monotonic()
        done = subprocess.run(argv, capture_output=quiet, text=True, check=False)
        self.timings.append((title, time.monotonic() - started))
        if done.returncode != 0:
            shown = f"\n{done.stdout}{done.stderr}" if quiet else ""
            raise DemoError(f"step '{title}' failed (exit {done.returncode}){shown}")
        return done.stdout if quiet else ""

    def report(self, title: str, name: str, *args: str) -> None:
        for lang in ("id", "en"):
            out = self.reports / f"{name}.{lang}.html"
            self.spo(f"{title} ({lang})", "report", *args, "--lang", lang, "--format", "html",
                     "--out", str(out), quiet=True)  # fmt: skip


def fresh_site(inventory: Path) -> Path:
    """A copy of the lab inventory for this demo (its registers start empty each time)."""
    site = DEMO_DIR / "site"
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(inventory, site, ignore=shutil.ignore_patterns("archive", "incidents",
                                                                   "changes"))  # fmt: skip
    return site


def plug_in_external_disk() -> None:
    """The lab's stand-in for the external disk of S1.3: a fresh tmpfs on simrs-db, marked as
    a backup destination as IT marks a new disk."""
    container = f"spo-lab-{DB}"
    podman("exec", container, "sh", "-c",
           f"mkdir -p {EXTERNAL} && (mountpoint -q {EXTERNAL} || "
           f"mount -t tmpfs -o size=1g tmpfs {EXTERNAL}) && "
           f"touch {EXTERNAL}/.spo-backup-destination")  # fmt: skip


@click.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Run the SPO cycle on the built-in lab: lab, sample data, provisioning, backups,
    mirror, drill, integrity, planned downtime, an approved change, the reports and the
    audit. Takes some minutes; can be run again."""
    started = time.monotonic()
    run = Demo(fresh_site(Path(ctx.obj.inventory)), Path(ctx.obj.runs_dir),
               DEMO_DIR / "reports")  # fmt: skip
    run.reports.mkdir(parents=True, exist_ok=True)
    run.spo("The lab: four hosts and the stand-ins for mail and webhooks", "lab", "up")
    run.spo("Is the site's SPO policy complete?", "inventory", "check", str(run.site))
    run.spo("Sample hospital data (SIMRS and blood bank)", "lab", "seed")
    run.spo("New server provisioning: every host", "provision")
    run.spo("Automatic backup (S1.1, S2.2)", "backup", "now", "--host", "all", "--kind",
            "automatic", "--reason", "demo: the hourly job, now")  # fmt: skip
    plug_in_external_disk()
    run.spo("Manual backup onto the external disk (S1.3)", "backup", "manual", "--host", DB,
            "--to", EXTERNAL)  # fmt: skip
    archive_manual_backups(run)
    run.spo("Mirror to the backup server (S3.3)", "mirror", "status")
    run.spo("Restore drill into scratch instances (S3.6)", "drill")
    run.spo("Integrity of the unit data bank (S0.3)", "databank", "verify")
    window = next_window(run)
    run.spo("Planned downtime: tell the departments (S4.2)", "downtime", "announce",
            "--window", window)  # fmt: skip
    run.spo("Planned downtime: update, restart, verify, back in service (S4.3-S4.5)",
            "downtime", "run", "--window", window, "--force", "--reason",
            "demo: the planned window, run now")  # fmt: skip
    change_id = approved_change(run)
    run.spo("The approved change, after a pre-change backup (S3.9)", "change", "apply",
            change_id)  # fmt: skip
    run.report("Weekly backup checklist (S3.5)", "weekly", "weekly")
    run.report("Restore drills (S3.6)", "drill", "drill")
    run.report("Quarterly data bank report (S0.4)", "quarterly", "quarterly")
    run.report("Planned downtime record (S4)", "downtime", "downtime", window)
    run.report("Change report (S3.9)", "change", "change", change_id)
    audit = run.reports / "audit.en.md"
    click.secho("\n== SPO compliance audit", bold=True)
    done = subprocess.run([str(SPO), "-i", str(run.site), "--runs-dir", str(run.runs_dir),
                           "audit", "--lang", "en", "--out", str(audit)],
                          check=False)  # fmt: skip
    click.echo(audit.read_text(encoding="utf-8") if audit.is_file() else "(no audit written)")
    minutes = (time.monotonic() - started) / 60
    click.secho(f"\nDemo finished in {minutes:.1f} min.", bold=True)
    click.echo(f"Reports: {run.reports}\nSite inventory (with its registers): {run.site}")
    click.echo(f"Every run: spo --runs-dir {run.runs_dir} runs")
    sys.exit(done.returncode)


def archive_manual_backups(run: Demo) -> None:
    """S1.6: the manual backups are handed to IT support, who record them in the register."""
    status = json.loads(run.spo("Where each source stands", "backup", "status", "--host", DB,
                                "--json", quiet=True))  # fmt: skip
    for host, state in status.items():
        for source in state["sources"]:
            manual = source["last"]["manual"]
            if manual:
                run.spo(f"Archive register: {manual['backup']} (S1.6)", "archive", "add",
                        manual["backup"], "--host", host, "--from", manual["destination"],
                        "--medium", "external disk DEMO-1",
                        "--handed-to", "IT support (demo)")  # fmt: skip


def next_window(run: Demo) -> str:
    plan = json.loads(run.spo("The planned downtime windows (S4.1)", "downtime", "plan",
                              "--json", "--count", "1", quiet=True))  # fmt: skip
    return plan[0]["id"]


def approved_change(run: Demo) -> str:
    script = DEMO_DIR / "koreksi-nama.sql"
    script.write_text(CHANGE_SQL, encoding="utf-8")
    made = run.spo("A data change is requested (S3.9)", "change", "request", "--title",
                   "Koreksi nama pasien 000007", "--requester", "Siti Aminah", "--unit",
                   "Instalasi Rekam Medis", "--reason", "salah ketik saat pendaftaran",
                   "--host", DB, "--database", "sik", "--engine", "mariadb", "--sql-file",
                   str(script), quiet=True)  # fmt: skip
    change_id = made.split()[1]  # "change <id> requested; ..."
    for role, name in APPROVERS:
        run.spo(f"Approval: {role}", "change", "approve", change_id, "--as", role, "--name",
                name, quiet=True)  # fmt: skip
    return change_id
