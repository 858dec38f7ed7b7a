#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: db_dump
short_description: Back up a PostgreSQL or MariaDB database into a verified backup folder
description:
  - Dumps one database with C(pg_dump) (plus the roles with C(pg_dumpall --globals-only)) or
    C(mariadb-dump --single-transaction --routines --triggers --events), compressed as a stream
    (zstd when installed, else gzip), into C(<backup_root>/<UTC time>_<host>_<source>_<kind>).
  - The folder holds the payload and C(manifest.json) (versions, trigger, times, sizes, sha256
    of every file, exact per-table row counts from the dump's snapshot). It is written under a
    hidden name and renamed only once complete and verified; a failed run leaves nothing that
    looks valid, and the next run removes its leftovers.
  - One run per source at a time; a declared mount point must be mounted and marked.
  - Requirements S1.1, S1.3, S2.2, S3.1.
version_added: "0.1.0"
author: SPO Automation contributors
extends_documentation_fragment:
  - spo_backup.connection
  - spo_backup.destination
  - spo_backup.trigger
options:
  engine:
    description: Database server type.
    type: str
    required: true
    choices: [postgresql, mariadb]
  database:
    description: Database to back up.
    type: str
    required: true
  source:
    description: Name of the source in backup folder names and locks; defaults to the database
      name with characters other than letters, digits, dots and dashes made dashes.
    type: str
  format:
    description:
      - PostgreSQL dump format.
      - C(custom) is one custom-format dump compressed as a stream.
      - C(parallel), for big databases, dumps the rows of the biggest tables as COPY text in
        O(jobs) streams side by side in the same snapshot, a compressed file per table, and
        restores them side by side.
      - C(directory) is C(pg_dump --format=directory --jobs), compressed by pg_dump with gzip.
    type: str
    default: custom
    choices: [custom, parallel, directory]
  jobs:
    description:
      - Parallel dump processes, for big databases.
      - PostgreSQL, with O(format=parallel) or O(format=directory) only.
      - MariaDB splits the tables into this many groups of about equal size, each dumped by its
        own C(mariadb-dump) into its own file, all in one consistent snapshot; views, routines
        and events go to one more file. Tables without transactions (MyISAM, Aria) get a
        process of their own, and the pause of writes (see notes) lasts until it ends instead
        of the whole dump.
    type: int
    default: 1
  globals:
    description: Also back up PostgreSQL roles and tablespaces (needs a superuser); db_restore
      replays them with O(db_restore#module:restore_globals).
    type: bool
    default: true
notes:
  - Check mode checks the destination and reports the folder it would write; it dumps nothing.
  - MariaDB pauses commits server-wide (C(BACKUP STAGE BLOCK_COMMIT), as mariabackup does;
    C(FLUSH TABLES WITH READ LOCK) on MySQL) while the dump processes open their snapshots,
    so the per-table row counts and every process see one moment. On MariaDB running
    statements and open transactions are not waited for. With tables without transactions
    the pause lasts until they are dumped. The login needs RELOAD besides SELECT, LOCK
    TABLES, SHOW VIEW, TRIGGER and EVENT.
"""

EXAMPLES = r"""
- name: Weekly full backup of SIMRS (S3.1)
  db_dump:
    engine: mariadb
    database: sik
    login_user: backup
    login_password: "{{ vault_backup_password }}"
    backup_root: /mnt/nas/simrs
    mount_point: true
    kind: weekly-full
    triggered_by: cron
    reason: SPO S3.1 weekly B2D backup

- name: Big MariaDB database, four mariadb-dump processes in one snapshot
  db_dump:
    engine: mariadb
    database: sik
    jobs: 4
    backup_root: /var/backups/spo

- name: Big PostgreSQL database, four parallel jobs
  db_dump:
    engine: postgresql
    database: simdondar
    login_user: postgres
    format: directory
    jobs: 4
    backup_root: /var/backups/spo
"""

RETURN = r"""
path:
  description: The published backup folder.
  returned: success, not in check mode
  type: str
manifest:
  description: The backup's manifest.json (tables maps table to exact row count).
  returned: success, not in check mode
  type: dict
cleaned:
  description: Leftover folders of dead runs that were removed.
  returned: success, not in check mode
  type: list
  elements: str
stale_lock:
  description: The lock record a dead run left behind and that was recovered, if any.
  returned: success, not in check mode
  type: dict
would_write:
  description: The folder a real run would create.
  returned: check mode
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import jobs, modargs
from ansible.module_utils.spo_backup.postgres import FORMATS


def main() -> None:
    spec = {
        "engine": {"type": "str", "required": True, "choices": ["postgresql", "mariadb"]},
        "database": {"type": "str", "required": True},
        "source": {"type": "str"},
        "format": {"type": "str", "default": "custom", "choices": list(FORMATS)},
        "jobs": {"type": "int", "default": 1},
        "globals": {"type": "bool", "default": True},
        **modargs.connection_spec(),
        **modargs.destination_spec(),
        **modargs.trigger_spec(),
    }
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params

    def make_job(p: dict) -> jobs.Job:
        return jobs.database_job(
            p["engine"],
            modargs.connection(p),
            p["database"],
            p["source"],
            p["kind"],
            p["compression"],
            p["format"],
            p["jobs"],
            p["globals"],
            p["triggered_by"],
            p["reason"],
        )

    modargs.take_backup(module, make_job, f"dump {p['engine']} database {p['database']}")


if __name__ == "__main__":
    main()
