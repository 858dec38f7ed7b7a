"""The planned-downtime notices (S4.2, S4.5): both catalogues say the same things, dates read
as people write them in each language, and a window or department list that makes no sense
is refused before anything is sent."""

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from spo_backup import config, downtime, history, notify

WIB = timezone(timedelta(hours=7))
NEW_KEYS = {
    f"{prefix}.{part}"
    for prefix in ("downtime-announce", "downtime-starting", "downtime-back", "downtime-failed")
    for part in ("subject", "body")
} | {
    "downtime-back.measured",
    "downtime.date",
    "downtime.when",
    "downtime.end-same-day",
    "downtime.reason",
    "downtime.by",
    "downtime.unknown",
}
WINDOW = {
    "id": "2026-12",
    "start": "2026-12-12T21:00:00+07:00",
    "estimate_min": 15,
    "estimate_max": 30,
    "services": ["SIMRS Khanza", "PACS"],
    "hosts": ["db01", "app01"],
}


def _cfg(tmp_path: Path, email: bool = True, webhook: bool = True) -> config.Config:
    mail = config.Email("127.0.0.1", 25, False, None, None, "spo@rs.example", ("it@rs.example",))
    hook = config.Webhook("http://127.0.0.1:9/it?token=s3cret")
    return config.Config(
        path=tmp_path / "backup.json",
        site="RSUD Uji",
        host="simrs-db",
        backup_root=tmp_path / "backups",
        history_file=tmp_path / "history.jsonl",
        state_dir=tmp_path / "state",
        metrics_file=None,
        retention=config.prune.Policy(),
        compression="auto",
        sources=(),
        offsite=(),
        notify=config.Notify(email=mail if email else None, webhook=hook if webhook else None),
    )


def test_both_catalogues_have_the_downtime_texts_with_the_same_placeholders() -> None:
    indonesian, english = notify.catalogue("id"), notify.catalogue("en")
    assert not NEW_KEYS - set(indonesian) and not NEW_KEYS - set(english)
    for key in NEW_KEYS:
        names = [set(re.findall(r"\$(\w+)", text[key])) for text in (indonesian, english)]
        assert names[0] == names[1], key
    assert indonesian["downtime-announce.subject"].startswith(
        "[SPO] Pemberitahuan pemeliharaan server terjadwal"
    )


def test_dates_are_said_in_the_windows_own_offset_without_a_locale() -> None:
    start = datetime(2026, 12, 12, 21, 0, tzinfo=WIB)
    assert downtime.say_time(start, "id") == "Sabtu, 12 Desember 2026 pukul 21:00 (UTC+07:00)"
    assert downtime.say_time(start, "en") == "Saturday 12 December 2026 at 21:00 (UTC+07:00)"
    # The same moment given in UTC is said in UTC: the window's own offset rules.
    same = start.astimezone(UTC)
    assert downtime.say_time(same, "id") == "Sabtu, 12 Desember 2026 pukul 14:00 (UTC+00:00)"
    monday = datetime(2026, 1, 5, 8, 30, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))
    assert downtime.say_date(monday, "id") == "Senin, 5 Januari 2026"
    assert downtime.utc_offset(monday) == "UTC-03:30"
    week = [datetime(2026, 4, d, tzinfo=WIB) for d in range(6, 13)]  # Monday to Sunday
    assert [downtime.say_date(d, "id").split(",")[0] for d in week] == [
        *("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
    ]
    months = [downtime.say_date(datetime(2026, m, 1, tzinfo=WIB), "id") for m in (2, 5, 8)]
    assert [m.split()[2] for m in months] == ["Februari", "Mei", "Agustus"]


def test_announce_says_date_start_duration_and_what_is_affected(tmp_path) -> None:
    window = downtime.window_of(WINDOW)
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    cfg = _cfg(tmp_path)
    subject, body = downtime.compose(cfg, "announce", window, "IGD", "id", now)
    assert subject == (
        "[SPO] Pemberitahuan pemeliharaan server terjadwal: Sabtu, 12 Desember 2026 (RSUD Uji)"
    )
    assert "Yth. IGD," in body
    assert "Waktu mulai: Sabtu, 12 Desember 2026 pukul 21:00 (UTC+07:00)" in body
    assert "Perkiraan lama gangguan: 15\u201330 menit" in body
    assert "paling lambat pukul 21:30" in body
    assert "Layanan yang terdampak: SIMRS Khanza, PACS" in body and "db01, app01" in body
    assert "Keterangan" not in body and "$" not in body and "\n\n\n" not in body
    _subject, english = downtime.compose(cfg, "announce", window, "IGD", "en", now, "budi", "x")
    assert "Start: Saturday 12 December 2026 at 21:00 (UTC+07:00)" in english
    assert "Estimated downtime: 15\u201330 minutes" in english
    assert "Reason: x\nHandled by: budi" in english


def test_back_in_service_gives_the_measured_downtime_and_a_late_end_in_full(tmp_path) -> None:
    window = downtime.window_of({**WINDOW, "start": "2026-12-12T23:50:00+07:00"})
    cfg = _cfg(tmp_path)
    late = datetime(2026, 12, 12, 23, 55, tzinfo=WIB)
    _s, starting = downtime.compose(cfg, "starting", window, "IGD", "en", late)
    assert "by Sunday 13 December 2026 at 00:25 (UTC+07:00)" in starting
    measured = downtime.window_of({**WINDOW, "measured_minutes": "18.4"})
    _s, back = downtime.compose(cfg, "back-in-service", measured, "IGD", "id", late)
    assert "Lama gangguan: 18 menit (perkiraan: 15\u201330 menit)." in back
    _s, unmeasured = downtime.compose(cfg, "back-in-service", window, "IGD", "en", late)
    assert "lasted" not in unmeasured and "$" not in unmeasured


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start": "2026-12-12T21:00:00"}, "window.start: expected a time with its UTC offset"),
        ({"estimate_min": 40}, "the estimate 40-30 minutes is not a range"),
        ({"estimate_max": "lots"}, "window.estimate_max: expected a number"),
        ({"measured_minute": 18}, "window: unknown key(s) measured_minute"),
        ({"services": "SIMRS"}, "window.services: expected a list of names"),
    ],
)
def test_a_window_that_makes_no_sense_is_refused(change, message) -> None:
    with pytest.raises(downtime.DowntimeError) as caught:
        downtime.window_of({**WINDOW, **change})
    assert message in caught.value.what


