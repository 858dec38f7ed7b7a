import copy
import json
from pathlib import Path

import pytest

from spo_backup import config, prune
from spo_backup.config import ConfigError

# The contract the backup role renders (keep in step with roles/backup/templates).
EXAMPLE = {
    "schema_version": 1,
    "site": "RSUD Contoh",
    "host": "simrs-db",
    "backup_root": "/var/backups/spo",
    "history_file": "/var/lib/spo/history.jsonl",
    "state_dir": "/var/lib/spo/state",
    "metrics_file": "/var/lib/prometheus/node-exporter/spo_backup.prom",
    "retention": {
        "keep_last": 5,
        "keep_hourly": 0,
        "keep_daily": 7,
        "keep_weekly": 4,
        "keep_monthly": 0,
    },
    "compression": "auto",
    "sources": [
        {
            "name": "sik",
            "type": "mariadb",
            "database": "sik",
            "login_user": "spo_backup",
            "login_host": "localhost",
            "login_port": None,
            "login_unix_socket": None,
            "password_file": "/etc/spo/secrets/sik.password",
            "jobs": 1,
        },
        {
            "name": "simrs",
            "type": "postgresql",
            "database": "simrs",
            "login_user": "spo_backup",
            "login_host": "/var/run/postgresql",
            "password_file": "/etc/spo/secrets/simrs.password",
            "format": "custom",
            "jobs": 1,
        },
        {"name": "app", "type": "files", "path": "/opt/simrs", "exclude": ["*.log", "tmp/*"]},
    ],
    "offsite": [
        {
            "name": "nas",
            "path": "/mnt/nas/spo/simrs-db",
            "mount_point": "/mnt/nas",
            "marker": ".spo-backup-destination",
        }
    ],
    "notify": {
        "languages": ["id", "en"],
        "on": ["failure", "recovery"],
        "digest": False,
        "email": {
            "host": "mail.rs.example",
            "port": 587,
            "starttls": True,
            "user": "spo",
            "password_file": "/etc/spo/secrets/smtp.password",
            "from": "spo@rs.example",
            "to": ["it@rs.example"],
        },
        "webhook": {"url": "http://chat.rs.example/hook", "headers_file": None},
    },
    "calendar": {
        "weekly": {
            "day": "saturday",
            "start": "12:00",
            "end": "12:30",
            "folder": "weekly",
            "keep": 5,
        },
        "monthly": {
            "day": 1,
            "select": ["weekly-full", "last-daily"],
            "escalate_after_days": 7,
            "targets": [
                {"name": "nas", "path": "/mnt/nas/spo/monthly", "mount_point": "/mnt/nas"},
                {
                    "name": "external",
                    "path": "/media/external/spo",
                    "mount_point": "/media/external",
                },
            ],
        },
        "manual_max_age_days": 3,
    },
}


def _load(tmp_path: Path, data: dict) -> config.Config:
    path = tmp_path / "backup.json"
    path.write_text(json.dumps(data))
    return config.load(path)


def _changed(change) -> dict:
    data = copy.deepcopy(EXAMPLE)
    change(data)
    return data


def test_the_role_contract_loads_with_every_value(tmp_path) -> None:
    cfg = _load(tmp_path, EXAMPLE)
    assert cfg.host == "simrs-db" and cfg.backup_root == Path("/var/backups/spo")
    assert cfg.retention.keep_last == 5 and cfg.retention.daily == 7
    assert cfg.retention.weekly == 4
    sik, simrs, app = cfg.sources
    assert (sik.type, sik.login_host, sik.password_file) == (
        "mariadb",
        "localhost",
        Path("/etc/spo/secrets/sik.password"),
    )
    assert (simrs.format, simrs.globals, simrs.login_host) == (
        "custom",
        True,
        "/var/run/postgresql",
    )
    assert app.path == Path("/opt/simrs") and app.exclude == ("*.log", "tmp/*")
    [nas] = cfg.offsite
    assert nas.mount_point == Path("/mnt/nas") and nas.path == Path("/mnt/nas/spo/simrs-db")
    assert cfg.notify.email.sender == "spo@rs.example" and cfg.notify.email.to == ("it@rs.example",)
    assert cfg.notify.webhook.url == "http://chat.rs.example/hook"
    weekly, monthly = cfg.calendar.weekly, cfg.calendar.monthly
    assert (weekly.day, weekly.start.isoformat(), weekly.window_minutes) == (5, "12:00:00", 30)
    assert [t.name for t in monthly.targets] == ["nas", "external"]
    assert monthly.targets[1].mount_point == Path("/media/external")
    assert cfg.calendar.manual_max_age_days == 3


def test_without_a_calendar_there_is_no_weekly_window_and_no_monthly_copy(tmp_path) -> None:
    cfg = _load(tmp_path, _changed(lambda d: d.pop("calendar")))
    assert cfg.calendar.weekly is None and cfg.calendar.monthly is None


