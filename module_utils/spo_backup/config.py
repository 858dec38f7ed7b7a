"""/etc/spo/backup.json: what the host's ``spo-backup`` command backs up, where, whom it tells.

The backup role renders it from the inventory. It is validated whole before anything runs,
so a typo fails loudly (file, key, what was expected) instead of silently skipping a source.
Secrets are never in it, only paths of root-only files, read when they are needed.
"""

import datetime
import json
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import catalog, compress, destination, prune, schedule
from .errors import BackupError

SCHEMA_VERSION = 1
DEFAULT_PATH = Path("/etc/spo/backup.json")
SOURCE_TYPES = ("mariadb", "postgresql", "files")
EVENTS = ("failure", "recovery")
LANGUAGES = ("id", "en")
_HINT = "correct it in the inventory and run the backup role again (it renders this file)"
_REQUIRED = object()


class ConfigError(BackupError):
    """The config file, or a file it names, is not usable."""


@dataclass(frozen=True)
class Source:
    name: str
    type: str  # one of SOURCE_TYPES
    database: str | None = None
    path: Path | None = None  # files sources
    exclude: tuple[str, ...] = ()
    login_user: str | None = None
    login_host: str | None = None
    login_port: int | None = None
    login_unix_socket: str | None = None
    password_file: Path | None = None
    jobs: int = 1
    format: str = "custom"
    globals: bool = True  # PostgreSQL roles and tablespaces: needs a superuser login
    services: tuple[str, ...] = ()  # systemd units that serve it, for ``spo-backup diagnose``
    # Restores create and replace databases, which the read-only backup login may not do.
    restore_login_user: str | None = None  # None: the backup login
    restore_password_file: Path | None = None


@dataclass(frozen=True)
class Offsite:
    name: str
    path: Path
    mount_point: Path | None  # None: a plain directory (no mount contract)
    marker: str = destination.MARKER


_OFFSITE_KEYS = tuple(Offsite.__annotations__)


@dataclass(frozen=True)
class Email:
    host: str
    port: int
    starttls: bool
    user: str | None
    password_file: Path | None
    sender: str  # "from" in the file
    to: tuple[str, ...]
    ca_file: Path | None = None  # a private CA for the mail server; None: the system's


@dataclass(frozen=True)
class Webhook:
    url: str
    headers_file: Path | None = None  # a JSON object of headers (tokens): a secret file


@dataclass(frozen=True)
class Notify:
    languages: tuple[str, ...] = LANGUAGES
    on: tuple[str, ...] = EVENTS
    digest: bool = False  # tells the role to schedule ``spo-backup digest``
    email: Email | None = None
    webhook: Webhook | None = None


@dataclass(frozen=True)
class Drill:
    """The weekly test restore (S3.6): where scratch instances and folders live, and which
    copy is tested ("local", or the name of an offsite such as the NAS)."""

    scratch_dir: Path = Path("/var/lib/spo-drill")
    source_of_backups: str = "local"  # "from" in the file


@dataclass(frozen=True)
class Unit:
    """One unit's folder in the central data bank (S0.1): its label and where it lives."""

    name: str
    path: Path
    quota_bytes: int | None = None  # the unit's share of the data bank; None: no quota


@dataclass(frozen=True)
class Databank:
    """The central data bank whose integrity ``spo-backup databank verify`` monitors (S0.3)."""

    units: tuple[Unit, ...] = ()
    state_dir: Path | None = None  # the saved listings; None: <state_dir>/databank


@dataclass(frozen=True)
class Config:
    path: Path
    site: str
    host: str
    backup_root: Path
    history_file: Path
    state_dir: Path
    metrics_file: Path | None
    retention: prune.Policy
    compression: str
    sources: tuple[Source, ...]
    offsite: tuple[Offsite, ...]
    notify: Notify
    calendar: schedule.Calendar = field(default_factory=schedule.Calendar)
    drill: Drill = field(default_factory=Drill)
    databank: Databank = field(default_factory=Databank)

    def calendar_part(self, name: str, missing: str, hint: str):
        """``calendar.<name>`` of the file, or a ConfigError saying what its absence means."""
        part = getattr(self.calendar, name)
        if part is None:
            raise ConfigError(f"{self.path}: calendar.{name}: missing; {missing}", hint)
        return part

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources)
        raise ConfigError(f"{self.path}: no source named {name!r}", f"use one of: {known}")


# -- checks: each is (predicate, what it expects) -------------------------------------------


def _is_label(value: object) -> bool:
    try:
        return isinstance(value, str) and bool(catalog.label(value, "source"))
    except BackupError:
        return False


