"""Integrity monitoring of the units' central data bank (S0.3) as cron runs it (``python3 -m
spo_backup databank verify``): real unit folders under tmp_path, a real SMTP server for the
notices, the saved listings and the history as the command leaves them."""

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from hosthelpers import PYTHON, Host, free_port, notify_config
from spo_backup import lock

pytestmark = [pytest.mark.integration]
UNIT = "rekam-medis"
FILES = {
    "pasien/0001.pdf": b"%PDF-1.4 pasien 0001",
    "pasien/0002.pdf": b"%PDF-1.4 pasien 0002",
    "laporan.xlsx": b"PK laporan bulanan",
    "arsip/2019/lama.txt": b"arsip lama",
}
HOUR_AGO_NS = time.time_ns() - 3600 * 10**9


def aged(path: Path, mtime_ns: int = HOUR_AGO_NS) -> None:
    """Files a unit saved a while ago (not within the check's racy window)."""
    os.utime(path, ns=(mtime_ns, mtime_ns), follow_symlinks=False)


def rewrite_keeping_times(path: Path, data: bytes) -> None:
    """New content, the same size, and the modification time set back: what damage (or a
    program hiding its change) looks like from outside."""
    before = path.stat()
    assert len(data) == before.st_size
    path.write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.fixture
def folder(tmp_path) -> Path:
    """The unit's folder in the data bank, its files saved an hour ago."""
    unit = tmp_path / "bank" / UNIT
    for rel, data in FILES.items():
        (unit / rel).parent.mkdir(parents=True, exist_ok=True)
        (unit / rel).write_bytes(data)
        aged(unit / rel)
    return unit


@pytest.fixture
def bank(tmp_path, folder, smtp, webhook):
    """``bank(**databank)``: a host whose data bank has the unit (and whatever ``databank``
    says), notices by mail and webhook."""

    def make(**databank) -> Host:
        section = {"units": [{"name": UNIT, "path": str(folder)}], **databank}
        notify = notify_config(smtp, webhook, tmp_path)
        return Host(tmp_path, tmp_path / "nas", [], databank=section, notify=notify)

    return make


def verify(host: Host, *args: str, command: tuple | None = None) -> tuple[int, list[dict]]:
    kwargs = {"command": command} if command else {}
    done = host.run("databank", "verify", "--json", *args, **kwargs)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def listing(host: Host) -> Path:
    return Path(host.data["state_dir"]) / "databank" / f"{UNIT}.json"


def test_the_first_check_is_a_baseline_then_nothing_changed(bank, folder, smtp) -> None:
    host = bank()
    code, [record] = verify(host)
    assert code == 0
    assert record["record"] == "integrity" and record["unit"] == UNIT
    assert record["path"] == str(folder) and record["host"] == "simrs-db"
    assert record["baseline"] is True and record["result"] == "ok" and record["error"] is None
    assert record["added"] == sorted(FILES) and record["added_count"] == 4
    assert record["files"] == 4 and record["bytes"] == sum(map(len, FILES.values()))
    for name in ("changed", "suspect", "deleted"):
        assert record[name] == [] and record[f"{name}_count"] == 0
    assert record["unchanged"] == 0 and record["duration_seconds"] >= 0
    saved = json.loads(listing(host).read_text())
    assert saved["unit"] == UNIT and set(saved["files"]) == set(FILES)
    assert saved["files"]["laporan.xlsx"]["size"] == len(FILES["laporan.xlsx"])
    assert saved["files"]["laporan.xlsx"]["mtime_ns"] == HOUR_AGO_NS
    assert listing(host).parent.stat().st_mode & 0o777 == 0o700  # file names are confidential

    code, [again] = verify(host)
    assert code == 0 and again["baseline"] is False and again["unchanged"] == 4
    assert (again["added"], again["changed"], again["deleted"], again["suspect"]) == ([],) * 4
    assert [
        {k: v for k, v in r.items() if k != "schema_version"} for r in host.history("integrity")
    ] == [record, again]
    assert smtp.events() == []
    text = host.run("databank", "verify")
    assert text.returncode == 0
    assert text.stdout.startswith(f"{UNIT} ({folder}): OK, 4 file(s), 68 B: 0 added, 0 changed")


