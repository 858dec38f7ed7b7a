#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: files_restore
short_description: Restore program files from a verified backup, to the original or another path
description:
  - Verifies the backup, extracts it beside the target with owners, modes and symlinks, then
    swaps it in, so a failed restore leaves the old directory as it was.
  - An existing non-empty target is only replaced with O(replace).
  - Requirement S2.4.
version_added: "0.1.0"
author: SPO Automation contributors
extends_documentation_fragment:
  - spo_backup.backup
options:
  target:
    description: Where to restore; defaults to the directory that was backed up.
    type: path
  replace:
    description: Replace an existing non-empty target.
    type: bool
    default: false
notes:
  - Check mode verifies the backup and reports what would be restored.
"""

EXAMPLES = r"""
- name: Put the application back after a failed update (S2.4)
  files_restore:
    backup: "{{ app_backup.path }}"
    replace: true
"""

RETURN = r"""
path:
  description: The restored directory.
  returned: success, not in check mode
  type: str
replaced:
  description: Whether an existing directory was replaced.
  returned: success, not in check mode
  type: bool
target:
  description: Where a real run would restore to.
  returned: check mode
  type: str
manifest:
  description: The manifest of the restored backup.
  returned: always
  type: dict
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import files, modargs


def main() -> None:
    spec = {
        **modargs.backup_spec(),
        "target": {"type": "path"},
        "replace": {"type": "bool", "default": False},
    }
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    modargs.take_restore(
        module,
        ("files",),
        target_of=lambda data: p["target"] or data["path"],
        restore_to=lambda folder, data, target: files.restore(
            folder, data, Path(target), p["replace"]
        ),
    )


if __name__ == "__main__":
    main()
