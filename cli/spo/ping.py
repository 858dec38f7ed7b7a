"""`spo ping`: reach every host and report what it runs (changes nothing)."""

from spo.playbook_command import playbook_command

ping = playbook_command(
    "ping",
    "ping.yml",
    "Reach every host of the inventory and report its system and service manager.",
)