def test_a_unit_above_its_quota_is_said_and_within_it_is_not(bank, folder, tmp_path) -> None:
    total = sum(map(len, FILES.values()))
    host = bank(units=[{"name": UNIT, "path": str(folder), "quota_bytes": total - 8}])
    code, [record] = verify(host)
    assert code == 0, "a full quota is for the unit to tidy, not a damaged file"
    assert (record["quota_bytes"], record["over_quota"]) == (total - 8, 8)
    assert "8 B over its quota of 60 B" in host.run("databank", "verify").stdout
    (tmp_path / "roomy").mkdir()
    roomy = Host(tmp_path / "roomy", tmp_path / "nas", [], databank={
        "units": [{"name": UNIT, "path": str(folder), "quota_bytes": total}]})  # fmt: skip
    code, [within] = verify(roomy)
    assert code == 0 and within["over_quota"] == 0
    assert "over its quota" not in roomy.run("databank", "verify").stdout


def test_editing_adding_and_deleting_are_normal_changes(bank, folder, smtp) -> None:
    host = bank()
    verify(host)
    edited = folder / "laporan.xlsx"
    edited.write_bytes(b"PK laporan bulanan, revisi")  # new content, new size, new time
    same_size = folder / "pasien" / "0001.pdf"
    same_size.write_bytes(b"%PDF-1.4 pasien 000X")  # same size, saved later: a new mtime
    aged(same_size, HOUR_AGO_NS + 60 * 10**9)
    (folder / "pasien" / "0003.pdf").write_bytes(b"%PDF-1.4 pasien 0003")
    (folder / "arsip" / "2019" / "lama.txt").unlink()
    aged(folder / "pasien" / "0002.pdf", HOUR_AGO_NS + 10**9)  # touched: same content
    code, [record] = verify(host)
    assert code == 0 and record["result"] == "ok"
    assert record["changed"] == ["laporan.xlsx", "pasien/0001.pdf"]
    assert record["added"] == ["pasien/0003.pdf"] and record["deleted"] == ["arsip/2019/lama.txt"]
    assert record["suspect"] == [] and record["unchanged"] == 1
    assert (record["changed_count"], record["added_count"], record["deleted_count"]) == (2, 1, 1)
    assert smtp.events() == []


def test_content_changed_under_the_same_size_and_time_is_suspect_until_restored(
    bank, folder, smtp, webhook
) -> None:
    host = bank()
    verify(host)
    damaged = folder / "pasien" / "0002.pdf"
    rewrite_keeping_times(damaged, b"%PDF-1.4 pasien 0\x0102")
    code, [record] = verify(host)
    assert code == 1 and record["result"] == "suspect" and record["error"] is None
    [suspect] = record["suspect"]
    assert suspect["path"] == "pasien/0002.pdf" and suspect["kind"] == "set-back"
    assert "content differs, but its size and modification time are unchanged" in suspect["why"]
    assert record["suspect_count"] == 1 and record["unchanged"] == 3 and record["changed"] == []

    assert smtp.events() == ["integrity-suspect"]
    mail = smtp.messages[0]
    assert "BANK DATA: ADA FILE MENCURIGAKAN" in mail["Subject"]
    assert "DATA BANK: SUSPECT FILES in unit rekam-medis" in mail["Subject"]
    body = mail.get_content()
    assert "- pasien/0002.pdf: isinya berubah, tetapi ukuran dan waktu modifikasinya tetap" in body
    assert "- pasien/0002.pdf: the content changed, but its size and modification time" in body
    assert "pulihkan dari backup bank data" in body and "restore them from the data bank" in body
    assert "smartctl -a" in body and f"spo-backup databank verify --unit {UNIT}" in body
    assert str(folder) in body
    [post] = webhook.posts
    assert post["body"]["event"] == "integrity-suspect" and post["body"]["result"] == "suspect"
    assert post["body"]["source"] == UNIT and "pasien/0002.pdf" in post["body"]["text_id"]
    assert [(n["channel"], n["event"], n["delivered"]) for n in host.history("notification")] == [
        ("email", "integrity-suspect", True),
        ("webhook", "integrity-suspect", True),
    ]

    # The saved listing kept the good entry: every check says it again, and notifies again.
    code, [again] = verify(host)
    assert code == 1 and [s["path"] for s in again["suspect"]] == ["pasien/0002.pdf"]
    assert smtp.events() == ["integrity-suspect"] * 2
    rewrite_keeping_times(damaged, FILES["pasien/0002.pdf"])  # restored from the backup
    code, [restored] = verify(host)
    assert code == 0 and restored["suspect"] == [] and restored["unchanged"] == 4
    assert smtp.events() == ["integrity-suspect"] * 2

    # New content known to be right: touching it makes it an ordinary change.
    rewrite_keeping_times(damaged, b"%PDF-1.4 pasien 0\x0102")
    damaged.touch()
    code, [accepted] = verify(host)
    assert code == 0 and accepted["changed"] == ["pasien/0002.pdf"] and accepted["suspect"] == []


