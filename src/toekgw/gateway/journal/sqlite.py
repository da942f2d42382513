"""The embedded journal: SQLite in WAL mode, shared safely between processes.

Writers take the database lock at ``BEGIN IMMEDIATE`` and wait up to ``busy_timeout`` for it,
so two gateway processes on one journal serialise instead of failing. Commits are
``synchronous=NORMAL`` (consistent, fast) except those opened with ``durable=True``, which are
``synchronous=FULL`` (on disk before the call returns): use those before a remote step that
cannot be undone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

from toekgw.gateway.journal._sqlite_connection import chunks, now
from toekgw.gateway.journal._sqlite_errors import ErrorList
from toekgw.gateway.journal._sqlite_items import BATCH as BATCH
from toekgw.gateway.journal._sqlite_items import ITEM_COLUMNS, Items, item_from_row
from toekgw.gateway.journal.model import (
    Event,
    Item,
    ItemHistory,
    JournalError,
)

__all__ = ["SqliteJournal", "now"]


class SqliteJournal(Items, ErrorList):
    """The :class:`~toekgw.gateway.journal.base.Journal` on one SQLite file."""

    def events(self, transmission_id: int) -> list[Event]:
        rows = self._db.execute(
            "SELECT id, at, transmission_id, item_id, scope, from_state, to_state, count, "
            "reason FROM events WHERE transmission_id = ? ORDER BY at, id",
            (transmission_id,),
        ).fetchall()
        return [Event(*r) for r in rows]

    # -- members: items an outbound transmission carries --------------------------------

    def add_members(self, transmission_id: int, members: Iterable[tuple[int, str]]) -> int:
        """Make the items ``(item_id, member_key)`` members of the transmission, in order."""
        with self.transaction():
            start = self._db.execute(
                "SELECT coalesce(max(seq), 0) FROM transmission_members WHERE transmission_id = ?",
                (transmission_id,),
            ).fetchone()[0]
            rows = [
                (transmission_id, item_id, start + n, key)
                for n, (item_id, key) in enumerate(members, 1)
            ]
            try:
                self._db.executemany(
                    "INSERT INTO transmission_members(transmission_id, item_id, seq, member_key) "
                    "VALUES (?, ?, ?, ?)",
                    rows,
                )
            except sqlite3.IntegrityError as exc:
                raise JournalError(
                    f"transmission #{transmission_id}: a member appears twice ({exc})"
                ) from exc
        return len(rows)

    def members(self, transmission_id: int, *, current_only: bool = False) -> Iterator[Item]:
        """The transmission's member items in order. ``current_only``: only those whose latest
        membership is this transmission (not since carried by a later one)."""
        sql = (
            f"SELECT {ITEM_COLUMNS} FROM transmission_members m "
            "JOIN items i ON i.id = m.item_id JOIN events e ON e.id = i.created_event "
            "WHERE m.transmission_id = ?"
        )
        if current_only:
            sql += (
                " AND m.transmission_id = (SELECT max(m2.transmission_id) "
                "FROM transmission_members m2 WHERE m2.item_id = m.item_id)"
            )
        for row in self._db.execute(sql + " ORDER BY m.seq", (transmission_id,)).fetchall():
            yield item_from_row(row)

    def member(self, transmission_id: int, member_key: str) -> Item | None:
        row = self._db.execute(
            f"SELECT {ITEM_COLUMNS} FROM transmission_members m "
            "JOIN items i ON i.id = m.item_id JOIN events e ON e.id = i.created_event "
            "WHERE m.transmission_id = ? AND m.member_key = ?",
            (transmission_id, member_key),
        ).fetchone()
        return item_from_row(row) if row else None

    def memberships(self, item_ids: Iterable[int]) -> dict[int, list[int]]:
        """item id -> the transmissions that carried it, oldest first."""
        found: dict[int, list[int]] = {}
        ids = list(dict.fromkeys(item_ids))
        for chunk in chunks(ids):
            rows = self._db.execute(
                "SELECT item_id, transmission_id FROM transmission_members "
                f"WHERE item_id IN ({', '.join('?' * len(chunk))}) "
                "ORDER BY item_id, transmission_id",
                chunk,
            ).fetchall()
            for item_id, tid in rows:
                found.setdefault(item_id, []).append(tid)
        return found

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
            "reason FROM events WHERE transmission_id = ? AND (item_id IS NULL OR item_id = ?) "
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
