"""Many transmissions with their items in a few statements: what a message intake journals.

:meth:`Filings.create_filings` does for a batch what ``create_transmission`` and
``add_items`` do for one transmission - the same rows, the same events, the same idempotency
guards - set-based: one insert each for the transmissions, their events and the items. The
guards are the journal's unique indexes: a batch one of them refuses is rolled back whole and
only then looked up (one query for every guard) to name its first clash. All or none: a clash
with the journal raises :class:`~toekgw.gateway.journal.model.DuplicateTransmission` or
:class:`~toekgw.gateway.journal.model.DuplicateItem` and journals nothing of the batch, so a
caller can fall back to one transmission at a time for that batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from toekgw.gateway.identity import acting_identity
from toekgw.gateway.journal._item_rows import NEW_ITEM_COLUMNS, item_row
from toekgw.gateway.journal._sqlite_connection import _LOOKUP_CHUNK, chunks, now
from toekgw.gateway.journal._sqlite_items import Items
from toekgw.gateway.journal._sqlite_transmissions import (
    _TX_COLUMNS,
    NEW_TX_COLUMNS,
    _transmission,
    told,
    transmission_row,
)
from toekgw.gateway.journal.model import (
    Direction,
    DuplicateItem,
    DuplicateTransmission,
    NewFiling,
    NewTransmission,
    Transmission,
)

__all__ = ["Filings"]

_EVENT_COLUMNS = ("at", "transmission_id", "scope", "to_state", "reason", "actor")


class _Keys(NamedTuple):
    """What a transmission's idempotency guards compare."""

    counterpart: str
    direction: str
    file_name: str | None
    sha256: str | None
    transfer_id: str | None
    delivery_key: str | None
    ref: str | None


_Key = tuple[str | None, ...]
# Each guard: its column; the column its unique index leads with (queried with it, or the
# index cannot be used and every batch scans the table); the key two transmissions clash on
# (None: not guarded); and how a clash is named (as create_transmission names it).
_GUARDS: tuple[
    tuple[str, str | None, Callable[[_Keys], _Key | None], Callable[[_Keys], str]], ...
] = (
    (
        "sha256",
        "direction",
        lambda k: (k.direction, k.sha256) if k.sha256 else None,
        lambda k: f"file {k.file_name!r} (SHA-256 {str(k.sha256)[:16]}…)",
    ),
    ("transfer_id", None, lambda k: (k.transfer_id,) if k.transfer_id else None,
     lambda k: f"transfer {k.transfer_id}"),
    (
        "delivery_key",
        "counterpart",
        lambda k: (k.counterpart, k.delivery_key) if k.delivery_key else None,
        lambda k: f"delivery {k.delivery_key!r} of {k.counterpart}",
    ),
    ("ref", None, lambda k: (k.ref,) if k.ref else None,
     lambda k: f"transmission id {k.ref!r}"),
)  # fmt: skip