def test_untouched_inode_is_named_as_not_written_through_the_file_system(bank, folder) -> None:
    host = bank()
    verify(host)
    saved = json.loads(listing(host).read_text())
    entry = saved["files"]["laporan.xlsx"]
    entry["sha256"] = "0" * 64  # as if the disk had returned other bytes under the same inode
    listing(host).write_text(json.dumps(saved))
    code, [record] = verify(host)
    assert code == 1
    [suspect] = record["suspect"]
    assert suspect["path"] == "laporan.xlsx" and suspect["kind"] == "silent"
    assert "not written through the file system" in suspect["why"]


def test_a_file_written_just_before_the_check_may_change_under_the_same_time(bank, folder) -> None:
    host = bank()
    busy = folder / "pasien" / "0001.pdf"
    busy.write_bytes(b"%PDF-1.4 pasien 000?")  # saved now: within the racy window
    verify(host)
    assert json.loads(listing(host).read_text())["files"]["pasien/0001.pdf"]["racy"] is True
    rewrite_keeping_times(busy, b"%PDF-1.4 pasien 0001")  # written again in the same tick
    code, [record] = verify(host)
    assert code == 0 and record["changed"] == ["pasien/0001.pdf"] and record["suspect"] == []


def _without_reading_rights() -> tuple:
    """The command as a user that file modes apply to: root without the capabilities that
    override them (setpriv), or simply the command when not root."""
    if os.geteuid() != 0:
        return (PYTHON, "-m", "spo_backup")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root reads any file; setpriv (util-linux) is needed to drop that right")
    drop = "-dac_override,-dac_read_search"
    return (setpriv, "--inh-caps", drop, "--bounding-set", drop, PYTHON, "-m", "spo_backup")


def test_a_file_or_folder_that_cannot_be_read_is_suspect_naming_the_error(
    bank, folder, smtp
) -> None:
    host = bank()
    command = _without_reading_rights()
    code, _ = verify(host, command=command)
    assert code == 0
    (folder / "laporan.xlsx").chmod(0)
    (folder / "arsip" / "2019").chmod(0)
    try:
        code, [record] = verify(host, command=command)
    finally:
        (folder / "laporan.xlsx").chmod(0o644)
        (folder / "arsip" / "2019").chmod(0o755)
    assert code == 1 and record["result"] == "suspect"
    assert record["suspect"] == [
        {
            "path": "arsip/2019/",
            "why": "folder cannot be listed: Permission denied (EACCES)",
            "kind": "unlisted",
        },
        {
            "path": "laporan.xlsx",
            "why": "cannot be read: Permission denied (EACCES)",
            "kind": "unreadable",
        },
    ]
    assert record["deleted"] == []  # what the folder held is not seen, not gone
    assert record["unchanged"] == 2 and record["files"] == 3
    body = smtp.messages[0].get_content()
    assert "- laporan.xlsx: tidak dapat dibaca: Permission denied (EACCES)" in body
    assert "- arsip/2019/: this folder cannot be listed: Permission denied (EACCES)" in body
    code, [readable] = verify(host, command=command)  # the previous entries were kept
    assert code == 0 and readable["unchanged"] == 4 and readable["added"] == []


