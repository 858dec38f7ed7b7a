#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: backup_pin
short_description: Pin a backup so that no prune removes it, or unpin it
description:
  - A pinned backup (the monthly copy, S3.4) is kept by every prune, whatever its age, with
    the pin's reason shown among the prune's reasons. Unpinning lets the retention policy
    decide about it again.
  - The pin is a C(pinned.json) file beside the manifest; the payload and its checksums are
    not touched. Pinning waits for no prune; it fails while a prune of the same folder runs.
version_added: "0.1.0"
author: SPO Automation contributors
extends_documentation_fragment:
  - spo_backup.backup
options:
  state:
    description: C(pinned) keeps the backup through prunes, C(unpinned) releases it.
    type: str
    default: pinned
    choices: [pinned, unpinned]
  reason:
    description: Why the backup is kept, shown in prune decisions; required to pin. Pinning
      again with another reason replaces it.
    type: str
notes:
  - Check mode reports whether the pin would change and changes nothing.
"""

EXAMPLES = r"""
- name: Keep this month's copy for a year (S3.4)
  backup_pin:
    backup: "{{ dump.path }}"
    reason: monthly copy 2025-01, keep until 2026-01

- name: Release last year's monthly copy
  backup_pin:
    backup: /mnt/nas/simrs/20250104T050000.000Z_simrs-db_sik_monthly-copy
    state: unpinned
"""

RETURN = r"""
pinned:
  description: The pin's reason after the task, or null when the backup is not pinned.
  returned: success
  type: str
previous:
  description: The pin's reason before the task, or null.
  returned: success
  type: str
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import catalog, modargs


def main() -> None:
    spec = {
        **modargs.backup_spec(),
        "state": {"type": "str", "default": "pinned", "choices": ["pinned", "unpinned"]},
        "reason": {"type": "str"},
    }
    module = AnsibleModule(
        argument_spec=spec,
        required_if=[("state", "pinned", ["reason"])],
        supports_check_mode=True,
    )
    p = module.params
    folder = Path(p["backup"])

    def action() -> dict:
        previous = catalog.load(folder).pinned
        wanted = p["reason"] if p["state"] == "pinned" else None
        changed = previous != wanted
        if changed and not module.check_mode:
            if wanted is None:
                catalog.unpin(folder)
            else:
                catalog.pin(folder, wanted)
        return {"changed": changed, "pinned": wanted, "previous": previous}

    modargs.run(module, action)


if __name__ == "__main__":
    main()
