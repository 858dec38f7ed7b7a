"""spo: run hospital IT Standard Operating Procedures (SPO) as Ansible playbooks."""

__version__ = "0.1.0"
