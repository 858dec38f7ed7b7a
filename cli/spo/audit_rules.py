"""`spo audit` (the pure part): every requirement of the SPO list (S0.1-S4.5) judged from the
facts the CLI gathered: the inventory's policy, each host's history records, backup places and
status, mirror status and data bank survey, the CLI's run records, the change and incident
logs, the archive register and the inventory's git history.

No Ansible, no click, no clock: ``evaluate(facts)`` gives exactly one Verdict per requirement
ID, in ID order, each "met", "not met" (with the evidence and the gap: what is missing and the
command that fixes it) or "not applicable". Evidence and gaps are English, short and concrete
(host, source, time in the site's zone, figure); the renderer (audit_render) translates the
fixed words around them.

Where each part is:
- audit_basis: the constants and policy defaults, Facts, HostFacts, Verdict, exit_status and
  the helpers the rules share (times, hosts, sources, records, the CLI's runs);
- audit_bank: S0, the unit data bank;
- audit_backups: S1, database backup, and S2, SIMRS backup and recovery;
- audit_database: S3, database backup, restore and update;
- audit_downtime: S4, planned downtime;
- here: the list of requirements and ``evaluate``, and the names other modules use.

Conventions every rule follows:
- A rule names the inventory groups whose hosts it reads (``@needs``); when one of those
  hosts was not reached the requirement is "not met" with the gap "host X unreachable: ...",
  whatever the other hosts say: an auditor cannot accept what was not read.
- "The period" is what the facts cover: the hosts' history records the CLI read.
- Times in the evidence are the site's (policy ``spo_timezone``).
- A CLI run counts when its status is "successful" (ansible-runner's word; "succeeded" too) and
  it was not a check-mode rehearsal. A report command recorded under the bare name "report"
  (history_data.fetch's run) is recognised by its argv ("report weekly ...").
"""

from __future__ import annotations

from collections.abc import Callable

from spo.audit_backups import s1_1, s1_2, s1_3, s1_4, s1_5, s1_6, s2_1, s2_2, s2_3, s2_4, s2_5, s2_6
from spo.audit_bank import s0_1, s0_2, s0_3, s0_4, s0_5
from spo.audit_basis import (
    GROUPS,
    MET,
    NA,
    NOT_MET,
    STATUSES,
    Facts,
    HostFacts,
    Verdict,
    cli_runs,
    exit_status,
    parse_time,
    span,
    unreached,
    zone,
)
from spo.audit_database import s3_1, s3_2, s3_3, s3_4, s3_5, s3_6, s3_7, s3_8, s3_9
from spo.audit_downtime import s4_1, s4_2, s4_3, s4_4, s4_5

__all__ = [
    "GROUPS",
    "IDS",
    "MET",
    "NA",
    "NOT_MET",
    "REQUIREMENTS",
    "STATUSES",
    "Facts",
    "HostFacts",
    "Verdict",
    "cli_runs",
    "evaluate",
    "exit_status",
    "parse_time",
    "span",
    "unreached",
    "zone",
]


REQUIREMENTS: tuple[tuple[str, Callable[[Facts], Verdict]], ...] = (
    ("S0.1", s0_1),
    ("S0.2", s0_2),
    ("S0.3", s0_3),
    ("S0.4", s0_4),
    ("S0.5", s0_5),
    ("S1.1", s1_1),
    ("S1.2", s1_2),
    ("S1.3", s1_3),
    ("S1.4", s1_4),
    ("S1.5", s1_5),
    ("S1.6", s1_6),
    ("S2.1", s2_1),
    ("S2.2", s2_2),
    ("S2.3", s2_3),
    ("S2.4", s2_4),
    ("S2.5", s2_5),
    ("S2.6", s2_6),
    ("S3.1", s3_1),
    ("S3.2", s3_2),
    ("S3.3", s3_3),
    ("S3.4", s3_4),
    ("S3.5", s3_5),
    ("S3.6", s3_6),
    ("S3.7", s3_7),
    ("S3.8", s3_8),
    ("S3.9", s3_9),
    ("S4.1", s4_1),
    ("S4.2", s4_2),
    ("S4.3", s4_3),
    ("S4.4", s4_4),
    ("S4.5", s4_5),
)
IDS = tuple(rid for rid, _ in REQUIREMENTS)


def _unreachable(rid: str, rule: Callable, facts: Facts) -> Verdict | None:
    """ "not met" naming every host the rule reads that was not reached."""
    missing = unreached(facts, getattr(rule, "groups", ()))
    if not missing:
        return None
    return Verdict(
        rid,
        NOT_MET,
        tuple(f"{host}: not reached" for host, _ in missing),
        "; ".join(f"host {host} unreachable: {why}" for host, why in missing),
    )


def evaluate(facts: Facts) -> list[Verdict]:
    """Exactly one verdict per requirement ID, in ID order."""
    return [_unreachable(rid, rule, facts) or rule(facts) for rid, rule in REQUIREMENTS]
