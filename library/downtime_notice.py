#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: downtime_notice
short_description: Tell the hospital's departments about a planned server downtime (S4.2, S4.5)
description:
  - Sends one notice of a planned downtime window to every department given, by email
    and/or JSON webhook, both languages in one message (Indonesian first).
  - C(announce) gives the plan before it (S4.2) - date, start time, estimated duration and
    the services and servers affected; C(starting) says it starts now; C(back-in-service)
    says the systems are working again, with the measured downtime when the window has
    C(measured_minutes) (S4.5).
  - C(failed) tells IT support only, on the host configuration's own notify channels, that
    the downtime run stopped, what failed (O(error)) and which hosts were left untouched;
    it never goes to the departments.
  - Email goes through the mail server of the host's backup configuration
    (C(notify.email)), with the department's addresses as recipients. A department webhook
    that is the configuration's C(notify.webhook) URL is sent with its headers file; other
    department webhooks get no extra headers.
  - Every delivery attempt is appended to the host's backup history as a C(notification)
    record (C(event) C(downtime-<kind>), C(department), C(window)), so reports can show who
    was told when.
version_added: "0.1.0"
author: SPO Automation contributors
extends_documentation_fragment:
  - spo_backup.host_config
options:
  kind:
    description: Which notice.
    type: str
    required: true
    choices: [announce, starting, back-in-service, failed]
  window:
    description:
      - The downtime window. Keys C(id) (such as C(2026-12)), C(start) (ISO 8601 with its
        UTC offset, such as C(2026-12-12T21:00:00+07:00); dates are shown in that offset),
        C(estimate_min) and C(estimate_max) (minutes), C(services) and C(hosts) (lists of
        names), and optionally C(measured_minutes) (C(back-in-service)) and C(untouched),
        the hosts left without update or restart (C(failed)).
      - Any other key is an error, so a typo fails before anyone is told anything.
    type: dict
    required: true
  departments:
    description:
      - The departments (units) to tell, each a dict with C(name), C(email) (a list of
        addresses) and C(webhook) (an http(s) URL or null); other keys are ignored.
      - A department with neither email nor webhook is an error. Not used by C(failed).
    type: list
    elements: dict
    default: []
  by:
    description: Who runs the downtime, shown in the notice and recorded in the history.
    type: str
    default: ""
  reason:
    description: Why, shown in the notice (for example the updates being installed).
    type: str
    default: ""
  error:
    description: What failed, for C(failed).
    type: str
notes:
  - Check mode sends nothing and returns who would be told in RV(would_tell).
  - Fails when no delivery succeeded at all (or there was nobody to tell), and still
    returns every delivery attempt; a partial failure is reported as warnings.
"""

EXAMPLES = r"""
- name: Announce the December maintenance to every unit (S4.2)
  downtime_notice:
    kind: announce
    window:
      id: "2026-12"
      start: "2026-12-12T21:00:00+07:00"
      estimate_min: 15
      estimate_max: 30
      services: [SIMRS Khanza, PACS]
      hosts: [db01.rs.example, app01.rs.example]
    departments:
      - name: Instalasi Rawat Jalan
        email: [irj@rs.example]
        webhook: null
      - name: Instalasi Gawat Darurat
        email: [igd@rs.example, kepala.igd@rs.example]
        webhook: https://chat.rs.example/hooks/igd
    by: "{{ lookup('env', 'USER') }}"
    reason: security updates
  register: announced

- name: Tell the units the systems are back in service (S4.5)
  downtime_notice:
    kind: back-in-service
    window: "{{ spo_window | combine({'measured_minutes': 18}) }}"
    departments: "{{ spo_departments }}"

- name: Tell IT support the downtime run stopped
  downtime_notice:
    kind: failed
    window: "{{ spo_window | combine({'untouched': ['app01.rs.example']}) }}"
    error: "{{ ansible_failed_result.msg }}"
"""

RETURN = r"""
deliveries:
  description: One per delivery attempt, with C(department) (C(IT) for C(failed)),
    C(channel) (C(email) or C(webhook)), C(to) (addresses, or the webhook URL without its
    query), C(delivered), C(error) and C(time) (UTC, ISO 8601).
  returned: always
  type: list
  elements: dict
would_tell:
  description: In check mode, who would be told by which channel (C(department),
    C(channel), C(to), and C(problem) when it could not be delivered).
  returned: check mode
  type: list
  elements: dict
event:
  description: The event recorded, C(downtime-<kind>).
  returned: success
  type: str
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import config, downtime, modargs
from ansible.module_utils.spo_backup.errors import BackupError


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            **modargs.host_config_spec(),
            "kind": {"type": "str", "required": True, "choices": list(downtime.KINDS)},
            "window": {"type": "dict", "required": True},
            "departments": {"type": "list", "elements": "dict", "default": []},
            "by": {"type": "str", "default": ""},
            "reason": {"type": "str", "default": ""},
            "error": {"type": "str"},
        },
        supports_check_mode=True,
    )
    p = module.params
    event = f"downtime-{p['kind']}"
    try:
        cfg = config.load(Path(p["config"]))
        planned = downtime.plan(cfg, p["kind"], p["window"], p["departments"])
    except BackupError as exc:
        module.fail_json(msg=str(exc), deliveries=[])
    if module.check_mode:
        told = ", ".join(
            f"{t['department']} by {t['channel']} ({t['to']})"
            + (f" [cannot: {t['problem']}]" if t["problem"] else "")
            for t in planned
        )
        module.exit_json(
            changed=bool(planned),
            msg=f"would send {event} to: {told or 'nobody'}",
            would_tell=planned,
            deliveries=[],
            event=event,
        )
    deliveries = downtime.send(
        cfg, p["kind"], p["window"], p["departments"], p["by"], p["reason"], p["error"]
    )
    undelivered = [d for d in deliveries if not d["delivered"]]
    if len(undelivered) == len(deliveries):
        why = "; ".join(f"{d['department']} by {d['channel']}: {d['error']}" for d in undelivered)
        module.fail_json(
            msg=f"{event}: no notice was delivered: {why or 'nobody to tell'}",
            deliveries=deliveries,
            event=event,
        )
    for d in undelivered:
        module.warn(f"{event} not delivered to {d['department']} by {d['channel']}: {d['error']}")
    module.exit_json(changed=True, deliveries=deliveries, event=event)


if __name__ == "__main__":
    main()
