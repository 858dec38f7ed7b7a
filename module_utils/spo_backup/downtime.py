"""Planned server downtime (S4): the notices to the hospital's departments.

Before the maintenance every department is told the plan (S4.2: ``announce``), then that it
starts (``starting``), and after the updates, restarts and checks (S4.3, S4.4) that the
systems are back in service (S4.5: ``back-in-service``). A downtime run that stops half way
tells IT support only (``failed``), never the departments.

A department gets one email holding both languages, Indonesian first, sent through the mail
server of the host's backup config with the department's addresses as recipients, and/or a
JSON webhook post. IT gets ``failed`` on the config's own notify channels. Every delivery
attempt is returned and appended to the host's history as a ``notification`` record, so a
report can prove who was told what and when. Delivery never raises; only a window or a
department list that makes no sense does, before anything is sent.
"""

import dataclasses
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from . import channels, history, manifest, notify
from .config import LANGUAGES, Config, Email, Webhook
from .errors import BackupError

log = logging.getLogger(__name__)

KINDS = ("announce", "starting", "back-in-service", "failed")
_TEXT_KEY = {
    "announce": "downtime-announce",
    "starting": "downtime-starting",
    "back-in-service": "downtime-back",
    "failed": "downtime-failed",
}
IT = "IT"  # the "department" of the failed notice: IT support, on the config's own channels
WINDOW_KEYS = (
    "id",
    "start",
    "estimate_min",
    "estimate_max",
    "services",
    "hosts",
    "measured_minutes",
    "untouched",
)
_SEPARATOR = "\n\n----------------------------------------\n\n"

_WEEKDAYS = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "id": (
        *("Januari", "Februari", "Maret", "April", "Mei", "Juni"),
        *("Juli", "Agustus", "September", "Oktober", "November", "Desember"),
    ),
    "en": (
        *("January", "February", "March", "April", "May", "June"),
        *("July", "August", "September", "October", "November", "December"),
    ),
}


class DowntimeError(BackupError):
    """The window or the department list cannot be used: nothing was sent."""


_HINT = "correct the downtime window or the departments in the inventory and run again"


# -- dates as people read them, in the window's own offset -------------------------------


def utc_offset(moment: datetime) -> str:
    """``UTC+07:00`` for a time at +07:00."""
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def say_date(moment: datetime, language: str) -> str:
    """``Sabtu, 12 Desember 2026`` / ``Saturday 12 December 2026``: no locale needed."""
    return notify.text(
        language,
        "downtime.date",
        weekday=_WEEKDAYS[language][moment.weekday()],
        day=moment.day,
        month=_MONTHS[language][moment.month - 1],
        year=moment.year,
    )


def say_time(moment: datetime, language: str) -> str:
    """``Sabtu, 12 Desember 2026 pukul 21:00 (UTC+07:00)`` /
    ``Saturday 12 December 2026 at 21:00 (UTC+07:00)``, in the moment's own offset."""
    return notify.text(
        language,
        "downtime.when",
        date=say_date(moment, language),
        clock=moment.strftime("%H:%M"),
        offset=utc_offset(moment),
    )


def _say_end(start: datetime, end: datetime, language: str) -> str:
    """The end as a clock time when it falls on the start's day, else in full."""
    if end.date() == start.date():
        return notify.text(language, "downtime.end-same-day", clock=end.strftime("%H:%M"))
    return say_time(end, language)


# -- checking what the caller gave --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Window:
    id: str
    start: datetime
    estimate_min: int
    estimate_max: int
    services: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    measured_minutes: float | None = None
    untouched: tuple[str, ...] | None = None  # failed: hosts left without update or restart

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "start": self.start.isoformat(),
            "estimate_min": self.estimate_min,
            "estimate_max": self.estimate_max,
            "services": list(self.services),
            "hosts": list(self.hosts),
            "measured_minutes": self.measured_minutes,
            "untouched": None if self.untouched is None else list(self.untouched),
        }


