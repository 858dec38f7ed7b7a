#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: backup_restore
short_description: Restore one of this host's sources on the instruction of the head of SIRS
description:
  - Restores a source of the host's backup configuration (a database, fully or chosen
    schemas/tables, or program files) from a named backup or the newest one that verifies now.
  - Into another target (O(to_database), O(to_path)), or into production; production is
    replaced only with O(into_production), and only after a safety backup (kind
    C(pre-restore)) of what is about to be replaced succeeded.
  - Afterwards every restored table must hold the rows the backup's manifest counted, and
    restored program files must equal the archive (C(tar --diff)).
  - Every attempt, refused and failed ones too, is appended to the host's history as a
    C(restore) record, which is also returned - who instructed it, who ran it, why.
  - Requirements S2.3, S2.4, S3.7, S3.8.
version_added: "0.1.0"
author: SPO Automation contributors
extends_documentation_fragment:
  - spo_backup.host_config
options:
  source:
    description: The source to restore (its name in the host's backup configuration).
    type: str
    required: true
  backup:
    description: The backup folder name to restore; the newest backup of the source that
      verifies when omitted.
    type: str
  to_database:
    description: Restore into this database (created when missing) instead of the source's own.
    type: str
  to_path:
    description: Restore program files to this folder instead of the source's own.
    type: path
  tables:
    description: Restore only these tables (PostgreSQL names without schema).
    type: list
    elements: str
    default: []
  schemas:
    description: Restore only these PostgreSQL schemas.
    type: list
    elements: str
    default: []
  into_production:
    description: The explicit intent to replace the source's own (production) database or
      folder. Without it such a restore is refused.
    type: bool
    default: false
  instructed_by:
    description: Who instructed the restore (the head of SIRS, S3.7).
    type: str
    required: true
  by:
    description: Who runs it (the operator).
    type: str
    required: true
  reason:
    description: Why, for the record.
    type: str
    default: ""
  jobs:
    description: Parallel restore jobs.
    type: int
    default: 1
notes:
  - Check mode verifies the backup and says what would be restored where, changing nothing.
"""

EXAMPLES = r"""
- name: Restore two tables into a scratch database
  backup_restore:
    source: simrs
    to_database: simrs_check
    tables: [pasien, reg_periksa]
    instructed_by: dr. Sari (Kepala SIRS)
    by: "{{ lookup('env', 'USER') }}"
    reason: patient records look wrong since Monday

- name: Restore the application's program files into production
  backup_restore:
    source: app
    into_production: true
    instructed_by: dr. Sari (Kepala SIRS)
    by: ops
    reason: program files deleted by a failed update
"""

RETURN = r"""
record:
  description: The restore record (also in the host's history) - backup, target, safety
    backup, expected and restored row counts, checks, result and error.
  returned: always
  type: dict
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import cli, config, modargs, restore_run
from ansible.module_utils.spo_backup.errors import BackupError


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            **modargs.host_config_spec(),
            "source": {"type": "str", "required": True},
            "backup": {"type": "str"},
            "to_database": {"type": "str"},
            "to_path": {"type": "path"},
            "tables": {"type": "list", "elements": "str", "default": []},
            "schemas": {"type": "list", "elements": "str", "default": []},
            "into_production": {"type": "bool", "default": False},
            "instructed_by": {"type": "str", "required": True},
            "by": {"type": "str", "required": True},
            "reason": {"type": "str", "default": ""},
            "jobs": {"type": "int", "default": 1},
        },
        mutually_exclusive=[("to_database", "to_path")],
        supports_check_mode=True,
    )
    p = module.params
    request = restore_run.Request(
        source=p["source"],
        instructed_by=p["instructed_by"],
        by=p["by"],
        reason=p["reason"],
        backup=p["backup"],
        to_database=p["to_database"],
        to_path=Path(p["to_path"]) if p["to_path"] else None,
        tables=tuple(p["tables"]),
        schemas=tuple(p["schemas"]),
        into_production=p["into_production"],
        jobs=p["jobs"],
    )
    try:
        cfg = config.load(Path(p["config"]))
        if module.check_mode:
            planned = restore_run.plan(cfg, request)
            module.exit_json(
                changed=True,
                record=planned,
                msg=f"would restore {planned['backup']} into {planned['target']}",
            )
    except BackupError as exc:
        module.fail_json(msg=str(exc))
    cli.setup_logging()  # the engine's log lines reach the run's stderr and journald
    record = restore_run.run(cfg, request)
    if record["result"] != "ok":
        module.fail_json(
            msg=f"restore {record['result']}: {record['error']}",
            changed=record["safety_backup"] is not None,
            record=record,
        )
    module.exit_json(changed=True, record=record)


if __name__ == "__main__":
    main()
