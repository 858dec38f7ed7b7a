"""Build the engine as one executable zip (a Python zipapp) for the backup role.

The modules in library/ and the `spo-backup` command on each host must run the
same engine code: this packs module_utils/spo_backup as it is in the checkout,
byte for byte reproducible (sorted entries, fixed timestamps), so a host gets a
new file only when the engine's code changed, and copying it is one transfer.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

from ansible.plugins.lookup import LookupBase

DOCUMENTATION = r"""
name: spo_engine_pyz
short_description: Path of the engine packed as an executable zip
description:
  - Packs C(module_utils/spo_backup) of this checkout into C(var/build/spo-backup-HASH.pyz),
    reproducibly (the same code gives the same bytes), and returns its path.
options: {}
"""

RETURN = r"""
_raw:
  description: Path of the executable zip on the control node.
  type: list
  elements: path
"""

REPO = Path(__file__).resolve().parents[3]
PACKAGE = REPO / "module_utils" / "spo_backup"
BUILD = REPO / "var" / "build"
SHEBANG = b"#!/usr/bin/python3\n"
MAIN = b"import sys\nfrom spo_backup.cli import main\n\nsys.exit(main())\n"
FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def _entries() -> list[tuple[str, bytes]]:
    files = sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    entries = [(f"spo_backup/{p.relative_to(PACKAGE).as_posix()}", p.read_bytes()) for p in files]
    return [("__main__.py", MAIN), *entries]


def build() -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in _entries():
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    payload = SHEBANG + buffer.getvalue()
    target = BUILD / f"spo-backup-{hashlib.sha256(payload).hexdigest()[:16]}.pyz"
    if not target.exists():
        BUILD.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(payload)
        partial.replace(target)
    return target


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        return [str(build())]
