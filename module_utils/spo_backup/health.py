"""Health checks a host runs on itself after the update and restart of a planned downtime
(S4.4: IT verifies that the systems and servers are stable and working).

Four kinds, each read-only:

- ``systemd``: ``systemctl is-active UNIT`` says ``active``;
- ``port``: a TCP connection to HOST:PORT is accepted;
- ``sql``: a query answers (PostgreSQL: by default ``psql`` over the local socket as the OS
  user postgres, peer authentication; MariaDB: by default the ``mariadb`` client as root over
  the socket). No passwords: a login that needs one is not for these checks;
- ``http``: a GET of URL answers the expected status (200 unless told).

A service still starting gets time: each check is tried up to ``retries`` times (10), with
``delay`` seconds (3) between tries; the checks run side by side. Every result names what was
checked and, when it failed, why, as specifically as the system said it.
"""

import http.client
import os
import pwd
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from . import mariadb, proc
from .errors import BackupError

TYPES = ("systemd", "port", "sql", "http")
ENGINES = ("postgresql", "mariadb")
RETRIES = 10
DELAY = 3.0
TIMEOUT = {"systemd": 10.0, "port": 3.0, "sql": 10.0, "http": 10.0}
_COMMON = ("name", "type", "retries", "delay", "timeout")
_KEYS = {
    "systemd": ("unit",),
    "port": ("host", "port"),
    "sql": (
        "engine",
        "database",
        "query",
        "login_user",
        "login_host",
        "login_port",
        "login_unix_socket",
    ),
    "http": ("url", "status", "validate_certs"),
}
_HINT = "correct the health checks in the inventory and run again"
_PARALLEL = 8


class HealthCheckError(BackupError):
    """A check is not well formed: nothing was checked."""


class _Failed(Exception):
    """One try of a check failed; the message says why."""


# -- checking the checks ------------------------------------------------------------------


def _int(where: str, value: object, low: int, high: int) -> int:
    # Templated playbook values may arrive as strings: "5432" is 5432.
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise HealthCheckError(
            f"{where}: expected a whole number {low}-{high}, found {value!r}", _HINT
        )
    return value


def _seconds(where: str, value: object) -> float:
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = -1.0
    if isinstance(value, bool) or seconds < 0:
        raise HealthCheckError(f"{where}: expected seconds >= 0, found {value!r}", _HINT)
    return seconds


