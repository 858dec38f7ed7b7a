"""The planned downtime calendar (S4.1): windows from the inventory's policy, pure functions."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from spo import downtime_calendar as cal
from spo.main import cli

WIB = ZoneInfo("Asia/Jakarta")
POLICY = {
    "spo_maintenance_months": [12, 4, 7],
    "spo_maintenance_start": "21:00",
    "spo_maintenance_duration_min_minutes": 15,
    "spo_maintenance_duration_max_minutes": 30,
}


def policy(**changes) -> cal.Policy:
    return cal.Policy.from_vars({**POLICY, **changes}, WIB)


@pytest.mark.parametrize(
    ("week", "weekday", "window_id", "day"),
    [
        (2, "saturday", "2026-12", 12),  # the default: the second Saturday
        (1, "saturday", "2026-12", 5),
        (5, "saturday", "2026-12", 26),  # the last Saturday
        (4, "sunday", "2027-04", 25),
        (5, "friday", "2027-07", 30),
    ],
)
def test_a_window_falls_on_the_chosen_weekday_of_its_month(week, weekday, window_id, day):
    found = policy(spo_maintenance_week_of_month=week, spo_maintenance_weekday=weekday)
    win = cal.window(found, window_id)
    assert (win.start.day, win.start.hour, win.start.minute) == (day, 21, 0)
    assert win.start.tzinfo is WIB and win.end - win.start == timedelta(minutes=30)


def test_upcoming_windows_skip_the_ones_that_ended_and_roll_into_next_year():
    just_after = cal.window(policy(), "2026-12").end + timedelta(seconds=1)
    assert [w.id for w in cal.upcoming(policy(), just_after, 4)] == [
        "2027-04", "2027-07", "2027-12", "2028-04"]  # fmt: skip
    during = cal.window(policy(), "2026-12").start
    assert cal.upcoming(policy(), during, 1)[0].id == "2026-12"


def test_a_run_may_start_half_an_hour_early_and_end_an_hour_after_the_estimate():
    win = cal.window(policy(), "2027-07")
    assert not cal.inside(policy(), win, win.start - timedelta(minutes=31))
    assert cal.inside(policy(), win, win.start - timedelta(minutes=30))
    assert cal.inside(policy(), win, win.end + timedelta(minutes=60))
    assert not cal.inside(policy(), win, win.end + timedelta(minutes=61))


@pytest.mark.parametrize(
    ("window_id", "says"),
    [("2026-11", "not a planned downtime month"), ("2026/12", "expected YYYY-MM"),
     ("2026-13", "expected YYYY-MM")],
)  # fmt: skip
def test_a_window_off_the_calendar_is_refused_with_the_calendar(window_id, says):
    with pytest.raises(cal.CalendarError, match=says) as caught:
        cal.window(policy(), window_id)
    if "month" in says:
        assert "April, July, December" in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"spo_maintenance_months": []}, "spo_maintenance_months"),
        ({"spo_maintenance_start": "9:00"}, "spo_maintenance_start"),
        ({"spo_maintenance_duration_max_minutes": 10}, "spo_maintenance_duration_max_minutes"),
        ({"spo_maintenance_weekday": "sabtu"}, "spo_maintenance_weekday"),
        ({"spo_maintenance_week_of_month": 6}, "spo_maintenance_week_of_month"),
    ],
)
def test_a_wrong_policy_key_is_named_with_what_it_should_be(changes, key):
    with pytest.raises(cal.CalendarError, match=f"^{key}: expected"):
        policy(**changes)


def test_plan_prints_the_lab_calendar_with_hosts_in_order_and_who_is_told():
    result = CliRunner().invoke(cli, ["downtime", "plan", "--count", "2"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "(Sabtu / Saturday)  21:00-21:30 +0700  estimate 15-30 min" in lines[0]
    assert lines[1:4] == ["    1. app_servers: simrs-app", "    2. db_servers: simrs-db",
                          "    3. mirror_servers: simrs-mirror"]  # fmt: skip
    assert lines[-1].startswith("told beforehand (S4.2): Rawat Jalan, Instalasi Farmasi")


def test_announce_refuses_a_window_off_the_calendar_before_running_anything():
    result = CliRunner().invoke(cli, ["downtime", "announce", "--window", "2026-11"])
    assert result.exit_code == 2 and "not a planned downtime month" in result.output
