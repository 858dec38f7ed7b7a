"""One exception family; every message says what failed, where, and what to do next."""


class BackupError(Exception):
    """An operator-actionable failure: ``what`` happened, ``hint`` says what to do."""

    def __init__(self, what: str, hint: str = "") -> None:
        self.what = what
        self.hint = hint
        super().__init__(f"{what} -- what to do: {hint}" if hint else what)


class Refused(BackupError):
    """Not started: nothing was changed (a restore, drill or change that may not run)."""


class ToolError(BackupError):
    """An external program (pg_dump, mariadb, tar, zstd ...) exited non-zero."""


class LockHeld(BackupError):
    """Another run holds the lock of this source."""


class DestinationError(BackupError):
    """The destination is not the declared, mounted, marked place."""


class DestinationFull(BackupError):
    """The destination ran out of space while writing."""


class VerifyError(BackupError):
    """A backup failed verification; ``problems`` maps payload file -> what is wrong."""

    def __init__(self, what: str, hint: str, problems: dict[str, str]) -> None:
        super().__init__(what, hint)
        self.problems = problems
