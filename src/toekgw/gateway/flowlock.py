"""One run of a flow at a time: a lock file the kernel holds for the running process.

Two runs of one flow would download into the same staging names (receive) or put the same
bundle twice (send). Each run takes an exclusive ``flock`` on its flow's lock file before it
starts; a second run is refused at once with one line saying who holds it. The kernel drops
the lock when the process ends, however it ends (SIGKILL included), so a killed run never
blocks the next. Lock files need a local file system (flock is not reliable over NFS).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from toekgw.gateway.errors import GatewayError, os_problem

__all__ = ["FlowBusy", "flow_lock", "lock_path"]


class FlowBusy(GatewayError):
    """Another run of the same flow holds its lock."""


def lock_path(staging: Path, flow: str) -> Path:
    """Where the lock of ``flow`` (``"nemkonto-send"``, ...) lives under the staging root."""
    return staging / "locks" / f"{flow}.lock"


@contextmanager
def flow_lock(path: Path, what: str) -> Iterator[None]:
    """Hold the lock file ``path`` for ``what`` (the flow, as the operator knows it)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a")
    except OSError as exc:
        raise GatewayError(
            f"cannot take the lock {path} for {what}: {os_problem(path, exc)}"
        ) from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FlowBusy(
                f"another {what} is running (it holds {path}); nothing was done",
                hint="wait for it to finish",
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
