"""`spo inventory check`: the real inventories pass, and each kind of broken one is caught.

Every broken inventory is a copy of inventories/lab with one mutation; each error must name
the file, the key, what is allowed and the SPO requirement it breaks.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from spo.inventory.check import ROLES_DIR, check_inventory
from spo.inventory.schema import Policy
from spo.inventory.structure import expand_hosts
from spo.main import cli

REPO = Path(__file__).resolve().parents[2]
POLICY = "group_vars/all/spo_policy.yml"
HOSTS = "hosts.yml"


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    return Path(shutil.copytree(REPO / "inventories" / "lab", tmp_path / "lab"))


def edit(inventory: Path, relpath: str, old: str, new: str) -> None:
    path = inventory / relpath
    assert old in path.read_text(), f"{old!r} not in {relpath}"
    path.write_text(path.read_text().replace(old, new, 1))


def set_var(inventory: Path, relpath: str, key: str, value: str) -> None:
    """Rewrite the line `key: ...`, so every other key keeps its line."""
    path = inventory / relpath
    text, count = re.subn(rf"^{key}:.*$", f"{key}: {value}", path.read_text(), flags=re.M)
    assert count == 1, f"{key} not in {relpath}"
    path.write_text(text)


def line_of(inventory: Path, relpath: str, text: str) -> int:
    lines = (inventory / relpath).read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if line.startswith(text))


def errors(inventory: Path, roles_dir: Path | None = ROLES_DIR):
    return check_inventory(inventory, roles_dir=roles_dir).errors


def the_error(inventory: Path, key: str, **kwargs):
    found = [f for f in errors(inventory, **kwargs) if f.key == key]
    assert len(found) == 1, [f.text() for f in errors(inventory, **kwargs)]
    return found[0]


def assert_explains(finding, relpath: str, key: str, allowed: str, requirement: str = "") -> None:
    """The finding names the file, the key, what is allowed, the requirement, and a fix."""
    text = finding.text()
    assert finding.file.endswith(relpath) and relpath in text.splitlines()[0]
    assert key in text.splitlines()[0]
    assert allowed in finding.allowed
    assert finding.fix
    if requirement:
        assert finding.requirement == requirement
        assert f"({requirement}: " in finding.message


@pytest.mark.parametrize("name", ["lab", "example"])
def test_real_inventories_pass(name):
    report = check_inventory(REPO / "inventories" / name)
    assert report.errors == [], "\n".join(f.text() for f in report.errors)
    assert report.summary().endswith("groups, policy complete")


# key, value written in YAML, message fragment, allowed fragment, requirement
VALUE_CASES = [
    (
        "spo_backup_retention_count",
        "3",
        "3 is below the floor of 5 (S1.5: keep at least 5 distinct backups)",
        "an integer of at least 5",
        "S1.5",
    ),
    (
        "spo_mirror_max_lag_seconds",
        "900",
        "900 is above the ceiling of 600",
        "from 1 to 600",
        "S3.3",
    ),
    (
        "spo_backup_interval_minutes",
        '"sixty"',
        '"sixty" is text, not an integer',
        "from 5 to 1440",
        "S1.1",
    ),
    (
        "spo_maintenance_start",
        '"25:00"',
        '"25:00" is not a time "HH:MM"',
        '"HH:MM", 24-hour',
        "S4.1",
    ),
    ("spo_maintenance_months", "[4, 4, 12]", "names the same value twice", "months 1-12", "S4.1"),
    ("spo_drill_day", "jumat", "jumat is not one of the allowed values", "friday", "S3.6"),
    ("spo_timezone", "Asia/Jakart", "is not an IANA time zone name", "Asia/Jakarta", ""),
]


@pytest.mark.parametrize(("key", "value", "message", "allowed", "requirement"), VALUE_CASES)
def test_bad_policy_value_is_explained(lab, key, value, message, allowed, requirement):
    set_var(lab, POLICY, key, value)
    finding = the_error(lab, key)
    assert_explains(finding, POLICY, key, allowed, requirement)
    assert message in finding.message
    assert finding.line == line_of(lab, POLICY, f"{key}:")


def test_month_13_points_at_the_list_item(lab):
    set_var(lab, POLICY, "spo_maintenance_months", "[4, 7, 13]")
    finding = the_error(lab, "spo_maintenance_months[2]")
    assert_explains(finding, POLICY, "spo_maintenance_months[2]", "months 1-12", "S4.1")
    assert finding.message.startswith("13 is above the ceiling of 12")


def test_weekly_window_ending_before_it_starts(lab):
    set_var(lab, POLICY, "spo_weekly_full_start", '"12:30"')
    set_var(lab, POLICY, "spo_weekly_full_end", '"12:00"')
    finding = the_error(lab, "spo_weekly_full_end")
    assert_explains(finding, POLICY, "spo_weekly_full_end", "after spo_weekly_full_start", "S3.2")
    assert "window ends before it starts" in finding.message


def test_host_override_that_breaks_the_window_is_caught_on_that_host(lab):
    (lab / "host_vars" / "simrs-db.yml").write_text(
        (lab / "host_vars" / "simrs-db.yml").read_text() + 'spo_weekly_full_end: "11:00"\n'
    )
    finding = the_error(lab, "spo_weekly_full_end")
    assert_explains(finding, "host_vars/simrs-db.yml", "spo_weekly_full_end", "after", "S3.2")
    assert POLICY in finding.message  # where the start comes from


def test_maintenance_minimum_above_maximum(lab):
    set_var(lab, POLICY, "spo_maintenance_duration_min_minutes", "45")
    finding = the_error(lab, "spo_maintenance_duration_max_minutes")
    assert "the shortest downtime is longer than the longest" in finding.message
    assert finding.requirement == "S4.1"


def test_unquoted_time_is_explained(lab):
    set_var(lab, POLICY, "spo_weekly_full_start", "12:00")
    finding = the_error(lab, "spo_weekly_full_start")
    assert "12:00 is read by YAML as the number 720" in finding.message
    assert finding.fix == 'write it as "12:00"'


def test_typo_in_a_key_suggests_the_right_one_and_the_policy_key_is_missing(lab):
    edit(lab, POLICY, "spo_backup_retention_count:", "spo_backup_retension_count:")
    typo = the_error(lab, "spo_backup_retension_count")
    assert_explains(typo, POLICY, "spo_backup_retension_count", "spo_* keys", "S1.5")
    assert "unknown key — likely a typo; did you mean spo_backup_retention_count?" in typo.message
    assert typo.fix == "rename it to spo_backup_retention_count"
    assert the_error(lab, "spo_backup_retention_count").message.startswith("missing from group all")


def test_missing_policy_key_says_the_default_and_where_to_add_it(lab):
    edit(lab, POLICY, "spo_drill_day: friday\n", "")
    finding = the_error(lab, "spo_drill_day")
    assert_explains(finding, POLICY, "spo_drill_day", "friday", "S3.6")
    assert f'add `spo_drill_day: "friday"` (the SPO default) to {finding.file}' in finding.fix


def test_host_in_no_group(lab):
    edit(lab, HOSTS, "all:\n", "all:\n  hosts:\n    stray-host:\n")
    finding = the_error(lab, "stray-host")
    assert_explains(finding, HOSTS, "stray-host", "all.children.<group>.hosts")
    assert "host stray-host is in no group" in finding.message
    assert finding.line == line_of(lab, HOSTS, "    stray-host:")


def test_unknown_structure_key_suggests_the_right_one(lab):
    edit(lab, HOSTS, "      hosts:\n        nas:", "      host:\n        nas:")
    finding = the_error(lab, "all.children.storage_servers.host")
    assert_explains(finding, HOSTS, "all.children.storage_servers.host", "hosts, children, vars")
    assert "did you mean hosts?" in finding.message
    # nas is now unknown, so its host_vars file is reported too.
    assert the_error(lab, "nas").file.endswith("host_vars/nas.yml")


def test_misspelled_children(lab):
    edit(lab, HOSTS, "  children:", "  chidren:")
    assert "did you mean children?" in the_error(lab, "all.chidren").message


def test_invalid_group_name(lab):
    edit(lab, HOSTS, "    app_servers:", "    app-servers:")
    finding = the_error(lab, "all.children.app-servers")
    assert_explains(finding, HOSTS, "app-servers", "no dashes")


def test_hosts_written_as_a_list_are_refused(lab):
    edit(lab, HOSTS, "      hosts:\n        nas:", "      hosts:\n        - nas")
    finding = the_error(lab, "all.children.storage_servers.hosts")
    assert "hosts must be a mapping" in finding.message and "`name:`" in finding.fix


def test_group_outside_all_is_refused(lab):
    (lab / HOSTS).write_text((lab / HOSTS).read_text() + "web_servers:\n  hosts:\n    web:\n")
    finding = the_error(lab, "web_servers")
    assert finding.message == "a group outside `all`" and "all: children:" in finding.fix


def test_inline_vars_in_hosts_yml_are_checked(lab):
    edit(lab, HOSTS, "        nas:\n", "        nas:\n          spo_lab_fuse: sometimes\n")
    finding = the_error(lab, "spo_lab_fuse")
    assert_explains(finding, HOSTS, "spo_lab_fuse", "true or false")
    assert finding.line == line_of(lab, HOSTS, "          spo_lab_fuse:")


def test_host_ranges_expand_like_ansible():
    assert expand_hosts("db[01:03].rs.example") == [f"db0{n}.rs.example" for n in (1, 2, 3)]
    assert expand_hosts("app[a:b][1:2]") == ["appa1", "appa2", "appb1", "appb2"]
    assert expand_hosts("nas") == ["nas"]


def test_host_vars_for_a_host_not_in_the_inventory(lab):
    (lab / "host_vars" / "simrs-dbb.yml").write_text("---\nansible_host: spo-lab-simrs-dbb\n")
    finding = the_error(lab, "simrs-dbb")
    assert_explains(finding, "host_vars/simrs-dbb.yml", "simrs-dbb", "simrs-db")
    assert "did you mean simrs-db?" in finding.message


def test_group_vars_for_a_group_not_in_the_inventory(lab):
    (lab / "group_vars" / "db_server.yml").write_text("---\nspo_backup_retention_count: 7\n")
    finding = the_error(lab, "db_server")
    assert "did you mean db_servers?" in finding.message


def test_group_vars_file_shadowed_by_a_directory(lab):
    (lab / "group_vars" / "all.yml").write_text("---\nspo_backup_retention_count: 7\n")
    (finding,) = errors(lab)
    assert finding.file.endswith("group_vars/all.yml")
    assert "ignored by Ansible" in finding.message


def test_bad_ip_address(lab):
    set_var(lab, "host_vars/nas.yml", "spo_lab_ip", "10.89.60.300")
    finding = the_error(lab, "spo_lab_ip")
    assert_explains(finding, "host_vars/nas.yml", "spo_lab_ip", "an IPv4 address")


def test_yaml_syntax_error_names_file_and_line(lab):
    set_var(lab, "host_vars/nas.yml", "spo_lab_ip", "[10.89.60.13")
    finding = the_error(lab, "(syntax)")
    assert finding.file.endswith("host_vars/nas.yml")
    assert finding.line is not None and finding.message.startswith("YAML syntax error")


def test_duplicate_key(lab):
    path = lab / POLICY
    path.write_text(path.read_text() + "spo_drill_day: thursday\n")
    finding = the_error(lab, "spo_drill_day")
    assert "duplicate key" in finding.message


def test_vault_encrypted_file_is_skipped_with_a_notice(lab):
    (lab / "group_vars" / "all" / "secrets.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n6162\n")
    report = check_inventory(lab)
    assert report.errors == []
    (notice,) = [f for f in report.findings if "secrets.yml" in f.file]
    assert notice.severity == "notice" and "ansible-vault" in notice.message


@pytest.fixture
def roles(tmp_path: Path) -> Path:
    """The project's roles plus one whose options are made up for the test."""
    shutil.copytree(ROLES_DIR, tmp_path / "roles")
    meta = tmp_path / "roles" / "journal_demo" / "meta"
    meta.mkdir(parents=True)
    (meta / "argument_specs.yml").write_text(
        "---\nargument_specs:\n  main:\n    options:\n"
        "      base_journal_storage:\n        type: str\n        choices: [persistent, volatile]\n"
        "      base_timezone:\n        type: str\n"
    )
    return tmp_path / "roles"


