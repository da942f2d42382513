"""The journal: outbox, audit trail and idempotency guard for every transmission.

>>> from toekgw.gateway.journal import open_journal
>>> journal = open_journal(path)          # SQLite in WAL mode, migrated on open
>>> journal = open_journal(JournalUrl("postgresql://toekgw@db/journal"))  # PostgreSQL

See ``docs/developers.md`` ("Journal and file transports") for the API in use.
"""

from __future__ import annotations

from toekgw.gateway.journal._sqlite_actions import ACTION_STATUSES, ActionEntry
from toekgw.gateway.journal._sqlite_connection import READER_CACHE_KIB, WRITER_CACHE_KIB
from toekgw.gateway.journal._sqlite_reads import ReadEntry
from toekgw.gateway.journal.base import Journal, JournalReader
from toekgw.gateway.journal.location import SCHEMES, JournalLocation, JournalUrl
from toekgw.gateway.journal.model import (
    AddedItems,
    DateTotal,
    Direction,
    DuplicateItem,
    DuplicateTransmission,
    ErrorEntry,
    Event,
    FingerprintMatch,
    Item,
    ItemHistory,
    ItemRef,
    JournalError,
    KindSpec,
    Lifecycle,
    MemberMove,
    MemberMoveColumns,
    MemberMoves,
    MemberTotal,
    NewFiling,
    NewItem,
    NewTransmission,
    StateError,
    StateTotal,
    Transmission,
    Unmarked,
)
from toekgw.gateway.journal.sqlite import SqliteJournal

__all__ = [
    "ACTION_STATUSES",
    "ActionEntry",
    "AddedItems",
    "DateTotal",
    "Direction",
    "DuplicateItem",
    "DuplicateTransmission",
    "ErrorEntry",
    "Event",
    "FingerprintMatch",
    "Item",
    "ItemHistory",
    "ItemRef",
    "Journal",
    "JournalError",
    "JournalLocation",
    "JournalReader",
    "JournalUrl",
    "KindSpec",
    "Lifecycle",
    "MemberMove",
    "MemberMoveColumns",
    "MemberMoves",
    "MemberTotal",
    "NewFiling",
    "NewItem",
    "NewTransmission",
    "ReadEntry",
    "SqliteJournal",
    "StateError",
    "StateTotal",
    "Transmission",
    "Unmarked",
    "open_journal",
]


def open_journal(
    where: str | JournalLocation, *, verify: bool = False, reader: bool = False
) -> SqliteJournal:
    """The journal at ``where``: a SQLite file (created where no file is) or, for a
    :class:`JournalUrl` or a ``postgresql://`` string, a PostgreSQL database; migrated when
    needed.

    ``verify``: refuse a journal that fails its integrity check (``PRAGMA quick_check``; on
    PostgreSQL, its schema), as every command that moves money does before it starts.
    ``reader``: for a command that reads what the journal holds (an operator's status or
    reconciliation): SQLite keeps a small page cache (``READER_CACHE_KIB``), so the command's
    memory does not grow with the journal. It may still write (the read log).
    """
    if isinstance(where, str) and where.startswith(SCHEMES):
        where = JournalUrl(where)
    if isinstance(where, JournalUrl):
        try:
            from toekgw.gateway.journal.postgres import PostgresJournal
        except ImportError as exc:
            raise JournalError(
                f"the journal {where} is a PostgreSQL database, and this installation lacks "
                f"its driver ({exc.name})",
                hint="pip install 'toek-gateway[postgres]'",
            ) from exc

        journal: SqliteJournal = PostgresJournal(where.url)
    else:
        journal = SqliteJournal(where, cache_kib=READER_CACHE_KIB if reader else WRITER_CACHE_KIB)
    if verify:
        try:
            journal.require_sound()
        except BaseException:
            journal.close()
            raise
    return journal
