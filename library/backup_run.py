#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: backup_run
short_description: Run this host's backup pipeline now, exactly as its cron job does
description:
  - Runs the installed backup configuration (the backup role's C(/etc/spo/backup.json)) for
    the chosen sources, through the same engine code as the C(spo-backup) command that cron
    starts - backup, verification, retention above the floor of 5, off-server copies checked
    on arrival, a history line, metrics and notices (S1.1, S1.5, S2.1, S2.2).
  - Used by C(spo backup now) for on-demand backups.
version_added: "0.1.0"
author: SPO Automation contributors
options:
  config:
    description: The backup configuration the backup role wrote on the host.
    type: path
    default: /etc/spo/backup.json
  sources:
    description: Sources to back up, by name; all of the configuration's when empty.
    type: list
    elements: str
    default: []
  kind:
    description: Why this backup exists, recorded in its manifest.
    type: str
    default: manual
    choices: [automatic, manual, weekly-full, monthly-copy, pre-change, pre-restore]
  triggered_by:
    description: Who or what started the backup, recorded in the manifest and the history.
    type: str
    default: ansible
  reason:
    description: Why, recorded in the manifest and the history.
    type: str
    default: ""
notes:
  - Check mode loads and checks the configuration and reports the sources it would back up;
    it backs up nothing.
"""

EXAMPLES = r"""
- name: Back up the SIMRS database now, before a risky change
  backup_run:
    sources: [sik]
    kind: manual
    triggered_by: "ops: {{ lookup('env', 'USER') }}"
    reason: before the SIMRS upgrade
"""

RETURN = r"""
runs:
  description: The history record of each source's run (result, backup, size, duration,
    off-server copies, error).
  returned: success and failure
  type: list
  elements: dict
sources:
  description: The sources the run covered (or would cover, in check mode).
  returned: always
  type: list
  elements: str
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import cli, config, manifest, runner
from ansible.module_utils.spo_backup.errors import BackupError


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "config": {"type": "path", "default": str(config.DEFAULT_PATH)},
            "sources": {"type": "list", "elements": "str", "default": []},
            "kind": {"type": "str", "default": "manual", "choices": list(manifest.KINDS)},
            "triggered_by": {"type": "str", "default": "ansible"},
            "reason": {"type": "str", "default": ""},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        cfg = config.load(Path(params["config"]))
        names = [cfg.source(name).name for name in params["sources"]] or [
            s.name for s in cfg.sources
        ]
    except BackupError as exc:
        module.fail_json(msg=str(exc), sources=params["sources"])
    if module.check_mode:
        module.exit_json(changed=True, sources=names, runs=[])
    # The same logs as the cron job: stderr (kept by Ansible) and journald.
    cli.setup_logging()
    runs = runner.run(cfg, names, params["kind"], params["triggered_by"], params["reason"])
    made = [r for r in runs if r.get("backup")]
    failed = [r for r in runs if r["result"] != "ok"]
    if failed:
        errors = "; ".join(f"{r['source']}: {r['error']}" for r in failed)
        module.fail_json(
            msg=f"backup failed: {errors}", changed=bool(made), sources=names, runs=runs
        )
    module.exit_json(changed=bool(made), sources=names, runs=runs)


if __name__ == "__main__":
    main()
