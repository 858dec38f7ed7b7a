"""Prune golden cases (like restic's testdata/policy_keep_snapshots_*): each file holds the
backups, the policy, "now" and the decision with its reasons for every backup."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from spo_backup import manifest, prune

GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.json"))


def _decide(case: dict) -> dict:
    items = [
        prune.Item(
            b["name"],
            b["host"],
            b["source"],
            manifest.parse_time(b["time"]),
            b.get("verified", False),
            b.get("pinned"),
        )
        for b in case["backups"]
    ]
    decisions = prune.decide(
        items, prune.Policy(**case["policy"]), manifest.parse_time(case["now"])
    )
    return {d.name: {"keep": d.keep, "reasons": list(d.reasons)} for d in decisions}


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_prune_golden_case(path: Path) -> None:
    case = json.loads(path.read_text())
    assert _decide(case) == case["expected"]


def test_golden_cases_cover_floor_skew_and_two_sources() -> None:
    names = {p.stem for p in GOLDEN}
    assert {
        "floor_keeps_five_when_keep_last_is_lower",
        "clock_skewed_names_follow_manifest_time",
        "two_sources_in_one_folder",
    } <= names


def _series(count: int, **extra) -> list[prune.Item]:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    return [
        prune.Item(f"b{i:03d}", "h", "s", start + timedelta(days=i), **extra) for i in range(count)
    ]


def test_prune_never_goes_below_floor() -> None:
    for keep_last in (0, 1, 4):
        decisions = prune.decide(
            _series(20), prune.Policy(keep_last=keep_last), datetime(2026, 1, 1, tzinfo=UTC)
        )
        assert [d.name for d in decisions if d.keep] == [f"b{i:03d}" for i in range(19, 14, -1)]


def test_prune_counts_equal_times_once() -> None:
    """Two copies with one manifest time are one dated backup: the floor still spans 5 times."""
    items = _series(8)
    items.append(prune.Item("copy-of-b007", "h", "s", items[7].time))
    kept = {
        d.name
        for d in prune.decide(items, prune.Policy(), datetime(2026, 1, 1, tzinfo=UTC))
        if d.keep
    }
    assert kept == {"b007", "copy-of-b007", "b006", "b005", "b004", "b003"}


def test_prune_keeps_newest_verified_even_when_old() -> None:
    items = _series(10)
    items[0] = prune.Item("b000", "h", "s", items[0].time, verified=True)
    decisions = {
        d.name: d for d in prune.decide(items, prune.Policy(), datetime(2026, 1, 1, tzinfo=UTC))
    }
    assert decisions["b000"].keep
    assert decisions["b000"].reasons == ("newest verified backup",)
    assert not decisions["b001"].keep
    assert "not pinned" in decisions["b001"].reasons[0]
