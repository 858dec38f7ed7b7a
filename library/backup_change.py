#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: backup_change
short_description: Apply an approved change of a database's data (S3.9), backed up first
description:
  - Runs the SQL script of a change request whose whole approval chain the control node has
    checked (C(spo change apply)), on the host that holds the database.
  - Checks again that the script is the one approved (its sha256), refuses scripts with
    transaction statements (and in MariaDB statements that commit on their own), takes a
    C(pre-change) backup of the database, and only when it succeeded runs the script in one
    transaction as the source's restore login. The first error rolls all of it back.
  - Leaves a C(change) record in the host's history, refused and failed attempts too.
  - The same code as C(spo-backup change) on the host.
version_added: "0.1.0"
author: SPO Automation contributors
extends_documentation_fragment:
  - spo_backup.host_config
options:
  change_id:
    description: The change request's id.
    type: str
    required: true
  engine:
    description: The database server.
    type: str
    required: true
    choices: [postgresql, mariadb]
  database:
    description: The database the change is for; one of the host's backup sources.
    type: str
    required: true
  sql_base64:
    description: The script, exactly as approved, base64-encoded (UTF-8) so that nothing on
      the way (YAML, Jinja templating) can alter a single character of it.
    type: str
    required: true
  sql_sha256:
    description: The sha256 of the script the approvers approved.
    type: str
    required: true
  by:
    description: Who applies it (the operator).
    type: str
    required: true
  approved_by:
    description: The chain's approvals, "role - name", in order; kept in the backup's reason.
    type: list
    elements: str
    default: []
notes:
  - Check mode checks the script and finds the source; it backs up and changes nothing.
"""

EXAMPLES = r"""
- name: Apply the approved change
  backup_change:
    change_id: 20261207T081500Z-koreksi-nama-pasien
    engine: mariadb
    database: sik
    sql_base64: "{{ change_sql | b64encode }}"
    sql_sha256: "{{ change_sha256 }}"
    by: "{{ spo_operator }}"
"""

RETURN = r"""
record:
  description: The change record - change_id, source, database, pre_change_backup, statements
    (each statement with the rows it touched), rows_total, result (ok, refused, failed), error,
    duration_seconds.
  returned: always
  type: dict
"""

import base64
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import change_run, config, modargs
from ansible.module_utils.spo_backup.errors import BackupError


def _script(module: AnsibleModule) -> str:
    try:
        return base64.b64decode(module.params["sql_base64"], validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        module.fail_json(msg=f"sql_base64 is not base64 of UTF-8 text: {exc}")
        raise  # not reached: fail_json exits


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            **modargs.host_config_spec(),
            "change_id": {"type": "str", "required": True},
            "engine": {"type": "str", "required": True, "choices": ["postgresql", "mariadb"]},
            "database": {"type": "str", "required": True},
            "sql_base64": {"type": "str", "required": True},
            "sql_sha256": {"type": "str", "required": True},
            "by": {"type": "str", "required": True},
            "approved_by": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    p = module.params
    try:
        cfg = config.load(Path(p["config"]))
        request = change_run.Request(
            change_id=p["change_id"],
            source=change_run.source_for(cfg, p["engine"], p["database"]),
            sql=_script(module),
            sql_sha256=p["sql_sha256"],
            by=p["by"],
            approved_by=tuple(p["approved_by"]),
        )
        if module.check_mode:
            module.exit_json(changed=False, record=change_run.plan(cfg, request))
    except BackupError as exc:
        module.fail_json(msg=str(exc), record={"change_id": p["change_id"], "result": "refused",
                                               "error": str(exc)})  # fmt: skip
    record = change_run.run(cfg, request)
    if record["result"] != "ok":
        module.fail_json(
            msg=record["error"], record=record, changed=bool(record["pre_change_backup"])
        )
    module.exit_json(changed=True, record=record)


if __name__ == "__main__":
    main()
