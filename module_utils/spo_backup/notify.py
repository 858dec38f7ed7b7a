"""Who is told what: a notice on failure, on the first success after a failure (recovery), and
a daily digest; never a success notice for a failed run.

Texts come from the message catalogues in ``messages/`` (Indonesian and English). One email
holds every configured language, Indonesian first; the webhook body always carries both.
Delivery never raises: a notice that cannot be delivered is logged and returned as such, so
it can neither turn a good backup into a failed one nor hide a failure.
"""

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from string import Template

from . import atomic, channels, manifest
from .config import LANGUAGES, Config
from .errors import BackupError
from .messages import en
from .messages import id as indonesian

log = logging.getLogger(__name__)


_CATALOGUES = {"en": en.TEXTS, "id": indonesian.TEXTS}


def catalogue(language: str) -> dict[str, str]:
    return _CATALOGUES[language]


def text(language: str, key: str, **values: object) -> str:
    return Template(catalogue(language)[key]).substitute(values)


@dataclass
class Notice:
    event: str  # failure, recovery, digest
    result: str  # ok, failed: what the notice reports, never "ok" for a failed run
    time: datetime
    source: str | None = None
    error: str | None = None
    values: dict[str, object] = field(default_factory=dict)  # the templates' placeholders


def word(key: str):
    """A placeholder value said in each message's language: the catalogue entry ``key``."""
    return lambda language: text(language, key)


def human_size(count: int | None) -> str:
    size = float(count or 0)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""  # not reached


def local_time(moment: datetime | None) -> str:
    """Times in messages are the hospital's (the host's) clock, with the offset shown."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %z") if moment else ""


def compose(cfg: Config, notice: Notice, language: str) -> tuple[str, str]:
    values = {
        "site": cfg.site,
        "host": cfg.host,
        "source": notice.source or "",
        "time": local_time(notice.time),
        "error": notice.error or "",
        "history_file": cfg.history_file,
        **notice.values,
    }
    # Callable values are said in the message's own language (words, digest lines).
    values = {k: v(language) if callable(v) else v for k, v in values.items()}
    subject = text(language, f"{notice.event}.subject", **values)
    return subject, text(language, f"{notice.event}.body", **values)


def send(cfg: Config, notice: Notice) -> list[dict]:
    """Deliver on every configured channel; return one record per delivery attempt."""
    if notice.event == "recovery" and notice.result != "ok":
        raise ValueError("a recovery notice is only for a successful run")
    texts = {lang: compose(cfg, notice, lang) for lang in LANGUAGES}
    attempts = []
    email, webhook = cfg.notify.email, cfg.notify.webhook
    if email:
        chosen = [texts[lang] for lang in cfg.notify.languages]
        subject = " / ".join(s for s, _ in chosen)
        body = "\n\n----------------------------------------\n\n".join(b for _, b in chosen)
        attempts.append(
            _attempt(
                "email", notice, lambda: channels.send_email(email, subject, body, notice.event)
            )
        )
    if webhook:
        body = {
            "event": notice.event,
            "site": cfg.site,
            "host": cfg.host,
            "source": notice.source,
            "result": notice.result,
            "error": notice.error,
            "time": manifest.iso(notice.time),
            **{f"text_{lang}": f"{s}\n\n{b}" for lang, (s, b) in texts.items()},
        }
        attempts.append(_attempt("webhook", notice, lambda: channels.post_webhook(webhook, body)))
    return attempts


def _attempt(channel: str, notice: Notice, deliver) -> dict:
    record = {"channel": channel, "event": notice.event, "source": notice.source}
    try:
        deliver()
    except Exception as exc:  # whatever went wrong, the next channel still gets its chance
        why = str(exc) if isinstance(exc, BackupError) else f"{type(exc).__name__}: {exc}"
        log.error("%s notice of %s not delivered: %s", notice.event, notice.source or "all", why)
        return {**record, "delivered": False, "error": why}
    log.info("%s notice of %s sent by %s", notice.event, notice.source or "all", channel)
    return {**record, "delivered": True, "error": None}


# -- per-source state: what the last run's result was, to know a recovery when it comes ----


def transition(state_dir: Path, source: str, ok: bool, when: datetime) -> tuple[str | None, dict]:
    """Record this run's result; return the event it makes (failure, recovery or None) and
    the previous state (its ``since`` is when the failures began)."""
    path = state_dir / f"{source}.json"
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = {}
    result = "ok" if ok else "failed"
    same = previous.get("result") == result
    state_dir.mkdir(mode=0o750, parents=True, exist_ok=True)
    atomic.write_json(
        path,
        {
            "result": result,
            "since": previous["since"] if same else manifest.iso(when),
            "updated": manifest.iso(when),
        },
    )
    if not ok:
        return "failure", previous
    return ("recovery" if previous.get("result") == "failed" else None), previous
