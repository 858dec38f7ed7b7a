"""A SQL client (psql or mariadb) kept open on a pipe.

Used to hold what a dump must see consistently — an exported snapshot, a read lock — while the
dump runs, and to count rows inside it. Results come back tab-separated, one row a line.
"""

import contextlib
import subprocess
from dataclasses import dataclass, field

from .errors import ToolError
from .proc import Proc

END = "__SPO_END__"


@dataclass
class Connection:
    """Where and as whom to connect; ``password`` is only ever written to a 0600 file."""

    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    socket: str | None = None  # MariaDB unix socket (PostgreSQL takes a directory as host)


class Session:
    def __init__(self, argv: list[str], env: dict[str, str], end: str, what: str, hint: str):
        self.what, self.hint, self.end = what, hint, end
        self.proc = Proc(argv, env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def query(self, sql: str) -> list[list[str]]:
        """Send statements; return the rows they printed."""
        pipe_in, pipe_out = self.proc.popen.stdin, self.proc.popen.stdout
        try:
            pipe_in.write(f"{sql}\n{self.end}\n".encode())
            pipe_in.flush()
        except BrokenPipeError:
            self._failed()
        rows = []
        for raw in iter(pipe_out.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line == END:
                return rows
            rows.append(line.split("\t"))
        self._failed()
        return rows  # not reached

    def _failed(self) -> None:
        code = self.proc.wait()
        raise ToolError(
            f"{self.what}: {self.proc.argv[0]} stopped (status {code}): {self.proc.stderr()}",
            self.hint,
        )

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError):
            self.proc.popen.stdin.close()
        self.proc.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
