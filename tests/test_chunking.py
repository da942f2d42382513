"""The deterministic chunker: count and byte caps, stable ids and order, errors."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toekgw.gateway.chunking import ChunkingError, chunk_items, chunk_sorted

NS = uuid.UUID("6f1c1c9e-7c55-4b0e-9d63-4c1d3a0e0001")


@dataclass(frozen=True)
class Item:
    key: str
    group: str
    day: dt.date
    size: int = 10


def _chunk(items: list[Item], **kw: object) -> list:  # type: ignore[type-arg]
    args: dict[str, object] = {
        "group_key": lambda i: (i.group, i.day),
        "item_key": lambda i: i.key,
        "max_count": 10_000,
        "namespace": NS,
    }
    args.update(kw)
    return chunk_items(items, **args)  # type: ignore[arg-type]


def test_25000_payments_become_three_bundles_with_stable_ids() -> None:
    day = dt.date(2026, 12, 1)
    items = [Item(f"P{n:08d}", "0101", day) for n in range(25_000)]
    first = _chunk(items)
    assert [c.count for c in first] == [10_000, 10_000, 5_000]
    assert [c.sequence for c in first] == [1, 2, 3]
    shuffled = items[:]
    random.Random(7).shuffle(shuffled)
    second = _chunk(shuffled)
    assert [c.chunk_id for c in second] == [c.chunk_id for c in first]
    assert [c.items for c in second] == [c.items for c in first]
    assert len({c.chunk_id for c in first}) == 3
    assert first[0].items[0].key == "P00000000"


def test_groups_are_separate_and_ordered() -> None:
    d1, d2 = dt.date(2026, 12, 1), dt.date(2026, 12, 2)
    items = [Item("b", "0202", d1), Item("a", "0101", d2), Item("c", "0101", d1)]
    chunks = _chunk(items)
    assert [(c.group, [i.key for i in c.items]) for c in chunks] == [
        (("0101", d1), ["c"]),
        (("0101", d2), ["a"]),
        (("0202", d1), ["b"]),
    ]


def test_byte_cap_and_overhead() -> None:
    day = dt.date(2026, 12, 1)
    items = [Item(f"P{n}", "0101", day, size=30) for n in range(10)]
    chunks = _chunk(items, max_bytes=100, size_of=lambda i: i.size, overhead=10)
    assert [c.count for c in chunks] == [3, 3, 3, 1]
    assert all(c.size <= 100 for c in chunks)
    assert chunks[0].size == 100


def test_an_item_too_large_for_any_chunk_is_refused() -> None:
    items = [Item("big", "0101", dt.date(2026, 12, 1), size=95)]
    with pytest.raises(ChunkingError, match="'big' needs 105 bytes"):
        _chunk(items, max_bytes=100, size_of=lambda i: i.size, overhead=10)


def test_duplicate_keys_are_refused() -> None:
    day = dt.date(2026, 12, 1)
    with pytest.raises(ChunkingError, match="'x' occurs twice"):
        _chunk([Item("x", "0101", day), Item("x", "0101", day)])


def test_other_content_gives_another_id() -> None:
    day = dt.date(2026, 12, 1)
    a = _chunk([Item("1", "0101", day), Item("2", "0101", day)])
    b = _chunk([Item("1", "0101", day), Item("3", "0101", day)])
    assert a[0].chunk_id != b[0].chunk_id
    other_ns = _chunk([Item("1", "0101", day), Item("2", "0101", day)], namespace=uuid.uuid4())
    assert other_ns[0].chunk_id != a[0].chunk_id


def test_order_key_orders_within_a_group() -> None:
    day = dt.date(2026, 12, 1)
    items = [Item("a", "0101", day, size=3), Item("b", "0101", day, size=1)]
    chunks = _chunk(items, order_key=lambda i: i.size)
    assert [i.key for i in chunks[0].items] == ["b", "a"]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="max_count"):
        _chunk([], max_count=0)
    with pytest.raises(ValueError, match="size_of"):
        _chunk([], max_bytes=10)


@given(
    keys=st.sets(st.text(alphabet="abcdef0123", min_size=1, max_size=6), max_size=60),
    max_count=st.integers(1, 7),
    seed=st.integers(0, 1000),
)
def test_chunks_partition_the_input_deterministically(
    keys: set[str], max_count: int, seed: int
) -> None:
    day = dt.date(2026, 12, 1)
    items = [Item(k, "G" + str(len(k) % 2), day) for k in sorted(keys)]
    chunks = _chunk(items, max_count=max_count)
    flat = [i for c in chunks for i in c.items]
    assert sorted(i.key for i in flat) == sorted(keys)
    assert all(1 <= c.count <= max_count for c in chunks)
    shuffled = items[:]
    random.Random(seed).shuffle(shuffled)
    assert [c.chunk_id for c in _chunk(shuffled, max_count=max_count)] == [
        c.chunk_id for c in chunks
    ]


@given(
    st.lists(
        st.tuples(st.sampled_from(["0101", "0851"]), st.integers(0, 3), st.integers(1, 40)),
        max_size=60,
    ),
    st.integers(1, 7),
)
def test_chunk_sorted_streams_the_chunks_chunk_items_makes(
    raw: list[tuple[str, int, int]], max_count: int
) -> None:
    day = dt.date(2026, 12, 1)
    items = [Item(f"P{n:04d}", g, day + dt.timedelta(days=d), s) for n, (g, d, s) in enumerate(raw)]
    kw: dict[str, object] = {
        "group_key": lambda i: (i.group, i.day),
        "item_key": lambda i: i.key,
        "max_count": max_count,
        "namespace": NS,
        "max_bytes": 100,
        "size_of": lambda i: i.size,
        "overhead": 20,
    }
    ordered = sorted(items, key=lambda i: (i.group, i.day, i.key))
    assert list(chunk_sorted(ordered, **kw)) == chunk_items(items, **kw)  # type: ignore[arg-type]


def test_chunk_sorted_refuses_items_out_of_order() -> None:
    day = dt.date(2026, 12, 1)
    kw: dict[str, object] = {
        "group_key": lambda i: (i.group, i.day),
        "item_key": lambda i: i.key,
        "max_count": 10,
        "namespace": NS,
    }
    twice = [Item("P1", "0101", day), Item("P1", "0101", day)]
    with pytest.raises(ChunkingError, match="occurs twice"):
        list(chunk_sorted(twice, **kw))  # type: ignore[arg-type]
    backwards = [Item("P2", "0101", day), Item("P1", "0101", day)]
    with pytest.raises(ChunkingError, match="out of order"):
        list(chunk_sorted(backwards, **kw))  # type: ignore[arg-type]
    groups = [Item("P1", "0851", day), Item("P2", "0101", day)]
    with pytest.raises(ChunkingError, match="group"):
        list(chunk_sorted(groups, **kw))  # type: ignore[arg-type]
