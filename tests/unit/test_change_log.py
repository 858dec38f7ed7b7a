"""Database changes on request (S3.9): a request, one approval per role of its chain, in order,
and the application, as versioned records in the inventory, written once; tampering shows."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from spo import change_log as log
from spo.inventory.schema import Policy

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SQL = "UPDATE patient\n   SET birth_date = '1980-02-03'\n WHERE id = 4711;\n"


def ask(root: Path, title: str = "Correct birth date of patient 4711", **changed):
    fields = {
        "title": title,
        "requester": "Sari Dewi",
        "unit": "Registration",
        "reason": "typed wrong at admission",
        "host": "simrs-db",
        "database": "simrs",
        "engine": "postgresql",
        "sql": SQL,
        "chain": log.DEFAULT_CHAIN,
        "by": "it-ops",
        "commit": "0123abc",
        "now": T0,
    }
    return log.request(root, **{**fields, **changed})


def approve(root: Path, change_id: str, step: int) -> log.Approval:
    """The role at ``step`` of the SPO chain approves, ``step`` hours after the request."""
    role, at = log.DEFAULT_CHAIN[step - 1], T0 + timedelta(hours=step)
    return log.approve(root, change_id, role, f"approver {step}", "it-ops", at)


def approve_all(root: Path, change_id: str) -> list[log.Approval]:
    return [approve(root, change_id, step) for step in range(1, len(log.DEFAULT_CHAIN) + 1)]


def applied(change_id: str, result: str = "ok") -> log.Applied:
    return log.Applied(
        log.REQUIREMENT, change_id, "2026-03-03T10:00:00Z", "20260303T100000Z-change",
        "simrs-db-20260303T095500Z", [{"statement": SQL.strip(), "rows": 1}], 1, result,
        None if result == "ok" else "deadlock detected", "it-ops",
    )  # fmt: skip


def request_file(root: Path, change_id: str) -> Path:
    return root / "changes" / change_id[:4] / f"{change_id}.request.yml"


def test_the_whole_chain_in_order_completes_the_change_and_reads_back_as_written(tmp_path):
    asked = ask(tmp_path)
    assert asked.id == "20260302T080000Z-correct-birth-date-of-patient-4711"
    assert asked.sql_sha256 == hashlib.sha256(SQL.encode()).hexdigest()
    assert asked.chain == list(log.DEFAULT_CHAIN)
    [change], _ = log.read(tmp_path)
    assert change.state == "waiting for technical director"
    approvals = approve_all(tmp_path, asked.id)
    assert [a.step for a in approvals] == [1, 2, 3, 4]
    assert {a.sql_sha256 for a in approvals} == {asked.sql_sha256}

    [change], findings = log.read(tmp_path)
    assert findings == []
    assert change.request == asked and change.approvals == approvals
    assert change.request.sql == SQL, "the script reads back byte for byte"
    assert change.path == request_file(tmp_path, asked.id)
    assert change.complete and change.next_role is None and change.void_approvals == []
    assert change.state == "approved"
    log.check_ready(change)
    names = sorted(p.name.removeprefix(asked.id) for p in change.path.parent.iterdir())
    assert names == [
        ".approval-01-technical-director.yml",
        ".approval-02-president-director.yml",
        ".approval-03-director-of-finance-and-general-administ.yml",
        ".approval-04-head-of-sirs.yml",
        ".request.yml",
    ]

    record = applied(asked.id)
    path = log.record_applied(tmp_path, asked.id[:20], record)
    assert path.name == f"{asked.id}.applied.yml"
    [change], findings = log.read(tmp_path)
    assert findings == [] and change.applied == record and change.state == "applied"
    with pytest.raises(log.ChangeError, match="already applied at 2026-03-03T10:00:00Z"):
        log.check_ready(change)
    with pytest.raises(log.ChangeError, match="already applied"):
        log.approve(tmp_path, asked.id, "head of SIRS", "again", "it-ops")


def test_a_failed_application_is_the_state_failed(tmp_path):
    asked = ask(tmp_path)
    approve_all(tmp_path, asked.id)
    log.record_applied(tmp_path, asked.id, applied(asked.id, "failed"))
    [change], _ = log.read(tmp_path)
    assert change.state == "failed" and change.applied.error == "deadlock detected"


def test_a_role_approves_only_after_the_roles_before_it(tmp_path):
    asked = ask(tmp_path)
    with pytest.raises(log.ChangeError, match="is waiting for the technical director"):
        approve(tmp_path, asked.id, 2)
    approve(tmp_path, asked.id, 1)
    with pytest.raises(log.ChangeError) as refused:
        approve(tmp_path, asked.id, 4)
    assert "waiting for the president director: the head of SIRS approves after" in str(
        refused.value
    )
    [change], _ = log.read(tmp_path)
    assert [a.role for a in change.approvals] == ["technical director"]
    assert change.next_role == "president director" and not change.complete
    assert change.state == "waiting for president director"
    with pytest.raises(log.ChangeError, match=r"not approved yet by the president director, the"):
        log.check_ready(change)


def test_a_role_approves_once(tmp_path):
    asked = ask(tmp_path)
    first = approve(tmp_path, asked.id, 1)
    with pytest.raises(log.ChangeError, match="already approved by the technical director"):
        log.approve(tmp_path, asked.id, "Technical  Director", "someone else", "it-ops")
    [change], _ = log.read(tmp_path)
    assert change.approvals == [first]


def test_a_role_outside_the_chain_is_refused(tmp_path):
    asked = ask(tmp_path, chain=["technical director", "head of SIRS"])
    with pytest.raises(log.ChangeError) as refused:
        log.approve(tmp_path, asked.id, "president director", "Budi", "it-ops")
    assert str(refused.value).startswith(
        f"role president director is not in the chain of change {asked.id}: "
        "technical director → head of SIRS"
    )
    assert log.read(tmp_path)[0][0].approvals == []


def test_an_unknown_change_is_refused(tmp_path):
    with pytest.raises(log.ChangeError, match="no change '20260101T000000Z-nothing'"):
        log.approve(tmp_path, "20260101T000000Z-nothing", "head of SIRS", "Budi", "it-ops")
    ask(tmp_path)
    with pytest.raises(log.ChangeError, match="no change 'x'"):
        log.find(tmp_path, "x")
    with pytest.raises(log.ChangeError, match="no change 'x'"):
        log.record_applied(tmp_path, "x", applied("x"))


def test_a_change_is_found_by_its_id_or_a_unique_prefix(tmp_path):
    first = ask(tmp_path, "Fix ward of admission 88")
    second = ask(tmp_path, "Fix ward of admission 89")
    third = ask(tmp_path, "Remove duplicate visit", now=T0 + timedelta(days=1))
    assert log.find(tmp_path, first.id).request == first
    assert log.find(tmp_path, "20260303").request == third
    assert log.find(tmp_path, second.id).request == second
    with pytest.raises(log.ChangeError, match="is the start of 2 change ids"):
        log.find(tmp_path, "20260302T080000Z-fix-ward")
    assert [c.request.id for c in log.read(tmp_path)[0]] == [first.id, second.id, third.id]


def test_sql_edited_in_the_file_after_an_approval_voids_the_approvals(tmp_path):
    asked = ask(tmp_path)
    approve_all(tmp_path, asked.id)
    path = request_file(tmp_path, asked.id)
    text = path.read_text()
    assert "   WHERE id = 4711;\n" in text
    path.write_text(text.replace("   WHERE id = 4711;\n", "   WHERE id > 0;\n"))

    [change], findings = log.read(tmp_path)
    assert change.request.sql.endswith("WHERE id > 0;\n")
    assert change.state == "void: the SQL changed after approval"
    assert not change.complete and len(change.void_approvals) == 4
    with pytest.raises(log.ChangeError) as refused:
        log.check_ready(change)
    assert "does not match its sql_sha256" in str(refused.value)
    assert "the SQL changed after approval" in str(refused.value)
    assert [(f.file.endswith(path.name), f.key) for f in findings] == [(True, "sql")]


def test_sql_and_its_hash_edited_together_do_not_match_the_approvals(tmp_path):
    asked = ask(tmp_path)
    approve(tmp_path, asked.id, 1)
    approve(tmp_path, asked.id, 2)
    path = request_file(tmp_path, asked.id)
    edited = SQL.replace("4711", "4712")
    text = path.read_text().replace("4711;", "4712;")
    assert asked.sql_sha256 in text
    path.write_text(text.replace(asked.sql_sha256, hashlib.sha256(edited.encode()).hexdigest()))

    [change], findings = log.read(tmp_path)
    assert findings == [], "the request alone is self-consistent"
    assert change.request.sql == edited and not change.edited
    assert change.void_approvals == change.approvals and len(change.approvals) == 2
    assert {a.sql_sha256 for a in change.approvals} == {asked.sql_sha256}
    assert change.state == "void: the SQL changed after approval"
    with pytest.raises(log.ChangeError, match=f"sha256 {asked.sql_sha256[:12]}"):
        log.check_ready(change)
    with pytest.raises(log.ChangeError, match="were given to another SQL"):
        approve(tmp_path, asked.id, 3)


def test_an_approval_is_refused_when_the_request_file_was_edited(tmp_path):
    asked = ask(tmp_path)
    path = request_file(tmp_path, asked.id)
    path.write_text(path.read_text().replace("4711;", "4712;"))
    with pytest.raises(log.ChangeError, match="no longer matches its sql_sha256"):
        approve(tmp_path, asked.id, 1)
    assert log.read(tmp_path)[0][0].approvals == []


def test_records_are_written_once(tmp_path):
    asked = ask(tmp_path)
    path = request_file(tmp_path, asked.id)
    before = path.read_text()
    with pytest.raises(log.ChangeError, match="already exists and is never replaced"):
        ask(tmp_path, sql="DELETE FROM patient;\n")
    assert path.read_text() == before
    approve_all(tmp_path, asked.id)
    log.record_applied(tmp_path, asked.id, applied(asked.id))
    with pytest.raises(log.ChangeError, match="already recorded as applied"):
        log.record_applied(tmp_path, asked.id, applied(asked.id, "failed"))
    assert log.read(tmp_path)[0][0].applied.result == "ok"


def test_every_record_file_carries_the_bilingual_header(tmp_path):
    asked = ask(tmp_path)
    approve_all(tmp_path, asked.id)
    log.record_applied(tmp_path, asked.id, applied(asked.id))
    paths = sorted((tmp_path / "changes").rglob("*.yml"))
    assert len(paths) == 6
    for path in paths:
        text = path.read_text()
        assert text.startswith("# Perubahan data (SPO S3.9)"), path.name
        assert "\n# Database change (SPO S3.9)" in text, path.name
        assert yaml.safe_load(text)["requirement"] == "S3.9"


def test_a_request_the_chain_cannot_approve_is_refused_and_nothing_written(tmp_path):
    with pytest.raises(log.ChangeError, match="the SQL script is empty"):
        ask(tmp_path, sql="  \n")
    with pytest.raises(log.ChangeError, match="is empty or has an empty role"):
        ask(tmp_path, chain=[])
    with pytest.raises(log.ChangeError, match="'Head of SIRS' is twice in the approval chain"):
        ask(tmp_path, chain=["head of SIRS", "technical director", "Head of SIRS"])
    with pytest.raises(log.ChangeError, match="engine 'oracle' is not one of postgresql, mariadb"):
        ask(tmp_path, engine="oracle")
    with pytest.raises(log.ChangeError, match=r"nothing was written:\n.*requester: is \"\""):
        ask(tmp_path, requester="  ")
    assert not (tmp_path / "changes").exists()


def test_a_damaged_file_is_named_by_file_and_key(tmp_path):
    good = ask(tmp_path, "Good change")
    broken = ask(tmp_path, "Broken change")
    approval = approve(tmp_path, broken.id, 1)
    request_file(tmp_path, broken.id).write_text(
        request_file(tmp_path, broken.id).read_text().replace("engine: postgresql\n", "")
    )
    bad_yaml = request_file(tmp_path, good.id).with_name(f"{good.id}.approval-01-x.yml")
    bad_yaml.write_text("step: [1\n")

    changes, findings = log.read(tmp_path)
    assert [c.request.id for c in changes] == [good.id]
    found = {(Path(f.file).name, f.key, f.requirement) for f in findings}
    assert (f"{broken.id}.request.yml", "engine", "S3.9") in found
    assert (bad_yaml.name, "(file)", "S3.9") in found
    assert (f"{approval.id}.approval-01-technical-director.yml", "id", "S3.9") in found
    engine = next(f for f in findings if f.key == "engine")
    assert engine.message == "is missing" and "postgresql, mariadb" in engine.allowed
    assert "git log -p" in engine.fix
    with pytest.raises(log.ChangeError, match=f"the files of change {broken.id} are damaged"):
        log.find(tmp_path, broken.id)


def test_a_forged_approval_out_of_the_chain_does_not_count(tmp_path):
    asked = ask(tmp_path)
    first = approve(tmp_path, asked.id, 1)
    path = request_file(tmp_path, asked.id).with_name(f"{asked.id}.approval-02-cook.yml")
    forged = log.Approval(log.REQUIREMENT, asked.id, 2, "cook", "Tono", "2026-03-02T10:00:00Z",
                          asked.sql_sha256, "it-ops")  # fmt: skip
    path.write_text(log.render(forged))
    [change], findings = log.read(tmp_path)
    assert change.approvals == [first] and change.next_role == "president director"
    assert [(Path(f.file).name, f.key) for f in findings] == [(path.name, "role")]


def test_the_inventory_key_lists_the_spo_chain_by_default():
    policy = Policy.load(None)
    prop = policy.property("spo_change_approvers")
    assert prop["default"] == list(log.DEFAULT_CHAIN) and prop["x-requirement"] == "S3.9"
    assert "S3.9" in policy.schema["x-requirements"]

    def errors(value) -> list[str]:
        return [e.message for e in Draft202012Validator(prop).iter_errors(value)]

    assert errors(list(log.DEFAULT_CHAIN)) == []
    assert errors([]) and errors(["head of SIRS", "head of SIRS"]) and errors(["", "x"])
    assert errors(["  "]) and errors("head of SIRS")


def test_approvals_are_in_time_order_too(tmp_path):
    asked = ask(tmp_path)
    with pytest.raises(log.ChangeError, match="is before the previous step"):
        log.approve(tmp_path, asked.id, "technical director", "Budi", "it-ops", T0 - timedelta(1))
    approve(tmp_path, asked.id, 1)
    second = log.Approval(log.REQUIREMENT, asked.id, 2, "president director", "Ani",
                          "2026-03-02T07:00:00Z", asked.sql_sha256, "it-ops")  # fmt: skip
    name = f"{asked.id}.approval-02-president-director.yml"
    request_file(tmp_path, asked.id).with_name(name).write_text(log.render(second))
    approve(tmp_path, asked.id, 3)
    approve(tmp_path, asked.id, 4)
    [change] = log.read(tmp_path)[0]
    assert change.complete
    with pytest.raises(log.ChangeError, match=r"the approval of the president director \(2026-03"):
        log.check_ready(change)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE visit SET ward = 'B'  \r\n WHERE id = 9;\t\n\n-- ✓ checked by Sari\n",
        "UPDATE visit SET note = 'line\x85break'\n WHERE id = 9;\n",  # pasted from a document
        "UPDATE visit SET note = '\u2028'\n WHERE id = 9;",
    ],
)
def test_any_script_reads_back_exactly_as_requested(tmp_path, sql):
    asked = ask(tmp_path, engine="mariadb", sql=sql)
    [change], findings = log.read(tmp_path)
    assert findings == [] and change.request.sql == sql
    assert change.sql_sha256 == asked.sql_sha256 == hashlib.sha256(sql.encode()).hexdigest()