def _text(where: str, value: object, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise HealthCheckError(f"{where}: expected a non-empty string, found {value!r}", _HINT)
    return value


def normalise(checks: object) -> list[dict]:
    """Every check with its defaults filled in; the first malformed one raises
    HealthCheckError naming it and the key."""
    if not isinstance(checks, list | tuple):
        raise HealthCheckError(f"checks: expected a list, found {checks!r}", _HINT)
    return [_normalise(f"checks[{i}]", check) for i, check in enumerate(checks)]


def _normalise(where: str, check: object) -> dict:
    if not isinstance(check, dict):
        raise HealthCheckError(f"{where}: expected a dict, found {check!r}", _HINT)
    kind = check.get("type")
    if kind not in TYPES:
        raise HealthCheckError(
            f"{where}.type: expected one of {', '.join(TYPES)}, found {kind!r}", _HINT
        )
    allowed = (*_COMMON, *_KEYS[kind])
    unknown = sorted(set(check) - set(allowed))
    if unknown:
        raise HealthCheckError(
            f"{where}: unknown key(s) {', '.join(unknown)} for a {kind} check; expected only "
            f"{', '.join(allowed)}",
            _HINT,
        )
    got = {k: v for k, v in check.items() if v is not None}
    found = {
        "type": kind,
        "retries": _int(f"{where}.retries", got.get("retries", RETRIES), 1, 1000),
        "delay": _seconds(f"{where}.delay", got.get("delay", DELAY)),
        "timeout": _seconds(f"{where}.timeout", got.get("timeout", TIMEOUT[kind])) or 0.1,
    }
    if kind == "systemd":
        found["unit"] = _text(f"{where}.unit", got.get("unit"))
        default = found["unit"]
    elif kind == "port":
        found["host"] = _text(f"{where}.host", got.get("host", "127.0.0.1"))
        found["port"] = _int(f"{where}.port", got.get("port"), 1, 65535)
        default = f"{found['host']}:{found['port']}"
    elif kind == "sql":
        engine = got.get("engine")
        if engine not in ENGINES:
            raise HealthCheckError(
                f"{where}.engine: expected one of {', '.join(ENGINES)}, found {engine!r}", _HINT
            )
        found["engine"] = engine
        fallback = "postgres" if engine == "postgresql" else None
        found["database"] = _text(f"{where}.database", got.get("database", fallback), False)
        found["query"] = _text(f"{where}.query", got.get("query", "SELECT 1"))
        for key in ("login_user", "login_host", "login_unix_socket"):
            found[key] = _text(f"{where}.{key}", got.get(key), False)
        port = got.get("login_port")
        found["login_port"] = None if port is None else _int(f"{where}.login_port", port, 1, 65535)
        default = f"{engine} {found['database'] or ''}".strip()
    else:
        url = _text(f"{where}.url", got.get("url"))
        if not url.startswith(("http://", "https://")):
            raise HealthCheckError(f"{where}.url: expected an http(s) URL, found {url!r}", _HINT)
        found["url"] = url
        found["status"] = _int(f"{where}.status", got.get("status", 200), 100, 599)
        certs = got.get("validate_certs", True)
        if not isinstance(certs, bool):
            raise HealthCheckError(f"{where}.validate_certs: expected true or false", _HINT)
        found["validate_certs"] = certs
        default = _shown(url)
    found["name"] = _text(f"{where}.name", got.get("name", default))
    return found


# -- running ------------------------------------------------------------------------------


def run(checks: list[dict]) -> list[dict]:
    """Run every check (side by side), each until it passes or its tries are spent; one
    result per check, in order: ``{"name", "type", "ok", "detail", "seconds", "attempts"}``.
    Raises HealthCheckError, before checking anything, when a check is malformed."""
    ready = normalise(checks)
    if not ready:
        return []
    with ThreadPoolExecutor(max_workers=min(_PARALLEL, len(ready))) as pool:
        return list(pool.map(run_one, ready))


def run_one(check: dict) -> dict:
    """One normalised check, tried until it passes or ``retries`` tries have failed."""
    probe = _PROBES[check["type"]]
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            ok, detail = True, probe(check)
        except _Failed as exc:
            ok, detail = False, str(exc)
        except Exception as exc:  # a check must report, never crash the others
            ok, detail = False, f"{check['type']} check failed: {type(exc).__name__}: {exc}"
        if ok or attempt >= check["retries"]:
            break
        time.sleep(check["delay"])
    seconds = time.monotonic() - started
    if not ok and attempt > 1:
        detail += f" (still failing after {attempt} tries in {seconds:.0f} s)"
    return {
        "name": check["name"],
        "type": check["type"],
        "ok": ok,
        "detail": detail,
        "seconds": round(seconds, 3),
        "attempts": attempt,
    }


def failed(results: list[dict]) -> list[dict]:
    return [r for r in results if not r["ok"]]


def _why(exc: BaseException, timeout: float) -> str:
    """An OSError said the way an operator reads it: ``connection refused``."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, socket.gaierror):
        return f"host name not known ({exc.strerror})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return str(exc)


def _command(argv: list[str], timeout: float, cwd: str | None = None) -> tuple[int, str, str]:
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=proc.child_env(),
            timeout=timeout,
            cwd=cwd,
            check=False,
        )
    except FileNotFoundError:
        raise _Failed(f"the program {argv[0]} is not installed on this host") from None
    except subprocess.TimeoutExpired:
        raise _Failed(f"{' '.join(argv[:2])} gave no answer within {timeout:g} s") from None
    out, err = (s.decode("utf-8", "replace").strip() for s in (done.stdout, done.stderr))
    return done.returncode, out, err


def _tail(text: str, lines: int = 3) -> str:
    return " ".join(line.strip() for line in text.splitlines()[-lines:] if line.strip())


# -- systemd ------------------------------------------------------------------------------


def _systemd(check: dict) -> str:
    unit, timeout = check["unit"], check["timeout"]
    _code, state, err = _command(["systemctl", "is-active", unit], timeout)
    if state == "active":
        return f"systemd unit {unit} is active"
    if not state:
        raise _Failed(
            f"systemd unit {unit}: systemctl is-active failed: {_tail(err) or 'no output'}"
        )
    _code, load, _err = _command(
        ["systemctl", "show", "--property=LoadState", "--value", unit], timeout
    )
    if load == "not-found":
        raise _Failed(f"systemd unit {unit} does not exist on this host (not-found)")
    raise _Failed(f"systemd unit {unit} is {state}, not active")


# -- port ---------------------------------------------------------------------------------


def _port(check: dict) -> str:
    host, port, timeout = check["host"], check["port"], check["timeout"]
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise _Failed(f"port {port} on {host}: {_why(exc, timeout)}") from None
    return f"port {port} on {host}: open"


# -- sql ----------------------------------------------------------------------------------


def _current_user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def _postgresql(check: dict) -> tuple[list[str], str, str | None]:
    """psql's argv, where it connects, and the directory to run it in."""
    host, port, user = check["login_host"], check["login_port"], check["login_user"]
    base = ["psql", "-X", "-A", "-t", "-q", "-w", "-v", "ON_ERROR_STOP=1"]
    tail = ["-d", check["database"], "-c", check["query"]]
    if host and not host.startswith("/"):  # TCP: a login without a password (trust, .pgpass)
        argv = [*base, "-h", host, *(["-p", str(port)] if port else [])]
        argv += ["-U", user] if user else []
        return [*argv, *tail], f"{host}:{port or 5432}" + (f" as {user}" if user else ""), None
    # The local socket, as the OS user of the same name (peer authentication).
    user = user or "postgres"
    folder = host or check["login_unix_socket"]
    argv = [*base, *(["-h", folder] if folder else []), *(["-p", str(port)] if port else [])]
    if os.geteuid() == 0 and user != _current_user():
        argv = ["runuser", "-u", user, "--", *argv]
    elif user != _current_user():
        argv += ["-U", user]
    where = f"local socket{f' in {folder}' if folder else ''}, as OS user {user}"
    return [*argv, *tail], where, "/"  # a directory the other user may enter


def _mariadb(check: dict) -> tuple[list[str], str, str | None]:
    host, port, user = check["login_host"], check["login_port"], check["login_user"]
    sock = check["login_unix_socket"]
    argv = [mariadb.client_program(), "--batch", "--skip-column-names"]
    argv.append(f"--connect-timeout={max(1, round(check['timeout']))}")
    for option, value in (("user", user), ("host", host), ("port", port), ("socket", sock)):
        argv += [f"--{option}={value}"] if value else []
    argv += [f"--database={check['database']}"] if check["database"] else []
    if host and host != "localhost":
        where = f"{host}:{port or 3306}"
    else:
        where = f"local socket{f' {sock}' if sock else ''}"
    where += f", as {user or _current_user()}"
    return [*argv, "-e", check["query"]], where, None


def _sql(check: dict) -> str:
    engine = check["engine"]
    argv, where, cwd = (_postgresql if engine == "postgresql" else _mariadb)(check)
    label = "PostgreSQL" if engine == "postgresql" else "MariaDB"
    what = f"{label} database {check['database']}" if check["database"] else label
    code, out, err = _command(argv, check["timeout"], cwd)
    tool = "psql" if engine == "postgresql" else argv[0]
    if code != 0:
        raise _Failed(f"{what} ({where}): {tool} exited with status {code}: {_tail(err)}")
    answer = out.splitlines()[0].strip() if out else "(no rows)"
    return f"{what} ({where}) answered {check['query']!r}: {answer[:200]}"


# -- http ---------------------------------------------------------------------------------


def _shown(url: str) -> str:
    return url.split("?", 1)[0]  # a token in the query string is never shown


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the redirect itself is the answer checked


def _http(check: dict) -> str:
    url, expected, timeout = check["url"], check["status"], check["timeout"]
    handlers: list[urllib.request.BaseHandler] = []
    if not check["validate_certs"]:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        handlers.append(urllib.request.HTTPSHandler(context=context))
    if 300 <= expected < 400:
        handlers.append(_NoRedirect())
    opener = urllib.request.build_opener(*handlers)
    # The scheme is checked (http/https only) in normalise.
    request = urllib.request.Request(url, headers={"User-Agent": "spo-health"})  # noqa: S310
    shown = _shown(url)
    try:
        with opener.open(request, timeout=timeout) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except urllib.error.URLError as exc:
        reason = exc.reason
        why = _why(reason, timeout) if isinstance(reason, BaseException) else str(reason)
        raise _Failed(f"{shown}: {why}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise _Failed(f"{shown}: {_why(exc, timeout)}") from None
    if status != expected:
        raise _Failed(f"{shown} answered HTTP {status}, expected {expected}")
    return f"{shown} answered HTTP {status}"


_PROBES: dict[str, Callable[[dict], str]] = {
    "systemd": _systemd,
    "port": _port,
    "sql": _sql,
    "http": _http,
}
