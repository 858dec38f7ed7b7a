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
extends_documentation_fragment:
  - spo_backup.host_config
options:
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
  to:
    description:
      - Write the backups to this folder instead - an external disk, flash disk or share
        mounted on the host for a manual backup (S1.3).
      - It must be on another device than the system disk and the host's backup folder, so
        that an empty mount point is refused; backups there are never pruned nor copied.
    type: path
notes:
  - Check mode loads and checks the configuration and reports the sources it would back up;
    it backs up nothing.
"""

EXAMPLES = r"""
- name: Manual backup of every source to the external disk mounted at /media/usb
  backup_run:
    kind: manual
    to: /media/usb
    triggered_by: Budi (IT)
    reason: manual backup S1.3

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
from ansible.module_utils.spo_backup import cli, config, manifest, modargs, runner
from ansible.module_utils.spo_backup.errors import BackupError


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            **modargs.host_config_spec(),
            "sources": {"type": "list", "elements": "str", "default": []},
            "kind": {"type": "str", "default": "manual", "choices": list(manifest.KINDS)},
            "triggered_by": {"type": "str", "default": "ansible"},
            "reason": {"type": "str", "default": ""},
            "to": {"type": "path"},
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
    target = None
    if params["to"]:
        target = runner.Target(Path(params["to"]), None, removable=True)
    runs = runner.run(cfg, names, params["kind"], params["triggered_by"], params["reason"], target)
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
