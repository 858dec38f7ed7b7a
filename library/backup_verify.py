#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: backup_verify
short_description: Verify a backup folder's checksums and that its restore tool can read it
description:
  - Recomputes the sha256 of every payload file against the manifest, flags missing and
    unlisted files, and reads every file through its decompressor and restore tool
    (C(pg_restore --list), C(tar --list), the dump's closing line).
  - Fails naming each damaged file. Never changes anything.
  - Requirements S3.5, S3.6.
version_added: "0.1.0"
author: SPO Automation contributors
extends_documentation_fragment:
  - spo_backup.backup
notes:
  - Runs the same in check mode, as it only reads.
"""

EXAMPLES = r"""
- name: Weekly checklist, step 1 (S3.5)
  backup_verify:
    backup: "{{ dump.path }}"
"""

RETURN = r"""
files:
  description: The payload files checked.
  returned: success
  type: list
  elements: str
raw_bytes:
  description: Total decompressed size read.
  returned: success
  type: int
problems:
  description: Damaged file -> what is wrong with it.
  returned: failure
  type: dict
manifest:
  description: The verified backup's manifest.
  returned: success
  type: dict
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import manifest, modargs, verify


def main() -> None:
    module = AnsibleModule(argument_spec=modargs.backup_spec(), supports_check_mode=True)
    folder = Path(module.params["backup"])

    def action() -> dict:
        data = manifest.read(folder)
        report = verify.check_payload(folder, data)
        return {"changed": False, "manifest": data, **report}

    modargs.run(module, action)


if __name__ == "__main__":
    main()
