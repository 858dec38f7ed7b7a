#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: files_backup
short_description: Back up an application's program files into a verified backup folder
description:
  - Archives a directory with tar (numeric owners, modes, symlinks, ACLs, xattrs), compressed
    as a stream, into C(<backup_root>/<UTC time>_<host>_<source>_<kind>) with a manifest, under
    the same atomic, locked, mount-checked procedure as db_dump.
  - Requirements S1.4, S2.1, S2.4.
version_added: "0.1.0"
author: SPO Automation contributors
extends_documentation_fragment:
  - spo_backup.destination
  - spo_backup.trigger
options:
  path:
    description: The application directory.
    type: path
    required: true
  source:
    description: Name of the source in backup folder names and locks.
    type: str
    required: true
  excludes:
    description: tar C(--exclude) patterns, relative to O(path) (for example C(./logs)).
    type: list
    elements: str
    default: []
notes:
  - Check mode checks the destination and reports the folder it would write.
"""

EXAMPLES = r"""
- name: Back up the SIMRS application before an update
  files_backup:
    path: /opt/simrs
    source: simrs-app
    excludes: [./logs, ./tmp]
    backup_root: /var/backups/spo
    kind: pre-change
    reason: update to release 2025.01
"""

RETURN = r"""
path:
  description: The published backup folder.
  returned: success, not in check mode
  type: str
manifest:
  description: The backup's manifest.json.
  returned: success, not in check mode
  type: dict
would_write:
  description: The folder a real run would create.
  returned: check mode
  type: str
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import jobs, modargs


def main() -> None:
    spec = {
        "path": {"type": "path", "required": True},
        "source": {"type": "str", "required": True},
        "excludes": {"type": "list", "elements": "str", "default": []},
        **modargs.destination_spec(),
        **modargs.trigger_spec(),
    }
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)

    def make_job(p: dict) -> jobs.Job:
        return jobs.files_job(
            Path(p["path"]),
            p["source"],
            p["excludes"],
            p["kind"],
            p["compression"],
            p["triggered_by"],
            p["reason"],
        )

    modargs.take_backup(module, make_job, f"archive {module.params['path']}")


if __name__ == "__main__":
    main()
