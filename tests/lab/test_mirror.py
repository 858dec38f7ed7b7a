"""Database mirroring on the lab (S3.3): simrs-db streams to simrs-mirror, PostgreSQL's WAL is
archived there by pgBackRest, MariaDB replicates by GTID."""

from __future__ import annotations

import json
import time

from mirrorhelpers import (
    PG_TABLE,
    booted,
    engine,
    host_status,
    ids,
    next_id,
    psql,
    streaming,
    wait_for,
    write_row,
)  # fmt: skip

from labhelpers import lab_exec, podman, spo

PRIMARY, MIRROR = "simrs-db", "simrs-mirror"
PITR_PATH = "/var/lib/postgresql/spo-pitr"  # the db_mirror role's scratch instance


def test_rows_written_on_the_primary_are_read_on_the_mirror(mirrored):
    first = next_id(PRIMARY)
    write_row(PRIMARY, first, "ward 3 admission")
    wait_for(lambda: ids(MIRROR, first, first + 1) == ({first}, {first}), 30, "row on the mirror")

    proc = spo("--runs-dir", str(mirrored), "mirror", "status", "--json")
    report = json.loads(proc.stdout)[MIRROR]
    assert report["ok"], report["breaches"]
    for name in ("postgresql", "mariadb"):
        mirror = engine(report, name)
        assert mirror["role"] == "mirror" and mirror["state"] == "streaming"
        assert 0 <= mirror["lag_seconds"] < report["policy_seconds"]
    archive = engine(report, "postgresql")["archive"]
    assert archive["age_seconds"] <= report["policy_seconds"]

    table = spo("--runs-dir", str(mirrored), "mirror", "status").stdout
    assert "Jeda / Lag" in table and "streaming" in table

    # The same figures as Prometheus metrics, from the control node and in the host's textfile.
    metrics = spo("--runs-dir", str(mirrored), "mirror", "status", "--metrics").stdout
    mirror_part = metrics.split(f"# host: {MIRROR}")[1].split("# host: ")[0]
    assert 'spo_mirror_lag_seconds{engine="postgresql"}' in mirror_part
    assert "\nspo_mirror_ok 1\n" in mirror_part
    textfile = lab_exec(MIRROR, "cat", "/var/lib/prometheus/node-exporter/spo_mirror.prom").stdout
    assert 'spo_mirror_up{engine="mariadb"} 1' in textfile


def test_a_mirror_away_for_a_minute_catches_up_with_no_missing_rows(mirrored):
    first = next_id(PRIMARY)
    stop = podman("stop", "--time", "5", f"spo-lab-{MIRROR}")
    assert stop.returncode == 0, stop.stderr
    try:
        written = set()
        deadline = time.monotonic() + 60
        row = first
        while time.monotonic() < deadline:  # writes go on while the mirror is away
            write_row(PRIMARY, row, "written while the mirror was down")
            written.add(row)
            row += 1
            time.sleep(4)
        away = spo("--runs-dir", str(mirrored), "mirror", "status", check=False)
        assert away.returncode != 0, "status must not pass with the mirror unreachable"
    finally:
        assert podman("start", f"spo-lab-{MIRROR}").returncode == 0
    wait_for(lambda: booted(MIRROR), 120, "the mirror host boots again")
    assert len(written) >= 12
    wait_for(
        lambda: ids(MIRROR, first, row) == (written, written),
        180,
        "every row written while the mirror was away is on the mirror",
        every=3,
    )
    wait_for(lambda: streaming(MIRROR), 60, "the mirror streams again")


def test_with_streaming_blocked_the_wal_archive_stays_inside_the_policy(mirrored):
    """The stream is cut (the replication login refused); archive_timeout still ships a WAL
    segment to the backup server at least every 20 s, and the mirror replays it from there."""
    timeout = 20
    psql(PRIMARY, f"ALTER SYSTEM SET archive_timeout = {timeout}", db="postgres")
    psql(PRIMARY, "SELECT pg_reload_conf()", db="postgres")
    psql(PRIMARY, "ALTER ROLE spo_replicator NOLOGIN", db="postgres")
    psql(PRIMARY, "SELECT pg_terminate_backend(pid) FROM pg_stat_replication", db="postgres")
    try:
        wait_for(
            lambda: engine(host_status(MIRROR), "postgresql")["state"] != "streaming",
            30,
            "the stream is cut",
        )
        first = next_id(PRIMARY)
        ages, row = [], first
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            psql(PRIMARY, f"INSERT INTO {PG_TABLE} VALUES ({row}, 'while streaming is blocked')")
            row += 1
            report = host_status(MIRROR)
            pg = engine(report, "postgresql")
            assert pg["state"] != "streaming", "the stream came back during the test"
            ages.append(pg["archive"]["age_seconds"])
            time.sleep(5)
        # A segment switched at archive_timeout, pushed over SSH: a few seconds on top.
        assert max(ages) <= timeout + 15, ages
        assert max(ages) <= report["policy_seconds"]
        # Without the stream the mirror still replays what was archived.
        wait_for(
            lambda: psql(MIRROR, f"SELECT count(*) FROM {PG_TABLE} WHERE id = {first}") == "1",
            timeout + 30,
            "the mirror replays the archived WAL",
        )
    finally:
        psql(PRIMARY, "ALTER ROLE spo_replicator LOGIN", db="postgres")
        psql(PRIMARY, "ALTER SYSTEM RESET archive_timeout", db="postgres")
        psql(PRIMARY, "SELECT pg_reload_conf()", db="postgres")
    wait_for(lambda: streaming(MIRROR), 90, "the mirror streams again")


def test_point_in_time_recovery_stops_between_two_writes(mirrored):
    first = next_id(PRIMARY)
    psql(PRIMARY, f"INSERT INTO {PG_TABLE} VALUES ({first}, 'before the target')")
    time.sleep(2)
    target = psql(PRIMARY, "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')")
    time.sleep(2)
    psql(PRIMARY, f"INSERT INTO {PG_TABLE} VALUES ({first + 1}, 'after the target')")
    # Both writes must be in the archive: switch the segment and wait for it to arrive.
    switched = psql(PRIMARY, "SELECT pg_walfile_name(pg_switch_wal())", db="postgres")
    wait_for(
        lambda: (
            psql(PRIMARY, "SELECT last_archived_wal FROM pg_stat_archiver", db="postgres")
            >= switched
        ),
        60,
        "the segment with both writes is archived",
    )

    spo("--runs-dir", str(mirrored), "restore", "--point-in-time", f"{target}+00:00",
        "--instructed-by", "Kepala SIRS", "--reason", "lab: before a bad write")  # fmt: skip

    recovered = psql(
        MIRROR, f"SELECT id FROM {PG_TABLE} WHERE id >= {first} ORDER BY id", port=5499
    )
    assert recovered.split() == [str(first)]
    record = json.loads(lab_exec(MIRROR, "cat", f"{PITR_PATH}/spo-pitr.json").stdout)
    assert record["instructed_by"] == "Kepala SIRS"
    assert record["target"] == f"{target}+00:00"
    # The live mirror was not touched: it still has both rows and still streams.
    assert psql(MIRROR, f"SELECT count(*) FROM {PG_TABLE} WHERE id >= {first}") == "2"
    assert streaming(MIRROR)
