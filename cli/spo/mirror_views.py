"""What `spo mirror status` shows, made from the hosts' ``mirror_info`` results (pure
functions: no Ansible, no click).

Each host's result holds ``status`` (the host's verdict and a report per database engine, as
a mirror, a primary, or stopped) and ``metrics`` (the same in Prometheus text).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from spo.backup_views import seconds, size
from spo.tables import Column

MIRROR_ROLES = ("mirror", "stopped")  # an engine in one of these is a row of the mirror table


def lsn_bytes(lsn: str) -> int:
    """A PostgreSQL LSN, "X/Y" in hexadecimal, as a byte position: (X << 32) + Y."""
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def _engines(results: dict[str, dict]) -> Iterator[tuple[str, dict, dict]]:
    """(host, the host's status, an engine's report) for every engine, hosts by name."""
    for host, res in sorted(results.items()):
        for report in res["status"].get("engines") or []:
            yield host, res["status"], report


def _primary_of(host: str, mirror: dict, results: dict[str, dict]) -> dict | None:
    """The report of the primary that the mirror engine ``mirror`` on ``host`` follows, when
    the results hold it: the same engine as primary on the host named as its upstream, or on
    a host that lists ``host`` among its replicas."""
    for primary_host, _, report in _engines(results):
        if report["engine"] != mirror["engine"] or report["role"] != "primary":
            continue
        replicas = {r.get("name") for r in report.get("replicas") or []}
        if mirror.get("upstream") == primary_host or host in replicas:
            return report
    return None


def lag_bytes(host: str, mirror: dict, results: dict[str, dict]) -> int | None:
    """How many bytes of changes the mirror has still to replay. For PostgreSQL with its
    primary in the results: the primary's current LSN less the mirror's replay LSN, never
    below 0 (the hosts are read at slightly different moments); else the mirror's own figure."""
    primary = _primary_of(host, mirror, results)
    if (
        mirror["engine"] == "postgresql"
        and primary
        and primary.get("current_lsn")
        and mirror.get("replay_lsn")
    ):
        return max(0, lsn_bytes(primary["current_lsn"]) - lsn_bytes(mirror["replay_lsn"]))
    return mirror.get("lag_bytes")


def wal_archive_age(results: dict[str, dict]) -> float | None:
    """Seconds since the newest WAL segment reached the pgBackRest repository, as the host
    holding the repository reports it; None when no host in the results holds it."""
    for _, _, report in _engines(results):
        if report["engine"] == "postgresql" and report.get("archive"):
            return report["archive"].get("age_seconds")
    return None


@dataclass(frozen=True)
class MirrorRow:
    """One database engine that mirrors (or should, and is stopped) on one host."""

    host: str
    engine: str
    state: str
    upstream: str | None
    lag_seconds: float | None
    lag_bytes: int | None
    archive_age_seconds: float | None
    policy_seconds: int | None
    ok: bool
    breaches: tuple[str, ...]


def mirror_rows(results: dict[str, dict]) -> list[MirrorRow]:
    """A row per mirror engine of every host, hosts by name."""
    archive_age = wal_archive_age(results)
    return [
        MirrorRow(
            host=host,
            engine=report["engine"],
            state=report.get("state") or report["role"],
            upstream=report.get("upstream"),
            lag_seconds=report.get("lag_seconds"),
            lag_bytes=lag_bytes(host, report, results),
            archive_age_seconds=archive_age if report["engine"] == "postgresql" else None,
            policy_seconds=status.get("policy_seconds"),
            ok=bool(report.get("ok")),
            breaches=tuple(report.get("breaches") or ()),
        )
        for host, status, report in _engines(results)
        if report["role"] in MIRROR_ROLES
    ]


@dataclass(frozen=True)
class PrimaryRow:
    """One database engine that is primary on one host, and who follows it."""

    host: str
    engine: str
    position: str | None
    replicas: tuple[str, ...]
    ok: bool
    breaches: tuple[str, ...]


def _position(primary: dict) -> str | None:
    """Where the primary writes: PostgreSQL's current LSN, MariaDB's GTID binlog position
    (or binary log file and offset while it has no GTID yet)."""
    if primary.get("current_lsn") or primary.get("gtid_binlog_pos"):
        return primary.get("current_lsn") or primary["gtid_binlog_pos"]
    if primary.get("binlog_file"):
        return f"{primary['binlog_file']}:{primary.get('binlog_position')}"
    return None


def _replica_name(replica: dict) -> str:
    """PostgreSQL's application name (the mirror's host name), else MariaDB's report host,
    else the address or server id the primary knows it by."""
    for key in ("name", "host", "client_addr", "server_id"):
        if replica.get(key):
            return str(replica[key])
    return "?"


def primary_rows(results: dict[str, dict]) -> list[PrimaryRow]:
    """A row per primary engine of every host: where it writes, and the replicas connected."""
    return [
        PrimaryRow(
            host=host,
            engine=report["engine"],
            position=_position(report),
            replicas=tuple(_replica_name(r) for r in report.get("replicas") or []),
            ok=bool(report.get("ok")),
            breaches=tuple(report.get("breaches") or ()),
        )
        for host, _, report in _engines(results)
        if report["role"] == "primary"
    ]


def breach_lines(results: dict[str, dict]) -> list[str]:
    """A line per breach on every host whose status is not OK: the host's own breaches, then
    those of its engines that the host's do not already say."""
    lines = []
    for host, res in sorted(results.items()):
        status = res["status"]
        if status.get("ok"):
            continue
        said = list(status.get("breaches") or [])
        found = [f"{host}: {text}" for text in said]
        for report in status.get("engines") or []:
            found += [
                f"{host} {report['engine']}: {text}"
                for text in report.get("breaches") or []
                if not any(text in other for other in said)
            ]
        lines += found or [f"{host}: tidak OK tanpa alasan / not OK, no reason given"]
    return lines


def metrics_text(results: dict[str, dict]) -> str:
    """Every host's Prometheus metrics, each after a `# host: NAME` comment line."""
    return "".join(
        f"# host: {host}\n" + (res.get("metrics") or "").rstrip("\n") + "\n"
        for host, res in sorted(results.items())
    )


def _result(row: MirrorRow | PrimaryRow) -> str:
    if row.ok:
        return "OK"
    if row.breaches:
        return "MELANGGAR / BREACH: " + "; ".join(row.breaches)
    return "MELANGGAR / BREACH"


def _replicas(row: PrimaryRow) -> str:
    return f"{len(row.replicas)}: {', '.join(row.replicas)}" if row.replicas else "0"


def _bytes(count: int | None) -> str:
    return "-" if count is None else size(count)


MIRROR_COLUMNS: tuple[Column, ...] = (
    ("Server / Host", lambda r: r.host),
    ("Mesin / Engine", lambda r: r.engine),
    ("Keadaan / State", lambda r: r.state),
    ("Sumber / Upstream", lambda r: r.upstream or "-"),
    ("Jeda / Lag", lambda r: seconds(r.lag_seconds)),
    ("Selisih / Behind", lambda r: _bytes(r.lag_bytes)),
    ("Arsip WAL / WAL age", lambda r: seconds(r.archive_age_seconds)),
    ("Batas / Limit", lambda r: seconds(r.policy_seconds)),
    ("Hasil / Result", _result),
)

PRIMARY_COLUMNS: tuple[Column, ...] = (
    ("Primer / Primary", lambda r: r.host),
    ("Mesin / Engine", lambda r: r.engine),
    ("Posisi / Position", lambda r: r.position or "-"),
    ("Replika / Replicas", _replicas),
    ("Hasil / Result", _result),
)
