"""Memberships: which journaled items an outbound transmission carries, in which order.

An outbound transmission (a NemKonto bundle, say) carries items journaled earlier, often with
another transmission. Membership rows link them without copying: an item may be carried again
by a later transmission (a later attempt), and every carrying is kept, so the journal can say
which transmissions carried an item and which one carries it now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator, Sequence

from toekgw.gateway.identity import acting_identity
from toekgw.gateway.journal._item_rows import ITEM_COLUMNS, item_from_row
from toekgw.gateway.journal._sql import waiting
from toekgw.gateway.journal._sqlite_connection import chunks, now
from toekgw.gateway.journal._sqlite_items import Items
from toekgw.gateway.journal.model import (
    Item,
    JournalError,
    MemberTotal,
    StateError,
)

__all__ = ["Members"]

_MOVE_EVENTS = (
    "INSERT INTO events(at, transmission_id, item_id, scope, from_state, to_state, count, reason, "
    "actor) "
)


_PAGE = 2_000


def _marks(values: Sequence[object], *, start: int | None = None) -> str:
    """Placeholders for ``values``: ``?, ?`` (or numbered from ``start``: ``?3, ?4``)."""
    if start is None:
        return ", ".join("?" * len(values))
    return ", ".join(f"?{n}" for n in range(start, start + len(values)))


#: A membership's columns as :meth:`Members.add_members` inserts them.
_MEMBER_COLUMNS = ("transmission_id", "item_id", "seq", "member_key", "since_event")


class Members(Items):
    """The items an outbound transmission carries: the membership part of
    :class:`~toekgw.gateway.journal.sqlite.SqliteJournal`."""

    def add_members(
        self,
        transmission_id: int,
        members: Iterable[tuple[int, str]],
        *,
        move: tuple[str, str] | None = None,
        reason: str = "",
    ) -> int:
        """Make the items ``(item_id, member_key)`` members of the transmission, in order
        (each membership recording the newest event when it began); with
        ``move=(from_state, to_state)``, those of them in ``from_state`` move to ``to_state``
        as they are taken on (``reason``: one event on the transmission for its first
        members where its kind has no items of its own, else one event each): what
        :meth:`move_members` right after would do, with each item written once."""
        with self.transaction():
            start, since = self._db.execute(
                "SELECT (SELECT coalesce(max(seq), 0) FROM transmission_members "
                "WHERE transmission_id = ?), (SELECT coalesce(max(id), 0) FROM events)",
                (transmission_id,),
            ).fetchone()
            rows = [
                (transmission_id, item_id, start + n, key, since)
                for n, (item_id, key) in enumerate(members, 1)
            ]
            try:
                self._insert_rows("transmission_members", _MEMBER_COLUMNS, rows)
            except self._dialect.integrity_error as exc:
                raise JournalError(
                    f"transmission #{transmission_id}: a member appears twice ({exc})"
                ) from exc
            if move is None:
                # The latest membership carries the item (transmission ids only grow).
                self._db.execute(
                    "UPDATE items SET carrier_id = ?1 WHERE id IN (SELECT item_id FROM "
                    "transmission_members WHERE transmission_id = ?1 AND seq > ?2) "
                    "AND (carrier_id IS NULL OR carrier_id < ?1)",
                    (transmission_id, start),
                )
            else:
                # a carrier's first members: set-wise where its kind has no items of its own
                setwise = start == 0 and self._moves_setwise(transmission_id)
                self._carry_and_move(transmission_id, start, move, reason, setwise=setwise)
            self._db.execute(
                "UPDATE transmissions SET item_count = item_count + ?3, total_ore = total_ore + "
                "(SELECT coalesce(sum(i.amount_ore), 0) FROM transmission_members m JOIN items i "
                "ON i.id = m.item_id WHERE m.transmission_id = ?1 AND m.seq > ?2) WHERE id = ?1",
                (transmission_id, start, len(rows)),
            )
        return len(rows)

    def _carry_and_move(
        self,
        transmission_id: int,
        start: int,
        move: tuple[str, str],
        reason: str,
        *,
        setwise: bool,
    ) -> None:
        """The new members (``seq`` past ``start``) carried by the transmission, and those of
        them in ``move``'s first state moved to its second: their events (``setwise``: one on
        the transmission, :mod:`~toekgw.gateway.journal._carried`), then one update (carrier,
        state and time stamp: each item's row written once)."""
        from_state, to_state = move
        where = (
            "i.id IN (SELECT item_id FROM transmission_members WHERE transmission_id = ? "
            "AND seq > ?) AND (i.carrier_id IS NULL OR i.carrier_id < ?) AND i.state = ?"
        )
        args = (transmission_id, start, transmission_id, from_state)
        self._check_member_kinds(where, args, move)
        stamp = now()
        count = 0
        if setwise:
            count = self._db.execute(
                f"SELECT count(*) FROM items i WHERE {where}", args
            ).fetchone()[0]
        else:
            self._item_move_events(where, args, to_state, reason, stamp)
        self._db.execute(
            "UPDATE items SET carrier_id = ?1, "
            "state = CASE WHEN state = ?3 THEN ?4 ELSE state END, "
            "updated_at = CASE WHEN state = ?3 THEN ?5 ELSE updated_at END "
            "WHERE id IN (SELECT item_id FROM transmission_members WHERE transmission_id = ?1 "
            "AND seq > ?2) AND (carrier_id IS NULL OR carrier_id < ?1)",
            (transmission_id, start, from_state, to_state, stamp),
        )
        if count:
            self._event(transmission_id, None, "items", from_state, to_state, count, reason, stamp)

    def _item_move_events(
        self, where: str, args: Sequence[object], to_state: str, reason: str, stamp: str
    ) -> None:
        """One event per item that ``where`` selects (with ``args``), each moving from its
        state now to ``to_state``, in item order."""
        self._db.execute(
            _MOVE_EVENTS + "SELECT ?, i.transmission_id, i.id, 'item', i.state, ?, NULL, ?, ? "
            f"FROM items i WHERE {where} ORDER BY i.id",
            (stamp, to_state, reason, acting_identity(), *args),
        )

    def _moves_setwise(self, transmission_id: int) -> bool:
        """Whether the transmission moves its members with one event per move (a kind
        without items of its own: :mod:`~toekgw.gateway.journal._carried`)."""
        return self.kind(self.get_transmission(transmission_id).kind).item is None

    def members(
        self,
        transmission_id: int,
        *,
        current_only: bool = False,
        states: Collection[str] | None = None,
    ) -> Iterator[Item]:
        """The transmission's member items in order. ``current_only``: only those whose latest
        membership is this transmission (not since carried by a later one); ``states``: only
        those in one of these states."""
        sql = (
            f"SELECT {ITEM_COLUMNS} FROM transmission_members m "
            "JOIN items i ON i.id = m.item_id JOIN events e ON e.id = i.created_event "
            "WHERE m.transmission_id = ?1"
        )
        args: list[object] = [transmission_id]
        if current_only:  # found through the carrier index: a few of a bundle's many members
            sql += " AND i.carrier_id = ?1"
        if states is not None:
            wanted = list(states)
            sql += f" AND i.state IN ({_marks(wanted)})"
            args.extend(wanted)
        for row in self._db.execute(sql + " ORDER BY m.seq", args).fetchall():
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

    def member_totals(
        self,
        counterpart: str,
        kind: str,
        *,
        transmission_id: int | None = None,
        current_only: bool = False,
    ) -> list[MemberTotal]:
        """Per transmission of ``kind`` and per state of its members: count and sum (the
        current members' from the carrier index alone, without the memberships)."""
        if current_only:
            sql = (
                "SELECT i.carrier_id, i.state, 1, count(*), sum(i.amount_ore) "
                "FROM transmissions t JOIN items i ON i.carrier_id = t.id "
                "WHERE t.counterpart = ? AND t.kind = ?"
            )
        else:
            sql = (
                "SELECT m.transmission_id, i.state, i.carrier_id = m.transmission_id, count(*), "
                "sum(i.amount_ore) FROM transmissions t "
                "JOIN transmission_members m ON m.transmission_id = t.id "
                "JOIN items i ON i.id = m.item_id WHERE t.counterpart = ? AND t.kind = ?"
            )
        args: list[object] = [counterpart, kind]
        if transmission_id is not None:
            sql += " AND t.id = ?"
            args.append(transmission_id)
        rows = self._db.execute(sql + " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", args).fetchall()
        return [MemberTotal(r[0], r[1], bool(r[2]), r[3], r[4]) for r in rows]

    def _check_member_kinds(
        self, where: str, args: Sequence[object], move: tuple[str, str]
    ) -> None:
        """Refuse unless the items ``where`` selects may each make ``move``."""
        kinds = self._db.execute(
            "SELECT DISTINCT t.kind FROM items i JOIN transmissions t ON t.id = i.transmission_id "
            f"WHERE {where}",
            args,
        ).fetchall()
        self._check_kinds([(kind, *move) for (kind,) in kinds])

    def _check_kinds(self, moves: Iterable[tuple[str, str, str]]) -> None:
        """Refuse unless an item of each ``(kind, source, target)`` may make that move."""
        for kind, source, target in moves:
            lifecycle = self.kind(kind).item
            if lifecycle is None or not lifecycle.allows(source, target):
                raise StateError(f"a {kind} item cannot move from {source!r} to {target!r}")

    def move_members(
        self, transmission_id: int, from_state: str, to_state: str, *, reason: str
    ) -> int:
        """Move the items the transmission carries now that are in ``from_state``: two
        statements, one event per item."""
        where = "i.carrier_id = ? AND i.state = ?"
        args = (transmission_id, from_state)
        stamp = now()
        with self.transaction():
            self._check_member_kinds(where, args, (from_state, to_state))
            setwise = self._moves_setwise(transmission_id)
            if not setwise:
                self._item_move_events(where, args, to_state, reason, stamp)
            return self._move_carried(
                transmission_id, from_state, to_state, stamp, reason if setwise else None
            )

    def _move_carried(
        self, transmission_id: int, source: str, target: str, stamp: str, reason: str | None
    ) -> int:
        """Move every item the transmission carries now in ``source`` to ``target``: how many
        moved. With a ``reason``, the move is one event on the transmission
        (:mod:`~toekgw.gateway.journal._carried`); without, the caller wrote the items'."""
        moved = int(
            self._db.execute(
                "UPDATE items SET state = ?, updated_at = ? WHERE carrier_id = ? AND state = ?",
                (target, stamp, transmission_id, source),
            ).rowcount
        )
        if reason is not None and moved:
            self._event(transmission_id, None, "items", source, target, moved, reason, stamp)
        return moved

    def items_to_carry(
        self, kinds: Collection[str], state: str, *, floor: dt.date
    ) -> Iterator[tuple[int, Item]]:
        """``(carried before, item)`` for every item in ``state`` of the transmissions of
        ``kinds``, ordered by how many transmissions carried it before, municipality,
        disposition date (none or earlier than ``floor``: ``floor``) and business key.

        The order is fixed at the call in a scratch table and read back a page at a time, so
        memory holds one page and the caller may move the items it was given meanwhile (an
        item no longer in ``state`` when its page is read is left out)."""
        db = self._db
        day = floor.isoformat()
        wanted = list(kinds)
        with self.transaction():
            db.execute(
                "CREATE TEMP TABLE IF NOT EXISTS carry_order "
                "(n INTEGER PRIMARY KEY, item_id INTEGER NOT NULL, carried INTEGER NOT NULL)"
            )
            db.execute("DELETE FROM carry_order")
            db.execute(
                "INSERT INTO carry_order(item_id, carried) SELECT i.id, "
                "(SELECT count(*) FROM transmission_members m WHERE m.item_id = i.id) AS carried "
                "FROM items i JOIN transmissions t ON t.id = i.transmission_id "
                f"WHERE i.state = ?1{waiting('i.state', state)} "
                f"AND t.kind IN ({_marks(wanted, start=3)}) "
                "ORDER BY carried, i.municipality, "
                f"{self._dialect.greatest('coalesce(i.disposition_date, ?2)', '?2')}, "
                "i.business_key",
                (state, day, *wanted),
            )
        last = 0
        while True:
            rows = db.execute(
                f"SELECT o.n, o.carried, {ITEM_COLUMNS} FROM carry_order o "
                "JOIN items i ON i.id = o.item_id JOIN events e ON e.id = i.created_event "
                "WHERE o.n > ? ORDER BY o.n LIMIT ?",
                (last, _PAGE),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            for row in rows:
                item = item_from_row(row[2:])
                if item.state == state:
                    yield int(row[1]), item
