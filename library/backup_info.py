#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: backup_info
short_description: Read this host's backup catalog and where each source stands on the calendar
description:
  - Lists every backup of the host from the manifests - its own folder, the weekly folder, each
    off-server copy and each monthly copy target - with time, kind, size, duration, whether it
    was verified and whether it is pinned.
  - Reports, per source, the last good automatic, weekly full, monthly copy and manual backup
    from the host's history, and flags a manual backup older than the policy (S1.3).
  - Reads only; used by C(spo backup list) and C(spo backup status).
version_added: "0.1.0"
author: SPO Automation contributors
extends_documentation_fragment:
  - spo_backup.host_config
notes:
  - Changes nothing, so check mode returns the same as a normal run.
"""

EXAMPLES = r"""
- name: Read the backup catalog and status
  backup_info:
  register: backups

- name: Show the sources whose manual backup is overdue
  ansible.builtin.debug:
    msg: "{{ backups.status.overdue }}"
"""

RETURN = r"""
places:
  description: Each place backups live (local, weekly, offsite NAME, monthly NAME) with its
    path, an error when it cannot be read (an unmounted disk) and its backups.
  returned: success
  type: list
  elements: dict
status:
  description: Per source the last backup of each kind, the age of the manual backup in days
    and whether it is overdue; C(overdue) lists the overdue sources.
  returned: success
  type: dict
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import config, manifest, modargs, places, status
from ansible.module_utils.spo_backup.errors import BackupError


def main() -> None:
    module = AnsibleModule(
        argument_spec=modargs.host_config_spec(),
        supports_check_mode=True,
    )
    try:
        cfg = config.load(Path(module.params["config"]))
        module.exit_json(
            changed=False,
            places=places.everywhere(cfg),
            status=status.build(cfg, manifest.utc_now()),
        )
    except BackupError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
