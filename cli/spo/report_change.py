"""The change report (S3.9) for `spo report change ID`: one database change on request, from
its records (spo.change_log) to a printable document (report_render's texts, layout and
templates), in Indonesian or English.

It says who asked for the change and why, the SQL script as written, who approved it in the
chain's order and when (each approval checked against the SQL in the request file now), the
pre-change backup, what ran with the rows each statement changed, the result, and leaves room
for the sign-off of the IT team and the head of SIRS. Pure functions: a Change in, text out.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from spo.change_log import DEFAULT_CHAIN, Approval, Change, same_role
from spo.inventory.findings import shown_path
from spo.report_render import (
    FAIL,
    NA,
    OK,
    Document,
    Section,
    Signer,
    Table,
    Texts,
    clock,
    columns,
    mark,
    names,
    parse_time,
    render,
    result,
    signoff_labels,
    text,
    zone_label,
)

SHORT = 12  # hex digits of a sha256 shown where the whole one would not fit
HEAD_OF_SIRS = DEFAULT_CHAIN[-1]  # the role that has the IT team do it, and signs the report


def role_name(t: Texts, role: str) -> str:
    """A role of the chain in the report's language: the SPO's own roles are translated
    (however they were typed), a site's other roles are shown as written."""
    known = next((r for r in DEFAULT_CHAIN if same_role(r, role)), None)
    return t.word("change_role", known) if known else role


def _approval_of(change: Change, step: int, role: str) -> Approval | None:
    return next((a for a in change.approvals if a.step == step and a.role == role), None)


# -- the sections ------------------------------------------------------------------------------


def _sha256_field(t: Texts, change: Change) -> str:
    req = change.request
    if not change.edited:
        return f"{OK} {req.sql_sha256}"
    return f"{FAIL} {t('change_sha256_differs', recorded=req.sql_sha256, now=change.sql_sha256)}"


def _request(t: Texts, tz: tzinfo, change: Change) -> Section:
    req = change.request
    chain = " → ".join(f"{n}. {role_name(t, r)}" for n, r in enumerate(req.chain, 1))
    return Section(
        t("change_request"),
        fields=[
            (t("change_field_requester"), text(req.requester)),
            (t("change_field_unit"), text(req.unit)),
            (t("field_reason"), text(req.reason)),
            (t("change_field_requested_at"), clock(req.requested_at, tz)),
            (t("col_recorded_by"), text(req.recorded_by)),
            (t("change_field_commit"), text(req.inventory_commit)),
            (t("change_field_sha256"), _sha256_field(t, change)),
            (t("change_field_chain"), chain or "-"),
        ],
    )


def _sql(t: Texts, change: Change) -> Section:
    """The script line by line, as written: one row a line, so that both layouts keep every
    line apart (the Markdown and HTML templates have no block of preformatted text)."""
    lines = change.request.sql.splitlines()
    return Section(
        t("change_sql"),
        tables=[
            Table(
                columns(t, "line", "sql"),
                [[str(n), line] for n, line in enumerate(lines, 1)],
                empty="-",
            )
        ],
        note=t("change_sql_note", lines=len(lines), sha=change.sql_sha256),
    )


def approval_rows(t: Texts, tz: tzinfo, change: Change) -> list[list[str]]:
    """One row per role of the chain, in the chain's order: step, role, approver, when, whether
    the approval is of the SQL in the request file now (✔/✘), and what is wrong if anything."""
    rows = []
    previous = change.request.requested_at
    waiting = change.next_role
    for step, role in enumerate(change.request.chain, 1):
        approval = _approval_of(change, step, role)
        if approval is None:
            said = t("change_approval_waiting") if role == waiting else t("change_approval_later")
            rows.append([str(step), role_name(t, role), "-", "-", mark(False), said])
            continue
        same = approval.sql_sha256 == change.sql_sha256
        problems = []
        if not same:
            problems.append(
                t(
                    "change_approval_other_sql",
                    sha=approval.sql_sha256[:SHORT],
                    now=change.sql_sha256[:SHORT],
                )
            )
        early, late = parse_time(previous), parse_time(approval.approved_at)
        if early and late and late < early:
            problems.append(t("change_approval_early", previous=clock(previous, tz)))
        detail = (
            f"{FAIL} {'; '.join(problems)}"
            if problems
            else t("change_approval_ok", sha=approval.sql_sha256[:SHORT], by=approval.recorded_by)
        )
        rows.append(
            [
                str(step),
                role_name(t, role),
                text(approval.approver),
                clock(approval.approved_at, tz),
                mark(same),
                detail,
            ]
        )
        previous = approval.approved_at
    return rows