Check = tuple[Callable[[object], bool], str]
TEXT: Check = (lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string")
ABSPATH: Check = (lambda v: isinstance(v, str) and v.startswith("/"), "an absolute path")
BOOL: Check = (lambda v: isinstance(v, bool), "true or false")
COUNT: Check = (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "an int >= 0")
PORT: Check = (
    lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 < v < 65536,
    "a port number (1-65535)",
)
LABEL: Check = (_is_label, "a name of letters, digits, dots and dashes")


def one_of(*choices: str) -> Check:
    return (lambda v: v in choices, "one of " + ", ".join(choices))


def list_of(check: Check, allow_empty: bool = True) -> Check:
    test, what = check
    return (
        lambda v: isinstance(v, list) and (allow_empty or bool(v)) and all(test(i) for i in v),
        f"a {'' if allow_empty else 'non-empty '}list of {what}s",
    )


class _Section:
    """One JSON object of the file; every complaint names the file and the key path."""

    def __init__(
        self, file: Path, where: str, data: object, allowed: tuple[str, ...], hint: str = _HINT
    ) -> None:
        self.file, self.where, self.hint = file, where, hint  # hint: how the file gets fixed
        if not isinstance(data, dict):
            raise self.error(where, "an object", data)
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise ConfigError(
                f"{file}: {where}: unknown key(s) {', '.join(unknown)}; expected only "
                f"{', '.join(allowed)}",
                hint,
            )
        self.data = data

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where != "(top level)" else name

    def error(self, key: str, expected: str, found: object) -> ConfigError:
        shown = json.dumps(found)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return ConfigError(f"{self.file}: {key}: expected {expected}, found {shown}", self.hint)

    def get(self, name: str, check: Check, default=_REQUIRED, nullable: bool = False):
        if name not in self.data:
            if default is _REQUIRED:
                raise ConfigError(
                    f"{self.file}: {self.key(name)}: missing; expected {check[1]}", self.hint
                )
            return default
        value = self.data[name]
        if value is None and nullable:
            return None
        if not check[0](value):
            raise self.error(self.key(name), check[1] + (" or null" if nullable else ""), value)
        return value

    def path(self, name: str, default=_REQUIRED, nullable: bool = False) -> Path | None:
        value = self.get(name, ABSPATH, default, nullable)
        return None if value is None else Path(value)

    def section(self, name: str, allowed: tuple[str, ...]) -> "_Section":
        value = self.get(name, (lambda v: isinstance(v, dict), "an object"))
        return _Section(self.file, self.key(name), value, allowed, self.hint)


# "path" is the file itself, not a key in it.
_TOP_KEYS = ("schema_version", *(k for k in Config.__annotations__ if k != "path"))


def read_json(path: Path, what: str, missing: str, hint: str = _HINT) -> object:
    """The JSON of a config file; ``missing`` says what writes it, ``hint`` how to fix it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"the {what} {path} does not exist", missing) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"the {what} {path} cannot be read: {exc}", hint) from None


def load(path: Path = DEFAULT_PATH) -> Config:
    data = read_json(path, "config file", "run the backup role on this host")
    top = _Section(path, "(top level)", data, _TOP_KEYS)
    top.get("schema_version", (lambda v: v == SCHEMA_VERSION, f"{SCHEMA_VERSION} (this engine)"))
    # No sources is valid: a backup server runs the engine only for its mirror checks.
    sources = tuple(
        _source(_Section(path, f"sources[{i}]", item, tuple(Source.__annotations__)))
        for i, item in enumerate(top.get("sources", list_of((lambda _v: True, "object"))))
    )
    offsite = tuple(
        _offsite(_Section(path, f"offsite[{i}]", item, _OFFSITE_KEYS))
        for i, item in enumerate(top.get("offsite", list_of((lambda _v: True, "object")), []))
    )
    for what, names in (
        ("sources", [s.name for s in sources]),
        ("offsite", [o.name for o in offsite]),
    ):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"{path}: {what}: the name(s) {', '.join(duplicates)} repeat", _HINT)
    metrics = top.path("metrics_file", None, nullable=True)
    return Config(
        path=path,
        site=top.get("site", TEXT),
        host=top.get("host", LABEL),
        backup_root=top.path("backup_root"),
        history_file=top.path("history_file"),
        state_dir=top.path("state_dir"),
        metrics_file=metrics,
        retention=_retention(top.section("retention", _RETENTION_KEYS)),
        compression=top.get("compression", one_of("auto", *compress.CODECS), "auto"),
        sources=sources,
        offsite=offsite,
        notify=_notify(top.section("notify", tuple(Notify.__annotations__)))
        if top.data.get("notify") is not None
        else Notify(),
        calendar=_calendar(top.section("calendar", _CALENDAR_KEYS))
        if top.data.get("calendar") is not None
        else schedule.Calendar(),
        drill=_drill(top.section("drill", ("scratch_dir", "from")), [o.name for o in offsite])
        if top.data.get("drill") is not None
        else Drill(),
        databank=_databank(top.section("databank", ("units", "state_dir")))
        if top.data.get("databank") is not None
        else Databank(),
    )


def _databank(sec: _Section) -> Databank:
    units = tuple(
        Unit(
            name=unit.get("name", LABEL),
            path=unit.path("path"),
            quota_bytes=unit.get("quota_bytes", COUNT, None, nullable=True),
        )
        for unit in (
            _Section(sec.file, f"{sec.key('units')}[{i}]", item, tuple(Unit.__annotations__))
            for i, item in enumerate(sec.get("units", list_of((lambda _v: True, "object")), []))
        )
    )
    for what, values in (
        ("name", [u.name for u in units]),
        ("path", [str(u.path) for u in units]),
    ):
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise ConfigError(
                f"{sec.file}: {sec.key('units')}: the {what}(s) {', '.join(duplicates)} repeat",
                _HINT,
            )
    return Databank(units=units, state_dir=sec.path("state_dir", None, nullable=True))


def _drill(sec: _Section, offsite: list[str]) -> Drill:
    return Drill(
        scratch_dir=sec.path("scratch_dir", Drill.scratch_dir),
        source_of_backups=sec.get("from", one_of("local", *offsite), "local"),
    )


_CALENDAR_KEYS = ("weekly", "monthly", "manual_max_age_days")
CLOCK: Check = (
    lambda v: isinstance(v, str) and len(v) == 5 and v[2] == ":" and _clock_ok(v),
    'a time of day "HH:MM"',
)


def _clock_ok(value: str) -> bool:
    hours, minutes = value[:2], value[3:]
    return hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60


def _minutes(clock: str) -> int:
    return int(clock[:2]) * 60 + int(clock[3:])


def _calendar(sec: _Section) -> schedule.Calendar:
    weekly = monthly = None
    positive = (lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0, "an int > 0")
    if sec.data.get("weekly") is not None:
        week = sec.section("weekly", ("day", "start", "end", "folder", "keep"))
        start, end = (_minutes(week.get(key, CLOCK)) for key in ("start", "end"))
        if end <= start:
            raise week.error(
                week.key("end"), f"a time after start {week.data['start']}", week.data["end"]
            )
        weekly = schedule.Weekly(
            day=schedule.DAYS.index(week.get("day", one_of(*schedule.DAYS))),
            start=datetime.time(start // 60, start % 60),
            window_minutes=end - start,
            folder=week.get("folder", LABEL, "weekly"),
            keep=max(prune.FLOOR, week.get("keep", COUNT, prune.FLOOR)),
        )
    if sec.data.get("monthly") is not None:
        month = sec.section("monthly", tuple(schedule.Monthly.__annotations__))
        day = (lambda v: isinstance(v, int) and 1 <= v <= 28, "a day of the month, 1-28")
        choices = list_of(one_of(*schedule.SELECTIONS), allow_empty=False)
        targets = tuple(
            _offsite(_Section(sec.file, f"{month.key('targets')}[{i}]", item, _OFFSITE_KEYS))
            for i, item in enumerate(
                month.get("targets", list_of((lambda _v: True, "object"), False))
            )
        )
        monthly = schedule.Monthly(
            day=month.get("day", day),
            targets=targets,
            select=tuple(month.get("select", choices, list(schedule.SELECTIONS))),
            escalate_after_days=month.get("escalate_after_days", positive, 7),
        )
    return schedule.Calendar(
        weekly=weekly,
        monthly=monthly,
        manual_max_age_days=sec.get("manual_max_age_days", positive, 3),
    )


_RETENTION_KEYS = (
    "keep_last",
    "keep_hourly",
    "keep_daily",
    "keep_weekly",
    "keep_monthly",
    "utc_offset_minutes",
)


def _retention(sec: _Section) -> prune.Policy:
    # Periods follow the hospital's clock: the host's own offset unless the file says otherwise.
    offset = (lambda v: isinstance(v, int) and -900 < v < 900, "minutes east of UTC")
    return prune.Policy(
        keep_last=sec.get("keep_last", COUNT, prune.FLOOR),
        hourly=sec.get("keep_hourly", COUNT, 0),
        daily=sec.get("keep_daily", COUNT, 0),
        weekly=sec.get("keep_weekly", COUNT, 0),
        monthly=sec.get("keep_monthly", COUNT, 0),
        utc_offset_minutes=sec.get("utc_offset_minutes", offset, time.localtime().tm_gmtoff // 60),
    )


_DATABASE_KEYS = {
    "name",
    "type",
    "database",
    "login_user",
    "login_host",
    "login_port",
    "login_unix_socket",
    "password_file",
    "jobs",
    "services",
    "restore_login_user",
    "restore_password_file",
}
_ALLOWED = {
    "files": {"name", "type", "path", "exclude", "services"},
    "mariadb": _DATABASE_KEYS,
    "postgresql": _DATABASE_KEYS | {"format", "globals"},
}


def _source(sec: _Section) -> Source:
    kind = sec.get("type", one_of(*SOURCE_TYPES))
    name = sec.get("name", LABEL)
    _only(sec, _ALLOWED[kind], kind)
    services = tuple(sec.get("services", list_of(TEXT), []))
    if kind == "files":
        return Source(
            name,
            kind,
            path=sec.path("path"),
            exclude=tuple(sec.get("exclude", list_of(TEXT), [])),
            services=services,
        )
    return Source(
        name,
        kind,
        services=services,
        database=sec.get("database", TEXT),
        login_user=sec.get("login_user", TEXT, None, nullable=True),
        login_host=sec.get("login_host", TEXT, None, nullable=True),
        login_port=sec.get("login_port", PORT, None, nullable=True),
        login_unix_socket=sec.get("login_unix_socket", ABSPATH, None, nullable=True),
        password_file=sec.path("password_file", None, nullable=True),
        jobs=max(1, sec.get("jobs", COUNT, 1)),
        format=sec.get("format", one_of("custom", "parallel", "directory"), "custom"),
        globals=sec.get("globals", BOOL, True),
        restore_login_user=sec.get("restore_login_user", TEXT, None, nullable=True),
        restore_password_file=sec.path("restore_password_file", None, nullable=True),
    )


def _only(sec: _Section, allowed: set[str], kind: str) -> None:
    extra = sorted(set(sec.data) - allowed)
    if extra:
        raise ConfigError(
            f"{sec.file}: {sec.where}: {', '.join(extra)} do(es) not apply to a {kind} source",
            _HINT,
        )


def _offsite(sec: _Section) -> Offsite:
    off = Offsite(
        name=sec.get("name", LABEL),
        path=sec.path("path"),
        mount_point=sec.path("mount_point", None, nullable=True),
        marker=sec.get("marker", TEXT, destination.MARKER),
    )
    if off.mount_point and not off.path.is_relative_to(off.mount_point):
        raise sec.error(
            sec.key("path"), f"a path under mount_point {off.mount_point}", str(off.path)
        )
    return off


def _notify(sec: _Section) -> Notify:
    email = webhook = None
    if sec.data.get("email") is not None:
        mail = sec.section(
            "email", ("host", "port", "starttls", "user", "password_file", "from", "to", "ca_file")
        )
        email = Email(
            host=mail.get("host", TEXT),
            port=mail.get("port", PORT, 25),
            starttls=mail.get("starttls", BOOL, True),
            user=mail.get("user", TEXT, None, nullable=True),
            password_file=mail.path("password_file", None, nullable=True),
            sender=mail.get("from", TEXT),
            to=tuple(mail.get("to", list_of(TEXT, allow_empty=False))),
            ca_file=mail.path("ca_file", None, nullable=True),
        )
        if bool(email.user) != bool(email.password_file):
            raise ConfigError(
                f"{sec.file}: {mail.where}: user and password_file go together", _HINT
            )
    if sec.data.get("webhook") is not None:
        hook = sec.section("webhook", tuple(Webhook.__annotations__))
        url = (
            lambda v: isinstance(v, str) and v.startswith(("http://", "https://")),
            "an http(s) URL",
        )
        webhook = Webhook(hook.get("url", url), hook.path("headers_file", None, nullable=True))
    return Notify(
        languages=tuple(sec.get("languages", list_of(one_of(*LANGUAGES), False), list(LANGUAGES))),
        on=tuple(sec.get("on", list_of(one_of(*EVENTS)), list(EVENTS))),
        digest=sec.get("digest", BOOL, False),
        email=email,
        webhook=webhook,
    )


def read_secret(path: Path, what: str) -> str:
    """The secret in a root-only file, without its trailing newline.

    A file others can read is refused: the secret may already have leaked, and going on
    would hide that.
    """
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"the {what} file {path} is not a regular file", _REWRITE)
        if info.st_mode & 0o077:
            raise ConfigError(
                f"the {what} file {path} can be read by group or others "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); refusing to use it",
                f"run: chmod 600 {path}, then consider the secret exposed and change it",
            )
        if info.st_uid not in (0, os.geteuid()):
            raise ConfigError(
                f"the {what} file {path} belongs to uid {info.st_uid}, not root", _REWRITE
            )
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except FileNotFoundError:
        raise ConfigError(f"the {what} file {path} does not exist", _REWRITE) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"the {what} file {path} cannot be read: {exc}", _REWRITE) from None


_REWRITE = "run the backup role again: it writes secret files as root, mode 0600"
