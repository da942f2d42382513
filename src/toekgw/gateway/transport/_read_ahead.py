"""paramiko's SFTP read-ahead, quiet when the connection drops under it.

``SFTPFile.prefetch`` sends the read requests of a download from a thread of its own. When
the connection drops mid-download, that thread's next request fails ("Socket is closed") and
nothing catches it there: Python's default ``threading.excepthook`` prints the traceback on
standard error (paramiko issue #2379, open). The download itself fails in the caller's thread
too, where :class:`~toekgw.gateway.transport.sftp.SftpTransport` retries it on a fresh
connection or reports it in one line; the read-ahead thread's traceback says nothing more,
and an operator must see tracebacks only with ``--debug``.

:func:`quiet_read_ahead` wraps ``threading.excepthook`` once: an ``OSError``, ``EOFError`` or
``paramiko.SSHException`` raised in paramiko's read-ahead thread is logged at debug level, its
traceback with it (so ``--debug`` still shows it); every other exception goes to the hook that
was there before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import PurePath

import paramiko

__all__ = ["quiet_read_ahead"]

log = logging.getLogger(__name__)

#: Where the read-ahead thread's requests are sent from (``paramiko/sftp_file.py``).
_READ_AHEAD = "_prefetch_thread"
_LOST = (OSError, EOFError, paramiko.SSHException)

Hook = Callable[[threading.ExceptHookArgs], object]


class _ReadAheadHook:
    """A ``threading.excepthook`` that logs a lost connection in the read-ahead thread and
    hands every other exception to ``previous``."""

    def __init__(self, previous: Hook) -> None:
        self.previous = previous

    def __call__(self, args: threading.ExceptHookArgs) -> None:
        if isinstance(args.exc_value, _LOST) and _in_read_ahead(args):
            # the traceback too, for --debug (the only level that shows it)
            log.debug("SFTP read-ahead stopped: %s", args.exc_value, exc_info=args.exc_value)
            return
        self.previous(args)


def _in_read_ahead(args: threading.ExceptHookArgs) -> bool:
    """Whether the exception was raised in paramiko's read-ahead function."""
    tb = args.exc_traceback
    while tb is not None:
        code = tb.tb_frame.f_code
        path = PurePath(code.co_filename)
        if code.co_name == _READ_AHEAD and path.parts[-2:] == ("paramiko", "sftp_file.py"):
            return True
        tb = tb.tb_next
    return False


def quiet_read_ahead() -> None:
    """Wrap ``threading.excepthook`` (once; again if something has replaced it since)."""
    if not isinstance(threading.excepthook, _ReadAheadHook):
        threading.excepthook = _ReadAheadHook(threading.excepthook)
