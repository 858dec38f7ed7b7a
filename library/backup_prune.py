#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: backup_prune
short_description: Remove old backups by policy, never below the floor of 5 (S1.5)
description:
  - Decides, per host and source, which backups of O(backup_root) to keep, by manifest time
    (never folder names) and with a reason for every backup. Keeps the O(keep_last) newest
    (never fewer than 5 distinct times), the newest backup of each of the 5 latest dates,
    optional hourly/daily/weekly/monthly keeps, the newest verified backup and pinned ones.
  - Only backups of O(sources) (all when empty) are removed; a removed folder is renamed hidden
    first so it never looks valid half-deleted.
version_added: "0.1.0"
author: SPO Automation contributors
options:
  backup_root:
    description: Folder holding the backup folders.
    type: path
    required: true
  sources:
    description: Only remove backups of these sources; others are decided but left alone.
    type: list
    elements: str
    default: []
  keep_last:
    description: Newest backups to keep (raised to the floor of 5).
    type: int
    default: 5
  keep_hourly:
    description: Keep the newest backup of each of this many latest hours.
    type: int
    default: 0
  keep_daily:
    description: Keep the newest backup of each of this many latest days.
    type: int
    default: 0
  keep_weekly:
    description: Keep the newest backup of each of this many latest ISO weeks.
    type: int
    default: 0
  keep_monthly:
    description: Keep the newest backup of each of this many latest months.
    type: int
    default: 0
  utc_offset_minutes:
    description: The hospital's UTC offset for days, weeks and months (WIB 420, WITA 480,
      WIT 540).
    type: int
    default: 420
notes:
  - Check mode reports every decision and removes nothing.
"""

EXAMPLES = r"""
- name: Keep 14 automatic backups, 8 weekly and 12 monthly
  backup_prune:
    backup_root: /var/backups/spo
    sources: [sik]
    keep_last: 14
    keep_weekly: 8
    keep_monthly: 12
"""

RETURN = r"""
decisions:
  description: Every backup with action (keep or remove) and the reasons.
  returned: always
  type: list
  elements: dict
removed:
  description: Backup folders removed.
  returned: always
  type: list
  elements: str
would_remove:
  description: Backup folders a real run would remove (check mode).
  returned: always
  type: list
  elements: str
skipped:
  description: Folders that are not complete backups, left alone, with why.
  returned: always
  type: dict
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import catalog, modargs, prune


def main() -> None:
    spec = {
        "backup_root": {"type": "path", "required": True},
        "sources": {"type": "list", "elements": "str", "default": []},
        "keep_last": {"type": "int", "default": prune.FLOOR},
        "keep_hourly": {"type": "int", "default": 0},
        "keep_daily": {"type": "int", "default": 0},
        "keep_weekly": {"type": "int", "default": 0},
        "keep_monthly": {"type": "int", "default": 0},
        "utc_offset_minutes": {"type": "int", "default": 420},
    }
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    policy = prune.Policy(
        p["keep_last"],
        p["keep_hourly"],
        p["keep_daily"],
        p["keep_weekly"],
        p["keep_monthly"],
        p["utc_offset_minutes"],
    )

    def action() -> dict:
        result = catalog.apply_prune(
            Path(p["backup_root"]), policy, sources=p["sources"] or None, dry_run=module.check_mode
        )
        return {"changed": bool(result["removed"] or result["would_remove"]), **result}

    modargs.run(module, action)


if __name__ == "__main__":
    main()
