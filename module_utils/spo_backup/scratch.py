"""Throwaway database servers and folders for the restore drill (S3.6).

Each lives in a fresh folder under the drill's scratch directory: a new cluster or datadir,
run as the database's own OS user and reachable only through a unix socket inside that
folder (no TCP port, no host config read), so no application can reach it and it cannot
clash with the production server on the same host. On exit, also after an error, the server
is stopped and the folder removed. A drill killed with kill -9 leaves both behind: every
folder records its drill's pid in ``owner.json``, and the next drill stops and removes those
whose drill is dead.
"""

import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import atomic, manifest, pg_client, proc
from . import mariadb as maria
from .errors import BackupError, ToolError
from .session import Connection

OWNER = "owner.json"
LOG = "server.log"
START_SECONDS = 60
STOP_SECONDS = 30
_NAME = re.compile(r"^(pg|my|files)-\d{8}T\d{6}Z-(\d+)(\.\d+)?$")
_SOCKET_MAX = 107  # bytes of a unix socket path (sun_path) the kernel accepts
# Fast shutdown: PostgreSQL's SIGTERM would wait for clients a killed drill left behind.
_STOP = {"pg": signal.SIGINT, "my": signal.SIGTERM}


@dataclass(frozen=True)
class Instance:
    engine: str  # postgresql, mariadb
    conn: Connection
    identity: str
    describe: str
    folder: Path | None  # None: a server the operator named, not made by the drill


def identity(engine: str, conn: Connection, database: str | None = None) -> str:
    """What tells one server apart from every other: PostgreSQL's system identifier (a new
    one per initdb; a streaming standby shares its primary's), MariaDB's host and datadir
    (it has no server uuid). ``database``: one the login may connect to (PostgreSQL)."""
    what = f"reading the identity of the {engine} server"
    if engine == "postgresql":
        with (
            pg_client.env(conn) as env,
            pg_client.psql(conn, env, database or "postgres", what) as s,
        ):
            [[system]] = s.query("SELECT system_identifier FROM pg_control_system();")
            return f"postgresql system {system}"
    with maria.session(conn, None, what) as s:
        host, datadir = s.query("SELECT @@hostname, @@datadir;")[0]
        return f"mariadb {host}:{datadir}"


