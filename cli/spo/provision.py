"""`spo provision`: bring hosts to the site's baseline (new server provisioning)."""

from spo.playbook_command import playbook_command

provision = playbook_command(
    "provision",
    "provision.yml",
    "Apply the site's roles to every host: the baseline a new server needs.",
)
