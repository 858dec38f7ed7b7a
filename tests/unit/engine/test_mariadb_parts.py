from spo_backup.mariadb_parts import STREAM_START, _StartWatch, balance


def test_balance_spreads_the_biggest_tables_over_the_groups() -> None:
    sizes = {"reg_periksa": 900, "pasien": 800, "obat": 300, "poli": 200, "admin": 10}
    groups = balance(sizes, 3)
    assert groups == [["reg_periksa"], ["pasien"], ["admin", "obat", "poli"]]
    assert sorted(t for g in groups for t in g) == sorted(sizes)


def test_balance_never_makes_empty_groups() -> None:
    assert balance({"a": 0, "b": 0}, 8) == [["a"], ["b"]]
    assert balance({"a": 5}, 1) == [["a"]]
    assert balance({}, 4) == []


def test_start_is_seen_across_chunk_boundaries() -> None:
    stream = b"-- MariaDB dump\n/*!40101 SET NAMES utf8mb4 */;\n" + STREAM_START + b" `a`\n"
    for size in (1, 5, 64):
        watch = _StartWatch()
        seen = [watch(stream[i : i + size]) for i in range(0, len(stream), size)]
        assert seen[-1] and not seen[0]
