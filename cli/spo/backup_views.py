"""What `spo backup list` and `spo backup status` show, made from the hosts' ``backup_info``
results (pure functions: no Ansible, no click)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spo.tables import Column


@dataclass(frozen=True)
class Row:
    """One backup, with every place its copies are."""

    host: str
    name: str
    source: str
    kind: str
    time: str
    bytes: int | None
    duration_seconds: float | None
    verified: bool
    places: tuple[str, ...]


def catalog_rows(results: dict[str, dict], source=None, kind=None) -> list[Row]:
    """Backups of every host, oldest first, one row per backup whatever its copies."""
    rows: dict[tuple[str, str], dict] = {}
    for host, res in results.items():
        for place in res.get("places", []):
            for b in place["backups"]:
                if (source and b["source"] != source) or (kind and b["kind"] != kind):
                    continue
                row = rows.setdefault((host, b["name"]), {**b, "host": host, "places": []})
                row["places"].append(place["where"])
                row["verified"] = row["verified"] and b["verified"]
    return [
        Row(
            **{f: r.get(f) for f in Row.__annotations__ if f != "places"}, places=tuple(r["places"])
        )
        for r in sorted(rows.values(), key=lambda r: (r["time"], r["host"], r["name"]))
    ]


def unreadable_places(results: dict[str, dict], optional: bool = False) -> list[str]:
    """Places that could not be read: the required ones (an unmounted NAS), or with
    ``optional`` those only there now and then (an external disk not plugged in)."""
    return [
        f"{host}: {place['where']} {place['path']}: {place['error']}"
        for host, res in sorted(results.items())
        for place in res.get("places", [])
        if place["error"] and place.get("optional", False) == optional
    ]


def local_time(iso: str | None) -> str:
    if not iso:
        return "-"
    return (
        datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone().strftime("%Y-%m-%d %H:%M")
    )


def size(count: int | None) -> str:
    value = float(count or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"


CATALOG_COLUMNS: tuple[Column, ...] = (
    ("Waktu / Time", lambda r: local_time(r.time)),
    ("Server / Host", lambda r: r.host),
    ("Sumber / Source", lambda r: r.source),
    ("Jenis / Kind", lambda r: r.kind),
    ("Ukuran / Size", lambda r: size(r.bytes)),
    ("Durasi / Duration", lambda r: seconds(r.duration_seconds)),
    ("Terverifikasi / Verified", lambda r: "ya / yes" if r.verified else "TIDAK / NO"),
    ("Salinan / Copies", lambda r: ", ".join(r.places)),
)


@dataclass(frozen=True)
class SourceStatus:
    host: str
    source: str
    last: dict
    monthly: dict | None
    manual_age_days: float | None
    overdue: bool


def status_rows(results: dict[str, dict]) -> tuple[list[SourceStatus], int]:
    """Per host and source where it stands; and the manual backup age limit in days."""
    rows, limit = [], 0
    for host, res in sorted(results.items()):
        status = res["status"]
        limit = status["manual_max_age_days"]
        rows += [
            SourceStatus(
                host,
                s["source"],
                s["last"],
                s["monthly_copy"],
                s["manual_age_days"],
                s["manual_overdue"],
            )
            for s in status["sources"]
        ]
    return rows, limit


def _last(kind: str):
    return lambda s: local_time((s.last.get(kind) or {}).get("time"))


def _monthly(s: SourceStatus) -> str:
    if not s.monthly:
        return "-"
    state = "selesai / done" if s.monthly["completed"] else "tertunda / pending"
    return f"{s.monthly['month']} {state}"


def _manual(s: SourceStatus) -> str:
    age = "belum pernah / never"
    if s.manual_age_days is not None:
        age = f"{local_time(s.last['manual']['time'])} ({s.manual_age_days:.1f} d)"
    return f"{age}  TERLAMBAT / OVERDUE" if s.overdue else age


STATUS_COLUMNS: tuple[Column, ...] = (
    ("Server / Host", lambda s: s.host),
    ("Sumber / Source", lambda s: s.source),
    ("Otomatis / Automatic", _last("automatic")),
    ("Mingguan / Weekly", _last("weekly-full")),
    ("Bulanan / Monthly", _monthly),
    ("Manual", _manual),
)