def test_notify_channels_and_offsite_may_be_absent(tmp_path) -> None:
    def strip(data):
        data["offsite"] = []
        data["notify"]["email"] = None
        data["notify"]["webhook"] = None

    cfg = _load(tmp_path, _changed(strip))
    assert cfg.offsite == () and cfg.notify.email is None and cfg.notify.webhook is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["sources"][0].update(login_port="3306"),
            'sources[0].login_port: expected a port number (1-65535) or null, found "3306"',
        ),
        (lambda d: d.pop("backup_root"), "backup_root: missing; expected an absolute path"),
        (lambda d: d.pop("retention"), "retention: missing; expected an object"),
        (
            lambda d: d["retention"].update(keep_lasst=3),
            "retention: unknown key(s) keep_lasst",
        ),
        (
            lambda d: d["sources"][2].update(database="x"),
            "sources[2]: database do(es) not apply to a files source",
        ),
        (
            lambda d: d["sources"][0].update(format="directory"),
            "sources[0]: format do(es) not apply to a mariadb source",
        ),
        (
            lambda d: d["sources"][1].update(name="sik"),
            "sources: the name(s) sik repeat",
        ),
        (
            lambda d: d["sources"][0].update(name="sik db"),
            "sources[0].name: expected a name of letters, digits, dots and dashes",
        ),
        (
            lambda d: d["offsite"][0].update(path="/srv/elsewhere"),
            "offsite[0].path: expected a path under mount_point /mnt/nas",
        ),
        (lambda d: d.update(schema_version=2), "schema_version: expected 1"),
        (
            lambda d: d["notify"]["email"].pop("password_file"),
            "notify.email: user and password_file go together",
        ),
        (
            lambda d: d["notify"]["webhook"].update(url="file:///etc/shadow"),
            "notify.webhook.url: expected an http(s) URL",
        ),
        (lambda d: d["notify"].update(on=["success"]), "notify.on: expected a list of one of"),
        (
            lambda d: d["calendar"]["weekly"].update(end="11:30"),
            'calendar.weekly.end: expected a time after start 12:00, found "11:30"',
        ),
        (
            lambda d: d["calendar"]["weekly"].update(start="12.00"),
            'calendar.weekly.start: expected a time of day "HH:MM", found "12.00"',
        ),
        (
            lambda d: d["calendar"]["weekly"].update(day="sabtu"),
            "calendar.weekly.day: expected one of monday, tuesday",
        ),
        (
            lambda d: d["calendar"]["monthly"].update(day=31),
            "calendar.monthly.day: expected a day of the month, 1-28, found 31",
        ),
        (
            lambda d: d["calendar"]["monthly"]["targets"][1].update(path="/srv/x"),
            "calendar.monthly.targets[1].path: expected a path under mount_point /media/external",
        ),
    ],
)
def test_errors_name_the_file_the_key_and_what_was_expected(tmp_path, change, message) -> None:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, _changed(change))
    assert str(err.value).startswith(f"{tmp_path / 'backup.json'}: ")
    assert message in str(err.value)
    assert "backup role" in str(err.value)


def test_missing_and_broken_files_are_named(tmp_path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        config.load(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ConfigError, match=r"bad\.json cannot be read"):
        config.load(tmp_path / "bad.json")


def test_keep_last_below_the_floor_is_accepted_and_prune_keeps_the_floor(tmp_path) -> None:
    cfg = _load(tmp_path, _changed(lambda d: d["retention"].update(keep_last=2)))
    assert cfg.retention.keep_last == 2 and prune.FLOOR == 5  # prune.decide enforces it


def test_unknown_source_is_refused_with_the_known_ones(tmp_path) -> None:
    with pytest.raises(ConfigError, match="use one of: sik, simrs, app"):
        _load(tmp_path, EXAMPLE).source("sikk")


def test_secret_file_is_read_without_its_newline(tmp_path) -> None:
    secret = tmp_path / "db.password"
    secret.write_text("s3cr:et\n")
    secret.chmod(0o600)
    assert config.read_secret(secret, "database password") == "s3cr:et"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_secret_file_readable_by_others_is_refused(tmp_path, mode) -> None:
    secret = tmp_path / "db.password"
    secret.write_text("s3cret")
    secret.chmod(mode)
    with pytest.raises(ConfigError) as err:
        config.read_secret(secret, "database password")
    assert f"{secret} can be read by group or others (mode {mode:04o})" in str(err.value)
    assert f"chmod 600 {secret}" in str(err.value)
    assert "s3cret" not in str(err.value)


def test_missing_secret_file_is_named(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"smtp\.password does not exist"):
        config.read_secret(tmp_path / "smtp.password", "SMTP password")
