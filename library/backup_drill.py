#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: backup_drill
short_description: Test-restore the newest backups of this host into scratch targets (S3.6)
description:
  - For each source of the host's backup configuration, takes its newest backup (from the
    host's folder, or the offsite copy the configuration's C(drill.from) names), verifies its
    checksums, restores it into a non-active target - a scratch PostgreSQL or MariaDB instance
    started for the drill, or a scratch folder - and compares the row counts with the
    manifest, checks integrity (amcheck, C(CHECK TABLE), C(tar --diff)), measures the time to
    restore (RTO) and the age of the restored data (RPO), then removes the scratch target.
  - Refuses a target that is the production instance (same PostgreSQL system identifier,
    same MariaDB host and data directory, or the live folder).
  - Appends a C(drill) record per source to the host's history; a failed drill sends the
    failure notice.
  - The same drill the host's weekly cron job runs (C(spo-backup drill)).
version_added: "0.1.0"
author: SPO Automation contributors
extends_documentation_fragment:
  - spo_backup.host_config
options:
  sources:
    description: Only these sources; all of the host's when empty.
    type: list
    elements: str
    default: []
  triggered_by:
    description: Who or what started the drill, for the record.
    type: str
    default: ansible
notes:
  - Check mode says which sources would be drilled and changes nothing.
"""

EXAMPLES = r"""
- name: Drill every source of the host
  backup_drill:
    triggered_by: "spo drill ({{ lookup('env', 'USER') }})"
  register: drill
"""

RETURN = r"""
drills:
  description: The drill record of each source (backup, checks, row counts, RTO, RPO,
    result, error).
  returned: success and failure
  type: list
  elements: dict
sources:
  description: The sources drilled (or that would be, in check mode).
  returned: always
  type: list
  elements: str
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import cli, config, drill, modargs
from ansible.module_utils.spo_backup.errors import BackupError


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            **modargs.host_config_spec(),
            "sources": {"type": "list", "elements": "str", "default": []},
            "triggered_by": {"type": "str", "default": "ansible"},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        cfg = config.load(Path(params["config"]))
        names = [cfg.source(n).name for n in params["sources"]] or [s.name for s in cfg.sources]
    except BackupError as exc:
        module.fail_json(msg=str(exc), sources=params["sources"])
    if module.check_mode:
        module.exit_json(changed=False, sources=names, drills=[])
    cli.setup_logging()
    drills = drill.run(cfg, names, triggered_by=params["triggered_by"])
    bad = [d for d in drills if d["result"] != "ok"]
    if bad:
        errors = "; ".join(f"{d['source']}: {d['result']}: {d['error']}" for d in bad)
        module.fail_json(msg=f"drill failed: {errors}", sources=names, drills=drills)
    # A drill changes nothing that stays: its scratch targets are gone when it ends.
    module.exit_json(changed=False, sources=names, drills=drills)


if __name__ == "__main__":
    main()
