"""Who has a SQLite journal open: a lock on a file beside it, held for each connection's life.

Every :class:`~toekgw.gateway.journal._sqlite_connection.JournalConnection` holds a *shared*
``flock`` on ``<journal>-inuse`` while it is open: a command, a job of ``toekgw run``, the
callback service, a payment action, a reader. ``toekgw restore`` and ``toekgw journal
migrate-to`` take it *exclusive* (:func:`journal_to_itself`): refused at once while any other
process (or another connection of this one) has the journal open, and while they hold it no
connection opens. The flow locks (:mod:`toekgw.gateway.flowlock`) say which flow runs; this
lock also covers what takes no flow lock, and a flow that never ran before.

The kernel drops the lock when the process ends, however it ends. A journal in a directory
this user may not write gets no lock file (such a journal is not restored under it either).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from toekgw.gateway.journal.model import JournalError
from toekgw.gateway.lockfile import take_lock

__all__ = ["JournalInUse", "in_use_path", "journal_to_itself"]

#: The journals this process holds exclusively (:func:`journal_to_itself`): its own
#: connections to them open without the shared lock.
_HELD: set[Path] = set()


def in_use_path(journal: Path) -> Path:
    """The lock file beside ``journal``."""
    return journal.with_name(journal.name + "-inuse")


class JournalInUse:
    """A connection's shared hold on its journal (:meth:`release` when it closes)."""

    def __init__(self, journal: Path) -> None:
        self._handle: IO[str] | None = None
        if journal.resolve() in _HELD:
            return
        try:
            handle = take_lock(in_use_path(journal), shared=True)
        except OSError:
            return  # a directory we may not write: SQLite says so, in its own words
        if handle is None:
            raise JournalError(
                f"the journal {journal} is being restored or copied by another process; "
                "nothing was done",
                hint="wait for toekgw restore or toekgw journal migrate-to to finish",
            )
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file drops its lock
            self._handle = None


@contextmanager
def journal_to_itself(journal: Path, why: str) -> Iterator[None]:
    """Hold ``journal`` exclusively for ``why`` (``a restore``): a :class:`JournalError` when
    another process, or another connection of this one, has it open."""
    path = in_use_path(journal)
    try:
        handle = take_lock(path)
    except OSError as exc:
        raise JournalError(f"cannot take the lock {path} for {why}: {exc}") from exc
    if handle is None:
        raise JournalError(
            f"the journal {journal} is open in another process (toekgw run, a command, "
            f"the callback service): stop it before {why}; nothing was done",
            hint="toekgw run and toekgw serve stop on SIGTERM",
        )
    with handle:  # closing it drops the lock
        held = journal.resolve()
        _HELD.add(held)
        try:
            yield
        finally:
            _HELD.discard(held)
