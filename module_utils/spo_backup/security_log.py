"""The data bank's security events of a period, read from the host's journal (S0.2, S0.4,
S0.5): failed logins, refused accesses and changes of the staff accounts.

Samba writes them there because the data_bank role configures it so (``logging = syslog``,
``auth_audit`` and ``full_audit``), and the shadow tools (useradd, usermod, userdel) log every
account change to syslog on their own. Nothing here is kept in a second place: the journal is
the record, and the report says how far back it reaches.

The parsing is pure (journal entries in, events out) so that it is tested on the lines Samba
and the shadow tools really write; ``read`` runs ``journalctl`` for the period.
"""

import json
import re
import subprocess
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from . import manifest
from .errors import BackupError

# The syslog identifiers to read: smbd itself, smbd with the full_audit module loaded (it
# opens syslog under its own name, and smbd's later messages in that process follow it),
# and the shadow tools.
IDENTIFIERS = ("smbd", "smbd_audit", "useradd", "usermod", "userdel")
KEPT = 200  # events of each kind a survey carries; the count beside them says all

# "Auth: [SMB2,(null)] user [DOMAIN]\[name] at [...] with [NTLMv2] status [NT_STATUS_...]
#  workstation [WS] remote host [ipv4:10.0.0.5:50000] ..."
_AUTH = re.compile(
    r"Auth: \[[^]]*\] user \[(?P<domain>[^]]*)\]\\\[(?P<user>[^]]*)\] at \[[^]]*\]"
    r" with \[[^]]*\] status \[(?P<status>[A-Z_]+)\]"
    r" workstation \[(?P<workstation>[^]]*)\] remote host \[(?P<remote>[^]]*)\]"
)
_NOT_PERMITTED = re.compile(
    r"user '(?P<user>[^']*)' \(from session setup\) not permitted to access this share"
    r" \((?P<share>[^)]*)\)"
)
_HOST_DENIED = re.compile(r"Denied connection from (?P<address>\S+)")
# full_audit, with the prefix the role sets: user|address|share|operation|result|args...
_AUDIT = re.compile(
    r"^(?P<user>[^|]*)\|(?P<address>[^|]*)\|(?P<share>[^|]*)\|(?P<action>[a-z_]+)\|"
    r"fail \((?P<why>[^)]*)\)(?:\|(?P<args>.*))?$"
)
# A refusal, as the file system or Samba words it; a missing file is not one.
_REFUSALS = ("Permission denied", "Operation not permitted", "NT_STATUS_ACCESS_DENIED")
_NEW_USER = re.compile(r"^new user: name=(?P<user>[^,]+),")
_DELETED_USER = re.compile(r"^delete user '(?P<user>[^']+)'")
_JOINED = re.compile(r"^add '(?P<user>[^']+)' to group '(?P<group>[^']+)'")
_LEFT = re.compile(r"^delete '(?P<user>[^']+)' from group '(?P<group>[^']+)'")


def entry_time(entry: dict) -> str:
    """The entry's time (journal microseconds) as the engine writes times."""
    micros = int(entry.get("__REALTIME_TIMESTAMP") or 0)
    return manifest.iso(datetime.fromtimestamp(micros / 1_000_000, UTC))


def _address(remote: str) -> str:
    """ "ipv4:10.0.0.5:50000" -> "10.0.0.5"; "ipv6:fe80::1:50000" -> "fe80::1"."""
    family, _, rest = remote.partition(":")
    if family in ("ipv4", "ipv6"):
        return rest.rsplit(":", 1)[0]
    return remote


def _message(entry: dict) -> str:
    message = entry.get("MESSAGE", "")
    if isinstance(message, list):  # the journal's JSON gives non-UTF-8 text as bytes
        message = bytes(message).decode("utf-8", "replace")
    return message.strip()


class Events:
    """The three kinds of event, each counted in full and kept up to ``KEPT`` (the latest)."""

    def __init__(self, kept: int = KEPT) -> None:
        self.kept = kept
        self.kinds: dict[str, dict] = {
            name: {"count": 0, "events": []} for name in ("failed_logins", "denied", "accounts")
        }

    def add(self, kind: str, event: dict) -> None:
        found = self.kinds[kind]
        found["count"] += 1
        found["events"].append(event)
        if len(found["events"]) > self.kept:
            del found["events"][0]

    def result(self) -> dict:
        return self.kinds


