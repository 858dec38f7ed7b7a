#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: backup_diagnose
short_description: Tell database damage from application damage on this host (S2.5)
description:
  - For each source of the host's backup configuration, checks its systemd services, and
    for a database whether the server answers and every table reads (btree indexes too,
    where amcheck is installed; C(CHECK TABLE) on MariaDB); for program files whether they
    still equal the newest backup's archive (missing or changed files; a touched time alone
    is not damage).
  - Returns the verdict C(database), C(application), C(both) or C(neither), the problems
    per source and, for each damaged source, the restore command to run (S2.3, S2.4); with
    C(neither), the pointer to the technical troubleshooting procedure.
  - Reads only.
version_added: "0.1.0"
author: SPO Automation contributors
extends_documentation_fragment:
  - spo_backup.host_config
options:
  sources:
    description: Only these sources; all of the host's when empty.
    type: list
    elements: str
    default: []
notes:
  - Changes nothing, so check mode returns the same as a normal run.
"""

EXAMPLES = r"""
- name: Diagnose the host
  backup_diagnose:
  register: diagnosis
"""

RETURN = r"""
verdict:
  description: C(database), C(application), C(both) or C(neither).
  returned: success
  type: str
sources:
  description: Per source its type, services, the damage found (C(database),
    C(application) or null) and the problems, one line each.
  returned: success
  type: list
  elements: dict
recommended:
  description: The restore command for each damaged source.
  returned: success
  type: list
  elements: str
procedure:
  description: With no damage found, the procedure to follow instead (S2.5).
  returned: success
  type: str
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import config, diagnose, modargs
from ansible.module_utils.spo_backup.errors import BackupError


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            **modargs.host_config_spec(),
            "sources": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    try:
        cfg = config.load(Path(module.params["config"]))
        module.exit_json(changed=False, **diagnose.run(cfg, module.params["sources"]))
    except BackupError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