def test_a_missing_or_emptied_unit_folder_fails_and_the_listing_is_kept(
    bank, folder, smtp, webhook
) -> None:
    host = bank()
    verify(host)
    saved = listing(host).read_bytes()
    moved = folder.with_name("elsewhere")
    folder.rename(moved)
    code, [record] = verify(host)
    assert code == 1 and record["result"] == "failed" and record["files"] is None
    assert f"the folder {folder} of data bank unit {UNIT} does not exist" in record["error"]
    assert "disk is mounted" in record["error"]
    assert listing(host).read_bytes() == saved
    assert smtp.events() == ["integrity-suspect"]
    mail = smtp.messages[0]
    assert "PEMERIKSAAN GAGAL" in mail["Subject"] and "CHECK FAILED" in mail["Subject"]
    assert "does not exist" in mail.get_content() and webhook.posts[0]["body"]["result"] == "failed"

    folder.mkdir()  # the mount point of a disk that is not mounted
    code, [record] = verify(host)
    assert code == 1 and "is empty, while the last check found 4 file(s)" in record["error"]
    assert listing(host).read_bytes() == saved

    folder.rmdir()
    moved.rename(folder)
    code, [back] = verify(host)
    assert code == 0 and back["unchanged"] == 4 and back["deleted"] == []
    assert [r["result"] for r in host.history("integrity")] == ["ok", "failed", "failed", "ok"]


def test_two_checks_of_a_unit_never_interleave(bank) -> None:
    host = bank()
    state = listing(host).parent
    state.mkdir(parents=True)
    with lock.hold(state, UNIT, purpose="spo-backup databank verify"):
        code, [record] = verify(host)
    assert code == 1 and record["result"] == "failed"
    assert f"another spo-backup databank verify of source '{UNIT}' is running" in record["error"]
    assert not listing(host).exists()
    code, [record] = verify(host)
    assert code == 0 and record["baseline"] is True


def test_symlinks_are_listed_not_followed_and_the_own_state_is_not_walked(
    bank, folder, tmp_path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not the unit's")
    (folder / "to-outside").symlink_to(outside)
    (folder / "shortcut.pdf").symlink_to("pasien/0001.pdf")
    host = bank(state_dir=str(folder / ".spo-integrity"))
    code, [record] = verify(host)
    assert code == 0
    assert record["added"] == sorted([*FILES, "to-outside", "shortcut.pdf"])
    saved = json.loads((folder / ".spo-integrity" / f"{UNIT}.json").read_text())
    assert saved["files"]["to-outside"]["link"] == str(outside)
    code, [record] = verify(host)
    assert code == 0 and record["unchanged"] == 6 and record["added"] == []
    (folder / "shortcut.pdf").unlink()
    (folder / "shortcut.pdf").symlink_to("pasien/0002.pdf")
    code, [record] = verify(host)
    assert record["changed"] == ["shortcut.pdf"]


def test_long_lists_are_capped_with_their_count(bank, folder) -> None:
    for number in range(105):
        (folder / f"scan-{number:03}.jpg").write_bytes(b"x")
    code, [record] = verify(bank())
    assert code == 0 and record["added_count"] == 109 and len(record["added"]) == 100


def test_an_undeliverable_notice_does_not_change_the_result(tmp_path, folder) -> None:
    dead = {
        **{"host": "127.0.0.1", "port": free_port(), "starttls": False},
        **{"user": None, "password_file": None, "from": "spo@rs.example"},
        "to": ["it@rs.example"],
    }
    section = {"units": [{"name": UNIT, "path": str(folder)}]}
    notify = {"languages": ["id"], "email": dead}
    host = Host(tmp_path, tmp_path / "nas", [], databank=section, notify=notify)
    verify(host)
    rewrite_keeping_times(folder / "laporan.xlsx", b"PK laporan bulanaN")
    code, [record] = verify(host)
    assert code == 1 and record["result"] == "suspect" and record["error"] is None
    [attempt] = host.history("notification")
    assert attempt["delivered"] is False and "Connection refused" in attempt["error"]


def test_unknown_units_and_a_host_without_units_are_usage_errors(bank) -> None:
    host = bank()
    done = host.run("databank", "verify", "--unit", "radiologi")
    assert done.returncode == 2
    assert f"no data bank unit named 'radiologi' -- what to do: use one of: {UNIT}" in done.stderr
    host.data.pop("databank")
    host.config.write_text(json.dumps(host.data))
    done = host.run("databank", "verify")
    assert done.returncode == 2 and "databank.units: no data bank unit to check" in done.stderr
