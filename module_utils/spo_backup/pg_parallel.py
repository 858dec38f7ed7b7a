"""PostgreSQL parallel backups for big databases, every file a compressed stream.

``pg_dump --jobs`` needs the directory format, whose files PostgreSQL 15 can only gzip on one
core each. Instead the engine splits the work itself, all in the one exported snapshot:

- ``dump.pgdump.*``: a custom-format dump of everything (schema, small tables, sequences,
  indexes, constraints) except the data of the biggest tables;
- ``data-NN.pgdump.*``: the data section of those tables, spread over ``jobs`` dumps by size.

Every file is written by its own ``pg_dump | compressor`` pipeline, side by side. A restore
replays the schema, loads the main file's data and every part side by side, then builds the
indexes and constraints (with ``--jobs``), which is pg_restore's own order of work.
"""

import functools
import threading
from collections.abc import Callable
from pathlib import Path

from . import pg_client, proc
from .compress import Codec

PARALLEL = "parallel"
MAIN = "dump.pgdump"
# Tables smaller than this stay in the main file: a part per tiny table only costs processes.
MIN_PART_TABLE_BYTES = 1 << 20

# Ordinary tables with their heap size, biggest first; extension-owned tables are left to
# pg_dump's own rules (their data is dumped only when the extension says so).
TABLE_SIZES = r"""SELECT n.nspname, c.relname, pg_relation_size(c.oid)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                   AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY 3 DESC, 1, 2;"""


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
    return f"data-{index:02d}.pgdump{codec.suffix}"


def dump(base: list[str], env: dict[str, str], stage: Path, codec: Codec, parts, what: str):
    """Write the main file and the parts side by side; return (raw bytes, file → tables)."""
    hint = "read the pg_dump message above; " + pg_client.HINT
    moved = [name for part in parts for name in part]
    streams = {
        MAIN + codec.suffix: [
            *base,
            "--format=custom",
            "-Z0",
            *(f"--exclude-table-data={pattern(name)}" for name in moved),
        ]
    }
    layout = {}
    for index, part in enumerate(parts, 1):
        name = part_name(index, codec)
        layout[name] = part
        streams[name] = [
            *base,
            "--format=custom",
            "-Z0",
            "--section=data",
            *(f"--table={pattern(table)}" for table in part),
        ]
    # The parts carry the bulk of the data; the main file (schema, small tables) barely counts.
    each = codec.sharing(len(parts))
    raw = side_by_side(
        {
            name: functools.partial(proc.dump_to_file, argv, env, stage / name, each, what, hint)
            for name, argv in streams.items()
        }
    )
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
    tables: list[str] | tuple = (),
) -> None:
    """Schema, then the data of the main file and every needed part side by side, then
    indexes and constraints; ``run_restore(argv, path, codec)`` runs one pg_restore.
    Replacing objects is the caller's first step (see ``drop_statements``)."""
    main = folder / (MAIN + codec.suffix)
    run_restore([*pg_restore, "--section=pre-data"], main, codec)
    data = [*pg_restore, "--section=data"]
    loads = {main.name: functools.partial(run_restore, data, main, codec)}
    for name, held in manifest["details"]["parts"].items():
        if tables and not {t.split(".", 1)[1] for t in held} & set(tables):
            continue  # none of the chosen tables is in this part
        loads[name] = functools.partial(run_restore, data, folder / name, codec)
    side_by_side(loads)
    with pg_client.seekable(main, codec, jobs) as (path, stream_codec):
        post = [*pg_restore, "--section=post-data"]
        run_restore(post + (["--jobs", str(jobs)] if jobs > 1 else []), path, stream_codec)
