"""Batches made ahead on a thread (toekgw.gateway.prefetch): the same batches in the same
order as made in turn, made off the caller's thread, the source's failure raised where the
caller reaches it, and no thread left behind however the caller stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from toekgw.gateway.prefetch import Standalone, prefetched_batches


def _alive(name: str) -> bool:
    return any(t.name == name and t.is_alive() for t in threading.enumerate())


def test_the_batches_are_the_source_s_in_order_made_on_another_thread() -> None:
    makers: set[int] = set()

    def make(chunk: list[int]) -> tuple[int, ...]:
        makers.add(threading.get_ident())
        return tuple(chunk)

    batches = list(prefetched_batches(range(10), 3, make, depth=1, name="t-order"))
    assert batches == [(0, 1, 2), (3, 4, 5), (6, 7, 8), (9,)]
    assert makers and threading.get_ident() not in makers
    assert not _alive("t-order")


def test_nothing_runs_before_the_first_batch_is_asked_for() -> None:
    started = threading.Event()

    def source() -> Iterator[int]:
        started.set()
        yield 1

    batches = prefetched_batches(source(), 2, list, name="t-lazy")
    assert not _alive("t-lazy") and not started.is_set()
    assert next(batches) == [1]
    batches.close()


def test_the_source_s_failure_is_raised_after_the_batches_before_it() -> None:
    def source() -> Iterator[int]:
        yield from range(5)
        raise ValueError("line 7: not a record")

    batches = prefetched_batches(source(), 2, list, name="t-fail")
    assert next(batches) == [0, 1]
    assert next(batches) == [2, 3]
    with pytest.raises(ValueError, match="line 7: not a record"):
        next(batches)
    assert not _alive("t-fail")


def test_the_maker_s_failure_is_raised_too() -> None:
    def make(chunk: list[int]) -> list[int]:
        if 4 in chunk:
            raise KeyError(4)
        return chunk

    with pytest.raises(KeyError):
        list(prefetched_batches(range(8), 2, make, name="t-make"))
    assert not _alive("t-make")


def test_a_caller_stopping_early_stops_the_thread_and_closes_the_source() -> None:
    closed = threading.Event()
    made = []

    def source() -> Iterator[int]:
        try:
            n = 0
            while True:  # endless: only closing stops it
                yield n
                n += 1
        finally:
            closed.set()

    def make(chunk: list[int]) -> list[int]:
        made.append(chunk[0])
        return chunk

    batches = prefetched_batches(source(), 10, make, depth=2, name="t-stop")
    assert next(batches) == list(range(10))
    batches.close()
    assert closed.is_set() and not _alive("t-stop")
    # at most the batch handed over, the one waiting and the one being made
    assert len(made) <= 4


def test_a_caller_failing_while_it_writes_a_batch_stops_the_thread() -> None:
    def writes() -> None:
        for batch in prefetched_batches(range(1_000_000), 100, list, name="t-raise"):
            if batch[0] == 300:
                raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        writes()
    assert not _alive("t-raise")


def test_sizes_below_one_are_refused_at_once() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        prefetched_batches([], 0, list)
    with pytest.raises(ValueError, match="at least 1"):
        prefetched_batches([], 1, list, depth=0)


def test_standalone_iterates_what_it_wraps() -> None:
    assert list(Standalone(iter("abc"))) == ["a", "b", "c"]


def test_a_source_failing_to_close_fails_the_caller_not_the_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What closing the source raises reaches the caller; the thread prints no traceback."""
    printed: list[object] = []
    monkeypatch.setattr(threading, "excepthook", printed.append)

    def source() -> Iterator[int]:
        try:
            yield from range(100)
        finally:
            raise RuntimeError("the staged copy cannot be closed")

    batches = prefetched_batches(source(), 2, list, name="t-close")
    assert next(batches) == [0, 1]
    with pytest.raises(RuntimeError, match="cannot be closed"):
        batches.close()
    assert printed == [] and not _alive("t-close")