def _approvals(t: Texts, tz: tzinfo, change: Change) -> Section:
    return Section(
        t("change_approvals"),
        tables=[
            Table(
                columns(t, "step", "role", "approver", "approved_at", "same_sql", "detail"),
                approval_rows(t, tz, change),
            )
        ],
    )


def _application(t: Texts, tz: tzinfo, change: Change) -> Section:
    applied = change.applied
    if applied is None:
        return Section(t("change_application"), note=t("change_not_applied"))
    fields = [
        (t("change_field_applied_at"), clock(applied.applied_at, tz)),
        (t("field_run"), t("change_run", run=applied.run_id)),
        (t("change_field_backup"), text(applied.pre_change_backup)),
        (t("field_by"), text(applied.recorded_by)),
        (t("change_field_rows_total"), str(applied.rows_total)),
        (t("field_result"), result(applied.result, t)),
    ]
    if applied.error:
        fields.append((t("field_error"), applied.error))
    statements = [
        [str(n), text(s.get("statement")), text(s.get("rows"))]
        for n, s in enumerate(applied.statements, 1)
    ]
    if statements:
        statements.append(["", t("total"), str(applied.rows_total)])
    table = Table(
        columns(t, "no", "statement", "rows"),
        statements,
        empty=t("change_no_statements"),
        caption=t("change_statements"),
    )
    return Section(t("change_application"), fields=fields, tables=[table])


# -- the document ------------------------------------------------------------------------------


def verdict(t: Texts, tz: tzinfo, change: Change) -> str:
    """The change in one sentence, marked: applied (✔) or failed (✘), void (✘: the SQL changed
    after the request or an approval), else not applied yet (the dash NA): waiting for a role, or
    approved by the whole chain."""
    req, applied = change.request, change.applied
    if applied is not None:
        when = clock(applied.applied_at, tz)
        if applied.result == "ok":
            return f"{OK} {t('change_verdict_applied', when=when, rows=applied.rows_total)}"
        return f"{FAIL} {t('change_verdict_failed', when=when, error=text(applied.error))}"
    void = change.void_approvals
    if void:
        roles = names(role_name(t, a.role) for a in void)
        return f"{FAIL} {t('change_verdict_void', roles=roles)}"
    if change.edited:
        return f"{FAIL} {t('change_verdict_edited')}"
    waiting = change.next_role
    if waiting is not None:
        step = req.chain.index(waiting) + 1
        said = t("change_verdict_waiting", role=role_name(t, waiting), step=step,
                 steps=len(req.chain))  # fmt: skip
        return f"{NA} {said}"
    return f"{NA} {t('change_verdict_approved', change=req.id)}"


def _head_of_sirs(change: Change) -> str:
    """Who approved as the head of SIRS, to sign as such; blank to be filled in by hand."""
    found = next((a for a in change.approvals if same_role(a.role, HEAD_OF_SIRS)), None)
    return found.approver if found else ""


def document(
    change: Change, tz: tzinfo, lang: str, generated: datetime, site: str | None = None
) -> Document:
    """The report of one change: the request, its SQL, the approval chain, the application."""
    t = Texts(lang)
    req, applied = change.request, change.applied
    shown_site = site or "-"
    notice = ""
    if applied is not None and (change.edited or change.void_approvals):
        notice = t("change_notice_edited", now=change.sql_sha256[:SHORT])
    footer = [
        t(
            "change_footer_files",
            change=req.id,
            folder=shown_path(change.path.parent),
            approvals=len(change.approvals),
            applied=0 if applied is None else 1,
        )
    ]
    if applied is not None:
        footer.append(t("footer_run", run=applied.run_id))
    footer.append(t("footer_generated", when=clock(generated, tz), zone=zone_label(tz, generated)))
    return Document(
        lang=lang,
        title=t("change_title"),
        site=shown_site,
        subtitle=t("change_subtitle", change=req.id, title=req.title),
        fields=[
            (t("field_site"), shown_site),
            (t("change_field_id"), req.id),
            (t("change_field_title"), text(req.title)),
            (t("change_field_unit"), text(req.unit)),
            (t("field_host"), text(req.host)),
            (t("change_field_database"), f"{text(req.database)} ({text(req.engine)})"),
            (t("field_zone"), zone_label(tz, parse_time(req.requested_at) or generated)),
        ],
        sections=[
            _request(t, tz, change),
            _sql(t, change),
            _approvals(t, tz, change),
            _application(t, tz, change),
        ],
        signers=[
            Signer(t("change_carried_out_by"), applied.recorded_by if applied else ""),
            Signer(t("change_acknowledged_by"), _head_of_sirs(change)),
        ],
        labels=signoff_labels(t),
        footer=footer,
        notice=notice,
        verdict=verdict(t, tz, change),
    )


def report(change, tz, lang, fmt, generated, site=None) -> str:
    return render(document(change, tz, lang, generated, site), fmt)