def test_role_variable_outside_its_choices(lab, roles):
    (lab / "group_vars" / "all" / "base.yml").write_text("---\nbase_journal_storage: disk\n")
    finding = the_error(lab, "base_journal_storage", roles_dir=roles)
    assert_explains(
        finding, "group_vars/all/base.yml", "base_journal_storage", "persistent, volatile"
    )


def test_role_variables_may_be_templates_or_vaulted(lab, roles):
    (lab / "group_vars" / "all" / "base.yml").write_text(
        "---\nbase_timezone: '{{ spo_timezone }}'\n"
        "base_journal_storage: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n"
    )
    assert errors(lab, roles_dir=roles) == []


def test_every_violation_is_reported_in_one_run(lab):
    set_var(lab, POLICY, "spo_backup_retention_count", "3")
    set_var(lab, POLICY, "spo_mirror_max_lag_seconds", "900")
    edit(lab, POLICY, "spo_drill_day: friday\n", "")
    set_var(lab, "host_vars/nas.yml", "spo_lab_ip", "10.89.60.300")
    edit(lab, HOSTS, "  children:", "  hosts:\n    stray:\n  children:")
    keys = {f.key for f in errors(lab)}
    expected = {"spo_backup_retention_count", "spo_mirror_max_lag_seconds", "spo_drill_day"}
    assert keys == expected | {"spo_lab_ip", "stray"}


