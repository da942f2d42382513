"""What both MQ simulators share: a request queue served one unit of work at a time.

Each step gets at most one request under syncpoint, lets the simulator handle it (record it in
its ledger, put the answers) and commits the get and the puts together; anything raised backs
the whole unit of work out, so the request comes back (with its backout count raised) and no
answer is seen without it.
"""

from __future__ import annotations

import abc
import datetime as dt
import threading
import time
from collections.abc import Callable

from toekgw.gateway.faults import crash_point
from toekgw.gateway.transport.mq import Message, MessageQueue

__all__ = ["QueueSimulator", "utc_now"]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class QueueSimulator(abc.ABC):
    """A counterpart that answers the requests on ``request_queue`` on ``reply_queue``.

    ``counterpart`` names its crash point ``<counterpart>.simulator.got``
    (:func:`~toekgw.gateway.faults.crash_point`): a request got, not yet read nor recorded."""

    counterpart: str

    def __init__(
        self,
        queue: MessageQueue,
        *,
        request_queue: str,
        reply_queue: str,
        clock: Callable[[], dt.datetime],
        sleep: Callable[[float], None],
    ) -> None:
        self.queue = queue
        self.request_queue = request_queue
        self.reply_queue = reply_queue
        self.clock = clock
        self.sleep = sleep

    @abc.abstractmethod
    def _handle(self, message: Message) -> None:
        """Record one request and put its answers (not committed)."""

    def run(self, *, max_seconds: float | None = None, stop: threading.Event | None = None) -> None:
        """Serve until ``stop`` is set or ``max_seconds`` have passed."""
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        while not (stop is not None and stop.is_set()):
            remaining = 0.5 if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                break
            self.step(wait=min(0.5, remaining))

    def step(self, *, wait: float = 0.0) -> bool:
        """Handle at most one request; whether one was handled."""
        message = self.queue.get(self.request_queue, wait=wait)
        if message is None:
            return False
        self._unit_of_work(message)
        return True

    def drain(self) -> int:
        """Handle every request waiting now; how many were handled (for tests)."""
        handled = 0
        while self.step():
            handled += 1
        return handled

    def _unit_of_work(self, message: Message) -> None:
        crash_point(f"{self.counterpart}.simulator.got")
        try:
            self._handle(message)
        except BaseException:
            self.queue.backout()
            raise
        self.queue.commit()
