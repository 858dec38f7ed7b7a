"""Restores, restore drills and diagnosis on the lab (issue 7: S2.3-S2.6, S3.5-S3.8).

In file order on the shared lab: backups first, then drills, restores and diagnoses that
read them, then the reports rendered from the records all of these left.
"""

from __future__ import annotations

import json
import shlex
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from labhelpers import lab_exec, md_rows, report, spo
from spo.report_render import size

pytestmark = pytest.mark.lab

DB, APP = "simrs-db", "simrs-app"
SIRS = "dr. Sari (Kepala SIRS)"
ENGINE = "/usr/local/sbin/spo-backup"
RESTORE_RUNS: dict[str, str] = {}  # source -> the spo restore run into production, for its report


def sql(engine: str, query: str, db: str) -> str:
    """A query's rows as text, run on simrs-db as the server's administrator."""
    if engine == "mariadb":
        return lab_exec(DB, "mariadb", "-N", "-B", "-e", query, db).stdout.strip()
    command = f"psql -X -A -t -d {shlex.quote(db)} -c {shlex.quote(query)}"
    return lab_exec(DB, "runuser", "-u", "postgres", "--", "sh", "-c", command).stdout.strip()


def content(engine: str, table: str, db: str) -> str:
    """Row count and a checksum of every row of a table, in a fixed order."""
    if engine == "mariadb":
        query = f"SELECT COUNT(*) FROM {table}; CHECKSUM TABLE {table} EXTENDED"
    else:
        query = f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t"
    return sql(engine, query, db)


def history(host: str, record: str) -> list[dict]:
    lines = lab_exec(host, "cat", "/var/lib/spo/history.jsonl").stdout.splitlines()
    return [r for r in map(json.loads, lines) if r.get("record") == record]


def restore(runs, *args: str, check: bool = False):
    return spo("--runs-dir", str(runs), "restore", "--instructed-by", SIRS, *args, check=check)