class Filings(Items):
    """Creating many transmissions with their items at once (both back ends)."""

    def create_filings(self, filings: Sequence[NewFiling]) -> list[int]:
        if not filings:
            return []
        keys: list[_Keys] = []
        for filing in filings:
            new = filing.transmission
            direction = self._checked_kind(new).direction
            if filing.items:
                self._check_item_start(new.kind, filing.item_state)
            keys.append(_keys_of(new, direction))
        _refuse_repeats(keys, filings)
        refs = [f.transmission.ref or str(uuid.uuid4()) for f in filings]
        # The guards are the journal's unique indexes, which every insert searches anyway:
        # the batch is inserted first, and only a batch they refuse (rolled back whole) is
        # looked up to name its first clash - no query per batch for the usual case.
        try:
            with self.transaction():
                filed = self._insert_filings(filings, keys, refs)
        except self._dialect.integrity_error:
            self._refuse_known(keys, filings)  # no clash found: another constraint's error
            raise
        return filed

    def _refuse_known(self, keys: Sequence[_Keys], filings: Sequence[NewFiling]) -> None:
        """Raise for the first filing (or item) whose guard the journal already holds."""
        known: list[dict[_Key, Transmission]] = [{} for _guard in _GUARDS]
        for guard, row in self._guarded_rows(keys):
            first = _transmission(row)
            key = _GUARDS[guard][2]
            known[guard].setdefault(key(_keys_of(first, first.direction)) or (), first)
        for (_column, _scope, key, named), held in zip(_GUARDS, known, strict=True):
            for k in keys:
                clash = held.get(key(k) or ())
                if clash is not None:
                    raise DuplicateTransmission(named(k), clash)
        by_counterpart: dict[str, list[str]] = {}
        for k, filing in zip(keys, filings, strict=True):
            by_counterpart.setdefault(k.counterpart, []).extend(
                i.business_key for i in filing.items
            )
        for counterpart, business_keys in by_counterpart.items():
            found = self.existing_items(counterpart, business_keys)
            for business_key in business_keys:
                if business_key in found:
                    raise DuplicateItem(business_key, found[business_key])

    def _insert_filings(
        self, filings: Sequence[NewFiling], keys: Sequence[_Keys], refs: Sequence[str]
    ) -> list[int]:
        stamp = now()
        rows = self._insert_returning(
            "transmissions",
            (*NEW_TX_COLUMNS, "item_count", "total_ore"),
            [(*transmission_row(f.transmission, ref, Direction(k.direction), stamp),
              len(f.items), _total(f))
             for f, k, ref in zip(filings, keys, refs, strict=True)],
            "id, ref",
        )  # fmt: skip
        if rows is None:  # not given with the insert: read back
            rows = list(
                self._rows_in("SELECT t.id, t.ref FROM transmissions t WHERE", "t.ref", refs)
            )
        # matched by ref: the journal's key, whatever the rows' order
        by_ref = {str(ref): int(tid) for tid, ref in rows}
        ids = [by_ref[ref] for ref in refs]
        stocked = [(tid, f) for tid, f in zip(ids, filings, strict=True) if f.items]
        counted = now()
        # Every event of the batch in one insert, in the order one at a time writes them:
        # each transmission's creation, then its items' creation, then their count.
        events = self._add_events(
            [(stamp, tid, "transmission", f.transmission.state, f.transmission.reason)
             for tid, f in zip(ids, filings, strict=True)]
            + [(stamp, tid, "items", f.item_state, f.item_reason) for tid, f in stocked]
            + [(counted, tid, "transmission", None,
                f"{len(f.items)} items journaled, total {_total(f)} øre")
               for tid, f in stocked]
        )  # fmt: skip
        if stocked:
            if events is None:
                events = self._items_events([tid for tid, _f in stocked])
            self._insert_rows(
                "items",
                NEW_ITEM_COLUMNS,
                [item_row(tid, f.transmission.counterpart, it, f.item_state, events[tid], stamp)
                 for tid, f in stocked for it in f.items],
            )  # fmt: skip
        return ids

    def _add_events(
        self, rows: Sequence[tuple[str, int, str, str | None, str]]
    ) -> dict[int, int] | None:
        """Insert transmission-wide events, logged after the commit as ``_event``'s are; the
        ``items`` event of each transmission (its items' creation) where the back end gives
        the ids with the insert."""
        actor = acting_identity()
        for _at, tid, scope, to_state, reason in rows:
            self._told.append((tid, told(scope, None, to_state, None, reason)))
        created = self._insert_returning(
            "events", _EVENT_COLUMNS, [(*row, actor) for row in rows], "id, transmission_id, scope"
        )
        if created is None:
            return None
        return {int(tid): int(eid) for eid, tid, scope in created if scope == "items"}

    def _guarded_rows(self, keys: Sequence[_Keys]) -> Iterator[tuple[int, Any]]:
        """The transmissions holding one of ``keys``' guarded values, each with its guard's
        number (in :data:`_GUARDS`): every guard's lookup in one statement (one round trip to a
        server), each by its unique index (within each value of the column it leads with);
        per guard in id order."""
        parts: list[tuple[str, tuple[object, ...]]] = []
        for guard, (column, scope, key, _named) in enumerate(_GUARDS):
            by_scope: dict[str | None, set[str]] = {}
            for k in keys:
                if key(k):
                    scoped = getattr(k, scope) if scope else None
                    by_scope.setdefault(scoped, set()).add(str(getattr(k, column)))
            for scoped, values in sorted(by_scope.items(), key=lambda kv: str(kv[0])):
                for chunk in chunks(sorted(values)):
                    marks = ", ".join("?" * len(chunk))
                    where = f"t.{scope} = ? AND " if scope else ""
                    params = (scoped, *chunk) if scope else tuple(chunk)
                    parts.append(
                        (f"SELECT {guard}, {_TX_COLUMNS} FROM transmissions t "  # noqa: S608
                         f"WHERE {where}t.{column} IN ({marks})", params)
                    )  # fmt: skip
        for statement in _unions(parts):
            for row in self._db.execute(*statement):
                yield int(row[0]), row[1:]

    def _rows_in(self, select: str, column: str, values: Sequence[object]) -> Iterator[Any]:
        """The rows of ``select`` (which ends in ``WHERE`` or ``AND``) whose ``column`` is one
        of ``values``: a query per chunk, in the order of the first column within each."""
        for chunk in chunks(values):
            yield from self._db.execute(
                f"{select} {column} IN ({', '.join('?' * len(chunk))}) ORDER BY 1", chunk
            )

    def _items_events(self, transmission_ids: Sequence[int]) -> dict[int, int]:
        """The ``items`` event of each (new) transmission: its items' creation."""
        return {
            int(tid): int(event_id)
            for event_id, tid in self._rows_in(
                "SELECT id, transmission_id FROM events WHERE scope = 'items' AND",
                "transmission_id",
                transmission_ids,
            )
        }


