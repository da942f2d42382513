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
    caps = _Caps(item_key, max_count, max_bytes, size_of, overhead, namespace)
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
        current: _Open[T] = _Open(group, ordered=order_key is None)
        for item in members:
            full = current.add(item, caps)
            if full is not None:
                chunks.append(full)
        last = current.close(caps)
        if last is not None:
            chunks.append(last)
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
    segment_key: Callable[[T], GroupKey] | None = None,
) -> Iterator[Chunk[T]]:
    """The chunks :func:`chunk_items` makes of the same items, one at a time, for items that
    come in its order already (by group key, then by item key): memory holds one chunk,
    whatever the number of items. Items out of that order are refused (ChunkingError).

    ``segment_key``: the items come ordered by segment (a prefix of the group) and the groups
    of one segment may interleave, each still in item-key order: a chunk is given when it is
    full and the open ones at the segment's end, in group order, so memory holds one open
    chunk per group of the segment."""
    if max_count < 1:
        raise ValueError("max_count must be at least 1")
    if max_bytes is not None and size_of is None:
        raise ValueError("max_bytes needs size_of")
    caps = _Caps(item_key, max_count, max_bytes, size_of, overhead, namespace)
    segment_of = segment_key or group_key
    previous: GroupKey | None = None
    for segment, members in itertools.groupby(items, key=segment_of):
        if previous is not None and _group_sort_key(segment) <= _group_sort_key(previous):
            raise ChunkingError(f"group {canonical_key(segment)!r} comes out of order")
        previous = segment
        open_chunks: dict[GroupKey, _Open[T]] = {}
        for item in members:
            group = group_key(item)
            current = open_chunks.get(group)
            if current is None:
                current = open_chunks[group] = _Open(group)
            full = current.add(item, caps)
            if full is not None:
                yield full
        for group in sorted(open_chunks, key=_group_sort_key):
            last = open_chunks[group].close(caps)
            if last is not None:
                yield last


@dataclass(frozen=True, slots=True)
class _Caps(Generic[T]):
    item_key: Callable[[T], str]
    max_count: int
    max_bytes: int | None
    size_of: Callable[[T], int] | None
    overhead: int
    namespace: uuid.UUID


class _Open(Generic[T]):
    """The chunk being filled for one group, and the last item key it took."""

    def __init__(self, group: GroupKey, *, ordered: bool = True) -> None:
        self.group = group
        self.ordered = ordered  # refuse an item key not above the last one
        self.sequence = 0
        self.items: list[T] = []
        self.size = 0
        self.last: str | None = None

    def add(self, item: T, caps: _Caps[T]) -> Chunk[T] | None:
        """Take ``item``; the chunk it closed, if it did not fit."""
        key = caps.item_key(item)
        if self.ordered and self.last is not None and key <= self.last:
            what = "occurs twice" if key == self.last else "comes out of order"
            raise ChunkingError(f"item key {key!r} {what} in group {canonical_key(self.group)!r}")
        self.last = key
        item_size = caps.size_of(item) if caps.size_of is not None else 0
        if caps.max_bytes is not None and caps.overhead + item_size > caps.max_bytes:
            raise ChunkingError(
                f"item {key!r} needs {caps.overhead + item_size} bytes in a chunk of its "
                f"own, more than the cap of {caps.max_bytes}"
            )
        closed = None
        too_many = len(self.items) >= caps.max_count
        too_big = caps.max_bytes is not None and self.size + item_size > caps.max_bytes
        if self.items and (too_many or too_big):
            closed = self.close(caps)
        if not self.items:
            self.size = caps.overhead
        self.items.append(item)
        self.size += item_size
        return closed

    def close(self, caps: _Caps[T]) -> Chunk[T] | None:
        if not self.items:
            return None
        self.sequence += 1
        chunk = _make_chunk(
            self.group, self.sequence, self.items, self.size, caps.item_key, caps.namespace
        )
        self.items = []
        return chunk


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
