"""Failover and reseed on the lab (S3.3): the mirror takes over, the old primary is fenced,
reseed makes the old primary a mirror again; then the same back, so the lab ends as it began."""

from __future__ import annotations

import json

from mirrorhelpers import booted, ids, mariadb, next_id, psql, streaming, wait_for, write_row

from labhelpers import lab_exec, podman, spo

DB, MIRROR = "simrs-db", "simrs-mirror"


def record(host: str) -> dict:
    return json.loads(lab_exec(host, "cat", "/etc/spo/mirror-role.json").stdout)


def unit_state(host: str, unit: str) -> tuple[str, str]:
    active = lab_exec(host, "systemctl", "is-active", unit, check=False).stdout.strip()
    enabled = lab_exec(host, "systemctl", "is-enabled", unit, check=False).stdout.strip()
    return active, enabled


def app_points_at() -> str:
    return lab_exec("simrs-app", "cat", "/opt/simrs/conf/database.xml").stdout


def fail_over(runs, to: str, old: str) -> None:
    """Fail over to `to` and check the promotion, the fencing and a write on the new primary."""
    spo("--runs-dir", str(runs), "mirror", "failover", "--to", to,
        "--reason", "lab drill: primary lost", "--yes")  # fmt: skip

    assert psql(to, "SELECT pg_is_in_recovery()") == "f"
    assert mariadb(to, "SELECT @@read_only") == "0"
    assert record(to)["role"] == "primary"
    fenced = record(old)
    assert fenced["role"] == "fenced" and "lab drill" in fenced["reason"]
    for unit in ("postgresql@15-main", "mariadb"):
        assert unit_state(old, unit) == ("inactive", "masked"), unit
    assert f'host="{to}"' in app_points_at()

    row = next_id(to)
    write_row(to, row, f"first write on {to}")
    assert ids(to, row, row + 1) == ({row}, {row})


def reseed(runs, host: str, primary: str) -> None:
    """Rebuild `host` from `primary` and check it follows again, with its old data kept."""
    kept_before = lab_exec(host, "sh", "-c", "ls -d /var/lib/postgresql/15/main.replaced-* | wc -l")
    spo("--runs-dir", str(runs), "mirror", "reseed", "--host", host,
        "--reason", "lab drill: back in service", "--yes")  # fmt: skip

    assert psql(host, "SELECT pg_is_in_recovery()") == "t"
    wait_for(lambda: streaming(host), 60, f"{host} streams from {primary}")
    row = next_id(primary)
    write_row(primary, row, f"after reseeding {host}")
    wait_for(lambda: ids(host, row, row + 1) == ({row}, {row}), 30, f"the new row on {host}")
    mine = record(host)
    assert (mine["role"], mine["upstream"]) == ("mirror", primary)
    kept_after = lab_exec(host, "sh", "-c", "ls -d /var/lib/postgresql/15/main.replaced-* | wc -l")
    assert int(kept_after.stdout) == int(kept_before.stdout) + 1


def test_failover_refuses_without_yes(mirrored):
    proc = spo("--runs-dir", str(mirrored), "mirror", "failover", "--to", MIRROR,
               "--reason", "no confirmation", check=False)  # fmt: skip
    assert proc.returncode == 2
    assert "--yes" in proc.stdout + proc.stderr
    assert record(DB)["role"] == "primary"
    assert psql(MIRROR, "SELECT pg_is_in_recovery()") == "t"


def test_failover_fences_promotes_and_reseed_brings_the_old_primary_back(mirrored):
    before = next_id(DB)
    write_row(DB, before, "before the failover")
    wait_for(lambda: ids(MIRROR, before, before + 1) == ({before}, {before}), 30, "replicated")

    fail_over(mirrored, to=MIRROR, old=DB)
    reseed(mirrored, DB, primary=MIRROR)
    # Nothing written before the failover was lost on the way.
    assert ids(DB, before, before + 1) == ({before}, {before})


def test_failover_from_a_dead_primary_needs_it_fenced_by_hand(mirrored):
    """The primary (here simrs-mirror, the backup server too) is down: it cannot be fenced from
    the control node, so failover is refused until a person says how it was switched off.
    When it comes back it is still a primary of its own: reseed makes it a mirror again."""
    stop = podman("stop", "--time", "5", f"spo-lab-{MIRROR}")
    assert stop.returncode == 0, stop.stderr
    try:
        refused = spo("--runs-dir", str(mirrored), "mirror", "failover", "--to", DB,
                      "--reason", "backup server lost", "--yes", check=False)  # fmt: skip
        assert refused.returncode != 0
        assert "--fenced-by-hand" in refused.stdout
        assert psql(DB, "SELECT pg_is_in_recovery()") == "t"

        spo("--runs-dir", str(mirrored), "mirror", "failover", "--to", DB,
            "--reason", "backup server lost", "--fenced-by-hand", "switched off at the rack",
            "--yes")  # fmt: skip
    finally:
        assert podman("start", f"spo-lab-{MIRROR}").returncode == 0

    assert psql(DB, "SELECT pg_is_in_recovery()") == "f"
    assert mariadb(DB, "SELECT @@read_only") == "0"
    mine = record(DB)
    assert (
        mine["role"] == "primary" and "fenced by hand: switched off at the rack" in mine["reason"]
    )
    assert f'host="{DB}"' in app_points_at()
    row = next_id(DB)
    write_row(DB, row, "written while the old primary was away")

    wait_for(lambda: booted(MIRROR), 120, "the old primary boots again")
    reseed(mirrored, MIRROR, primary=DB)
    assert ids(MIRROR, row, row + 1) == ({row}, {row})
