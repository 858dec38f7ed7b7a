"""``spo-backup restore`` and ``spo-backup diagnose`` as the host runs them, against the real
local MariaDB and PostgreSQL (S2.3-S2.5, S3.7): refusals that change nothing, the safety
backup before production is replaced, row counts against the manifest, the history record."""

import json
import os
import shutil
from pathlib import Path

import pytest

from dbhelpers import mariadb, mariadb_tables, pg_tables, psql
from hosthelpers import NEEDS_ROOT, Host, mount, sources_config

pytestmark = [pytest.mark.integration, NEEDS_ROOT]


@pytest.fixture
def host(tmp_path, nas_dir, pg_db, mariadb_db) -> Host:
    mount(nas_dir)
    made = Host(tmp_path, nas_dir, sources_config(tmp_path, pg_db, mariadb_db))
    assert made.backup().returncode == 0
    return made


def source(host: Host, name: str) -> dict:
    return next(s for s in host.data["sources"] if s["name"] == name)


def restore(host: Host, *args: str):
    return host.run("restore", "--instructed-by", "dr. Sari (Kepala SIRS)", "--by", "ops", *args)


def test_partial_restore_into_another_database_gives_exactly_those_tables(host, pg_db):
    target = pg_db()  # a name the fixture drops afterwards
    psql(f'DROP DATABASE "{target}";')
    done = restore(host, "--source", "simrs", "--to-database", target,
                   "--table", "donor_x", "--table", "kunjungan", "--json")  # fmt: skip
    assert done.returncode == 1, "a table the backup does not hold fails the restore"
    assert "donor_x" in json.loads(done.stdout)["error"]
    done = restore(host, "--source", "simrs", "--to-database", target, "--table", "pasien",
                   "--table", "kunjungan", "--reason", "check", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    live = pg_tables(source(host, "simrs")["database"])
    assert pg_tables(target) == {t: live[t] for t in ("public.pasien", "public.kunjungan")}
    expected = {"public.pasien": 2000, "public.kunjungan": 5000}
    assert record["tables"] == record["expected_tables"] == expected
    assert record["safety_backup"] is None and not record["into_production"]
    assert host.history("restore")[-1] == {"schema_version": 1, **record}
    assert [r["result"] for r in host.history("restore")] == ["failed", "ok"]


def test_production_is_refused_without_the_flag_and_nothing_is_backed_up(host):
    before = host.history("run")
    done = restore(host, "--source", "sik", "--json")
    assert done.returncode == 1
    record = json.loads(done.stdout)
    assert record["result"] == "refused" and "--into-production" in record["error"]
    assert record["backup"] is None, "refused before a backup was even chosen"
    assert host.history("run") == before, "no safety backup for a refused restore"


def test_production_restore_takes_a_safety_backup_of_the_damage_first(host):
    db = source(host, "sik")["database"]
    good = mariadb_tables(db)
    mariadb("DELETE FROM kunjungan WHERE id > 100;", db)
    done = restore(host, "--source", "sik", "--into-production", "--reason", "rows deleted",
                   "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert mariadb_tables(db) == good
    safety = Path(host.data["backup_root"]) / record["safety_backup"]
    manifest = json.loads((safety / "manifest.json").read_text())
    # It holds the damaged state: it was taken before anything was replaced.
    assert manifest["kind"] == "pre-restore" and manifest["tables"]["kunjungan"] == 100
    assert "instructed by dr. Sari (Kepala SIRS)" in manifest["trigger"]["reason"]
    assert [c["name"] for c in record["checks"]] == [
        "verified",
        "safety backup",
        "restore",
        "row counts",
    ]
    assert record["backup"] != record["safety_backup"], "restored from the chosen backup"


def test_program_files_deleted_are_diagnosed_and_restored_identical(host):
    app = Path(source(host, "app")["path"])
    (app / "lib").mkdir()
    os.symlink("../index.php", app / "lib" / "current")
    (app / "index.php").chmod(0o640)
    assert host.backup("--source", "app").returncode == 0
    before = tree(app)
    (app / "index.php").unlink()
    diagnosis = host.run("diagnose", "--json")
    assert diagnosis.returncode == 1
    found = json.loads(diagnosis.stdout)
    assert found["verdict"] == "application"
    [damaged] = [s for s in found["sources"] if s["damage"]]
    assert damaged["source"] == "app" and any("index.php" in p for p in damaged["problems"])
    assert "--source app --into-production" in found["recommended"][0]

    done = restore(host, "--source", "app", "--into-production", "--json")
    assert done.returncode == 0, done.stderr
    assert tree(app) == before
    assert (app / "error.log").read_text() == "not backed up", "what it excludes is kept"
    kept = Path(json.loads(done.stdout)["checks"][2]["detail"].rsplit(" ", 1)[1])
    assert kept.name.startswith("app.replaced-") and not (kept / "index.php").exists()
    shutil.rmtree(kept)
    again = host.run("diagnose", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["verdict"] == "neither"
    assert "troubleshooting" in json.loads(again.stdout)["procedure"]


def test_a_database_that_does_not_answer_is_database_damage(host):
    host.data["sources"][1]["login_port"] = 1  # nothing listens: a server that is down
    host.config.write_text(json.dumps(host.data))
    diagnosis = host.run("diagnose", "--json")
    assert diagnosis.returncode == 1
    found = json.loads(diagnosis.stdout)
    assert found["verdict"] == "database"
    [damaged] = [s for s in found["sources"] if s["damage"]]
    assert damaged["source"] == "simrs"
    assert "does not answer" in damaged["problems"][0]


def tree(root: Path) -> dict[str, tuple]:
    """Every entry under root: its mode, and its content or link target."""
    found = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        body = os.readlink(path) if path.is_symlink() else (
            path.read_bytes() if path.is_file() else None)  # fmt: skip
        found[str(path.relative_to(root))] = (info.st_mode, info.st_uid, body)
    return found
