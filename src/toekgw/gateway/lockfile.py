"""A lock file: a file whose ``flock`` a process holds while it works.

The kernel drops the lock when the process ends, however it ends (SIGKILL included), and when
the file is closed. A lock is exclusive or shared; it is taken without waiting, so a second
holder learns at once that it is not alone. Lock files need a local file system (``flock``
is not reliable over NFS). The flow locks (:mod:`toekgw.gateway.flowlock`) and the journal's
in-use lock (:mod:`toekgw.gateway.journal._in_use`) are such files.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

__all__ = ["take_lock"]


def take_lock(path: Path, *, shared: bool = False) -> IO[str] | None:
    """``path`` (made, with its directory, if missing) locked without waiting: its open file,
    which holds the lock until it is closed; None when another holds a lock that conflicts.
    An :class:`OSError` when the file cannot be made or opened."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a")
    try:
        fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle
