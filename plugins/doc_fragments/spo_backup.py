# GPL-3.0-or-later
"""Option documentation the spo_backup modules share, written once.

Each attribute documents one option group of ``module_utils/spo_backup/modargs.py`` (the
argument specs); a module pulls it in with ``extends_documentation_fragment: spo_backup.<name>``.
"""


class ModuleDocFragment:
    # modargs.connection_spec()
    CONNECTION = r"""
options:
  login_host:
    description: Server host (PostgreSQL also takes a socket directory).
    type: str
  login_port:
    description: Server port.
    type: int
  login_user:
    description: Login name.
    type: str
  login_password:
    description: Password; reaches the tools only through a 0600 file removed after the run.
    type: str
  login_unix_socket:
    description: MariaDB unix socket path.
    type: str
"""

    # modargs.host_config_spec()
    HOST_CONFIG = r"""
options:
  config:
    description: The backup configuration the backup role wrote on the host.
    type: path
    default: /etc/spo/backup.json
"""

    # modargs.destination_spec()
    DESTINATION = r"""
options:
  backup_root:
    description: Destination folder holding the backup folders.
    type: path
    required: true
  mount_point:
    description: O(backup_root) is a NAS or external disk mount point that must be mounted and
      carry O(marker) before anything is written.
    type: bool
    default: false
  marker:
    description: Marker file expected at the root of a mounted destination.
    type: str
    default: .spo-backup-destination
"""

    # modargs.trigger_spec()
    TRIGGER = r"""
options:
  kind:
    description: Why this backup exists.
    type: str
    default: automatic
    choices: [automatic, manual, weekly-full, monthly-copy, pre-change, pre-restore]
  triggered_by:
    description: Who or what started the backup, recorded in the manifest.
    type: str
    default: ansible
  reason:
    description: Why, recorded in the manifest.
    type: str
    default: ""
  compression:
    description: Stream compression; C(auto) is zstd when installed, else gzip.
    type: str
    default: auto
    choices: [auto, zstd, gzip, none]
"""

    # modargs.backup_spec()
    BACKUP = r"""
options:
  backup:
    description: The backup folder (the C(path) that db_dump or files_backup returned).
    type: path
    required: true
"""