def test_who_is_told(tmp_path) -> None:
    departments = [
        {"name": "IGD", "email": ["igd@rs.example", "kepala.igd@rs.example"], "webhook": None},
        {"name": "Farmasi", "email": [], "webhook": "https://chat.rs.example/f?key=1", "x": 1},
    ]
    planned = downtime.plan(_cfg(tmp_path), "announce", WINDOW, departments)
    assert planned == [
        {
            "department": "IGD",
            "channel": "email",
            "to": "igd@rs.example, kepala.igd@rs.example",
            "problem": None,
        },
        {
            "department": "Farmasi",
            "channel": "webhook",
            "to": "https://chat.rs.example/f",
            "problem": None,
        },
    ]
    # failed: IT support alone, on the config's own channels, whatever departments are given.
    assert [
        (t["department"], t["channel"], t["to"])
        for t in downtime.plan(_cfg(tmp_path), "failed", WINDOW, departments)
    ] == [("IT", "email", "it@rs.example"), ("IT", "webhook", "http://127.0.0.1:9/it")]
    [no_mail] = downtime.plan(_cfg(tmp_path, email=False), "starting", WINDOW, departments[:1])
    assert "has no notify.email" in no_mail["problem"]


@pytest.mark.parametrize(
    ("departments", "message"),
    [
        ([{"name": "IGD"}], "department IGD has neither email addresses nor a webhook"),
        ([{"name": "IGD", "email": ["igd at rs"]}], "departments[0].email (IGD)"),
        ([{"name": "IGD", "webhook": "ftp://x"}], "an http(s) URL or null"),
        ([{"name": "A", "email": "a@rs.example"}] * 2, "the name(s) A repeat"),
        ([{"email": ["a@rs.example"]}], "departments[0].name"),
    ],
)
def test_departments_that_cannot_be_told_are_refused(tmp_path, departments, message) -> None:
    with pytest.raises(downtime.DowntimeError) as caught:
        downtime.plan(_cfg(tmp_path), "announce", WINDOW, departments)
    assert message in caught.value.what


def test_undeliverable_notices_are_returned_and_recorded_never_raised(tmp_path) -> None:
    cfg = _cfg(tmp_path, email=False)
    departments = [{"name": "IGD", "email": ["igd@rs.example"], "webhook": None}]
    [result] = downtime.send(cfg, "announce", WINDOW, departments, by="budi")
    assert result["delivered"] is False and "has no notify.email" in result["error"]
    assert set(result) == {"department", "channel", "to", "delivered", "error", "time"}
    [line] = history.read(cfg.history_file)
    assert line["record"] == "notification" and line["event"] == "downtime-announce"
    assert (line["department"], line["window"], line["by"]) == ("IGD", "2026-12", "budi")
    assert line["delivered"] is False and line["time"] == result["time"]
