#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: databank_verify
short_description: Check the integrity of the unit data bank's files (S0.3)
description:
  - Hashes every file of each unit folder of the host's configuration (C(databank.units)) and
    compares it with the last complete check - files added, changed (new content and a new
    modification time - normal editing), suspect (new content under the same size and time, or
    unreadable - what a failing disk does), deleted.
  - Appends an C(integrity) record per unit to the host's history and sends a notice, in
    Indonesian and English, when a unit is suspect or its check failed.
  - The same check the host's daily cron job runs (C(spo-backup databank verify)).
version_added: "0.1.0"
author: SPO Automation contributors
extends_documentation_fragment:
  - spo_backup.host_config
options:
  units:
    description: Only these units; every unit of the configuration when empty.
    type: list
    elements: str
    default: []
notes:
  - Check mode lists the units that would be checked and reads no file.
"""

EXAMPLES = r"""
- name: Check the data bank
  databank_verify:
  register: integrity
"""

RETURN = r"""
records:
  description: The integrity record of each unit - files, bytes, added, changed, suspect (with
    why), deleted, result (ok, suspect, failed) and error.
  returned: success and failure
  type: list
  elements: dict
units:
  description: The units checked (or that would be, in check mode).
  returned: always
  type: list
  elements: str
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import config, databank, modargs
from ansible.module_utils.spo_backup.errors import BackupError


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            **modargs.host_config_spec(),
            "units": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    try:
        cfg = config.load(Path(module.params["config"]))
        chosen = [u.name for u in databank.units(cfg, module.params["units"])]
    except BackupError as exc:
        module.fail_json(msg=str(exc), units=module.params["units"])
    if module.check_mode:
        module.exit_json(changed=False, units=chosen, records=[])
    records = databank.verify(cfg, chosen)
    bad = [r for r in records if r["result"] != "ok"]
    if bad:
        module.fail_json(
            msg="; ".join(databank.summary(r) for r in bad), units=chosen, records=records
        )
    module.exit_json(changed=False, units=chosen, records=records)


if __name__ == "__main__":
    main()
