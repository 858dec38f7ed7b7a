#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: backup_history
short_description: Read this host's backup history (runs, drills, restores, notifications)
description:
  - Returns the records of the host's history file (one JSON line each, written by
    C(spo-backup) at every backup run, restore drill, restore and notification) since a time.
  - Reports and audits (C(spo report)) are rendered from these records, never typed by hand.
  - Reads only.
version_added: "0.1.0"
author: SPO Automation contributors
extends_documentation_fragment:
  - spo_backup.host_config
options:
  since:
    description: Only records at or after this time (ISO 8601 with an offset, or C(Z)).
      All records when omitted.
    type: str
  records:
    description: Only records of these kinds; all kinds when empty.
    type: list
    elements: str
    choices: [run, calendar, drill, restore, notification, integrity]
    default: []
notes:
  - Changes nothing, so check mode returns the same as a normal run.
"""

EXAMPLES = r"""
- name: Read this week's backup runs and drills
  backup_history:
    since: "2026-11-16T00:00:00+07:00"
    records: [run, drill]
  register: history
"""

RETURN = r"""
records:
  description: The history records in file order, each with its C(record) kind and C(time).
  returned: success
  type: list
  elements: dict
host:
  description: The host name the engine records under.
  returned: success
  type: str
site:
  description: The site (hospital) name of the host's configuration.
  returned: success
  type: str
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import config, history, manifest, modargs
from ansible.module_utils.spo_backup.errors import BackupError

# run: a backup; calendar: a weekly full or monthly copy; drill: a test restore (S3.6);
# restore: a restore (S3.7); notification: a notice delivered or not; integrity: a check of
# the data bank's files (S0.3).
KINDS = ("run", "calendar", "drill", "restore", "notification", "integrity")


def main() -> None:
    spec = {
        **modargs.host_config_spec(),
        "since": {"type": "str"},
        "records": {
            "type": "list",
            "elements": "str",
            "default": [],
            "choices": list(KINDS),
        },
    }
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    try:
        since = manifest.parse_time(p["since"]) if p["since"] else None
    except ValueError:
        module.fail_json(msg=f"since: {p['since']!r} is not an ISO 8601 time with an offset")
    try:
        cfg = config.load(Path(p["config"]))
    except BackupError as exc:
        module.fail_json(msg=str(exc))
    kinds = set(p["records"])
    found = [
        r for r in history.read(cfg.history_file, since) if not kinds or r.get("record") in kinds
    ]
    module.exit_json(changed=False, records=found, host=cfg.host, site=cfg.site)


if __name__ == "__main__":
    main()
