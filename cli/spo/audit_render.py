"""The printable `spo audit` report: every requirement of the SPO list with its status, evidence
and gap (audit_rules' verdicts), the changes to the policy from the inventory's git history,
and the auditor's sign-off; in Indonesian or English (report_render's texts, layout and
templates), or JSON for machines.

The fixed words (titles, headings, status words, requirement titles) are translated; the
evidence and gaps stay as the rules say them, in English.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime, tzinfo

from spo.audit_rules import GROUPS, MET, NA, NOT_MET, STATUSES, Facts, Verdict, unreached
from spo.report_render import (
    FAIL,
    OK,
    Document,
    Section,
    Signer,
    Table,
    Texts,
    clock,
    names,
    signoff_labels,
    text,
    zone_label,
)
from spo.report_render import NA as NA_MARK
from spo.report_render import render as render_document

FORMATS = ("md", "html", "json")
MARKS = {MET: OK, NOT_MET: FAIL, NA: NA_MARK}
STATUS_KEYS = {MET: "audit_status_met", NOT_MET: "audit_status_not_met", NA: "audit_status_na"}


def summary(verdicts: Iterable[Verdict]) -> dict[str, int]:
    """How many requirements are met, not met and not applicable (in that order)."""
    found = [v.status for v in verdicts]
    return {status: found.count(status) for status in STATUSES}


def requirement_key(requirement: str) -> str:
    """The texts.yml key of a requirement's short title: "S1.1" -> "audit_req_S1_1"."""
    return f"audit_req_{requirement.replace('.', '_')}"


def status_cell(t: Texts, status: str) -> str:
    """ "\u2714 met", "\u2718 NOT MET", "\u2013 not applicable"."""
    return f"{MARKS[status]} {t(STATUS_KEYS[status])}"


def site_name(facts: Facts, site: str | None) -> str:
    return site or str(facts.policy.get("spo_site_name") or "") or "-"


def _requirements(t: Texts, verdicts: list[Verdict]) -> Section:
    table = Table(
        [t(f"audit_col_{key}") for key in ("id", "requirement", "status", "evidence", "gap")],
        [
            [
                v.requirement,
                t(requirement_key(v.requirement)),
                status_cell(t, v.status),
                "; ".join(v.evidence) or "-",
                text(v.gap),
            ]
            for v in verdicts
        ],
    )
    return Section(t("audit_requirements"), tables=[table], note=t("audit_requirements_note"))


def _policy_changes(t: Texts, tz: tzinfo, log: list[dict]) -> Section:
    table = Table(
        [t(f"audit_col_{key}") for key in ("date", "author", "commit", "subject", "files")],
        [
            [
                clock(entry.get("date"), tz),
                text(entry.get("author")),
                text(entry.get("commit"))[:12],
                text(entry.get("subject")),
                names(entry.get("files") or []),
            ]
            for entry in log
        ],
        empty=t("audit_policy_none"),
    )
    return Section(t("audit_policy_changes"), tables=[table])


def _verdict(t: Texts, verdicts: list[Verdict]) -> str:
    failed = [v.requirement for v in verdicts if v.status == NOT_MET]
    if not failed:
        return f"{OK} {t('audit_verdict_ok', total=len(verdicts))}"
    said = t("audit_verdict_failed", count=len(failed), total=len(verdicts), ids=", ".join(failed))
    return f"{FAIL} {said}"


def document(
    verdicts: Iterable[Verdict],
    facts: Facts,
    tz: tzinfo,
    lang: str,
    generated: datetime,
    site: str | None = None,
) -> Document:
    t = Texts(lang)
    verdicts = list(verdicts)
    counts = summary(verdicts)
    shown_site = site_name(facts, site)
    missing = [host for host, _ in unreached(facts, GROUPS)]
    hosts = sorted(facts.hosts)
    fields = [
        (t("field_site"), shown_site),
        (t("audit_field_generated"), clock(generated, tz)),
        (t("field_hosts"), names(hosts)),
        (t("field_zone"), zone_label(tz, generated)),
        (
            t("audit_field_summary"),
            t("audit_summary", met=counts[MET], not_met=counts[NOT_MET], na=counts[NA]),
        ),
    ]
    if missing:
        fields.append((t("audit_field_unreached"), names(missing)))
    footer = [
        t(
            "audit_footer_sources",
            runs=len(facts.runs),
            records=sum(len(h.history) for h in facts.hosts.values()),
            hosts=names(hosts),
            changes=len(facts.changes),
            incidents=len(facts.incidents),
            archive=len(facts.archive),
            commits=len(facts.inventory_log),
        ),
        t("audit_footer_generated", when=clock(generated, tz), zone=zone_label(tz, generated)),
    ]
    return Document(
        lang=lang,
        title=t("audit_title"),
        site=shown_site,
        subtitle=t("audit_subtitle", when=clock(generated, tz)),
        fields=fields,
        sections=[_requirements(t, verdicts), _policy_changes(t, tz, facts.inventory_log)],
        signers=[Signer(t("prepared_by")), Signer(t("audit_audited_by"))],
        labels=signoff_labels(t),
        footer=footer,
        notice=t("audit_notice_unreached", hosts=names(missing)) if missing else "",
        verdict=_verdict(t, verdicts),
    )


def payload(verdicts: Iterable[Verdict], facts: Facts, generated: datetime, site=None) -> dict:
    """What the JSON report holds."""
    verdicts = list(verdicts)
    return {
        "generated": generated.astimezone(UTC).isoformat(timespec="seconds"),
        "site": site_name(facts, site),
        "summary": summary(verdicts),
        "requirements": [asdict(v) for v in verdicts],
        "inventory_log": list(facts.inventory_log),
    }


def render(
    verdicts: Iterable[Verdict],
    facts: Facts,
    tz: tzinfo,
    lang: str,
    fmt: str,
    generated: datetime,
    site: str | None = None,
) -> str:
    """The report as Markdown, printable HTML or JSON (JSON is the same in both languages)."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")
    Texts(lang)  # an unknown language is refused in every format
    if fmt == "json":
        data = payload(verdicts, facts, generated, site)
        return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    return render_document(document(verdicts, facts, tz, lang, generated, site), fmt)
