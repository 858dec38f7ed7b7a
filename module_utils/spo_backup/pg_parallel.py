"""PostgreSQL parallel backups for big databases, every file a compressed stream.

``pg_dump --jobs`` needs the directory format, whose files PostgreSQL 15 can only gzip on one
core each. Instead the engine splits the work itself, all in the one exported snapshot:

- ``dump.pgdump.*``: a custom-format dump of everything (schema, small tables, sequences,
  indexes, constraints) except the data of the biggest tables;
- ``data-NN.copy.*``: the rows of one big table in COPY's text format, read by psql in the
  same snapshot with the settings pg_dump reads data with; the tables are spread over
  ``jobs`` streams by size.

The main file and the streams run side by side, every file through its own compressor. The
parts are bare COPY text, not custom archives: the custom format puts a length before every
row, which on the benchmark's data cost 3% more bytes to compress and 5% more compressed size
(benchmarks/README.md), and a text row is a line, so verification counts the rows of a part
against the manifest. A restore replays the schema, loads the main file's data with pg_restore
and every part with psql's COPY side by side, then builds the indexes and constraints (with
``--jobs``), which is pg_restore's own order of work. Backups made before December 2026,
whose parts are custom archives (``data-NN.pgdump.*``), restore as before.
"""

import functools
import re
import threading
from collections.abc import Callable
from pathlib import Path

from . import pg_client, proc
from .compress import Codec
from .errors import BackupError

PARALLEL = "parallel"
MAIN = "dump.pgdump"
# Tables smaller than this stay in the main file: a part per tiny table only costs processes.
MIN_PART_TABLE_BYTES = 1 << 20

# Ordinary tables with their heap size, biggest first, and what their rows are copied as
# ("schema"."table" (columns), quoted by the server; generated columns are computed again on
# restore, as pg_dump does). Extension-owned tables are left to pg_dump's own rules (their data
# is dumped only when the extension says so).
TABLE_SIZES = r"""SELECT n.nspname, c.relname, pg_relation_size(c.oid),
       format('%I.%I', n.nspname, c.relname) || coalesce(' (' || (
         SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
          WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            AND a.attgenerated = '') || ')', '')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                   AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY 3 DESC, 1, 2;"""
# The settings pg_dump reads table data with (its setup_connection), so the text of dates,
# intervals and floats is the same, and row security makes COPY fail instead of leaving rows
# out; a restore reads the rows back with the same ones.
_SETTINGS = (
    "SET DateStyle = ISO; SET IntervalStyle = postgres; SET extra_float_digits = 3; "
    "SET row_security = off; SET statement_timeout = 0; SET lock_timeout = 0; "
    "SET idle_in_transaction_session_timeout = 0;"
)
_NAME = re.compile(r"[A-Za-z0-9_-]+")  # encodings and snapshot ids, put into SQL as they are


def _settings(encoding: str) -> str:
    if not _NAME.fullmatch(encoding):
        raise BackupError(f"unexpected database encoding {encoding!r}", "report this as a bug")
    return f"SET client_encoding = '{encoding}'; {_SETTINGS}"


def copy_out(psql: list[str], snapshot: str, encoding: str, target: str) -> list[str]:
    """psql printing the rows of ``target`` as COPY text, in the exported ``snapshot``."""
    if not _NAME.fullmatch(snapshot):
        raise BackupError(f"unexpected snapshot id {snapshot!r}", "report this as a bug")
    return [
        *psql,
        "-q",  # no command tags: on stdout they would land in the data
        "-c", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;",
        "-c", f"SET TRANSACTION SNAPSHOT '{snapshot}';",
        "-c", _settings(encoding),
        "-c", f"COPY {target} TO STDOUT;",
        "-c", "COMMIT;",
    ]  # fmt: skip


def copy_in(psql: list[str], encoding: str, target: str) -> list[str]:
    """psql loading COPY text from its stdin into ``target``, all or nothing."""
    load = ["-c", _settings(encoding), "-c", f"COPY {target} FROM STDIN;"]
    return [*psql, "--single-transaction", *load]


def pattern(name: str) -> str:
    """A pg_dump table pattern that matches exactly ``schema.table`` (no wildcards)."""
    schema, table = name.split(".", 1)
    return ".".join('"' + part.replace('"', '""') + '"' for part in (schema, table))


def plan(sizes: list[tuple[str, int]], jobs: int) -> list[list[str]]:
    """Spread the big tables over ``jobs`` parts, biggest first into the lightest part.

    Returns only non-empty parts; with one job (or nothing big) there are none.
    """
    if jobs < 2:
        return []
    big = [(name, size) for name, size in sizes if size >= MIN_PART_TABLE_BYTES]
    parts: list[list[str]] = [[] for _ in range(jobs)]
    load = [0] * jobs
    for name, size in sorted(big, key=lambda item: (-item[1], item[0])):
        lightest = load.index(min(load))
        parts[lightest].append(name)
        load[lightest] += size
    return [sorted(part) for part in parts if part]