def test_schema_is_valid_and_its_defaults_pass_it():
    schema = Policy.load(None).schema
    Draft202012Validator.check_schema(schema)
    policy = {key: schema["properties"][key] for key in schema["required"]}
    assert set(schema["properties"]) - set(policy) == {
        "spo_change_approvers",  # optional: the SPO chain is its default (S3.9)
        "spo_lab_network",
        "spo_lab_subnet",
        "spo_lab_ip",
        "spo_lab_fuse",
        "spo_lab_services",
    }
    for key, prop in policy.items():
        assert prop["description"], key
        assert prop.get("x-requirement", "S0.4") in schema["x-requirements"], key
    defaults = {key: prop.get("default", "RSUD Contoh") for key, prop in policy.items()}
    assert list(Policy.load(None).validator.iter_errors(defaults)) == []


def test_cli_exit_codes_and_json(lab):
    runner = CliRunner()
    ok = runner.invoke(cli, ["inventory", "check", str(lab)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip().splitlines()[-1] == "ok: 4 hosts in 4 groups, policy complete"

    set_var(lab, POLICY, "spo_backup_retention_count", "3")
    broken = runner.invoke(cli, ["inventory", "check", str(lab)])
    assert broken.exit_code == 1
    assert "spo_backup_retention_count: 3 is below the floor of 5" in broken.output
    assert broken.output.strip().endswith(f"1 error in {lab}")

    as_json = runner.invoke(cli, ["inventory", "check", "--json", str(lab)])
    assert as_json.exit_code == 1
    report = json.loads(as_json.output)
    assert report["ok"] is False
    (finding,) = [f for f in report["findings"] if f["severity"] == "error"]
    assert finding["key"] == "spo_backup_retention_count" and finding["requirement"] == "S1.5"
    assert finding["value"] == 3 and finding["line"] > 1
