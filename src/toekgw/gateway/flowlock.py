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

import hashlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

from toekgw.gateway.errors import GatewayError, os_problem
from toekgw.gateway.journal.location import JournalLocation, JournalUrl
from toekgw.gateway.lockfile import take_lock

__all__ = [
    "SERVICE",
    "FlowBusy",
    "flow_lock",
    "lock_path",
    "no_flow_running",
    "service_lock",
]


class FlowBusy(GatewayError):
    """Another run of the same flow holds its lock."""


#: The flow name of ``toekgw run``'s own lock, held for the service's life.
SERVICE = "service"


def lock_path(staging: Path, flow: str) -> Path:
    """Where the lock of ``flow`` (``"nemkonto-send"``, ...) lives under the staging root."""
    return staging / "locks" / f"{flow}.lock"


@contextmanager
def _file_lock(path: Path, what: str, *, shared: bool = False) -> Iterator[None]:
    try:
        handle = take_lock(path, shared=shared)
    except OSError as exc:
        raise GatewayError(
            f"cannot take the lock {path} for {what}: {os_problem(path, exc)}"
        ) from exc
    if handle is None:
        holder = "a restore of the journal is" if shared else f"another {what} is"
        raise FlowBusy(
            f"{holder} running (it holds {path}); nothing was done", hint="wait for it to finish"
        )
    with handle:  # closing it drops the lock
        yield


def service_lock(staging: Path) -> AbstractContextManager[None]:
    """``toekgw run``'s lock for its life: shared, since several workers may run on one
    machine (docs/scaling.md), and what :func:`no_flow_running` waits for in vain."""
    return _file_lock(lock_path(staging, SERVICE), "toekgw run", shared=True)


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
def no_flow_running(staging: Path, why: str) -> Iterator[None]:
    """Hold the lock of every flow that has run on ``staging`` (``<staging>/locks/*.lock``,
    a receive's ``<staging>/<counterpart>/.lock``; ``toekgw run``'s among them), so that none
    starts while the caller works; a :class:`FlowBusy` naming the first one that is running.
    ``why``: what the caller does, for the message (``a restore``)."""
    service = lock_path(staging, SERVICE)  # first: the likeliest holder, and the plainest
    flows = sorted(staging.glob("locks/*.lock")) + sorted(staging.glob("*/.lock"))
    paths = [service, *(path for path in flows if path != service)]
    with ExitStack() as held:
        for path in paths:
            flow = _flow_of(path)
            try:
                held.enter_context(_file_lock(path, flow))
            except FlowBusy:
                raise FlowBusy(
                    f"{flow} is running (it holds {path}): stop toekgw, the service and every "
                    f"command, before {why}; nothing was done",
                    hint="toekgw run stops on SIGTERM once its running step is done",
                ) from None
        yield


def _flow_of(path: Path) -> str:
    """The flow a lock file is for, as the operator knows it."""
    if path.name == ".lock":
        return f"a receive from {path.parent.name}"
    return "toekgw run" if path.stem == SERVICE else path.stem


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