def _keys_of(new: NewTransmission | Transmission, direction: Direction) -> _Keys:
    return _Keys(
        new.counterpart,
        direction.value,
        new.file_name,
        new.sha256,
        new.transfer_id,
        new.delivery_key,
        new.ref,
    )


def _refuse_repeats(keys: Sequence[_Keys], filings: Sequence[NewFiling]) -> None:
    """A batch names each transmission and item once (a repeat is the caller's to sort out:
    the journal could only refuse it against a row it has not written)."""
    for _column, _scope, key, named in _GUARDS:
        seen: set[_Key] = set()
        for k in keys:
            guarded = key(k)
            if guarded is not None:
                if guarded in seen:
                    raise ValueError(f"create_filings: {named(k)} is in the batch twice")
                seen.add(guarded)
    items: set[tuple[str, str]] = set()
    for k, filing in zip(keys, filings, strict=True):
        for item in filing.items:
            if (k.counterpart, item.business_key) in items:
                raise ValueError(
                    f"create_filings: item {item.business_key!r} is in the batch twice"
                )
            items.add((k.counterpart, item.business_key))


def _total(filing: NewFiling) -> int:
    return sum(i.amount_ore for i in filing.items)


def _unions(
    parts: Sequence[tuple[str, tuple[object, ...]]],
) -> Iterator[tuple[str, tuple[object, ...]]]:
    """``parts`` (SELECTs whose first two columns are a group and an id) joined with UNION ALL
    into as few statements as the parameter limit allows, each ordered by group and id."""
    batch: list[tuple[str, tuple[object, ...]]] = []
    size = 0
    for part in [*parts, None]:
        if batch and (part is None or size + len(part[1]) > _LOOKUP_CHUNK):
            sql = " UNION ALL ".join(p[0] for p in batch)
            yield f"{sql} ORDER BY 1, 2", tuple(v for p in batch for v in p[1])
            batch, size = [], 0
        if part is not None:
            batch.append(part)
            size += len(part[1])
