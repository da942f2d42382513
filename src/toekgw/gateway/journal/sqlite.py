"""The embedded journal: SQLite in WAL mode, shared safely between processes.

Writers take the database lock at ``BEGIN IMMEDIATE`` and wait up to ``busy_timeout`` for it,
so two gateway processes on one journal serialise instead of failing. Commits are
``synchronous=NORMAL`` (consistent, fast) except those opened with ``durable=True``, which are
``synchronous=FULL`` (on disk before the call returns): use those before a remote step that
cannot be undone.
"""

from __future__ import annotations

from toekgw.gateway.journal._carried import Membership, carrier_at
from toekgw.gateway.journal._item_rows import BATCH as BATCH
from toekgw.gateway.journal._sqlite_actions import ActionPlan
from toekgw.gateway.journal._sqlite_asof import ItemsAsOf
from toekgw.gateway.journal._sqlite_books import SqliteBooks
from toekgw.gateway.journal._sqlite_connection import now
from toekgw.gateway.journal._sqlite_errors import ErrorList
from toekgw.gateway.journal._sqlite_filings import Filings
from toekgw.gateway.journal._sqlite_member_moves import MemberMoving
from toekgw.gateway.journal._sqlite_outbox import Outbox
from toekgw.gateway.journal._sqlite_reads import ReadLog
from toekgw.gateway.journal._sqlite_retention import Retained
from toekgw.gateway.journal._sqlite_staged import StagedBodies
from toekgw.gateway.journal._sqlite_unmarked import UnmarkedItems
from toekgw.gateway.journal.model import (
    Event,
    ItemHistory,
)

__all__ = ["SqliteJournal", "now"]

_EVENT_COLUMNS = (
    "id, at, transmission_id, item_id, scope, from_state, to_state, count, reason, actor"
)


class SqliteJournal(
    MemberMoving,
    Filings,
    ItemsAsOf,
    ErrorList,
    SqliteBooks,
    Outbox,
    ActionPlan,
    ReadLog,
    Retained,
    StagedBodies,
    UnmarkedItems,
):
    """The :class:`~toekgw.gateway.journal.base.Journal` (with its
    :class:`~toekgw.gateway.journal.books.Books` and its
    :class:`~toekgw.gateway.journal.outbox.StatusOutbox`) on one SQLite file."""

    def events(self, transmission_id: int) -> list[Event]:
        rows = self._db.execute(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE transmission_id = ? ORDER BY at, id",  # noqa: S608
            (transmission_id,),
        ).fetchall()
        return [Event(*r) for r in rows]

    def item_history(self, item_id: int) -> ItemHistory:
        """The item's whole story: its file's events up to its creation, then every move
        that touched it (its own, the bulk moves of its transmission that applied to it, and
        the set-wise moves of the transmissions that carried it: :mod:`._carried`)."""
        item = self.get_item(item_id)
        tx = self.get_transmission(item.transmission_id)
        created = int(
            self._db.execute("SELECT created_event FROM items WHERE id = ?", (item_id,)).fetchone()[
                0
            ]
        )
        rows = self._db.execute(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE transmission_id = ? "  # noqa: S608
            "AND (item_id IS NULL OR item_id = ?) ORDER BY id",
            (item.transmission_id, item_id),
        ).fetchall()
        memberships, carried = self._carried_moves(item_id)
        events = sorted([Event(*row) for row in rows] + carried, key=lambda e: e.id)
        story: list[Event] = []
        state: str | None = None
        for event in events:
            if event.scope == "transmission":
                story.append(event)
            elif event.scope == "items" and event.transmission_id != item.transmission_id:
                carrier = carrier_at(memberships, event.id)
                if state == event.from_state and carrier == event.transmission_id:
                    story.append(event)
                    state = event.to_state
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

    def _carried_moves(self, item_id: int) -> tuple[list[Membership], list[Event]]:
        """The item's memberships and the set-wise moves of the transmissions that carried
        it (those of kinds without items of their own)."""
        memberships = [
            (int(t), int(since))
            for t, since in self._db.execute(
                "SELECT transmission_id, coalesce(since_event, 0) FROM transmission_members "
                "WHERE item_id = ? ORDER BY transmission_id",
                (item_id,),
            ).fetchall()
        ]
        carriers = [t for t, _since in memberships if self._moves_setwise(t)]
        if not carriers:
            return memberships, []
        rows = self._db.execute(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE scope = 'items' "  # noqa: S608 (only ?s)
            f"AND from_state IS NOT NULL AND transmission_id IN ({', '.join('?' * len(carriers))}) "
            "ORDER BY id",
            carriers,
        ).fetchall()
        return memberships, [Event(*row) for row in rows]
