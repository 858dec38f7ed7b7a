"""What `spo audit` judges the SPOs by, gathered in one place: the site's policy (the
inventory's spo_* variables, the schema's defaults for the rest), the inventory's git history
(who changed which policy, when), the hosts' evidence (one recorded playbook run: history,
backups, mirror, the data bank's survey), the CLI's run records, and the versioned registers
kept in the inventory (changes, incidents, archive). The rules are audit_rules'."""

from __future__ import annotations

import dataclasses
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import click
import yaml

from spo import archive_register, change_log, incident_log, report_archive
from spo.audit_rules import Facts, HostFacts
from spo.host_data import task_results
from spo.inventory.loader import load_inventory
from spo.inventory.schema import SCHEMA_FILE
from spo.records import read_records
from spo.runner import run_playbook
from spo.site_vars import group_all

PLAYBOOK = "audit_read.yml"
TASKS = {
    "history": "Read the history records",
    "info": "Read the backup catalog and status",
    "mirror": "Read the mirror status",
    "survey": "Survey the data bank",
}
GROUPS = ("db_servers", "app_servers", "mirror_servers", "storage_servers")
HISTORY_DAYS = 400  # a year of downtime windows (S4.1) and more than a quarter (S0.4)


def policy(inventory: Path) -> dict:
    """The spo_* variables of the group all, the schema's default where a site sets none."""
    schema = yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8"))
    found = {
        name: spec["default"]
        for name, spec in schema.get("properties", {}).items()
        if isinstance(spec, dict) and "default" in spec
    }
    found.update({k: v for k, v in group_all(inventory).items() if k.startswith("spo_")})
    return found


def groups(inventory: Path) -> dict[str, list[str]]:
    """The SPO groups' hosts, those of their child groups included."""
    loaded = load_inventory(inventory)
    found = {}
    for name in GROUPS:
        members = [g for g in loaded.groups if g == name or name in loaded.ancestors(g)]
        found[name] = sorted({h for g in members for h in loaded.groups[g].hosts})
    return found


def inventory_log(inventory: Path, limit: int = 200) -> list[dict]:
    """The inventory's commits, newest first, with the files each touched; [] outside git."""
    done = subprocess.run(
        ["git", "-C", str(inventory), "log", f"--max-count={limit}", "--name-only",
         "--format=%x1e%H%x1f%an <%ae>%x1f%aI%x1f%s", "--", "."],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return []
    commits = []
    for block in done.stdout.split("\x1e")[1:]:
        head, _, files = block.partition("\n")
        commit, author, date, subject = [*head.split("\x1f"), "", "", ""][:4]
        commits.append({"commit": commit, "author": author, "date": date, "subject": subject,
                        "files": [f for f in files.splitlines() if f.strip()]})  # fmt: skip
    return commits


def host_evidence(ctx: click.Context, now: datetime, survey_months: int) -> tuple[dict, str]:
    """host -> HostFacts from one read of every host, and the id of that run."""
    since = now - timedelta(days=HISTORY_DAYS)
    survey_since = now - timedelta(days=31 * survey_months)
    extravars = {
        "spo_audit_since": since.isoformat(),
        "spo_audit_survey_since": survey_since.isoformat(),
        "spo_audit_until": now.isoformat(),
    }
    run = run_playbook(ctx.obj, PLAYBOOK, "audit", extravars, to_stderr=True)
    read = {key: task_results(run, task) for key, task in TASKS.items()}
    names = set(run.hosts) | {h for results in read.values() for h in results}
    evidence = {}
    for host in sorted(names):
        state = run.hosts.get(host, {})
        errors = [
            f"{TASKS[key]}: {str(result.res.get('msg', '')).strip() or result.event}"
            for key, results in read.items()
            if (result := results.get(host)) is not None
            and not result.ok
            and not result.res.get("skipped")
        ]
        unreachable = bool(state.get("unreachable")) or host not in read["history"]
        evidence[host] = HostFacts(
            reached=not unreachable,
            error="; ".join(errors) or (f"{host} was not reached" if unreachable else None),
            history=_ok(read["history"], host).get("records", []),
            info=_ok(read["info"], host) or None,
            mirror=_ok(read["mirror"], host).get("status"),
            survey=_ok(read["survey"], host).get("survey"),
        )
    return evidence, run.id


def _ok(results: dict, host: str) -> dict:
    result = results.get(host)
    return result.res if result is not None and result.ok else {}


def gather(ctx: click.Context, now: datetime) -> tuple[Facts, str]:
    inventory = Path(ctx.obj.inventory)
    site_policy = policy(inventory)
    hosts, run_id = host_evidence(ctx, now, int(site_policy.get("spo_quarterly_report_months", 3)))
    runs, _ = read_records(Path(ctx.obj.runs_dir))
    changes, _ = change_log.read(inventory)
    incidents, _ = incident_log.read_log(inventory)
    entries, _ = archive_register.read_register(inventory / archive_register.ARCHIVE_DIR)
    facts = Facts(
        now=now,
        policy=site_policy,
        groups=groups(inventory),
        hosts=hosts,
        # The kept reports count as the runs that produced them (report_archive).
        runs=[dataclasses.asdict(r) for r in runs] + report_archive.read_index(ctx.obj.runs_dir),
        changes=changes,
        incidents=incidents,
        archive=[dataclasses.asdict(e.record) for e in entries],
        inventory_log=inventory_log(inventory),
    )
    return facts, run_id
