"""One run of a flow at a time: a lock file the kernel holds for the running process.

Two runs of one flow would download into the same staging names (receive) or put the same
bundle twice (send). Each run takes an exclusive ``flock`` on its flow's lock file before it
starts; a second run is refused at once with one line saying who holds it. The kernel drops
the lock when the process ends, however it ends (SIGKILL included), so a killed run never
blocks the next. Lock files need a local file system (flock is not reliable over NFS).

A lock file holds for one machine. Where the journal is a PostgreSQL database shared by
several machines, the flow's lock is also taken there: a session advisory lock on a
connection of its own, which the server drops when the process ends (however it ends).
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from toekgw.gateway.errors import GatewayError, os_problem
from toekgw.gateway.journal.location import JournalLocation, JournalUrl

__all__ = ["FlowBusy", "flow_lock", "lock_path"]


class FlowBusy(GatewayError):
    """Another run of the same flow holds its lock."""


def lock_path(staging: Path, flow: str) -> Path:
    """Where the lock of ``flow`` (``"nemkonto-send"``, ...) lives under the staging root."""
    return staging / "locks" / f"{flow}.lock"


@contextmanager
def _file_lock(path: Path, what: str) -> Iterator[None]:
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


@contextmanager
def flow_lock(path: Path, what: str, *, journal: JournalLocation | None = None) -> Iterator[None]:
    """Hold the lock file ``path`` for ``what`` (the flow, as the operator knows it); with a
    PostgreSQL ``journal``, the flow's lock in that database as well, which holds for every
    machine that shares the journal."""
    with _file_lock(path, what):
        if isinstance(journal, JournalUrl):
            with _database_lock(journal, path.stem, what):
                yield
        else:
            yield


@contextmanager
def _database_lock(journal: JournalUrl, flow: str, what: str) -> Iterator[None]:
    """A session advisory lock on a connection of its own: the server drops it when the
    process ends, however it ends (the connection closes with it)."""
    import psycopg  # the extra "postgres", present wherever a PostgreSQL journal is

    key = int.from_bytes(
        hashlib.sha256(f"toekgw flow {flow}".encode()).digest()[:8], "big", signed=True
    )
    try:
        connection = psycopg.connect(journal.url, autocommit=True)
    except psycopg.Error as exc:
        raise GatewayError(f"cannot take the lock for {what} in {journal}: {exc}") from exc
    with connection:
        row = connection.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        if not row or not row[0]:
            raise FlowBusy(
                f"another {what} is running on a machine that shares the journal {journal} "
                "(it holds the flow's lock there); nothing was done",
                hint="wait for it to finish",
            )
        yield