@pytest.fixture(scope="module")
def backed_up(provisioned):
    """A fresh backup of every source of simrs-db and simrs-app."""
    for host in (DB, APP):
        done = lab_exec(host, ENGINE, "run", "--kind", "manual", "--triggered-by", "lab test",
                        check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
    return provisioned


def drill(runs, *args: str):
    return spo("--runs-dir", str(runs), "drill", "--host", DB, "--json", *args, check=False)


def test_a_drill_of_good_backups_passes_and_records_rto_and_rpo(backed_up):
    done = drill(backed_up)
    assert done.returncode == 0, done.stdout + done.stderr
    records = {r["source"]: r for r in json.loads(done.stdout)}
    assert set(records) == {"sik", "simrs"}
    for record in records.values():
        assert record["result"] == "ok", record
        assert [c["name"] for c in record["checks"] if c["ok"]] == [
            "checksums", "identity", "restore", "integrity"]  # fmt: skip
        assert 0 < record["rto_seconds"] < 600 and 0 <= record["rpo_seconds"] < 3600
        assert record["tables"] and record["target"].startswith("scratch")
    assert records["sik"]["tables"]["reg_periksa"] > 0
    assert history(DB, "drill")[-2:] == [{"schema_version": 1, **r} for r in records.values()]
    leftovers = lab_exec(DB, "sh", "-c", "ls -A /var/lib/spo-drill | grep -v '^[.]lock' || true")
    assert leftovers.stdout.strip() == "", "the scratch instances are gone"


def test_a_drill_of_a_backup_with_one_flipped_byte_fails_naming_the_file(backed_up, mailbox):
    lab_exec(DB, ENGINE, "run", "--source", "simrs", "--triggered-by", "lab test")
    newest = history(DB, "run")[-1]["backup"]
    flip = (
        "import json, pathlib, sys\n"
        "folder = pathlib.Path(sys.argv[1])\n"
        "name = sorted(json.loads((folder / 'manifest.json').read_text())['files'])[0]\n"
        "path = folder / name\n"
        "data = bytearray(path.read_bytes()); data[len(data) // 2] ^= 0x01\n"
        "path.write_bytes(bytes(data)); print(name)\n"
    )
    folder = f"/var/backups/spo/{newest}"
    damaged = lab_exec(DB, "python3", "-c", flip, folder).stdout.strip()
    mails_before = len(mailbox())
    try:
        done = drill(backed_up, "--source", "simrs")
        assert done.returncode != 0
        [record] = json.loads(done.stdout)
        assert record["result"] == "failed" and record["backup"] == newest
        failed = [c for c in record["checks"] if not c["ok"]]
        assert failed[0]["name"] == "checksums" and damaged in failed[0]["detail"]
        mails = mailbox()[mails_before:]
        assert len(mails) == 1 and damaged in mails[0].replace("=\n", "")
    finally:
        lab_exec(DB, "rm", "-rf", folder)


def test_a_drill_pointed_at_the_production_instance_is_refused(backed_up):
    done = lab_exec(DB, ENGINE, "drill", "--source", "sik", "--target-socket",
                    "/run/mysqld/mysqld.sock", "--json", check=False)  # fmt: skip
    assert done.returncode == 1
    [record] = json.loads(done.stdout)
    assert record["result"] == "refused" and "production" in record["error"]
    assert sql("mariadb", "SHOW DATABASES LIKE 'spo_drill%'", "mysql") == ""


def test_partial_restore_of_two_tables_into_a_scratch_database_matches_the_source(backed_up):
    tables = ["donor", "kantong_darah"]
    chosen = [arg for table in tables for arg in ("--table", table)]
    done = restore(backed_up, "--host", DB, "--source", "simrs", "--to-database", "simrs_check",
                   *chosen, "--reason", "audit of donors")  # fmt: skip
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        assert "simrs-db: ok" in done.stdout
        listed = sql("postgresql", "SELECT string_agg(tablename, ',' ORDER BY tablename) "
                     "FROM pg_tables WHERE schemaname = 'public'", "simrs_check")  # fmt: skip
        assert listed == "donor,kantong_darah", "exactly the two tables asked for"
        for table in tables:
            assert content("postgresql", table, "simrs_check") == content(
                "postgresql", table, "simrs"
            )
        record = history(DB, "restore")[-1]
        assert record["instructed_by"] == SIRS and record["reason"] == "audit of donors"
        assert record["tables"] == record["expected_tables"] and len(record["tables"]) == 2
    finally:
        lab_exec(DB, "runuser", "-u", "postgres", "--", "dropdb", "--if-exists", "simrs_check")


def test_a_full_restore_into_production_without_the_flag_is_refused(backed_up):
    runs_before = len(history(DB, "run"))
    done = restore(backed_up, "--host", DB, "--source", "sik")
    assert done.returncode != 0
    assert "--into-production" in done.stdout
    record = history(DB, "restore")[-1]
    assert record["result"] == "refused" and record["target"] == "sik"
    assert len(history(DB, "run")) == runs_before, "no safety backup, nothing replaced"


def test_a_restore_into_production_backs_up_what_it_replaces_first(backed_up):
    good = content("mariadb", "reg_periksa", "sik")
    kept = sql("mariadb", "SELECT COUNT(*) FROM reg_periksa WHERE poli <> 'Umum'", "sik")
    sql("mariadb", "DELETE FROM reg_periksa WHERE poli = 'Umum'", "sik")  # the damage
    done = restore(backed_up, "--host", DB, "--source", "sik", "--into-production",
                   "--reason", "registrations deleted by mistake")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    RESTORE_RUNS["sik"] = done.stdout.split("checklist: spo report restore ", 1)[1].split()[0]
    assert content("mariadb", "reg_periksa", "sik") == good
    record = history(DB, "restore")[-1]
    safety = record["safety_backup"]
    assert safety and safety.endswith("_sik_pre-restore") and "safety backup first" in done.stdout
    manifest = json.loads(lab_exec(DB, "cat", f"/var/backups/spo/{safety}/manifest.json").stdout)
    # The safety backup holds the damaged table: it was made before anything was replaced.
    assert manifest["tables"]["reg_periksa"] == int(kept)
    assert SIRS in manifest["trigger"]["reason"]


def test_deleted_program_files_are_application_damage_and_restored_identical(backed_up):
    listing = "cd /opt/simrs && find . -printf '%p %m %u %g %l\\n' | sort && " \
              "find . -type f -exec sha256sum {} + | sort"  # fmt: skip
    before = lab_exec(APP, "sh", "-c", listing).stdout
    lab_exec(APP, "rm", "-rf", "/opt/simrs/lib", "/opt/simrs/bin/simrs.sh")
    diagnosis = spo("--runs-dir", str(backed_up), "diagnose", "--host", APP, check=False)
    assert diagnosis.returncode == 1, diagnosis.stdout + diagnosis.stderr
    assert "APPLICATION DAMAGE" in diagnosis.stdout and "simrs.sh" in diagnosis.stdout
    assert "--source simrs-app --into-production" in diagnosis.stdout
    done = restore(backed_up, "--host", APP, "--source", "simrs-app", "--into-production",
                   "--reason", "program files deleted")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert lab_exec(APP, "sh", "-c", listing).stdout == before, "byte-identical, modes, links"
    assert lab_exec(APP, "cat", "/opt/simrs/logs/app.log").stdout.startswith("log lines")
    lab_exec(APP, "sh", "-c", "rm -rf /opt/simrs.replaced-*")
    healthy = spo("--runs-dir", str(backed_up), "diagnose", "--host", APP, check=False)
    assert healthy.returncode == 0 and "neither" in healthy.stdout


def test_a_stopped_database_is_database_damage(backed_up):
    lab_exec(DB, "systemctl", "stop", "postgresql@15-main")
    try:
        diagnosis = spo("--runs-dir", str(backed_up), "diagnose", "--host", DB, check=False)
    finally:
        lab_exec(DB, "systemctl", "start", "postgresql@15-main")
    assert diagnosis.returncode == 1, diagnosis.stdout + diagnosis.stderr
    assert "DATABASE DAMAGE" in diagnosis.stdout
    assert "service postgresql@15-main is inactive" in diagnosis.stdout
    assert "--source simrs --into-production" in diagnosis.stdout
    assert "sik (mariadb): ok" in diagnosis.stdout


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_reports_are_rendered_from_the_records_with_the_real_figures(backed_up, lang):
    safety = next(r for r in reversed(history(DB, "run")) if r["kind"] == "pre-restore")
    moment = datetime.fromisoformat(safety["time"].replace("Z", "+00:00"))
    year, week, _ = moment.astimezone(ZoneInfo("Asia/Jakarta")).isocalendar()
    weekly = md_rows(report(backed_up, "weekly", "--week", f"{year}-W{week:02d}", "--lang", lang))
    assert any(
        row[1:3] == [DB, "sik"] and size(safety["size_bytes"]) in row and "✔" in row[4]
        for row in weekly
    ), "the safety backup's row, with its real size"

    drills = md_rows(report(backed_up, "drill", "--lang", lang))
    last = {r["source"]: r for r in history(DB, "drill")}
    for source, verdict in (("simrs", "failed"), ("sik", "refused")):
        row = next(r for r in drills if r[1:3] == [DB, source])
        assert row[3] == last[source]["backup"] and last[source]["result"] == verdict

    restored = next(r for r in reversed(history(DB, "restore")) if r["result"] == "ok"
                    and r["source"] == "sik")  # fmt: skip
    checklist = report(backed_up, "restore", RESTORE_RUNS["sik"], "--lang", lang)
    assert SIRS in checklist and restored["safety_backup"] in checklist
    rows = md_rows(checklist)
    for table, count in restored["tables"].items():
        assert [table, str(restored["expected_tables"][table]), str(count), "✔"] in rows
    assert ("Kepala SIRS" if lang == "id" else "Head of SIRS") in checklist
