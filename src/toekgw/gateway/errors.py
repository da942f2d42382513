"""The gateway's exceptions: each one carries a message an operator can act on.

The CLI prints ``str(error)`` as one line and exits with ``exit_code``; a traceback is shown
only with ``--debug``. Messages are masked for CPR numbers when they are made, so no caller
can forget to.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from toekgw.formats.findings import mask_cpr_in_text

__all__ = [
    "GatewayError",
    "InputError",
    "UsageError",
    "directory_problem",
    "is_environmental",
    "os_problem",
]

#: Errors of the environment that no retry mends: the disk or quota is full, the file system
#: is read-only.
FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


def os_problem(path: Path, exc: OSError) -> str:
    """What went wrong with ``path``, in words an operator can act on: which part of the path
    is a file where a directory must be, a full disk, else the system's own words."""
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        for part in reversed(path.parents):
            if part.exists() and not part.is_dir():
                return f"{part} is a file, not a directory"
    if exc.errno == errno.ENOSPC:
        return "no space left on the device (the disk is full)"
    if exc.errno == errno.EDQUOT:
        return "the disk quota is exhausted"
    return exc.strerror or str(exc)


def directory_problem(path: Path, exc: OSError) -> str:
    """Why the directory ``path`` could not be made or used: as :func:`os_problem`, and a file
    standing in its own place."""
    if exc.errno in (errno.ENOTDIR, errno.EEXIST) and path.exists() and not path.is_dir():
        return f"{path} is a file, not a directory"
    return os_problem(path, exc)


class GatewayError(Exception):
    """Base class. ``exit_code`` 2: the command could not do its work."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = mask_cpr_in_text(message)
        self.hint = mask_cpr_in_text(hint) if hint else None
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(GatewayError):
    """An input file or message cannot be read at all (missing, unreadable, wrong kind)."""


class UsageError(GatewayError):
    """The command was called with arguments or configuration that cannot work."""


def is_environmental(error: BaseException) -> bool:
    """Whether ``error`` comes from the environment (disk, database, network, configuration)
    rather than from the one message or file being processed: such an error stops the run,
    where a bad item is set aside and the run goes on."""
    return isinstance(error, (OSError, MemoryError, GatewayError, sqlite3.Error))
