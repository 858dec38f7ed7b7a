import hashlib
import sys

import pytest

from spo_backup import compress, proc
from spo_backup.errors import BackupError, ToolError

# 4 MiB of text with repeats: compressible, like a dump.
PRODUCER = [
    sys.executable,
    "-c",
    "import sys\nfor i in range(65536): sys.stdout.write(f'row {i:08d} pasien sehat\\n' * 2)",
]
RAW = b"".join(f"row {i:08d} pasien sehat\n".encode() * 2 for i in range(65536))


def test_auto_prefers_zstd_and_falls_back_to_gzip() -> None:
    assert compress.choose("auto", which=lambda n: f"/usr/bin/{n}").name == "zstd"
    assert compress.choose("auto", which=lambda n: None if n == "zstd" else n).name == "gzip"


def test_asking_for_a_missing_compressor_says_what_to_install() -> None:
    with pytest.raises(BackupError, match="install the zstd package"):
        compress.choose("zstd", which=lambda n: None)


@pytest.mark.parametrize("name", ["zstd", "gzip", "none"])
def test_stream_round_trip_leaves_only_the_stored_file(tmp_path, name) -> None:
    codec = compress.choose(name)
    out = tmp_path / f"dump{codec.suffix}"
    raw = proc.dump_to_file(PRODUCER, proc.child_env(), out, codec, "test dump", "")
    assert raw == len(RAW)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no uncompressed copy
    if codec.compress:
        assert out.stat().st_size < len(RAW) / 5
    digest = hashlib.sha256()
    size, _ = proc.stream_file(
        out, compress.for_file(out.name), None, proc.child_env(), "read", "", watch=digest.update
    )
    assert size == len(RAW)
    assert digest.hexdigest() == hashlib.sha256(RAW).hexdigest()


@pytest.mark.parametrize("name", ["zstd", "gzip"])
def test_decompressing_a_damaged_file_fails(tmp_path, name) -> None:
    codec = compress.choose(name)
    out = tmp_path / f"dump{codec.suffix}"
    proc.dump_to_file(PRODUCER, proc.child_env(), out, codec, "test dump", "")
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0xFF
    out.write_bytes(bytes(data))
    with pytest.raises(ToolError, match=codec.decompress[0]):
        proc.stream_file(out, codec, None, proc.child_env(), "reading dump", "")


def test_failing_producer_names_the_tool_and_its_message(tmp_path) -> None:
    argv = [sys.executable, "-c", "import sys; print('out'); sys.exit('pg_dump: no such table')"]
    with pytest.raises(ToolError, match=r"exited with status 1: pg_dump: no such table"):
        proc.dump_to_file(
            argv, proc.child_env(), tmp_path / "x.zst", compress.choose("zstd"), "backup of x", ""
        )


def test_children_never_inherit_passwords(monkeypatch) -> None:
    monkeypatch.setenv("PGPASSWORD", "rahasia")
    monkeypatch.setenv("MYSQL_PWD", "rahasia")
    env = proc.child_env(PGPASSFILE="/run/x/pgpass")
    assert "rahasia" not in env.values()
    assert env["PGPASSFILE"] == "/run/x/pgpass"
