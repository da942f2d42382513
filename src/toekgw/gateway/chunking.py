"""Deterministic chunking: split a batch into transmissions that respect a counterpart's caps.

Items are grouped by a key (e.g. municipality and disposition date), ordered inside each group
by a unique key, and filled greedily into chunks of at most ``max_count`` items and at most
``max_bytes`` bytes (the chunk's fixed ``overhead`` plus each item's ``size_of``). The same
items, in any input order, give the same chunks with the same ids, so a re-send after a crash
sends exactly what was sent before.

A chunk id is a UUIDv5 of the namespace, the group, the chunk's sequence number in its group
and a SHA-256 over the item keys it holds: a chunk with other content never gets the id of one
already sent (a receiver that drops duplicates by id would otherwise drop it silently).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

__all__ = ["Chunk", "ChunkingError", "canonical_key", "chunk_items", "chunk_sorted"]

T = TypeVar("T")

KeyPart = str | int | dt.date | None
GroupKey = tuple[KeyPart, ...]


class ChunkingError(ValueError):
    """The items cannot be chunked deterministically (duplicate key, item too large)."""


@dataclass(frozen=True, slots=True)
class Chunk(Generic[T]):
    """One transmission's worth of items. ``sequence`` is 1-based within its group."""

    chunk_id: str
    group: GroupKey
    sequence: int
    items: tuple[T, ...]
    size: int

    @property
    def count(self) -> int:
        return len(self.items)


def canonical_key(group: GroupKey) -> str:
    """A text form of a group key that does not depend on Python's repr of its parts."""
    parts = []
    for part in group:
        if part is None:
            parts.append("")
        elif isinstance(part, dt.date):
            parts.append(part.isoformat())
        else:
            parts.append(str(part))
    return "\x1f".join(parts)


def _group_sort_key(group: GroupKey) -> tuple[tuple[int, str | int], ...]:
    # Mixed types must still sort the same way every run: ints numerically, the rest as text.
    return tuple((0, p) if isinstance(p, int) else (1, canonical_key((p,))) for p in group)


def chunk_items(
    items: Iterable[T],
    *,
    group_key: Callable[[T], GroupKey],
    item_key: Callable[[T], str],
    max_count: int,
    namespace: uuid.UUID,
    max_bytes: int | None = None,
    size_of: Callable[[T], int] | None = None,
    overhead: int = 0,
    order_key: Callable[[T], SupportsRichComparison] | None = None,
) -> list[Chunk[T]]:
    """Group, order and split ``items``; groups come in the order of their keys.

    ``item_key`` is the item's unique business key (a payment id); it orders the items unless
    ``order_key`` is given, and it goes into the chunk id. ``size_of`` gives an item's encoded
    size in bytes (exact, or an upper bound); ``overhead`` the size of an empty chunk.
    """
    if max_count < 1:
        raise ValueError("max_count must be at least 1")
    if max_bytes is not None and size_of is None:
        raise ValueError("max_bytes needs size_of")
    groups: dict[GroupKey, list[T]] = {}
    for item in items:
        groups.setdefault(group_key(item), []).append(item)

    chunks: list[Chunk[T]] = []
    for group in sorted(groups, key=_group_sort_key):
        members = groups[group]
        keys = [item_key(m) for m in members]
        if len(set(keys)) != len(keys):
            dup = next(k for k, n in Counter(keys).items() if n > 1)
            raise ChunkingError(f"item key {dup!r} occurs twice in group {canonical_key(group)!r}")
        members.sort(key=item_key)
        if order_key is not None:
            # A stable sort on top of the key order: ties in order_key stay deterministic.
            members.sort(key=order_key)
        chunks.extend(
            _split(group, members, item_key, max_count, max_bytes, size_of, overhead, namespace)
        )
    return chunks


def chunk_sorted(
    items: Iterable[T],
    *,
    group_key: Callable[[T], GroupKey],
    item_key: Callable[[T], str],
    max_count: int,
    namespace: uuid.UUID,
    max_bytes: int | None = None,
    size_of: Callable[[T], int] | None = None,
    overhead: int = 0,
) -> Iterator[Chunk[T]]:
    """The chunks :func:`chunk_items` makes of the same items, one at a time, for items that
    come in its order already (by group key, then by item key): memory holds one chunk,
    whatever the number of items. Items out of that order are refused (ChunkingError)."""
    if max_count < 1:
        raise ValueError("max_count must be at least 1")
    if max_bytes is not None and size_of is None:
        raise ValueError("max_bytes needs size_of")
    previous: GroupKey | None = None
    for group, members in itertools.groupby(items, key=group_key):
        if previous is not None and _group_sort_key(group) <= _group_sort_key(previous):
            raise ChunkingError(f"group {canonical_key(group)!r} comes out of order")
        previous = group
        yield from _split(
            group,
            _in_order(group, members, item_key),
            item_key,
            max_count,
            max_bytes,
            size_of,
            overhead,
            namespace,
        )


def _in_order(group: GroupKey, members: Iterable[T], item_key: Callable[[T], str]) -> Iterator[T]:
    last: str | None = None
    for item in members:
        key = item_key(item)
        if last is not None and key <= last:
            what = "occurs twice" if key == last else "comes out of order"
            raise ChunkingError(f"item key {key!r} {what} in group {canonical_key(group)!r}")
        last = key
        yield item


def _split(
    group: GroupKey,
    members: Iterable[T],
    item_key: Callable[[T], str],
    max_count: int,
    max_bytes: int | None,
    size_of: Callable[[T], int] | None,
    overhead: int,
    namespace: uuid.UUID,
) -> Iterator[Chunk[T]]:
    sequence = 0
    current: list[T] = []
    size = overhead

    for item in members:
        item_size = size_of(item) if size_of is not None else 0
        if max_bytes is not None and overhead + item_size > max_bytes:
            raise ChunkingError(
                f"item {item_key(item)!r} needs {overhead + item_size} bytes in a chunk of its "
                f"own, more than the cap of {max_bytes}"
            )
        too_many = len(current) >= max_count
        too_big = max_bytes is not None and size + item_size > max_bytes
        if current and (too_many or too_big):
            sequence += 1
            yield _make_chunk(group, sequence, current, size, item_key, namespace)
            current = []
            size = overhead
        current.append(item)
        size += item_size
    if current:
        yield _make_chunk(group, sequence + 1, current, size, item_key, namespace)


def _make_chunk(
    group: GroupKey,
    sequence: int,
    items: list[T],
    size: int,
    item_key: Callable[[T], str],
    namespace: uuid.UUID,
) -> Chunk[T]:
    digest = hashlib.sha256()
    for item in items:
        digest.update(item_key(item).encode("utf-8"))
        digest.update(b"\x00")
    name = f"{canonical_key(group)}\x1e{sequence}\x1e{digest.hexdigest()}"
    return Chunk(str(uuid.uuid5(namespace, name)), group, sequence, tuple(items), size)
