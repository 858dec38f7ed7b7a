"""The data bank's security events parsed from journal entries (S0.2, S0.4, S0.5). The
messages are the lines Samba 4.17 and the shadow tools write on Debian 12 (taken from the lab's
storage host), as the journal's JSON gives them."""

import pytest

from spo_backup import databank_survey, security_log

BASE = 1_796_640_000_000_000  # journal microseconds


def entry(ident: str, pid: int, message: str, second: int = 0) -> dict:
    return {
        "SYSLOG_IDENTIFIER": ident,
        "_PID": str(pid),
        "MESSAGE": message,
        "__REALTIME_TIMESTAMP": str(BASE + second * 1_000_000),
    }


def auth(user: str, status: str, remote: str = "ipv4:10.89.60.14:59072") -> str:
    return (
        f"  Auth: [SMB2,(null)] user [RUMAHSAKIT]\\[{user}] at [Mon, 07 Dec 2026 17:39:02.737555"
        f" WIB] with [NTLMv2] status [{status}] workstation [SIMRS-APP] remote host [{remote}]"
        f" mapped to [RUMAHSAKIT]\\[{user}]. local host [ipv4:10.89.60.13:445]"
    )


HEADER = (
    "[2026/12/07 17:39:02.737606,  2] "
    "../../auth/auth_log.c:647(log_authentication_event_human_readable)"
)


def test_failed_logins_name_user_address_and_status() -> None:
    found = security_log.parse([
        entry("smbd", 10, HEADER),
        entry("smbd", 10, auth("budi", "NT_STATUS_WRONG_PASSWORD"), 1),
        entry("smbd", 11, auth("siti", "NT_STATUS_OK")),
        entry("smbd", 12, auth("nobody", "NT_STATUS_NO_SUCH_USER", "ipv6:fe80::1:445"), 2),
    ])  # fmt: skip
    failed = found["failed_logins"]
    assert failed["count"] == 2
    assert failed["events"][0] == {
        "time": "2026-12-07T10:40:01.000Z",
        "user": "budi",
        "domain": "RUMAHSAKIT",
        "address": "10.89.60.14",
        "workstation": "SIMRS-APP",
        "status": "NT_STATUS_WRONG_PASSWORD",
    }
    assert failed["events"][1]["address"] == "fe80::1"


def test_a_refused_share_takes_the_address_of_the_same_process_login() -> None:
    found = security_log.parse([
        entry("smbd", 20, auth("siti", "NT_STATUS_OK", "ipv4:10.89.60.14:59086")),
        entry("smbd_audit", 20, "siti|10.89.60.14|IPC_|connect|ok|IPC$"),
        entry("smbd_audit", 20, "  create_connection_session_info: user 'siti' (from session "
              "setup) not permitted to access this share (rekam-medis)"),
        entry("smbd_audit", 20, "  create_connection_session_info failed: NT_STATUS_ACCESS_DENIED"),
    ])  # fmt: skip
    assert found["denied"]["count"] == 1
    denied = found["denied"]["events"][0]
    assert (denied["user"], denied["address"], denied["share"], denied["action"]) == (
        "siti", "10.89.60.14", "rekam-medis", "connect"
    )  # fmt: skip
    assert found["failed_logins"]["count"] == 0


def test_file_refusals_count_and_a_missing_file_does_not() -> None:
    found = security_log.parse([
        entry("smbd_audit", 30, "siti|10.89.60.14|farmasi|openat|fail (No such file or "
              "directory)|r|/srv/databank/farmasi/nonexist"),
        entry("smbd_audit", 30, "siti|10.89.60.14|farmasi|unlinkat|fail (Permission denied)|"
              "/srv/databank/farmasi/resep.xlsx"),
        entry("smbd", 31, "  Denied connection from 192.168.7.9 (192.168.7.9)"),
    ])  # fmt: skip
    events = found["denied"]["events"]
    assert [(e["action"], e["why"]) for e in events] == [
        ("unlinkat", "Permission denied"),
        ("host", "host not allowed"),
    ]
    assert events[0]["path"] == "/srv/databank/farmasi/resep.xlsx"
    assert events[1]["address"] == "192.168.7.9"


def test_account_changes_of_the_data_bank_only() -> None:
    found = security_log.parse([
        entry("useradd", 40, "new group: name=tmpx, GID=1003"),
        entry("useradd", 40, "new user: name=tmpx, UID=1003, GID=1003, home=/home/tmpx, "
              "shell=/bin/sh, from=none"),
        entry("useradd", 40, "add 'tmpx' to group 'bank-users'"),
        entry("useradd", 40, "add 'tmpx' to shadow group 'bank-users'"),
        entry("useradd", 41, "new user: name=_apt, UID=42, GID=65534, home=/nonexistent"),
        entry("usermod", 42, "delete 'tmpx' from group 'bank-farmasi'", 1),
        entry("userdel", 43, "delete user 'tmpx'", 2),
        entry("userdel", 43, "delete 'tmpx' from group 'bank-users'", 2),
        entry("userdel", 43, "removed group 'tmpx' owned by 'tmpx'", 2),
    ])  # fmt: skip
    changes = [(e["user"], e["change"], e["group"]) for e in found["accounts"]["events"]]
    assert changes == [
        ("tmpx", "added", None),
        ("tmpx", "joined", "bank-users"),
        ("tmpx", "left", "bank-farmasi"),
        ("tmpx", "removed", None),
        ("tmpx", "left", "bank-users"),
    ], "the package's system account (_apt) is not the data bank's"


def test_the_latest_events_are_kept_and_all_are_counted() -> None:
    lines = [entry("smbd", n, auth(f"user{n}", "NT_STATUS_WRONG_PASSWORD"), n) for n in range(7)]
    found = security_log.parse(lines, kept=3)
    assert found["failed_logins"]["count"] == 7
    assert [e["user"] for e in found["failed_logins"]["events"]] == ["user4", "user5", "user6"]


def test_a_message_the_journal_gives_as_bytes_is_read() -> None:
    raw = list(auth("b\u00fcdi", "NT_STATUS_WRONG_PASSWORD").encode())
    found = security_log.parse([entry("smbd", 1, raw)])  # type: ignore[arg-type]
    assert found["failed_logins"]["events"][0]["user"] == "b\u00fcdi"


MOUNTS = [("/", "overlay", "overlay"), ("/srv", "/dev/sdb1", "ext4"), ("/srv/x y", "t", "tmpfs")]


@pytest.mark.parametrize(
    ("path", "mount"),
    [("/srv/databank/farmasi", "/srv"), ("/srvx/a", "/"), ("/srv/x y/a", "/srv/x y")],
)
def test_a_folder_belongs_to_the_longest_mount_holding_it(path, mount) -> None:
    assert databank_survey.mount_of(databank_survey.Path(path), MOUNTS)[0] == mount


def test_smart_health_from_smartctl_json() -> None:
    read = databank_survey.read_smart({
        "smart_status": {"passed": False},
        "power_on_time": {"hours": 26123},
        "temperature": {"current": 41},
        "ata_smart_attributes": {"table": [{"id": 5, "raw": {"value": 12}},
                                           {"id": 9, "raw": {"value": 26123}}]},
    })  # fmt: skip
    assert read == {"available": True, "passed": False, "power_on_hours": 26123,
                    "temperature_c": 41, "reallocated_sectors": 12, "why": None}  # fmt: skip
    missing = databank_survey.read_smart(
        {"smartctl": {"messages": [{"string": "Smartctl open device: /dev/vda failed"}]}}
    )
    assert missing == {"available": False, "why": "Smartctl open device: /dev/vda failed"}
