#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: databank_survey
short_description: Read what the data bank's quarterly report needs from its host (S0.4)
description:
  - Reads, without changing anything, the space each unit of the host's data bank uses
    (C(databank.units) of the configuration) and the free space of their file systems; the
    host's uptime, the file server's service state and SMART health where the disk answers it;
    and from the journal, the failed logins, refused accesses and staff account changes of the
    period, with how far back the journal reaches.
  - The Samba events are those the C(data_bank) role has Samba log (auth_audit, full_audit);
    account changes are those the shadow tools log for the data bank's groups.
version_added: "0.1.0"
author: SPO Automation contributors
extends_documentation_fragment:
  - spo_backup.host_config
options:
  since:
    description: Start of the period (ISO 8601 with a zone).
    type: str
    required: true
  before:
    description: End of the period, excluded (ISO 8601 with a zone).
    type: str
    required: true
  services:
    description: The systemd services of the file server whose state is reported.
    type: list
    elements: str
    default: [smbd]
  group_prefix:
    description: Account changes count when they touch a group named with this prefix (the
      C(data_bank) role's unit, administrator and managed-account groups).
    type: str
    default: bank-
notes:
  - Reads only, so check mode reads the same.
"""

EXAMPLES = r"""
- name: Survey the data bank for the fourth quarter
  databank_survey:
    since: "2026-10-01T00:00:00+07:00"
    before: "2027-01-01T00:00:00+07:00"
  register: quarter
"""

RETURN = r"""
survey:
  description: units (files, bytes, quota_bytes), filesystems (size, used, free), smart,
    uptime_seconds, booted, services, hosts_allow and hosts_deny (Samba's, S0.5),
    failed_logins / denied / accounts (each count and events, the latest
    kept), journal (from, covers_period).
  returned: success
  type: dict
"""

from datetime import datetime
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import config, databank_survey, modargs
from ansible.module_utils.spo_backup.errors import BackupError


def _moment(module: AnsibleModule, name: str) -> datetime:
    text = module.params[name]
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        module.fail_json(msg=f"{name}: {text!r} is not an ISO 8601 time with a zone, e.g. "
                             "2026-10-01T00:00:00+07:00")  # fmt: skip
    return moment


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            **modargs.host_config_spec(),
            "since": {"type": "str", "required": True},
            "before": {"type": "str", "required": True},
            "services": {"type": "list", "elements": "str", "default": ["smbd"]},
            "group_prefix": {"type": "str", "default": "bank-"},
        },
        supports_check_mode=True,
    )
    since, until = _moment(module, "since"), _moment(module, "before")
    if until <= since:
        module.fail_json(msg=f"before ({module.params['before']}) must be after since "
                             f"({module.params['since']})")  # fmt: skip
    try:
        cfg = config.load(Path(module.params["config"]))
        found = databank_survey.survey(
            cfg, since, until, module.params["services"], module.params["group_prefix"]
        )
    except BackupError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, survey=found)


if __name__ == "__main__":
    main()
