"""The journal: outbox, audit trail and idempotency guard for every transmission.

>>> from toekgw.gateway.journal import open_journal
>>> journal = open_journal(path)          # SQLite in WAL mode, migrated on open

See ``docs/developers.md`` ("Journal and file transports") for the API in use.
"""

from __future__ import annotations

from pathlib import Path

from toekgw.gateway.journal._sqlite_actions import ACTION_STATUSES, ActionEntry
from toekgw.gateway.journal._sqlite_reads import ReadEntry
from toekgw.gateway.journal.base import Journal, JournalReader
from toekgw.gateway.journal.model import (
    AddedItems,
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
    MemberMoves,
    MemberTotal,
    NewItem,
    NewTransmission,
    StateError,
    StateTotal,
    Transmission,
)
from toekgw.gateway.journal.sqlite import SqliteJournal

__all__ = [
    "ACTION_STATUSES",
    "ActionEntry",
    "AddedItems",
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
    "JournalReader",
    "KindSpec",
    "Lifecycle",
    "MemberMove",
    "MemberMoves",
    "MemberTotal",
    "NewItem",
    "NewTransmission",
    "ReadEntry",
    "SqliteJournal",
    "StateError",
    "StateTotal",
    "Transmission",
    "open_journal",
]


def open_journal(path: str | Path, *, verify: bool = False) -> SqliteJournal:
    """The embedded journal at ``path`` (created where no file is, migrated when needed).

    ``verify``: refuse a journal that fails its integrity check (``PRAGMA quick_check``), as
    every command that moves money does before it starts.
    """
    journal = SqliteJournal(path)
    if verify:
        try:
            journal.require_sound()
        except BaseException:
            journal.close()
            raise
    return journal
