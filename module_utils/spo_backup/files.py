"""Program files (S1.4, S2.4): a tar archive of an application directory, restored with its
owners, modes and symlinks to the original or another path."""

import fnmatch
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from . import proc
from .compress import CODECS, Codec
from .errors import BackupError

# Numeric owners: the restore host may map names to other ids; ACLs and xattrs travel too.
_KEEP = ["--numeric-owner", "--acls", "--xattrs"]


def dump(source: Path, stage: Path, codec: Codec, excludes: list[str] | tuple = ()) -> dict:
    if not source.is_dir():
        raise BackupError(
            f"the program directory {source} does not exist", "check the path in the inventory"
        )
    argv = ["tar", "--create", "--file=-", f"--directory={source}", *_KEEP]
    argv += [f"--exclude={pattern}" for pattern in excludes] + ["."]
    raw = proc.dump_to_file(
        argv,
        proc.child_env(),
        stage / f"files.tar{codec.suffix}",
        codec,
        f"backup of program files {source}",
        "if tar says a file changed as it was read, stop the application or run again",
    )
    tool = proc.run(["tar", "--version"], proc.child_env(), "tar --version", "").splitlines()[0]
    return {
        "server_version": None,
        "tool": tool,
        "path": str(source),
        "format": "tar",
        "compression": codec.name,
        "raw_bytes": raw,
        "tables": {},
        "details": {"excludes": list(excludes)},
    }


def content_of(_relpath: str) -> str:
    return "tar"


def restore(
    folder: Path,
    manifest: dict,
    target: Path | None = None,
    replace: bool = False,
    keep_replaced: bool = False,
) -> dict:
    """Extract beside ``target`` first, then swap it in: a failed restore leaves the old
    directory untouched, never a mix of both. With ``keep_replaced`` the replaced directory
    stays beside it as ``<name>.replaced-<UTC time>`` (the damaged state, for whoever looks
    into the cause). What the backup leaves out by its excludes (logs, uploads) is carried
    over from the replaced directory: a restore must not destroy what it cannot give back."""
    target = Path(target or manifest["path"])
    what = f"restore of backup {folder.name} to {target}"
    if target.exists() and any(target.iterdir()) and not replace:
        raise BackupError(
            f"{what}: {target} exists and is not empty",
            "restore to another path, or ask for replace to swap it",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = target.with_name(f".{target.name}.spo-restore-{os.getpid()}")
    old = target.with_name(f".{target.name}.spo-old-{os.getpid()}")
    fresh.mkdir(mode=0o700)
    try:
        argv = [
            "tar",
            "--extract",
            "--file=-",
            f"--directory={fresh}",
            "--same-owner",
            "--same-permissions",
            *_KEEP,
        ]
        name = next(iter(manifest["files"]))
        proc.stream_file(
            folder / name,
            CODECS[manifest["compression"]],
            argv,
            proc.child_env(),
            what,
            "check free space and that the restore runs as root",
        )
        replaced = target.exists()
        if replaced:
            _carry_excluded(target, fresh, manifest["details"].get("excludes", []))
        if replaced and keep_replaced:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            old = target.with_name(f"{target.name}.replaced-{stamp}")
        if replaced:
            os.rename(target, old)
        os.rename(fresh, target)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    kept = str(old) if replaced and keep_replaced else None
    if not kept:
        shutil.rmtree(old, ignore_errors=True)
    return {"path": str(target), "replaced": replaced, "kept": kept}


def _carry_excluded(old: Path, fresh: Path, patterns: list[str]) -> None:
    """Move the entries of ``old`` that the backup's exclude patterns left out into
    ``fresh`` (same file system: a rename), where the restore did not put one."""
    if not patterns:
        return
    for root, dirs, names in os.walk(old):
        for name in [*dirs, *names]:
            rel = os.path.relpath(os.path.join(root, name), old)
            # tar matches exclusions against the whole member name or its last part.
            if any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in patterns):
                there = fresh / rel
                if not there.exists() and not there.is_symlink() and there.parent.is_dir():
                    os.rename(os.path.join(root, name), there)
                if name in dirs:
                    dirs.remove(name)


def differences(folder: Path, manifest: dict, target: Path) -> list[str]:
    """``tar --diff`` of the backup's archive against ``target``: one line per difference
    (contents, size, mode, owner, time, a missing file or link)."""
    # Status 1 means "differences found" (they are the answer; a missing file is told on
    # stderr, so both streams are read); 2 is a real failure, said again on stderr.
    script = (
        'tar --diff --file=- --directory="$1" --numeric-owner 2>&1; s=$?; '
        '[ $s -le 1 ] || echo "tar --diff failed (status $s): is the folder readable?" >&2; '
        "[ $s -le 1 ]"
    )
    _raw, out = proc.stream_file(
        folder / next(iter(manifest["files"])),
        CODECS[manifest["compression"]],
        ["sh", "-c", script, "tar-diff", str(target)],
        proc.child_env(),
        f"comparing {target} with backup {folder.name}",
        "check that the backup verifies and that the folder is readable",
    )
    return [line.removeprefix("tar: ") for line in out.splitlines() if line.strip()]


def compare(folder: Path, manifest: dict, target: Path) -> int:
    """Prove a restored tree equals the backup's archive (contents, modes, owners, times,
    symlinks); return how many entries it holds."""
    found = differences(folder, manifest, target)
    if found:
        shown = "; ".join(found[:10]) + (f"; and {len(found) - 10} more" if len(found) > 10 else "")
        raise BackupError(
            f"{target} differs from backup {folder.name}: {shown}",
            "the restored files differ from the backup: restore again, and check the disk",
        )
    return sum(len(dirs) + len(names) for _root, dirs, names in os.walk(target))