def _bad(where: str, expected: str, found: object) -> DowntimeError:
    return DowntimeError(f"{where}: expected {expected}, found {found!r}", _HINT)


def _number(where: str, value: object, whole: bool) -> float:
    # Templated playbook values may arrive as strings: "15" is 15.
    if isinstance(value, str):
        try:
            value = int(value) if whole else float(value)
        except ValueError:
            raise _bad(where, "a number", value) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _bad(where, "a number >= 0", value)
    if whole and value != int(value):
        raise _bad(where, "a whole number of minutes", value)
    return int(value) if whole else value


def _texts(where: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        raise _bad(where, "a list of names", value)
    return tuple(value)


def window_of(data: object) -> Window:
    """The window dict checked whole: a typo fails before anyone is told anything."""
    if isinstance(data, Window):
        return data
    if not isinstance(data, dict):
        raise _bad("window", "a dict", data)
    unknown = sorted(set(data) - set(WINDOW_KEYS))
    if unknown:
        raise DowntimeError(
            f"window: unknown key(s) {', '.join(unknown)}; expected only {', '.join(WINDOW_KEYS)}",
            _HINT,
        )
    for key in ("id", "start", "estimate_min", "estimate_max"):
        if data.get(key) is None:
            raise DowntimeError(f"window.{key}: missing", _HINT)
    if not isinstance(data["id"], str) or not data["id"].strip():
        raise _bad("window.id", "a non-empty string such as 2026-12", data["id"])
    try:
        start = datetime.fromisoformat(str(data["start"]).replace("Z", "+00:00"))
    except ValueError:
        expected = "an ISO 8601 time such as 2026-12-12T21:00+07:00"
        raise _bad("window.start", expected, data["start"]) from None
    if start.tzinfo is None:
        raise _bad("window.start", "a time with its UTC offset (+07:00)", data["start"])
    low = _number("window.estimate_min", data["estimate_min"], whole=True)
    high = _number("window.estimate_max", data["estimate_max"], whole=True)
    if low < 1 or high < low:
        raise DowntimeError(
            f"window: the estimate {low}-{high} minutes is not a range of at least 1 minute",
            _HINT,
        )
    measured = data.get("measured_minutes")
    untouched = data.get("untouched")
    return Window(
        id=data["id"],
        start=start,
        estimate_min=low,
        estimate_max=high,
        services=_texts("window.services", data.get("services")),
        hosts=_texts("window.hosts", data.get("hosts")),
        measured_minutes=None
        if measured is None
        else _number("window.measured_minutes", measured, whole=False),
        untouched=None if untouched is None else _texts("window.untouched", untouched),
    )


_ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+$")


@dataclasses.dataclass(frozen=True)
class Department:
    name: str
    email: tuple[str, ...] = ()
    webhook: str | None = None


def departments_of(data: object) -> list[Department]:
    """The departments, checked; keys other than name, email and webhook are ignored (the
    inventory may keep more about a unit)."""
    if not isinstance(data, list | tuple):
        raise _bad("departments", "a list", data)
    found = []
    for i, item in enumerate(data):
        where = f"departments[{i}]"
        if not isinstance(item, dict):
            raise _bad(where, "a dict with name, email and webhook", item)
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _bad(f"{where}.name", "a non-empty string", name)
        addresses = item.get("email") or []
        addresses = [addresses] if isinstance(addresses, str) else addresses
        if not isinstance(addresses, list | tuple) or not all(
            isinstance(a, str) and _ADDRESS.match(a.strip()) for a in addresses
        ):
            raise _bad(f"{where}.email ({name})", "a list of email addresses", item.get("email"))
        url = item.get("webhook") or None
        if url is not None and not (
            isinstance(url, str) and url.startswith(("http://", "https://"))
        ):
            raise _bad(f"{where}.webhook ({name})", "an http(s) URL or null", url)
        if not addresses and not url:
            raise DowntimeError(
                f"{where}: department {name} has neither email addresses nor a webhook: "
                "it cannot be told",
                _HINT,
            )
        found.append(Department(name.strip(), tuple(a.strip() for a in addresses), url))
    names = [d.name for d in found]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DowntimeError(f"departments: the name(s) {', '.join(repeated)} repeat", _HINT)
    return found


# -- who gets what ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Target:
    department: str
    channel: str  # email, webhook
    to: str  # addresses, or the webhook URL without its query (tokens live there)
    languages: tuple[str, ...]
    email: Email | None = None
    webhook: Webhook | None = None
    problem: str | None = None  # why it cannot be delivered, known before trying


def _targets(cfg: Config, kind: str, departments: list[Department]) -> list[_Target]:
    if kind == "failed":  # IT support only, on the config's channels, in its languages
        found = []
        if cfg.notify.email:
            mail = cfg.notify.email
            found.append(_Target(IT, "email", ", ".join(mail.to), cfg.notify.languages, mail))
        if cfg.notify.webhook:
            hook = cfg.notify.webhook
            to = channels._without_query(hook.url)
            found.append(_Target(IT, "webhook", to, LANGUAGES, webhook=hook))
        return found
    found = []
    for dept in departments:
        if dept.email:
            to = ", ".join(dept.email)
            if cfg.notify.email:
                mail = dataclasses.replace(cfg.notify.email, to=dept.email)
                found.append(_Target(dept.name, "email", to, LANGUAGES, mail))
            else:
                problem = f"no mail server to send through: {cfg.path} has no notify.email"
                found.append(_Target(dept.name, "email", to, LANGUAGES, problem=problem))
        if dept.webhook:
            # The config's webhook keeps its headers (tokens) when a department shares it.
            own = cfg.notify.webhook
            hook = own if own and own.url == dept.webhook else Webhook(dept.webhook)
            to = channels._without_query(dept.webhook)
            found.append(_Target(dept.name, "webhook", to, LANGUAGES, webhook=hook))
    return found


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise DowntimeError(f"kind: expected one of {', '.join(KINDS)}, found {kind!r}", _HINT)
    return kind


def plan(cfg: Config, kind: str, window: object, departments: object) -> list[dict]:
    """Who would be told, by which channel, without sending anything (check mode). Raises
    DowntimeError when the window or the departments cannot be used."""
    window_of(window)
    found = _targets(cfg, _kind(kind), departments_of(departments) if kind != "failed" else [])
    return [
        {"department": t.department, "channel": t.channel, "to": t.to, "problem": t.problem}
        for t in found
    ]


# -- the texts ----------------------------------------------------------------------------


def _minutes(value: float) -> str:
    return str(max(1, round(value))) if value > 0 else "0"


def compose(
    cfg: Config,
    kind: str,
    window: Window,
    department: str,
    language: str,
    now: datetime,
    by: str = "",
    reason: str = "",
    error: str | None = None,
) -> tuple[str, str]:
    """Subject and body of one notice in one language."""
    key = _TEXT_KEY[_kind(kind)]
    zone = window.start.tzinfo
    now = now.astimezone(zone)
    # The expected end: from the planned start until it starts, then from when it did.
    begin = now if kind in ("starting", "back-in-service", "failed") else window.start
    end = begin + timedelta(minutes=window.estimate_max)
    none = notify.text(language, "none")

    def line(name: str, **values: object) -> str:
        return notify.text(language, name, **values)

    estimate = (
        str(window.estimate_min)
        if window.estimate_min == window.estimate_max
        else f"{window.estimate_min}\u2013{window.estimate_max}"
    )
    details = [line("downtime.reason", reason=reason) if reason else ""]
    details.append(line("downtime.by", by=by) if by else "")
    measured = (
        line(
            "downtime-back.measured",
            minutes=_minutes(window.measured_minutes),
            estimate=estimate,
        )
        if window.measured_minutes is not None
        else ""
    )
    untouched = (
        (", ".join(window.untouched) or none)
        if window.untouched is not None
        else line("downtime.unknown")
    )
    values = {
        "site": cfg.site,
        "host": cfg.host,
        "history_file": cfg.history_file,
        "window": window.id,
        "department": department,
        "date": say_date(window.start, language),
        "when": say_time(window.start, language),
        "now": say_time(now, language),
        "end": _say_end(begin, end, language),
        "estimate": estimate,
        "services": ", ".join(window.services) or none,
        "hosts": ", ".join(window.hosts) or none,
        "untouched": untouched,
        "measured": measured,
        "error": error or line("downtime.unknown"),
        "details": "\n".join(d for d in details if d),
    }
    subject = notify.text(language, f"{key}.subject", **values)
    body = notify.text(language, f"{key}.body", **values)
    # Optional lines left empty leave no run of blank lines behind.
    return subject, re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"


# -- sending ------------------------------------------------------------------------------


def event_of(kind: str) -> str:
    return f"downtime-{_kind(kind)}"


def send(
    cfg: Config,
    kind: str,
    window: object,
    departments: object,
    by: str = "",
    reason: str = "",
    error: str | None = None,
) -> list[dict]:
    """Tell every department (IT support alone for ``failed``); one result per delivery:
    ``{"department", "channel", "to", "delivered", "error", "time"}``. Each is appended to
    the host's history. Raises DowntimeError only for a window or departments that make no
    sense, before sending anything; a delivery that fails is returned as such."""
    win = window_of(window)
    event = event_of(kind)
    targets = _targets(cfg, kind, departments_of(departments) if kind != "failed" else [])
    now = manifest.utc_now()
    results = []
    for target in targets:
        texts = {
            lang: compose(cfg, kind, win, target.department, lang, now, by, reason, error)
            for lang in LANGUAGES
        }
        result = _deliver(cfg, event, win, target, texts, now, by, reason, error)
        results.append(result)
        _record(cfg, event, win, result, by)
    return results


def _deliver(
    cfg: Config,
    event: str,
    win: Window,
    target: _Target,
    texts: dict[str, tuple[str, str]],
    now: datetime,
    by: str,
    reason: str,
    error: str | None,
) -> dict:
    deliver: Callable[[], None]
    if target.channel == "email":
        chosen = [texts[lang] for lang in target.languages]
        subject = " / ".join(s for s, _ in chosen)
        body = _SEPARATOR.join(b for _, b in chosen)

        def deliver() -> None:
            channels.send_email(target.email, subject, body, event)

    else:
        post = {
            "event": event,
            "site": cfg.site,
            "host": cfg.host,
            "department": target.department,
            "window": win.as_dict(),
            "by": by or None,
            "reason": reason or None,
            "error": error,
            "time": manifest.iso(now),
            **{f"text_{lang}": f"{s}\n\n{b}" for lang, (s, b) in texts.items()},
        }

        def deliver() -> None:
            channels.post_webhook(target.webhook, post)

    result = {"department": target.department, "channel": target.channel, "to": target.to}
    try:
        if target.problem:
            raise channels.DeliveryError(target.problem, "")
        deliver()
    except Exception as exc:  # whatever went wrong, the next department still gets its turn
        why = str(exc) if isinstance(exc, BackupError) else f"{type(exc).__name__}: {exc}"
        log.error(
            "%s notice to %s by %s not delivered: %s", event, target.department, target.channel, why
        )
        stamp = manifest.iso(manifest.utc_now())
        return {**result, "delivered": False, "error": why, "time": stamp}
    log.info("%s notice sent to %s by %s", event, target.department, target.channel)
    return {**result, "delivered": True, "error": None, "time": manifest.iso(manifest.utc_now())}


def _record(cfg: Config, event: str, win: Window, result: dict, by: str) -> None:
    line = {
        "record": "notification",
        "host": cfg.host,
        "event": event,
        "window": win.id,
        "by": by or None,
        **result,
    }
    try:
        history.append(cfg.history_file, line)
    except OSError as exc:  # the notice went out; a history that cannot be written is logged
        log.error(
            "%s notice to %s not recorded in %s: %s",
            *(event, result["department"], cfg.history_file, exc),
        )