def parse(entries: Iterable[dict], managed_prefix: str = "bank-", kept: int = KEPT) -> dict:
    """Journal entries (oldest first) -> {"failed_logins", "denied", "accounts"}, each
    {"count", "events"}. Accounts count only when the change touches a group whose name starts
    with ``managed_prefix`` (the data bank's), so system accounts made by packages stay out."""
    events = Events(kept)
    remote_of: dict[str, str] = {}  # smbd process -> address of its client, from its login
    accounts: dict[str, list[dict]] = {}  # shadow tool process -> its changes
    for entry in entries:
        ident, text, pid = entry.get("SYSLOG_IDENTIFIER"), _message(entry), entry.get("_PID")
        when = entry_time(entry)
        if ident in ("useradd", "usermod", "userdel"):
            accounts.setdefault(f"{ident}:{pid}", []).extend(_account_changes(text, when))
            continue
        _samba(events, remote_of, pid, text, when)
    for changes in accounts.values():
        if any((c["group"] or "").startswith(managed_prefix) for c in changes):
            for change in changes:
                if change["group"] is None or change["group"].startswith(managed_prefix):
                    events.add("accounts", change)
    found = events.result()
    found["accounts"]["events"].sort(key=lambda e: e["time"])
    return found


def _samba(events: Events, remote_of: dict, pid, text: str, when: str) -> None:
    if (auth := _AUTH.search(text)) is not None:
        address = _address(auth["remote"])
        remote_of[pid] = address
        if auth["status"] != "NT_STATUS_OK":
            events.add(
                "failed_logins",
                {
                    "time": when,
                    "user": auth["user"],
                    "domain": auth["domain"],
                    "address": address,
                    "workstation": auth["workstation"],
                    "status": auth["status"],
                },
            )
    elif (refused := _NOT_PERMITTED.search(text)) is not None:
        events.add(
            "denied",
            _denied(when, refused["user"], remote_of.get(pid), refused["share"], "connect", None,
                    "not permitted to access this share"),
        )  # fmt: skip
    elif (host := _HOST_DENIED.search(text)) is not None:
        events.add("denied", _denied(when, None, host["address"], None, "host", None,
                                     "host not allowed"))  # fmt: skip
    elif (audit := _AUDIT.match(text)) is not None and audit["why"].startswith(_REFUSALS):
        path = (audit["args"] or "").rsplit("|", 1)[-1] or None
        events.add(
            "denied",
            _denied(when, audit["user"], audit["address"], audit["share"], audit["action"], path,
                    audit["why"]),
        )  # fmt: skip


def _denied(when, user, address, share, action, path, why) -> dict:
    return {
        "time": when,
        "user": user,
        "address": address,
        "share": share,
        "action": action,
        "path": path,
        "why": why,
    }


def _account_changes(text: str, when: str) -> list[dict]:
    for pattern, change in ((_NEW_USER, "added"), (_DELETED_USER, "removed")):
        if (found := pattern.match(text)) is not None:
            return [{"time": when, "user": found["user"], "change": change, "group": None}]
    for pattern, change in ((_JOINED, "joined"), (_LEFT, "left")):
        if (found := pattern.match(text)) is not None:
            return [{"time": when, "user": found["user"], "change": change,
                     "group": found["group"]}]  # fmt: skip
    return []  # the shadow-group twins of the lines above, and group bookkeeping


def _journalctl(*args: str) -> list[str]:
    return ["journalctl", "--no-pager", "--quiet", "--output=json", *args]


def read(since: datetime, until: datetime, managed_prefix: str = "bank-") -> dict:
    """The period's events from the journal, and how far back the journal reaches."""
    argv = _journalctl(
        f"--since=@{since.timestamp():.0f}",
        f"--until=@{until.timestamp():.0f}",
        *(f"--identifier={name}" for name in IDENTIFIERS),
    )
    try:
        with subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as reader:
            found = parse(_entries(reader.stdout), managed_prefix)
            problem = reader.stderr.read().strip()
    except OSError as exc:
        raise BackupError(f"cannot read the journal ({' '.join(argv[:1])}): {exc}") from exc
    if reader.returncode != 0:
        raise BackupError(
            f"journalctl exited with status {reader.returncode}: {problem or 'no message'}"
        )
    oldest = first_entry_time()
    found["journal"] = {
        "from": oldest,
        "covers_period": oldest is not None and oldest <= manifest.iso(since),
    }
    return found


def _entries(lines: Iterable[str]) -> Iterator[dict]:
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut by a rotating journal; the rest are whole
        if isinstance(entry, dict):
            yield entry


def first_entry_time() -> str | None:
    """The time of the journal's oldest entry: how far back its record reaches."""
    with subprocess.Popen(
        _journalctl("--lines=all"), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as reader:
        first = reader.stdout.readline()
        reader.terminate()
    entries = list(_entries([first]))
    return entry_time(entries[0]) if entries else None
