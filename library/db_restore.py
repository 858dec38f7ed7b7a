#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: db_restore
short_description: Restore a verified database backup, fully or chosen tables, into any name
description:
  - Verifies the backup folder (checksums and readability) first and refuses a damaged one.
  - PostgreSQL restores with C(pg_restore) (O(jobs) in parallel; the parts of a C(parallel)
    backup with psql's C(COPY)), MariaDB with the C(mariadb) client; the engine and format
    come from the backup's manifest.
  - Restores into O(target_database) (created when missing, with the source's encoding); an
    existing database is only overwritten with O(replace) (PostgreSQL C(--clean --if-exists)).
  - Any error of the restore tool fails the task, including PostgreSQL's "errors ignored on
    restore"; afterwards every restored table must hold the row count the manifest recorded.
  - Requirements S2.3, S3.6, S3.7.
version_added: "0.1.0"
author: SPO Automation contributors
extends_documentation_fragment:
  - spo_backup.backup
  - spo_backup.connection
options:
  target_database:
    description: Database to restore into; defaults to the database that was backed up.
      For restore drills (S3.6) use a new name, never the live database.
    type: str
  tables:
    description: Restore only these tables (PostgreSQL table names without schema; their
      schemas are created when missing).
    type: list
    elements: str
    default: []
  schemas:
    description: PostgreSQL only; restore only objects in these schemas.
    type: list
    elements: str
    default: []
  replace:
    description: Allow restoring into an existing database, replacing the restored objects.
    type: bool
    default: false
  jobs:
    description: Parallel restore jobs; C(pg_restore --jobs) for PostgreSQL, and for a MariaDB
      backup taken with O(db_dump#module:jobs), that many of its files loaded at once.
    type: int
    default: 1
  restore_globals:
    description:
      - PostgreSQL only; first replay the cluster's roles, role memberships and tablespaces
        from the backup (C(pg_dumpall --globals-only)), so restored objects find their owners.
      - Roles and tablespaces that already exist are kept (their C(CREATE) is left out) and
        the backup's C(ALTER ROLE) lines still apply to them; any other error fails the task.
      - Needs a superuser login.
    type: bool
    default: false
notes:
  - Check mode verifies the backup and reports what would be restored; it changes nothing.
"""

EXAMPLES = r"""
- name: Friday restore drill into a scratch database (S3.6)
  db_restore:
    backup: "{{ dump.path }}"
    target_database: sik_drill
    login_user: root

- name: Rebuild a lost PostgreSQL server, roles first
  db_restore:
    backup: /mnt/nas/simdondar/20250104T050000.000Z_pg-db_simdondar_weekly-full
    restore_globals: true
    login_user: postgres

- name: Restore two damaged tables into production, on the head of SIRS's order (S3.7)
  db_restore:
    backup: /mnt/nas/simrs/20250104T050000.000Z_simrs-db_sik_weekly-full
    target_database: sik
    tables: [reg_periksa, pasien]
    replace: true
"""

RETURN = r"""
database:
  description: The database restored into.
  returned: success, not in check mode
  type: str
tables:
  description: Restored tables and their row counts (equal to the manifest's).
  returned: success, not in check mode
  type: dict
target:
  description: Where a real run would restore to.
  returned: check mode
  type: str
globals:
  description: With O(restore_globals), the roles and tablespaces (C(role name)) the restore
    C(created) and those C(existing) it kept.
  returned: success with restore_globals, not in check mode
  type: dict
manifest:
  description: The manifest of the restored backup.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import jobs, modargs


def main() -> None:
    spec = {
        **modargs.backup_spec(),
        "target_database": {"type": "str"},
        "tables": {"type": "list", "elements": "str", "default": []},
        "schemas": {"type": "list", "elements": "str", "default": []},
        "replace": {"type": "bool", "default": False},
        "jobs": {"type": "int", "default": 1},
        "restore_globals": {"type": "bool", "default": False},
        **modargs.connection_spec(),
    }
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params

    def restore_to(folder, _data: dict, target: str) -> dict:
        return jobs.restore_database(
            modargs.connection(p),
            folder,
            target,
            p["tables"],
            p["schemas"],
            p["replace"],
            p["jobs"],
            p["restore_globals"],
        )

    modargs.take_restore(
        module,
        ("postgresql", "mariadb"),
        target_of=lambda data: p["target_database"] or data["database"],
        restore_to=restore_to,
        scope_of=lambda data: (
            ", ".join(p["tables"] or p["schemas"]) or f"all {len(data['tables'])} tables"
        ),
    )


if __name__ == "__main__":
    main()