@contextlib.contextmanager
def postgresql(root: Path, seconds: float = START_SECONDS) -> Iterator[Instance]:
    bindir = pg_bindir()
    with folder(root, "pg", "postgres") as home:
        _socket_fits(home / ".s.PGSQL.5432")
        data = home / "data"
        # trust: the socket's folder is closed to everyone but postgres and root.
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
        initdb += ["-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]
        _as_user("postgres", initdb, home, "initdb of a scratch PostgreSQL cluster")
        settings = {
            "listen_addresses": "",
            "unix_socket_directories": str(home),
            "shared_buffers": "16MB",
            "max_connections": "30",
            "maintenance_work_mem": "64MB",
            # Thrown away after the drill: durability buys nothing, and costs restore time.
            "fsync": "off",
            "full_page_writes": "off",
            "synchronous_commit": "off",
        }
        argv = [str(bindir / "postgres"), "-D", str(data)]
        argv += [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
        conn = Connection(host=str(home), user="postgres")
        with _server(argv, "postgres", home, "pg", "postgresql", conn, seconds) as ident:
            yield Instance(
                "postgresql", conn, ident, f"scratch PostgreSQL instance in {home}", home
            )


@contextlib.contextmanager
def mariadb(root: Path, seconds: float = START_SECONDS) -> Iterator[Instance]:
    install, server = _mariadb_programs()
    with folder(root, "my", "mysql") as home:
        sock = home / "mysqld.sock"
        _socket_fits(sock)
        data = home / "data"
        # --no-defaults first: the host's my.cnf (port, binlog, replication) must not apply.
        # root logs in through the socket as the OS user root, which is who runs the drill.
        setup = [install, "--no-defaults", f"--datadir={data}", "--skip-test-db"]
        setup += ["--auth-root-authentication-method=socket", "--skip-name-resolve"]
        _as_user("mysql", setup, home, "mariadb-install-db of a scratch MariaDB datadir")
        argv = [
            server,
            "--no-defaults",
            f"--datadir={data}",
            f"--socket={sock}",
            "--skip-networking",
            f"--pid-file={home / 'mysqld.pid'}",
            f"--tmpdir={home}",
            "--skip-name-resolve",
            "--performance-schema=OFF",
            "--innodb-buffer-pool-size=32M",
            "--key-buffer-size=8M",
            "--max-connections=30",
            # Thrown away after the drill: durability buys nothing, and costs restore time.
            "--innodb-flush-log-at-trx-commit=0",
            "--innodb-doublewrite=0",
        ]
        conn = Connection(user="root", socket=str(sock))
        with _server(argv, "mysql", home, "my", "mariadb", conn, seconds) as ident:
            yield Instance("mariadb", conn, ident, f"scratch MariaDB instance in {home}", home)


@contextlib.contextmanager
def folder(root: Path, kind: str, user: str | None = None) -> Iterator[Path]:
    """A new folder ``<kind>-<UTC time>-<pid>`` under ``root`` for one drill, owned by
    ``user`` (root when None); removed, with all it holds, on exit."""
    _prepare(root)
    clean_leftovers(root)
    base = f"{kind}-{manifest.utc_now().strftime('%Y%m%dT%H%M%SZ')}-{os.getpid()}"
    home, number = root / base, 1
    while True:
        try:
            home.mkdir(mode=0o700)
            break
        except FileExistsError:  # a second instance of this drill within the same second
            number += 1
            home = root / f"{base}.{number}"
    try:
        started = manifest.iso(manifest.utc_now())
        atomic.write_json(home / OWNER, {"pid": os.getpid(), "kind": kind, "started_at": started})
        if user:
            _hand_over(home, user, root)
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def clean_leftovers(root: Path) -> list[str]:
    """Stop the servers of, and remove, the folders of drills that no longer run (killed, or
    their host lost power); return their names. Folders of live drills are left alone, and
    anything not named like a drill's folder too."""
    removed = []
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        pid = _owner(entry)
        if pid is None or atomic.pid_alive(pid):
            continue
        for server in _servers_in(entry):
            _stop(server, _STOP.get(entry.name.split("-", 1)[0], signal.SIGTERM))
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry.name)
    return removed


def _owner(entry: Path) -> int | None:
    """The pid of the drill that made ``entry``, from its owner.json (else from its name,
    for a drill killed before it wrote the file); None: not a drill's folder."""
    match = _NAME.match(entry.name)
    if not match or entry.is_symlink() or not entry.is_dir():
        return None
    try:
        return int(json.loads((entry / OWNER).read_text(encoding="utf-8"))["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return int(match.group(2))


def _servers_in(home: Path) -> list[int]:
    """Processes of the folder's owner whose command line names a path in it: the server
    (PostgreSQL's backends rename themselves and end with it) and an interrupted setup."""
    try:
        uid, inside = home.stat().st_uid, str(home) + "/"
    except OSError:  # another drill cleaned it up first
        return []
    found: list[int] = []
    if uid == 0:  # a folder of program files: no server ever runs as root here
        return found
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit() or entry.stat().st_uid != uid:
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # ended while we looked
            continue
        if any(inside in arg.decode("utf-8", "replace") for arg in argv):
            found.append(int(entry.name))
    return found


def _stop(server: int | subprocess.Popen, how: int) -> None:
    """Ask a server to stop; kill it if it has not within STOP_SECONDS."""
    if isinstance(server, subprocess.Popen):
        if server.poll() is None:
            server.send_signal(how)
            try:
                server.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(server, how)
        deadline = time.monotonic() + STOP_SECONDS
        while _running(server) and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(server, signal.SIGKILL)


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan waits as one until init reaps it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _prepare(root: Path) -> None:
    if not root.is_dir():
        # The database users must pass through it to reach their own folder inside.
        root.mkdir(mode=0o755, parents=True)
        root.chmod(0o755)


def _hand_over(home: Path, user: str, root: Path) -> None:
    """Give the folder to the server's OS user, and make sure that user can reach it."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise BackupError(
            f"there is no {user} user on this host to run a scratch server as",
            f"install the database server package that creates the {user} user",
        ) from None
    os.chown(home, entry.pw_uid, entry.pw_gid)
    try:
        proc.run(
            ["runuser", "-u", user, "--", "test", "-w", str(home)],
            proc.child_env(),
            "",
            "",
            cwd="/",
        )
    except ToolError:
        raise BackupError(
            f"the {user} user cannot reach {home}: a folder above it is closed to other users",
            f"let other users pass through every folder above {root} (chmod o+x), or set the "
            "drill's scratch_dir (backup_drill_scratch_dir) to another place",
        ) from None


def _socket_fits(path: Path) -> None:
    if len(os.fsencode(path)) > _SOCKET_MAX:
        raise BackupError(
            f"the scratch server's socket {path} is longer than the {_SOCKET_MAX} bytes a "
            "unix socket path may have",
            "set the drill's scratch_dir (backup_drill_scratch_dir) to a shorter path",
        )


def _as_user(user: str, argv: list[str], home: Path, what: str) -> None:
    """Run a setup tool as the server's user (initdb refuses root), in a folder it may enter."""
    proc.run(
        ["runuser", "-u", user, "--", *argv],
        proc.child_env(),
        what,
        f"read the message above; the folder {home} is removed again",
        cwd=str(home),
    )


@contextlib.contextmanager
def _server(
    argv: list[str], user: str, home: Path, kind: str, engine: str, conn: Connection, seconds
) -> Iterator[str]:
    """Run the server as ``user`` until the block ends; yield its identity once it answers."""
    entry = pwd.getpwnam(user)
    with open(home / LOG, "ab") as log:
        server = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=proc.child_env(HOME=str(home)),
            cwd=home,
            user=entry.pw_uid,
            group=entry.pw_gid,
            extra_groups=[],
            start_new_session=True,  # a Ctrl-C of the drill must not stop it before we do
        )
    try:
        yield _answering(server, engine, conn, home, seconds)
    finally:
        _stop(server, _STOP[kind])


def _answering(server: subprocess.Popen, engine: str, conn: Connection, home: Path, seconds) -> str:
    """Wait until the server answers; return its identity."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return identity(engine, conn)
        except BackupError:
            code = server.poll()
            if code is not None:
                why = f"stopped while starting (status {code})"
            elif time.monotonic() > deadline:
                why = f"did not accept connections within {seconds:.0f} s"
            else:
                time.sleep(0.2)
                continue
        tail = _tail(home / LOG)
        raise BackupError(
            f"the scratch {engine} server in {home} {why}; the end of its log:\n{tail}",
            "read the log lines above (memory, disk space, a missing package); the folder "
            "is removed again",
        )


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def pg_bindir() -> Path:
    """The PostgreSQL server programs of the major version of this host's pg_restore: a
    scratch server of another version could not take, or would not prove, the dump."""
    env = proc.child_env()
    hint = "install the Debian package postgresql-client (pg_restore)"
    major = _major(
        proc.run(["pg_restore", "--version"], env, "asking pg_restore its version", hint)
    )
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin")]
    if shutil.which("pg_config", path=env["PATH"]):
        with contextlib.suppress(BackupError):
            found = proc.run(["pg_config", "--bindir"], env, "pg_config --bindir", "").strip()
            candidates.insert(0, Path(found))
    for bindir in candidates:
        if (bindir / "initdb").is_file() and _major_of(bindir / "postgres", env) == major:
            return bindir
    raise BackupError(
        f"the PostgreSQL {major} server programs (initdb, postgres) are not on this host: the "
        "drill starts a scratch instance with them",
        f"install the Debian package postgresql-{major} (its own cluster may stay stopped)",
    )


def _major_of(server: Path, env: dict[str, str]) -> str | None:
    if not server.is_file():
        return None
    try:
        return _major(proc.run([str(server), "--version"], env, f"{server} --version", ""))
    except BackupError:
        return None


def _major(version: str) -> str:
    match = re.search(r"\b(\d+)(?:\.\d+)+", version)
    if not match:
        raise BackupError(f"cannot read a PostgreSQL version in {version.strip()!r}", "")
    return match.group(1)


def _mariadb_programs() -> tuple[str, str]:
    # Server programs live in sbin, which a cron job's PATH may lack.
    path = os.pathsep.join([proc.child_env()["PATH"], "/usr/sbin", "/usr/local/sbin"])

    def which(*names: str) -> str | None:
        return next(filter(None, (shutil.which(name, path=path) for name in names)), None)

    install, server = which("mariadb-install-db", "mysql_install_db"), which("mariadbd", "mysqld")
    if not install or not server:
        raise BackupError(
            "the MariaDB server programs (mariadb-install-db, mariadbd) are not on this host: "
            "the drill starts a scratch instance with them",
            "install the Debian package mariadb-server (its own service may stay stopped)",
        )
    return install, server