def part_name(index: int, codec: Codec) -> str:
    return f"data-{index:02d}.copy{codec.suffix}"


def is_copy(name: str) -> bool:
    """A part holding COPY text (not a custom archive of older backups)."""
    return name.startswith("data-") and ".copy" in name


def dump(base: list[str], copy_argv, env: dict[str, str], stage: Path, codec: Codec, parts, what):
    """Write the main file and the parts side by side; return (raw bytes, layout).

    ``base`` is the pg_dump command, ``copy_argv(target)`` the command printing one table's
    rows, ``parts`` lists per stream the (table, COPY target) pairs it dumps. The layout maps
    every part file to its tables (``parts``) and to its COPY target (``copy``).
    """
    hint = "read the pg_dump or psql message above; " + pg_client.HINT
    main = [*base, "--format=custom", "-Z0"]
    main += [f"--exclude-table-data={pattern(name)}" for part in parts for name, _to in part]
    # The streams carry the bulk of the data; the main file (schema, small tables) barely counts.
    each = codec.sharing(len(parts))

    def write(name: str, argv: list[str]) -> int:
        return proc.dump_to_file(argv, env, stage / name, each, what, hint)

    layout: dict[str, dict[str, object]] = {"parts": {}, "copy": {}}
    streams: list[list[tuple[str, list[str]]]] = []
    for part in parts:
        streams.append([])
        for table, target in part:
            name = part_name(len(layout["parts"]) + 1, codec)
            layout["parts"][name], layout["copy"][name] = [table], target
            streams[-1].append((name, copy_argv(target)))

    def stream(files: list[tuple[str, list[str]]]) -> int:
        return sum(write(name, argv) for name, argv in files)

    work: dict[str, Callable[[], object]] = {MAIN: lambda: write(MAIN + codec.suffix, main)}
    work |= {f"stream {n}": functools.partial(stream, files) for n, files in enumerate(streams, 1)}
    raw = side_by_side(work)
    return sum(raw.values()), layout


def side_by_side(work: dict[str, Callable[[], object]]) -> dict[str, object]:
    """Run every callable in its own thread; re-raise the first failure after all ended."""
    results: dict[str, object] = {}
    errors: list[BaseException] = []

    def run(key: str, call: Callable[[], object]) -> None:
        try:
            results[key] = call()
        except BaseException as exc:  # re-raised in the caller's thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=item) for item in work.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def drop_statements(choice: list[str], folder: Path, codec: Codec, env) -> str:
    """The DROP statements ``pg_restore --clean`` would run first, without what follows.

    pg_restore prints all its drops (in reverse dependency order, so foreign keys go before
    the tables they point at) ahead of the first object's "-- Name:" header; the parts are
    restored after the schema, so the drops must come before everything else.
    """
    _raw, script = proc.stream_file(
        folder / (MAIN + codec.suffix),
        codec,
        ["pg_restore", *choice, "--clean", "--if-exists", "--schema-only", "-f", "-"],
        env,
        f"reading what backup {folder.name} would replace",
        "the backup's table of contents could not be read; verify the backup",
        consumer_may_stop=True,
    )
    head, _sep, _rest = script.partition("\n-- Name: ")
    # The header ends with the "--" line that opens the first object's comment block.
    return head.rsplit("\n--", 1)[0] + "\n"


def restore(
    pg_restore: list[str],
    folder: Path,
    manifest: dict,
    codec: Codec,
    jobs: int,
    run_restore: Callable,
    run_copy: Callable,
    wanted: Callable[[str], bool],
) -> None:
    """Schema, then the data of the main file and every wanted part side by side, then
    indexes and constraints. ``run_restore(argv, path, codec)`` runs one pg_restore,
    ``run_copy(target, path, codec)`` loads one part, ``wanted("schema.table")`` says whether
    a part's table is chosen. Replacing objects is the caller's first step (see
    ``drop_statements``)."""
    main = folder / (MAIN + codec.suffix)
    run_restore([*pg_restore, "--section=pre-data"], main, codec)
    data = [*pg_restore, "--section=data"]
    loads = {main.name: functools.partial(run_restore, data, main, codec)}
    details = manifest["details"]
    for name, held in details["parts"].items():
        if not any(wanted(table) for table in held):
            continue  # none of the chosen tables is in this part
        if is_copy(name):
            loads[name] = functools.partial(run_copy, details["copy"][name], folder / name, codec)
        else:  # a custom archive of an older backup: pg_restore picks the chosen tables
            loads[name] = functools.partial(run_restore, data, folder / name, codec)
    side_by_side(loads)
    with pg_client.seekable(main, codec, jobs) as (path, stream_codec):
        post = [*pg_restore, "--section=post-data"]
        run_restore(post + (["--jobs", str(jobs)] if jobs > 1 else []), path, stream_codec)
