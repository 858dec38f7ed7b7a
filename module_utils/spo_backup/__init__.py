"""spo-backup: the backup engine of SPO Automation (S1.1, S1.4, S1.5, S2.1-S2.4, S3.1, S3.7).

Stdlib-only so it runs on a target's system python3: Ansible ships it as
``ansible.module_utils.spo_backup`` and hosts install it as the ``spo-backup`` command.
Modules import each other relatively so both names work.
"""

VERSION = "0.1.0"
