"""The modules through real Ansible (connection local), against the loopback servers."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from dbhelpers import PG_SEED, mariadb, pg_tables, unique

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Rahasia-" + "x7Qp2"  # trust auth ignores it; it must still never show


def _play(tmp_path: Path, tasks: list[dict], check: bool = False) -> dict:
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        json.dumps(
            [{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}]
        )
    )
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
    }
    argv = [str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", str(playbook)]
    done = subprocess.run(
        [*argv, "--check"] if check else argv, capture_output=True, text=True, env=env, check=False
    )
    assert PASSWORD not in done.stdout + done.stderr
    assert "********" not in done.stdout  # Ansible masks no_log values it finds in results
    output = json.loads(done.stdout)
    return {t["task"]["name"]: t["hosts"]["localhost"] for t in output["plays"][0]["tasks"]}


def _login() -> dict:
    return {"login_host": "127.0.0.1", "login_user": "postgres", "login_password": PASSWORD}


def test_db_dump_and_db_restore_through_ansible(tmp_path, pg_db) -> None:
    source = pg_db(PG_SEED)
    target = unique("spo_pg_ansible")
    pg_db.track(target)
    root = tmp_path / "backups"
    dump = {
        "engine": "postgresql",
        "database": source,
        "backup_root": str(root),
        "kind": "manual",
        "reason": "ansible test",
        **_login(),
    }
    planned = _play(tmp_path, [{"name": "dump", "db_dump": dump}], check=True)["dump"]
    assert planned["changed"] and planned["would_write"].startswith(str(root))
    assert not root.exists()  # check mode wrote nothing, not even the folder

    results = _play(
        tmp_path,
        [
            {"name": "dump", "db_dump": dump, "register": "dumped"},
            {"name": "verify", "backup_verify": {"backup": "{{ dumped.path }}"}},
            {
                "name": "restore",
                "db_restore": {
                    "backup": "{{ dumped.path }}",
                    "target_database": target,
                    "restore_globals": True,
                    **_login(),
                },
            },
            {
                "name": "restore again",
                "db_restore": {
                    "backup": "{{ dumped.path }}",
                    "target_database": target,
                    **_login(),
                },
                "ignore_errors": True,
            },
            {"name": "prune", "backup_prune": {"backup_root": str(root)}},
        ],
    )
    assert results["dump"]["changed"]
    assert results["dump"]["manifest"]["tables"]["public.kunjungan"] == 5000
    assert results["verify"]["changed"] is False and results["verify"]["ok"]
    assert results["restore"]["changed"]
    assert results["restore"]["tables"] == results["dump"]["manifest"]["tables"]
    assert "role postgres" in results["restore"]["globals"]["existing"]
    assert pg_tables(target) == pg_tables(source)
    assert results["restore again"]["failed"]
    assert "already exists -- what to do" in results["restore again"]["msg"]
    assert results["prune"]["changed"] is False
    assert [d["action"] for d in results["prune"]["decisions"]] == ["keep"]


def test_mariadb_and_files_modules_through_ansible(tmp_path, mariadb_db) -> None:
    source = mariadb_db(
        "CREATE TABLE t (a int, b varchar(10)) ENGINE=MyISAM;"
        "INSERT INTO t VALUES (1, 'satu'), (2, 'dua');"
    )
    target = unique("spo_my_ansible")
    mariadb_db.track(target)
    app = tmp_path / "app"
    app.mkdir()
    (app / "run.sh").write_text("#!/bin/sh\n")
    root = str(tmp_path / "backups")
    results = _play(
        tmp_path,
        [
            {
                "name": "dump",
                "register": "dumped",
                "db_dump": {
                    "engine": "mariadb",
                    "database": source,
                    "backup_root": root,
                    "login_user": "root",
                },
            },
            {
                "name": "restore",
                "db_restore": {
                    "backup": "{{ dumped.path }}",
                    "login_user": "root",
                    "target_database": target,
                    "tables": ["t"],
                },
            },
            {
                "name": "files",
                "register": "archived",
                "files_backup": {"path": str(app), "source": "app", "backup_root": root},
            },
            {
                "name": "files restore",
                "files_restore": {
                    "backup": "{{ archived.path }}",
                    "target": str(tmp_path / "app2"),
                },
            },
        ],
    )
    assert results["restore"]["tables"] == {"t": 2}
    assert mariadb(f"SELECT b FROM `{target}`.t ORDER BY a;").split() == ["satu", "dua"]
    assert (tmp_path / "app2" / "run.sh").read_text() == "#!/bin/sh\n"
    assert results["files restore"]["changed"]


def _old_backups(root: Path, days: int) -> list[str]:
    """Complete-looking backup folders of one source, one a day, oldest first."""
    names = []
    for day in range(1, days + 1):
        name = f"202501{day:02d}T050000.000Z_h_sik_automatic"
        (root / name).mkdir(parents=True)
        manifest = {"schema": 1, "status": "complete", "host": "h", "source": "sik"}
        manifest |= {"kind": "automatic", "started_at": f"2025-01-{day:02d}T05:00:00.000Z"}
        (root / name / "manifest.json").write_text(json.dumps(manifest))
        names.append(name)
    return names


def test_backup_pin_keeps_a_backup_through_prune_until_unpinned(tmp_path) -> None:
    root = tmp_path / "backups"
    oldest, second, *_ = _old_backups(root, 7)
    pin = {"backup": str(root / oldest), "reason": "monthly copy 2025-01"}
    unpin = {"backup": str(root / oldest), "state": "unpinned"}
    stat = {
        "ansible.builtin.stat": {"path": str(root / oldest / "pinned.json")},
        "vars": {"ansible_python_interpreter": "/usr/bin/python3"},  # as our modules' shebang
    }
    results = _play(
        tmp_path,
        [
            {"name": "plan pin", "backup_pin": pin, "check_mode": True},
            {"name": "after plan pin", **stat},
            {"name": "pin", "backup_pin": pin},
            {"name": "pin again", "backup_pin": pin},
            {"name": "prune", "backup_prune": {"backup_root": str(root)}},
            {"name": "no reason", "backup_pin": {"backup": pin["backup"]}, "ignore_errors": True},
            {"name": "plan unpin", "backup_pin": unpin, "check_mode": True},
            {"name": "after plan unpin", **stat},
            {"name": "unpin", "backup_pin": unpin},
            {"name": "unpin again", "backup_pin": unpin},
            {"name": "prune unpinned", "backup_prune": {"backup_root": str(root)}},
        ],
    )
    assert results["plan pin"]["changed"] and not results["after plan pin"]["stat"]["exists"]
    assert results["pin"]["changed"] and results["pin"]["pinned"] == "monthly copy 2025-01"
    assert results["pin again"]["changed"] is False
    assert results["prune"]["removed"] == [second]  # the floor keeps 5, the pin the oldest
    kept = {d["name"]: d["reasons"] for d in results["prune"]["decisions"]}
    assert kept[oldest] == ["pinned: monthly copy 2025-01"]
    assert "missing: reason" in results["no reason"]["msg"]
    assert results["plan unpin"]["changed"] and results["after plan unpin"]["stat"]["exists"]
    assert results["unpin"]["changed"] and results["unpin"]["previous"] == "monthly copy 2025-01"
    assert results["unpin again"]["changed"] is False
    assert results["prune unpinned"]["removed"] == [oldest]


def test_mirror_info_reads_the_local_servers_and_changes_nothing(tmp_path, backup_json) -> None:
    textfiles = tmp_path / "textfiles"
    backup = backup_json(metrics_file=str(textfiles / "spo_backup.prom"))
    mirror_json = tmp_path / "mirror.json"
    mirror_json.write_text(
        json.dumps(
            {
                "policy_seconds": 600,
                "postgresql": {"port": 5432, "pgbackrest": None},
                "mariadb": {"socket": "/run/mysqld/mysqld.sock"},
            }
        )
    )
    args = {"config": str(backup), "mirror_config": str(mirror_json)}
    results = _play(
        tmp_path,
        [
            {"name": "read", "mirror_info": args},
            {"name": "read in check mode", "mirror_info": args, "check_mode": True},
            {"name": "no config", "mirror_info": {**args, "mirror_config": "/nowhere.json"}},
        ],
    )
    for name in ("read", "read in check mode"):
        result = results[name]
        assert result["changed"] is False and result["status"]["ok"] is True
        roles = [(e["engine"], e["role"]) for e in result["status"]["engines"]]
        assert roles == [("postgresql", "primary"), ("mariadb", "primary")]
        assert "spo_mirror_ok 1" in result["metrics"]
    assert results["no config"]["failed"] and "db_mirror role" in results["no config"]["msg"]
    assert not textfiles.exists()  # the module reads only: the host's command writes metrics
