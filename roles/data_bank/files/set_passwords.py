"""Set the Samba password of the accounts given on stdin ([{name, password}]) that are new or
whose password changed; print the names it set, as JSON. A password reaches smbpasswd on its
stdin, never on a command line; the host keeps a salted digest of each (root-only) to tell."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

state = Path(sys.argv[1])
changed = []
for user in json.load(sys.stdin):
    digest_file = state / f"{user['name']}.sha256"
    salt = user["name"].encode() + b"\0spo-data-bank\0"
    digest = hashlib.sha256(salt + user["password"].encode()).hexdigest()
    known = digest_file.read_text().strip() if digest_file.exists() else ""
    listed = ["pdbedit", "--list", "--user", user["name"]]
    present = subprocess.run(listed, capture_output=True, check=False).returncode == 0
    if present and known == digest:
        continue
    secret = (user["password"] + "\n") * 2
    subprocess.run(
        ["smbpasswd", "-a", "-s", user["name"]],
        input=secret.encode(),
        check=True,
        capture_output=True,
    )
    fd = os.open(digest_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, digest.encode())
    os.close(fd)
    changed.append(user["name"])
print(json.dumps(changed))
