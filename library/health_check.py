#!/usr/bin/python3
# GPL-3.0-or-later

DOCUMENTATION = r"""
module: health_check
short_description: Check on the host itself that its services work after a restart (S4.4)
description:
  - Runs health checks on the host - systemd units, TCP ports, SQL queries and HTTP
    answers - side by side, each tried again (C(retries) times, C(delay)
    seconds apart) so a service that is still starting gets time.
  - Fails naming every check that did not pass and why, and still returns every result.
  - Reads only.
version_added: "0.1.0"
author: SPO Automation contributors
options:
  checks:
    description:
      - The checks. Each has C(type) and, optionally, C(name) (defaults to what it checks),
        C(retries) (tries before it counts as failed, default 10; 1 tries once),
        C(delay) (seconds between tries, default 3) and C(timeout) (seconds per try;
        default 3 for C(port), 10 otherwise).
      - C(systemd) - C(unit) must be C(active) (C(systemctl is-active)).
      - C(port) - C(port) on C(host) (default C(127.0.0.1)) must accept a TCP connection.
      - C(sql) - C(engine) (C(postgresql) or C(mariadb)) must answer C(query) (default
        C(SELECT 1)) on C(database) (PostgreSQL default C(postgres)). PostgreSQL connects
        by default over the local socket as the OS user C(postgres) (C(runuser -u postgres
        -- psql), peer authentication); C(login_user) names another OS user,
        C(login_unix_socket) (or a C(login_host) that is a directory) another socket
        directory, and a C(login_host) that is a host name connects over TCP as
        C(login_user) without a password (trust or the running user's C(.pgpass)). MariaDB
        uses the C(mariadb) client as root over the socket unless C(login_user),
        C(login_host), C(login_port) or C(login_unix_socket) say otherwise. Passwords are
        never used.
      - C(http) - a GET of C(url) must answer C(status) (default 200); redirects are
        followed unless C(status) is a 3xx; C(validate_certs) (default true) checks the
        TLS certificate.
      - A key that does not belong to the check's type is an error.
    type: list
    elements: dict
    required: true
notes:
  - Changes nothing, so check mode runs the checks too and returns the same.
"""

EXAMPLES = r"""
- name: Check that the database server works again after the restart (S4.4)
  health_check:
    checks:
      - name: PostgreSQL service
        type: systemd
        unit: postgresql.service
      - name: PostgreSQL port
        type: port
        port: 5432
      - name: SIMRS database answers
        type: sql
        engine: postgresql
        database: simrs
        query: SELECT count(*) FROM pasien
      - name: Khanza database answers
        type: sql
        engine: mariadb
        database: sik
      - name: SIMRS web login page
        type: http
        url: http://127.0.0.1/simrs/login
        retries: 20
        delay: 5
  register: health
"""

RETURN = r"""
results:
  description: One per check, in order, with C(name), C(type), C(ok), C(detail) (what
    was checked and, when it failed, why), C(seconds) (time spent, tries included) and
    C(attempts).
  returned: always
  type: list
  elements: dict
failed_checks:
  description: The names of the checks that did not pass.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spo_backup import health
from ansible.module_utils.spo_backup.errors import BackupError


def main() -> None:
    module = AnsibleModule(
        argument_spec={"checks": {"type": "list", "elements": "dict", "required": True}},
        supports_check_mode=True,
    )
    try:
        results = health.run(module.params["checks"])
    except BackupError as exc:
        module.fail_json(msg=str(exc), results=[], failed_checks=[])
    bad = health.failed(results)
    names = [r["name"] for r in bad]
    if bad:
        why = "; ".join(f"{r['name']}: {r['detail']}" for r in bad)
        module.fail_json(
            msg=f"{len(bad)} of {len(results)} health check(s) failed: {why}",
            results=results,
            failed_checks=names,
        )
    module.exit_json(changed=False, results=results, failed_checks=names)


if __name__ == "__main__":
    main()
