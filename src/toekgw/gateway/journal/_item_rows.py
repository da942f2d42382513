"""An item as the journal's row, both ways, and new items in batches for their insert.

:func:`item_row` gives the values of :data:`NEW_ITEM_COLUMNS` for a new item;
:func:`item_from_row` reads an :class:`~toekgw.gateway.journal.model.Item` back from the
:data:`ITEM_COLUMNS` of a query. :func:`item_batches` cuts the items a caller journals into
batches, each made into its rows and their insert: on the caller's thread, or, for a
:class:`~toekgw.gateway.prefetch.Standalone` iterable, on a thread of its own, a few batches
ahead of the inserts (:mod:`toekgw.gateway.prefetch`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, NamedTuple

from toekgw.gateway.journal.model import Item, NewItem
from toekgw.gateway.prefetch import Standalone, prefetched_batches

__all__ = [
    "AHEAD",
    "AHEAD_BATCH",
    "BATCH",
    "ITEM_COLUMNS",
    "NEW_ITEM_COLUMNS",
    "ItemBatch",
    "item_batches",
    "item_from_row",
    "item_row",
    "lookup_key",
]

#: New items a batch, made and inserted on the caller's thread.
BATCH = 10_000
#: A :class:`~toekgw.gateway.prefetch.Standalone` iterable's items are made into rows in
#: batches of AHEAD_BATCH (one statement each: 14 columns x 2,000 rows fit SQLite's default
#: of 32,766 parameters), at most AHEAD batches ahead of the inserts. Smaller batches keep
#: both threads busy (measured at 100k: 1,000 to 2,500 rows best, 10,000 and 20,000 worse).
AHEAD_BATCH = 2_000
AHEAD = 4

ITEM_COLUMNS = (
    "i.id, i.transmission_id, i.counterpart, i.business_key, i.amount_ore, i.seq, "
    "i.fingerprint, i.state, e.at, i.updated_at, i.data, i.lookup, i.municipality, "
    "i.disposition_date, i.carrier_id"
)


def item_from_row(row: Sequence[Any]) -> Item:
    data = row[10]
    return Item(
        id=row[0],
        transmission_id=row[1],
        counterpart=row[2],
        business_key=row[3],
        amount_ore=row[4],
        seq=row[5],
        fingerprint=row[6],
        state=row[7],
        created_at=row[8],
        updated_at=row[9],
        data=json.loads(data) if data is not None else None,
        lookup=row[11],
        municipality=row[12],
        disposition_date=dt.date.fromisoformat(row[13]) if row[13] is not None else None,
        carrier_id=row[14],
    )


NEW_ITEM_COLUMNS = (
    "transmission_id",
    "counterpart",
    "business_key",
    "amount_ore",
    "seq",
    "fingerprint",
    "state",
    "created_event",
    "updated_at",
    "data",
    "lookup",
    "municipality",
    "disposition_date",
    "lookup_key",
)

#: The payload's JSON (as ``json.dumps(data, ensure_ascii=False)``): one encoder for all items;
#: ``json.dumps`` with options builds a new one per call.
_PAYLOAD = json.JSONEncoder(ensure_ascii=False)


def item_row(
    transmission_id: int, counterpart: str, it: NewItem, state: str, event_id: int, stamp: str
) -> tuple[Any, ...]:
    """The values of :data:`NEW_ITEM_COLUMNS` for ``it``."""
    return (
        transmission_id,
        counterpart,
        it.business_key,
        it.amount_ore,
        it.seq,
        it.fingerprint,
        state,
        event_id,
        stamp,
        it.payload if it.payload is not None or it.data is None else _PAYLOAD.encode(it.data),
        it.lookup,
        it.municipality,
        None if it.disposition_date is None else it.disposition_date.isoformat(),
        lookup_key(it.lookup),
    )


def lookup_key(lookup: str | None) -> int | None:
    """What the journal indexes an item's look-up key by: the first 8 bytes of the key's
    BLAKE2b digest, as a signed 64-bit integer (None without a key). The text stays the key;
    readers match the digest, then the text, so two keys sharing a digest find only the one
    asked for. (The text's own index was as large as the month and, for G68's
    duplicate-payment control, in the beneficiary's order: a delivery's inserts touched
    every page of it.)"""
    if lookup is None:
        return None
    digest = hashlib.blake2b(lookup.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class ItemBatch(NamedTuple):
    """A batch of items as rows, their sum, and their insert (run on the journal's thread)."""

    rows: list[tuple[Any, ...]]
    total: int
    insert: Callable[[], None]


def item_batches(
    items: Iterable[NewItem], make: Callable[[list[NewItem]], ItemBatch]
) -> Generator[ItemBatch, None, None]:
    """The items in batches, each made by ``make``: for a
    :class:`~toekgw.gateway.prefetch.Standalone` iterable on a thread of its own, ahead of the
    inserts (its reading and the rows' making overlap SQLite's inserting on two cores), in
    batches of :data:`AHEAD_BATCH`; otherwise here, in batches of :data:`BATCH`."""
    if isinstance(items, Standalone):
        return prefetched_batches(items, AHEAD_BATCH, make, depth=AHEAD, name="journal-items")
    return _in_turn(iter(items), make)


def _in_turn(
    iterator: Iterator[NewItem], make: Callable[[list[NewItem]], ItemBatch]
) -> Generator[ItemBatch, None, None]:
    while chunk := list(islice(iterator, BATCH)):
        yield make(chunk)
