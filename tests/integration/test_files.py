import os
import stat
from pathlib import Path

import pytest

from spo_backup import backup, files, jobs, verify
from spo_backup.errors import BackupError

pytestmark = pytest.mark.integration


def _tree(root: Path) -> dict[str, tuple]:
    """Everything a restore must keep: content, mode, owner, link target, per path."""
    found = {}
    for dirpath, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(dirpath) / name
            st = path.lstat()
            rel = str(path.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                found[rel] = ("link", os.readlink(path), st.st_uid, st.st_gid)
            elif stat.S_ISDIR(st.st_mode):
                found[rel] = ("dir", stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
            else:
                found[rel] = (
                    "file",
                    path.read_bytes(),
                    stat.S_IMODE(st.st_mode),
                    st.st_uid,
                    st.st_gid,
                )
    return found


@pytest.fixture
def app(tmp_path) -> Path:
    root = tmp_path / "simrs"
    (root / "bin").mkdir(parents=True)
    (root / "conf").mkdir()
    (root / "cache").mkdir()
    (root / "bin" / "simrs.jar").write_bytes(os.urandom(200_000))
    (root / "conf" / "database.xml").write_text("<db host='10.0.0.5'/>\n")
    (root / "cache" / "tmp.bin").write_bytes(b"junk")
    os.chmod(root / "bin" / "simrs.jar", 0o750)
    os.chown(root / "bin" / "simrs.jar", 1234, 5678)
    os.chmod(root / "conf" / "database.xml", 0o640)
    os.chown(root / "conf", 33, 33)
    os.chmod(root / "conf", 0o2750)
    os.symlink("bin/simrs.jar", root / "current.jar")
    os.symlink("/etc/hostname", root / "absolute-link")
    return root


def test_program_files_restore_byte_identical_with_modes_and_symlinks(tmp_path, app) -> None:
    dest = backup.Destination(tmp_path / "backups")
    result = backup.run(dest, jobs.files_job(app, "simrs-app", excludes=["./cache"]))
    assert verify.check(Path(result["path"]))["ok"]
    other = tmp_path / "elsewhere" / "simrs"
    files.restore(Path(result["path"]), result["manifest"], other)
    expected = {k: v for k, v in _tree(app).items() if not k.startswith("cache")}
    assert _tree(other) == expected
    assert stat.S_IMODE(other.stat().st_mode) == stat.S_IMODE(app.stat().st_mode)


def test_restore_to_original_path_swaps_only_when_asked(tmp_path, app) -> None:
    dest = backup.Destination(tmp_path / "backups")
    result = backup.run(dest, jobs.files_job(app, "simrs-app"))
    before = _tree(app)
    (app / "bin" / "simrs.jar").write_bytes(b"damaged")
    (app / "stray").write_text("left by a bad update")
    with pytest.raises(BackupError, match="not empty"):
        files.restore(Path(result["path"]), result["manifest"])
    assert files.restore(Path(result["path"]), result["manifest"], replace=True)["replaced"]
    assert _tree(app) == before
    assert sorted(p.name for p in app.parent.iterdir()) == ["backups", "simrs"]
