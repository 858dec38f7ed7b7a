"""Delivery of a notice: email over SMTP and a JSON webhook (chat gateways).

Each raises ``DeliveryError`` naming the channel and the server; the secrets (SMTP password,
webhook headers) come from root-only files and never appear in a message.
"""

import email.message
import email.utils
import json
import smtplib
import ssl
import urllib.error
import urllib.request

from .config import Email, Webhook, read_secret
from .errors import BackupError

TIMEOUT = 30  # seconds: a mail server that hangs must not hold the backup lock's successor


class DeliveryError(BackupError):
    """A notice could not be delivered."""


def send_email(cfg: Email, subject: str, body: str, event: str) -> None:
    msg = email.message.EmailMessage()
    msg["Subject"] = subject
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.to)
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg["Message-ID"] = email.utils.make_msgid(domain=cfg.sender.rpartition("@")[2] or None)
    msg["X-SPO-Event"] = event
    msg.set_content(body)
    where = f"email via {cfg.host}:{cfg.port}"
    try:
        with smtplib.SMTP(cfg.host, cfg.port, timeout=TIMEOUT) as smtp:
            if cfg.starttls:
                cafile = str(cfg.ca_file) if cfg.ca_file else None
                smtp.starttls(context=ssl.create_default_context(cafile=cafile))
            if cfg.user and cfg.password_file:
                smtp.login(cfg.user, read_secret(cfg.password_file, "SMTP password"))
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise DeliveryError(
            f"{where} to {', '.join(cfg.to)} failed: {type(exc).__name__}: {exc}",
            "check the mail server, the account and the certificate in the notify settings",
        ) from None


def post_webhook(cfg: Webhook, body: dict) -> None:
    headers = {"Content-Type": "application/json", "User-Agent": "spo-backup"}
    if cfg.headers_file:
        try:
            extra = json.loads(read_secret(cfg.headers_file, "webhook headers"))
            headers.update({str(k): str(v) for k, v in extra.items()})
        except (ValueError, AttributeError):
            raise DeliveryError(
                f"the webhook headers file {cfg.headers_file} is not a JSON object",
                'write it as {"Header-Name": "value"}',
            ) from None
    data = json.dumps(body, sort_keys=True).encode("utf-8")
    # The scheme is checked (http/https only) when the config is loaded.
    request = urllib.request.Request(cfg.url, data, headers, method="POST")  # noqa: S310
    where = f"webhook {_without_query(cfg.url)}"
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310
            answer.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"{where} answered HTTP {exc.code}", _WEBHOOK_HINT) from None
    except OSError as exc:  # URLError and timeouts are OSErrors
        raise DeliveryError(f"{where} failed: {exc}", _WEBHOOK_HINT) from None


def _without_query(url: str) -> str:
    # Chat gateways often put the token in the query string: never log it.
    return url.split("?", 1)[0]


_WEBHOOK_HINT = "check that the chat gateway is up and the URL and headers are right"
