#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: mirror_info
short_description: Read where this host's database mirror stands against the mirroring policy
description:
  - Asks each database server named in the mirror configuration (PostgreSQL, MariaDB) whether
    it is the primary, a mirror or stopped, and on a mirror how far behind it is (lag in
    seconds and, for PostgreSQL, in bytes); on the pgBackRest repository host, how old the
    newest archived WAL segment is.
  - Holds that against the policy (S3.3, C(policy_seconds) in the mirror configuration) and
    lists every breach.
  - Reads only; no notice is sent and no metrics file is written (C(spo-backup mirror status)
    on the host does both). Used by C(spo mirror status).
version_added: "0.1.0"
author: SPO Automation contributors
extends_documentation_fragment:
  - spo_backup.host_config
options:
  mirror_config:
    description: The mirror configuration the db_mirror role wrote on the host.
    type: path
    default: /etc/spo/mirror.json
notes:
  - Changes nothing, so check mode returns the same as a normal run.
  - Runs as root; PostgreSQL is asked as the OS user postgres and MariaDB as root, both over
    the local socket, so no password is needed or taken.
"""

EXAMPLES = r"""
- name: Read the mirror status
  mirror_info:
  register: mirror

- name: Fail when the mirroring policy is not met
  ansible.builtin.assert:
    that: mirror.status.ok
    fail_msg: "{{ mirror.status.breaches | join('; ') }}"
"""

RETURN = r"""
status:
  description: The mirror report - C(host), C(site), C(time), C(policy_seconds), C(ok),
    C(breaches) and C(engines), one entry per configured engine with its C(role) (primary,
    mirror or stopped), C(ok), C(breaches) and its figures (on a mirror C(state), C(lag_seconds),
    C(lag_bytes), C(upstream); on a primary its replicas; C(archive) on the repository host).
  returned: success
  type: dict
metrics:
  description: The same report as Prometheus text (the host's C(spo_mirror.prom)).
  returned: success
  type: str
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import config, manifest, mirror, mirror_config, modargs
from ansible.module_utils.spo_backup.errors import BackupError


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            **modargs.host_config_spec(),
            "mirror_config": {"type": "path", "default": str(mirror_config.DEFAULT_PATH)},
        },
        supports_check_mode=True,
    )
    try:
        cfg = config.load(Path(module.params["config"]))
        mcfg = mirror_config.load(Path(module.params["mirror_config"]))
        report = mirror.status(cfg, mcfg, manifest.utc_now())
        module.exit_json(changed=False, status=report, metrics=mirror.metrics_text(report))
    except BackupError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
