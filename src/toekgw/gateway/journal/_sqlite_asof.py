"""Items as they were: each item's state at a past instant, replayed from the event log.

The items table holds the state now; the events table (append-only) holds every move. An
item's state at an instant is the ``to_state`` of the last move that touched it before then:
its own moves (scope ``item``, indexed by item), the moves of its whole transmission (scope
``items``: every item of the transmission in ``from_state`` at that moment) and the set-wise
moves of the transmissions that carried it (:mod:`._carried`), in log order. Items are read
as a stream ordered by business key, so a caller can merge them with another sorted stream
(the books, say) in memory that does not grow with the journal.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from toekgw.gateway.journal._carried import CarrierMove, replay
from toekgw.gateway.journal._sqlite_transmissions import Transmissions

__all__ = ["ItemsAsOf"]

_FETCH = 10_000


def _per_item(cursor: Any) -> Iterator[list[Any]]:
    """The cursor's rows grouped by their first column (an item's id), a page at a time."""
    group: list[Any] = []
    while rows := cursor.fetchmany(_FETCH):
        for row in rows:
            if group and group[0][0] != row[0]:
                yield group
                group = []
            group.append(row)
    if group:
        yield group


def _marks(values: Collection[object]) -> str:
    return ", ".join("?" for _ in values)


class ItemsAsOf(Transmissions):
    """The reading-by-state part of :class:`~toekgw.gateway.journal.sqlite.SqliteJournal`."""

    def item_amounts(
        self, kinds: Collection[str], states: Collection[str], *, before: str | None = None
    ) -> Iterator[tuple[str, int]]:
        """``(business_key, amount_ore)`` of every item of a transmission of ``kinds`` that is
        in one of ``states`` — or, with ``before`` (an instant as the journal writes them,
        UTC ISO 8601), that was journaled before it and was in one of ``states`` then — ordered
        by business key, read a page at a time."""
        kinds, wanted = list(kinds), set(states)
        if before is None:
            cursor = self._db.execute(
                "SELECT i.business_key, i.amount_ore FROM items i "
                "JOIN transmissions t ON t.id = i.transmission_id "
                f"WHERE t.kind IN ({_marks(kinds)}) AND i.state IN ({_marks(wanted)}) "
                "ORDER BY i.business_key",
                (*kinds, *wanted),
            )
            while rows := cursor.fetchmany(_FETCH):
                yield from rows
            return
        bulk = self._bulk_moves(kinds, before)
        carried = self._carrier_moves(before)
        numbered = ", ".join(f"?{n}" for n in range(2, len(kinds) + 2))
        # With carriers' set-wise moves, each item's memberships too (a row each, in order).
        joined = (
            ", tm.transmission_id, coalesce(tm.since_event, 0)" if carried else ", NULL, 0",
            " LEFT JOIN transmission_members tm ON tm.item_id = a.id" if carried else "",
        )
        cursor = self._db.execute(
            f"SELECT a.id, a.business_key, a.amount_ore, a.transmission_id, a.last, e.to_state"
            f"{joined[0]} FROM ("
            "SELECT i.id, i.business_key, i.amount_ore, i.transmission_id, coalesce(("
            "SELECT m.id FROM events m WHERE m.item_id = i.id AND m.at < ?1 "
            "ORDER BY m.id DESC LIMIT 1), i.created_event) AS last FROM items i "
            "JOIN transmissions t ON t.id = i.transmission_id "
            "JOIN events c ON c.id = i.created_event "
            f"WHERE c.at < ?1 AND t.kind IN ({numbered})"
            f") a JOIN events e ON e.id = a.last{joined[1]} ORDER BY a.business_key, a.id",
            (before, *kinds),
        )
        for rows in _per_item(cursor):
            _id, key, amount, transmission_id, last, state = rows[0][:6]
            memberships = [(int(r[6]), int(r[7])) for r in rows if r[6] is not None]
            moves: list[CarrierMove] = [
                (event_id, None, source, target)
                for event_id, source, target in bulk.get(transmission_id, ())
                if event_id > last
            ]
            for carrier, _since in memberships:
                moves += [
                    (event_id, carrier, source, target)
                    for event_id, source, target in carried.get(carrier, ())
                    if event_id > last
                ]
            if replay(state, memberships, sorted(moves)) in wanted:
                yield key, amount

    def _carrier_moves(self, before: str) -> dict[int, list[tuple[int, str, str]]]:
        """The set-wise moves of carriers (:mod:`._carried`) before ``before``, per carrier
        in log order: one per step of a bundle."""
        kinds = self._setwise_kinds()
        return self._bulk_moves(kinds, before) if kinds else {}

    def _setwise_kinds(self) -> list[str]:
        """The kinds without items of their own: their ``items`` events move their members."""
        names = [str(r[0]) for r in self._db.execute("SELECT name FROM kinds ORDER BY name")]
        return [name for name in names if self.kind(name).item is None]

    def _bulk_moves(
        self, kinds: Collection[str], before: str
    ) -> dict[int, list[tuple[int, str, str]]]:
        """The moves of whole transmissions (after their items were journaled) before
        ``before``, per transmission in log order: few (one per step of a transmission)."""
        moves: dict[int, list[tuple[int, str, str]]] = {}
        for event_id, transmission_id, source, target in self._db.execute(
            "SELECT e.id, e.transmission_id, e.from_state, e.to_state FROM events e "
            "JOIN transmissions t ON t.id = e.transmission_id WHERE e.scope = 'items' "
            f"AND e.from_state IS NOT NULL AND e.at < ? AND t.kind IN ({_marks(kinds)}) "
            "ORDER BY e.transmission_id, e.id",
            (before, *kinds),
        ):
            moves.setdefault(transmission_id, []).append((event_id, source, target))
        return moves
