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


def test_zstd_reads_the_tool_pipe_itself_and_reports_the_raw_size(tmp_path, monkeypatch) -> None:
    # No relay through this process: the copy loops must not run for a zstd dump.
    def relay(*_args, **_kwargs):
        raise AssertionError("the stream went through the engine")

    monkeypatch.setattr(proc, "splice_all", relay)
    monkeypatch.setattr(proc, "pump", relay)
    out = tmp_path / "dump.zst"
    raw = proc.dump_to_file(PRODUCER, proc.child_env(), out, compress.choose("zstd"), "dump", "")
    assert raw == len(RAW)


@pytest.mark.parametrize(
    ("stderr", "size"),
    [
        # zstd 1.5 at -vvv, and 1.4's wording; the last summary counts.
        (
            "Using stdin for input\n/*stdin*\\  :100.00%   (123456789 B => 1234 B, /*stdout*\\) \n",
            123456789,
        ),
        ("/*stdin*\\            : 23.08%   (  8388608 => 1936132 bytes, /*stdout*\\) \n", 8388608),
        ("/*stdin*\\            :  (     0 B =>     13 B, /*stdout*\\) \n", 0),
        ("zstd: error 70 : Write error : cannot write block : No space left on device", None),
        ("", None),
    ],
)
def test_zstd_input_size_is_read_from_its_summary(stderr, size) -> None:
    assert compress.CODECS["zstd"].input_size(stderr) == size
    assert compress.CODECS["gzip"].input_size(stderr) is None  # gzip reports nothing


def test_an_unworded_summary_falls_back_to_counting_the_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(compress.Codec, "input_size", lambda self, stderr: None)
    out = tmp_path / "dump.zst"
    raw = proc.dump_to_file(PRODUCER, proc.child_env(), out, compress.choose("zstd"), "dump", "")
    assert raw == len(RAW)


def test_a_dying_compressor_fails_the_dump_with_its_own_message(tmp_path) -> None:
    # zstd refuses an unknown level; the producer then dies of SIGPIPE, and the compressor's
    # message is the one that explains it.
    broken = compress.Codec("zstd", ".zst", ("zstd", "-q", "--nonsense", "-c"), (), ("-vvv",))
    with pytest.raises(ToolError, match=r"zstd exited with status"):
        proc.dump_to_file(PRODUCER, proc.child_env(), tmp_path / "x.zst", broken, "dump", "")


@pytest.mark.parametrize(
    ("streams", "cores", "threads"),
    [(1, 2, "-T0"), (2, 2, "-T1"), (3, 2, "-T1"), (2, 8, "-T4"), (4, 16, "-T4"), (3, 16, "-T5")],
)
def test_side_by_side_streams_share_the_cores(streams, cores, threads) -> None:
    codec = compress.CODECS["zstd"].sharing(streams, cores)
    assert threads in codec.compress
    assert codec.suffix == ".zst" and codec.report == ("-vvv",)


def test_codecs_without_threads_are_shared_as_they_are() -> None:
    assert compress.CODECS["gzip"].sharing(4, 2) is compress.CODECS["gzip"]
