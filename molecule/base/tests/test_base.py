"""What the base role leaves on a host, checked from inside it."""

import pytest

SPO_DIRS = ["/etc/spo", "/var/lib/spo", "/var/log/spo"]


def test_time_zone_is_the_sites(host):
    assert host.file("/etc/localtime").linked_to == "/usr/share/zoneinfo/Asia/Makassar"
    assert host.file("/etc/timezone").content_string.strip() == "Asia/Makassar"
    # The clock really follows it: WITA is UTC+8.
    assert host.check_output("date +%z") == "+0800"


@pytest.mark.parametrize("path", SPO_DIRS)
def test_spo_directories_are_private_to_root(host, path):
    directory = host.file(path)
    assert directory.is_directory
    assert directory.user == "root"
    assert directory.mode == 0o750


def test_journal_is_kept_on_disk(host):
    assert "Storage=persistent" in host.file("/etc/systemd/journald.conf.d/spo.conf").content_string
    # journald made its on-disk directory after the restart the handler did.
    assert host.file("/var/log/journal").is_directory


def test_cron_runs_and_starts_at_boot(host):
    cron = host.service("cron")
    assert cron.is_running
    assert cron.is_enabled


def test_banner_names_site_and_says_managed_in_both_languages(host):
    motd = host.file("/etc/motd").content_string
    assert "RS Molekul" in motd
    assert "dikelola oleh SPO Automation" in motd
    assert "managed by SPO Automation" in motd
