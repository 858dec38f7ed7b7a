"""/etc/spo/mirror.json: which database servers of this host are mirrored, and the policy.

The db_mirror role renders it. Like backup.json it is validated whole, and every complaint
names the file, the key, what was expected and how to fix it. Site, host, notices, state
and metrics settings come from backup.json (``config``), which a mirror host also has.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from .config import ABSPATH, PORT, Check, ConfigError, _Section, read_json

DEFAULT_PATH = Path("/etc/spo/mirror.json")
_HINT = "correct it in the inventory and run the db_mirror role again (it renders this file)"
_POSITIVE: Check = (
    lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
    "a number of seconds > 0",
)
_DATABASE: Check = (
    lambda v: isinstance(v, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", v) is not None,
    "a database name of letters, digits and underscores",
)
# pgBackRest keeps the archive in <repo_path>/archive/<stanza>/: a name, never a path.
_STANZA: Check = (
    lambda v: isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", v) is not None,
    "a stanza name of letters, digits, dots, dashes and underscores",
)


@dataclass(frozen=True)
class PgBackRest:
    stanza: str
    repo_path: Path

    @property
    def archive_dir(self) -> Path:
        return self.repo_path / "archive" / self.stanza


@dataclass(frozen=True)
class PostgreSQL:
    port: int = 5432
    pgbackrest: PgBackRest | None = None  # None: this host holds no repository


@dataclass(frozen=True)
class MariaDB:
    socket: str = "/run/mysqld/mysqld.sock"


@dataclass(frozen=True)
class MirrorConfig:
    path: Path
    policy_seconds: int
    heartbeat_database: str = "spo"
    postgresql: PostgreSQL | None = None  # None: not mirrored
    mariadb: MariaDB | None = None


def load(path: Path = DEFAULT_PATH) -> MirrorConfig:
    missing = "run the db_mirror role on this host (it writes this file), or pass --mirror-config"
    data = read_json(path, "mirror config file", missing, _HINT)
    top = _Section(path, "(top level)", data, _TOP_KEYS, _HINT)
    cfg = MirrorConfig(
        path=path,
        policy_seconds=top.get("policy_seconds", _POSITIVE),
        heartbeat_database=top.get("heartbeat_database", _DATABASE, "spo"),
        postgresql=_postgresql(top) if top.data.get("postgresql") is not None else None,
        mariadb=_mariadb(top) if top.data.get("mariadb") is not None else None,
    )
    if cfg.postgresql is None and cfg.mariadb is None:
        raise ConfigError(
            f"{path}: postgresql and mariadb are both null: there is nothing to monitor", _HINT
        )
    return cfg


_TOP_KEYS = ("policy_seconds", "heartbeat_database", "postgresql", "mariadb")


def _postgresql(top: _Section) -> PostgreSQL:
    sec = top.section("postgresql", ("port", "pgbackrest"))
    repo = None
    if sec.data.get("pgbackrest") is not None:
        pgbackrest = sec.section("pgbackrest", ("stanza", "repo_path"))
        repo = PgBackRest(pgbackrest.get("stanza", _STANZA), pgbackrest.path("repo_path"))
    return PostgreSQL(port=sec.get("port", PORT, 5432), pgbackrest=repo)


def _mariadb(top: _Section) -> MariaDB:
    sec = top.section("mariadb", ("socket",))
    return MariaDB(socket=sec.get("socket", ABSPATH, MariaDB.socket))
