import stat

from spo_backup import secrets


def test_password_files_are_private_and_removed_after() -> None:
    with secrets.private_dir() as folder:
        pgpass = secrets.pg_passfile(folder, "backup", "pa:ss\\word")
        mycnf = secrets.mariadb_option_file(
            folder, {"user": "backup", "password": 'a"b', "host": None}
        )
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE(pgpass.stat().st_mode) == 0o600
        assert stat.S_IMODE(mycnf.stat().st_mode) == 0o600
        assert pgpass.read_text() == "*:*:*:backup:pa\\:ss\\\\word\n"
        assert mycnf.read_text() == '[client]\nuser="backup"\npassword="a\\"b"\n'
    assert not folder.exists()
