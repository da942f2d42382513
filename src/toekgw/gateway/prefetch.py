"""Batches made ahead on a thread of their own, while the caller writes the batch before.

A stage that reads a file and journals what it reads does two kinds of work: Python's (reading,
decoding, building the rows), which holds the interpreter's lock, and the journal's statements,
during which SQLite runs with the lock released. Done in turn, they add up. With
:func:`prefetched_batches`, the source is read and each batch made on a second thread, into a
short queue, while the caller's thread runs the statements of the batch before: on two cores
the statements then cost little more than the wait for them.

The caller's thread should do little Python between its statements: every time it takes the
lock back it waits for the other thread to let go of it (up to the interpreter's switch
interval, 5 ms). So the batch is made whole on the thread, down to the statements' parameters,
and the caller only executes them.

The source must not touch what the caller's thread uses at the same time (the journal's
connection, above all). Whoever makes an iterable knows whether it does: one that reads only a
file, or values already in memory, is wrapped in :class:`Standalone`, and the journal makes its
batches ahead only for such an iterable.

What the caller gets is every batch, in the source's order, and the source's exception (or the
batch maker's), raised where the caller asks for the batch it stopped. When the caller stops
early (an exception, ``close()``), the thread stops after at most the batch it is making, and
the source is closed on the caller's thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Generic, TypeVar

__all__ = ["Standalone", "prefetched_batches"]

T = TypeVar("T")
R = TypeVar("R")

#: How long a blocked hand-over waits before it looks again whether the caller has stopped.
_POLL_SECONDS = 0.05


class Standalone(Generic[T]):
    """An iterable that may be read on a thread of its own: it touches nothing the caller's
    thread uses meanwhile (no journal, no connection), such as a generator over a file."""

    def __init__(self, items: Iterable[T]) -> None:
        self.items = items

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)


@dataclass(frozen=True, slots=True)
class _Raised:
    """The source's exception, carried to the caller's thread."""

    error: BaseException


class _End:
    """The source is exhausted."""


class _Producer(Generic[T, R]):
    """The thread's side: batches of ``source``, made by ``make``, into ``handover``."""

    def __init__(
        self, source: Iterable[T], size: int, make: Callable[[list[T]], R], depth: int
    ) -> None:
        self.iterator = iter(source)
        self.size = size
        self.make = make
        self.handover: queue.Queue[R | _Raised | _End] = queue.Queue(maxsize=depth)
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                chunk = list(islice(self.iterator, self.size))
                if not chunk:
                    self._hand_over(_End())
                    return
                self._hand_over(self.make(chunk))
        except BaseException as error:  # carried to the caller, raised there
            self._hand_over(_Raised(error))

    def _hand_over(self, what: R | _Raised | _End) -> None:
        while not self.stopped.is_set():
            try:
                self.handover.put(what, timeout=_POLL_SECONDS)
                return
            except queue.Full:
                continue


def prefetched_batches(
    source: Iterable[T],
    size: int,
    make: Callable[[list[T]], R],
    *,
    depth: int = 2,
    name: str = "prefetch",
) -> Generator[R, None, None]:
    """``make(chunk)`` for each chunk of up to ``size`` items of ``source``, in order, made
    on a thread (``name``) up to ``depth`` batches ahead of the caller. The thread starts
    when the first batch is asked for; close the iterator to stop it early."""
    if size < 1 or depth < 1:
        raise ValueError(f"size and depth must be at least 1 (got {size}, {depth})")
    return _consume(_Producer(source, size, make, depth), name)


def _consume(producer: _Producer[T, R], name: str) -> Generator[R, None, None]:
    thread = threading.Thread(target=producer.run, name=name, daemon=True)
    thread.start()
    try:
        while True:
            got = producer.handover.get()
            if isinstance(got, _End):
                return
            if isinstance(got, _Raised):
                raise got.error
            yield got
    finally:
        producer.stopped.set()
        thread.join()
        # The source is closed here, where what its closing raises reaches the caller.
        close = getattr(producer.iterator, "close", None)
        if close is not None:
            close()
