"""Items in the journal: the payments and records a transmission holds, one row each.

Items are journaled in batches with their transmission, all or none, and are the idempotency
guard for single payments: a business key journaled before for the same counterpart is refused
(:class:`~toekgw.gateway.journal.model.DuplicateItem` names the first), and a fingerprint seen
before is reported as a possible duplicate payment. Each item then follows its kind's item
lifecycle, moved in bulk per transmission or one by one, every move an event.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from typing import Any

from toekgw.gateway.faults import crash_point
from toekgw.gateway.identity import acting_identity
from toekgw.gateway.journal._item_rows import (
    BATCH,
    ITEM_COLUMNS,
    NEW_ITEM_COLUMNS,
    ItemBatch,
    item_batches,
    item_from_row,
    item_row,
    lookup_key,
)
from toekgw.gateway.journal._sql import waiting
from toekgw.gateway.journal._sqlite_connection import chunks, now
from toekgw.gateway.journal._sqlite_transmissions import Transmissions
from toekgw.gateway.journal.model import (
    AddedItems,
    DuplicateItem,
    FingerprintMatch,
    Item,
    ItemRef,
    JournalError,
    NewItem,
    StateError,
    StateTotal,
    Transmission,
)

__all__ = ["DUPLICATE_PAYMENTS", "Items"]

#: The items of a transmission (``?`` 1; all of its counterpart, ``?`` 2) with a fingerprint an
#: earlier item of the counterpart has, and the first such item: the transmission's items from
#: the transmission index, each looked up in the fingerprint index. (Naming the counterpart on
#: the new items let the planner walk every fingerprint of the counterpart, a whole journal's,
#: at each delivery.)
DUPLICATE_PAYMENTS = (
    "SELECT n.id, min(o.id) FROM (SELECT id, fingerprint FROM items "
    "WHERE transmission_id = ? AND fingerprint IS NOT NULL) n "
    "JOIN items o ON o.counterpart = ? AND o.fingerprint = n.fingerprint AND o.id < n.id "
    "GROUP BY n.id ORDER BY n.id"
)

_REF_SELECT = (
    "SELECT i.business_key, i.id, i.transmission_id, t.file_name, i.seq, e.at "
    "FROM items i JOIN transmissions t ON t.id = i.transmission_id "
    "JOIN events e ON e.id = i.created_event "
)


class Items(Transmissions):
    """Journaling, finding and moving items: the part of
    :class:`~toekgw.gateway.journal.sqlite.SqliteJournal` that keeps single payments."""

    def add_items(
        self, transmission_id: int, items: Iterable[NewItem], *, state: str, reason: str
    ) -> AddedItems:
        tx = self.get_transmission(transmission_id)
        self._check_item_start(tx.kind, state)
        db = self._db
        count = 0
        total = 0
        stamp = now()
        with self.transaction():
            event_id = self._event(transmission_id, None, "items", None, state, None, reason, stamp)
            insert = self._insert_maker("items", NEW_ITEM_COLUMNS)

            def make(chunk: list[NewItem]) -> ItemBatch:
                rows = [
                    item_row(transmission_id, tx.counterpart, it, state, event_id, stamp)
                    for it in chunk
                ]
                return ItemBatch(rows, sum(row[3] for row in rows), insert(rows))

            with closing(item_batches(items, make)) as batches:
                for batch in batches:
                    try:
                        with self._dialect.guard(db):
                            batch.insert()
                    except self._dialect.integrity_error as exc:
                        raise self._first_duplicate(tx, event_id, count, batch.rows) from exc
                    count += len(batch.rows)
                    total += batch.total
                    crash_point("journal.items.batch")  # rows inserted, not committed
            db.execute(
                "UPDATE transmissions SET item_count = item_count + ?, total_ore = total_ore + ? "
                "WHERE id = ?",
                (count, total, transmission_id),
            )
            # The count is known only now; it goes in a second line, as events never change.
            self._event(
                transmission_id,
                None,
                "transmission",
                None,
                None,
                None,
                f"{count} items journaled, total {total} øre",
                None,
            )
            matches = self._duplicate_payments(transmission_id, tx.counterpart)
        return AddedItems(count, total, matches)

    def _check_item_start(self, kind: str, state: str) -> None:
        lifecycle = self.kind(kind).item
        if lifecycle is None:
            raise JournalError(f"a {kind} transmission has no items")
        if state not in lifecycle.initial:
            raise StateError(
                f"a {kind} item cannot start in state {state!r} "
                f"(allowed: {', '.join(lifecycle.initial)})"
            )

    def _first_duplicate(
        self, tx: Transmission, event_id: int, before: int, batch: list[tuple[Any, ...]]
    ) -> DuplicateItem:
        # SQLite's executemany keeps the rows before the failing one (their count says which
        # row failed); PostgreSQL keeps none. Only the failure path comes here.
        kept = (
            int(
                self._db.execute(
                    "SELECT count(*) FROM items WHERE created_event = ?", (event_id,)
                ).fetchone()[0]
            )
            - before
        )
        seen: dict[str, int | None] = {row[2]: row[4] for row in batch[:kept]}
        rest = batch[kept:]
        known = self.existing_items(tx.counterpart, [row[2] for row in rest])
        for row in rest:
            key, seq = row[2], row[4]
            if key in seen:
                return DuplicateItem(key, None, same_transmission=(seen[key], seq))
            ref = known.get(key)
            if ref is not None:
                if ref.transmission_id == tx.id:
                    return DuplicateItem(key, None, same_transmission=(ref.seq, seq))
                return DuplicateItem(key, ref)
            seen[key] = seq
        return DuplicateItem(str(rest[0][2]) if rest else "?", None)

    def _refs(self, sql: str, counterpart: str, keys: Sequence[str]) -> dict[str, ItemRef]:
        found: dict[str, ItemRef] = {}
        unique = list(dict.fromkeys(keys))
        for chunk in chunks(unique):
            rows = self._db.execute(
                sql.format(", ".join("?" * len(chunk))) + " ORDER BY i.id",
                (counterpart, *chunk),
            ).fetchall()
            for row in rows:
                found.setdefault(row[0], ItemRef(*row))
        return found

    def _duplicate_payments(
        self, transmission_id: int, counterpart: str
    ) -> tuple[FingerprintMatch, ...]:
        rows = self._db.execute(DUPLICATE_PAYMENTS, (transmission_id, counterpart)).fetchall()
        return tuple(FingerprintMatch(self._ref(new), self._ref(old)) for new, old in rows)

    def _ref(self, item_id: int) -> ItemRef:
        row = self._db.execute(
            "SELECT i.business_key, i.id, i.transmission_id, t.file_name, i.seq, e.at "
            "FROM items i JOIN transmissions t ON t.id = i.transmission_id "
            "JOIN events e ON e.id = i.created_event WHERE i.id = ?",
            (item_id,),
        ).fetchone()
        return ItemRef(*row)

    def existing_items(self, counterpart: str, business_keys: Iterable[str]) -> dict[str, ItemRef]:
        return self._refs(
            _REF_SELECT + "WHERE i.counterpart = ? AND i.business_key IN ({})",
            counterpart,
            list(business_keys),
        )

    def earlier_fingerprints(
        self, counterpart: str, fingerprints: Iterable[str]
    ) -> dict[str, ItemRef]:
        found: dict[str, ItemRef] = {}
        unique = list(dict.fromkeys(fingerprints))
        for chunk in chunks(unique):
            rows = self._db.execute(
                "SELECT i.fingerprint, i.business_key, i.id, i.transmission_id, t.file_name, "
                "i.seq, e.at FROM items i JOIN transmissions t ON t.id = i.transmission_id "
                "JOIN events e ON e.id = i.created_event "
                f"WHERE i.counterpart = ? AND i.fingerprint IN ({', '.join('?' * len(chunk))}) "
                "ORDER BY i.id",
                (counterpart, *chunk),
            ).fetchall()
            for row in rows:
                found.setdefault(row[0], ItemRef(*row[1:]))
        return found

    def items(self, transmission_id: int, *, state: str | None = None) -> Iterator[Item]:
        sql = (
            f"SELECT {ITEM_COLUMNS} FROM items i JOIN events e ON e.id = i.created_event "
            "WHERE i.transmission_id = ?"
        )
        args: list[Any] = [transmission_id]
        if state is not None:
            sql += " AND i.state = ?" + waiting("i.state", state)
            args.append(state)
        for row in self._db.execute(sql + " ORDER BY i.id", args):
            yield item_from_row(row)

    def find_items(self, business_key: str, counterpart: str | None = None) -> list[Item]:
        sql = (
            f"SELECT {ITEM_COLUMNS} FROM items i JOIN events e ON e.id = i.created_event "
            "WHERE i.business_key = ?"
        )
        args: list[Any] = [business_key]
        if counterpart is not None:
            sql += " AND i.counterpart = ?"
            args.append(counterpart)
        return [item_from_row(r) for r in self._db.execute(sql + " ORDER BY i.id", args)]

    def items_by_lookup(self, counterpart: str, lookup: str) -> list[Item]:
        rows = self._db.execute(
            f"SELECT {ITEM_COLUMNS} FROM items i JOIN events e ON e.id = i.created_event "
            "WHERE i.lookup_key = ? AND i.counterpart = ? AND i.lookup = ? ORDER BY i.id",
            (lookup_key(lookup), counterpart, lookup),
        )
        return [item_from_row(r) for r in rows]

    def items_by_lookups(self, counterpart: str, lookups: Iterable[str]) -> dict[str, list[Item]]:
        found: dict[str, list[Item]] = {}
        for chunk in chunks(list(dict.fromkeys(lookups))):
            marks = ", ".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT {ITEM_COLUMNS} FROM items i JOIN events e ON e.id = i.created_event "
                f"WHERE i.lookup_key IN ({marks}) AND i.counterpart = ? "
                f"AND i.lookup IN ({marks}) ORDER BY i.id",
                (*[lookup_key(k) for k in chunk], counterpart, *chunk),
            )
            for row in rows:
                item = item_from_row(row)
                found.setdefault(str(item.lookup), []).append(item)
        return found

    def get_item(self, item_id: int) -> Item:
        row = self._db.execute(
            f"SELECT {ITEM_COLUMNS} FROM items i JOIN events e ON e.id = i.created_event "
            "WHERE i.id = ?",
            (item_id,),
        ).fetchone()
        if row is None:
            raise JournalError(f"no item #{item_id} in the journal")
        return item_from_row(row)

    def move_items(
        self, transmission_id: int, from_state: str, to_state: str, *, reason: str
    ) -> int:
        tx = self.get_transmission(transmission_id)
        lifecycle = self.kind(tx.kind).item
        if lifecycle is None or not lifecycle.allows(from_state, to_state):
            raise StateError(
                f"{tx.describe()}: a {tx.kind} item cannot move from {from_state!r} to {to_state!r}"
            )
        stamp = now()
        with self.transaction():
            moved = self._db.execute(
                "UPDATE items SET state = ?, updated_at = ? "
                "WHERE transmission_id = ? AND state = ?" + waiting("state", from_state),
                (to_state, stamp, transmission_id, from_state),
            ).rowcount
            if moved:
                self._event(
                    transmission_id, None, "items", from_state, to_state, moved, reason, stamp
                )
        return int(moved)

    def set_item_state(
        self, item_id: int, to_state: str, *, reason: str, expect: str | None = None
    ) -> Item:
        with self.transaction():
            item = self.get_item(item_id)
            tx = self.get_transmission(item.transmission_id)
            if expect is not None and item.state != expect:
                raise StateError(
                    f"item {item.business_key!r} is in state {item.state!r}, not {expect!r}"
                )
            lifecycle = self.kind(tx.kind).item
            if lifecycle is None or not lifecycle.allows(item.state, to_state):
                raise StateError(
                    f"item {item.business_key!r}: a {tx.kind} item cannot move from "
                    f"{item.state!r} to {to_state!r}"
                )
            stamp = now()
            self._db.execute(
                "UPDATE items SET state = ?, updated_at = ? WHERE id = ?",
                (to_state, stamp, item_id),
            )
            self._event(
                item.transmission_id, item_id, "item", item.state, to_state, None, reason, stamp
            )
        return self.get_item(item_id)

    def set_items_state(
        self,
        item_ids: Iterable[int],
        from_state: str,
        to_state: str,
        *,
        reason: str | Mapping[int, str],
    ) -> list[int]:
        """Move those of ``item_ids`` that are in ``from_state``; one event per item (a subset
        of a transmission's items cannot share an ``items`` event). Returns the moved ids."""
        ids = list(dict.fromkeys(item_ids))
        moved: list[int] = []
        stamp = now()
        db = self._db
        with self.transaction():
            for chunk in chunks(ids):
                rows = db.execute(
                    "SELECT i.id, i.transmission_id, t.kind FROM items i "
                    "JOIN transmissions t ON t.id = i.transmission_id "
                    f"WHERE i.state = ? AND i.id IN ({', '.join('?' * len(chunk))}) ORDER BY i.id",
                    (from_state, *chunk),
                ).fetchall()
                for kind in {r[2] for r in rows}:
                    lifecycle = self.kind(kind).item
                    if lifecycle is None or not lifecycle.allows(from_state, to_state):
                        raise StateError(
                            f"a {kind} item cannot move from {from_state!r} to {to_state!r}"
                        )
                actor = acting_identity()
                db.executemany(
                    "UPDATE items SET state = ?, updated_at = ? WHERE id = ?",
                    [(to_state, stamp, r[0]) for r in rows],
                )
                db.executemany(
                    "INSERT INTO events(at, transmission_id, item_id, scope, from_state, "
                    "to_state, count, reason, actor) VALUES (?, ?, ?, 'item', ?, ?, NULL, ?, ?)",
                    [
                        (
                            stamp,
                            r[1],
                            r[0],
                            from_state,
                            to_state,
                            reason if isinstance(reason, str) else reason.get(r[0], ""),
                            actor,
                        )
                        for r in rows
                    ],
                )
                moved.extend(r[0] for r in rows)
        return moved

    def state_totals(self, kind: str) -> list[StateTotal]:
        rows = self._db.execute(
            "SELECT i.state, count(*), sum(i.amount_ore) FROM items i "
            "JOIN transmissions t ON t.id = i.transmission_id WHERE t.kind = ? "
            "GROUP BY i.state ORDER BY i.state",
            (kind,),
        ).fetchall()
        return [StateTotal(*r) for r in rows]

    def items_of_kind(self, kind: str, state: str) -> Iterator[Item]:
        """Every item in ``state`` of every transmission of ``kind``, oldest first, read a page
        at a time (an item moved out of ``state`` before its page is read is left out)."""
        last = 0
        while rows := self._db.execute(
            f"SELECT {ITEM_COLUMNS} FROM items i JOIN events e ON e.id = i.created_event "
            "JOIN transmissions t ON t.id = i.transmission_id "
            f"WHERE t.kind = ? AND i.state = ?{waiting('i.state', state)} AND i.id > ? "
            "ORDER BY i.id LIMIT ?",
            (kind, state, last, BATCH),
        ).fetchall():
            last = rows[-1][0]
            for row in rows:
                yield item_from_row(row)
