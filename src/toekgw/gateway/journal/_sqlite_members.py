"""Memberships: which journaled items an outbound transmission carries, in which order.

An outbound transmission (a NemKonto bundle, say) carries items journaled earlier, often with
another transmission. Membership rows link them without copying: an item may be carried again
by a later transmission (a later attempt), and every carrying is kept, so the journal can say
which transmissions carried an item and which one carries it now.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

from toekgw.gateway.journal._sqlite_connection import JournalConnection, chunks
from toekgw.gateway.journal._sqlite_items import ITEM_COLUMNS, item_from_row
from toekgw.gateway.journal.model import Item, JournalError

__all__ = ["Members"]


class Members(JournalConnection):
    """The items an outbound transmission carries: the membership part of
    :class:`~toekgw.gateway.journal.sqlite.SqliteJournal`."""

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
