"""The embedded journal: SQLite in WAL mode, shared safely between processes.

Writers take the database lock at ``BEGIN IMMEDIATE`` and wait up to ``busy_timeout`` for it,
so two gateway processes on one journal serialise instead of failing. Commits are
``synchronous=NORMAL`` (consistent, fast) except those opened with ``durable=True``, which are
``synchronous=FULL`` (on disk before the call returns): use those before a remote step that
cannot be undone.
"""

from __future__ import annotations

from toekgw.gateway.journal._sqlite_actions import ActionPlan
from toekgw.gateway.journal._sqlite_asof import ItemsAsOf
from toekgw.gateway.journal._sqlite_books import SqliteBooks
from toekgw.gateway.journal._sqlite_connection import now
from toekgw.gateway.journal._sqlite_errors import ErrorList
from toekgw.gateway.journal._sqlite_filings import Filings
from toekgw.gateway.journal._sqlite_items import BATCH as BATCH
from toekgw.gateway.journal._sqlite_members import Members
from toekgw.gateway.journal._sqlite_outbox import Outbox
from toekgw.gateway.journal._sqlite_reads import ReadLog
from toekgw.gateway.journal._sqlite_retention import Retained
from toekgw.gateway.journal._sqlite_staged import StagedBodies
from toekgw.gateway.journal.model import (
    Event,
    ItemHistory,
)

__all__ = ["SqliteJournal", "now"]


class SqliteJournal(
    Members,
    Filings,
    ItemsAsOf,
    ErrorList,
    SqliteBooks,
    Outbox,
    ActionPlan,
    ReadLog,
    Retained,
    StagedBodies,
):
    """The :class:`~toekgw.gateway.journal.base.Journal` (with its
    :class:`~toekgw.gateway.journal.books.Books` and its
    :class:`~toekgw.gateway.journal.outbox.StatusOutbox`) on one SQLite file."""

    def events(self, transmission_id: int) -> list[Event]:
        rows = self._db.execute(
            "SELECT id, at, transmission_id, item_id, scope, from_state, to_state, count, "
            "reason, actor FROM events WHERE transmission_id = ? ORDER BY at, id",
            (transmission_id,),
        ).fetchall()
        return [Event(*r) for r in rows]

    def item_history(self, item_id: int) -> ItemHistory:
        """The item's whole story: its file's events up to its creation, then every move
        that touched it (its own, and the bulk moves of its transmission that applied to it)."""
        item = self.get_item(item_id)
        tx = self.get_transmission(item.transmission_id)
        created = int(
            self._db.execute("SELECT created_event FROM items WHERE id = ?", (item_id,)).fetchone()[
                0
            ]
        )
        rows = self._db.execute(
            "SELECT id, at, transmission_id, item_id, scope, from_state, to_state, count, "
            "reason, actor FROM events WHERE transmission_id = ? "
            "AND (item_id IS NULL OR item_id = ?) "
            "ORDER BY id",
            (item.transmission_id, item_id),
        ).fetchall()
        story: list[Event] = []
        state: str | None = None
        for row in rows:
            event = Event(*row)
            if event.scope == "transmission":
                story.append(event)
            elif event.scope == "items":
                if event.id == created or (state is not None and event.from_state == state):
                    story.append(event)
                    state = event.to_state
            elif event.scope == "item":
                story.append(event)
                state = event.to_state
        # Replayed in log order; told in time order (a receive journals, in its one
        # transaction, the earlier moments it downloaded and checked the file).
        return ItemHistory(item, tx, tuple(sorted(story, key=lambda e: (e.at, e.id))))
