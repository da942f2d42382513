"""A controllable clock for the service's tests: ``wait`` moves time on at once.

``on_wait(now)`` is called when the scheduler goes to sleep (the counterparts answer what was
put until now), ``on_advance(now)`` each time time moves (a delivery arrives); ``until`` sets
``stop`` once time reaches it, which ends a run.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable


class FakeClock:
    def __init__(
        self,
        start: dt.datetime,
        *,
        until: dt.datetime | None = None,
        stop: threading.Event | None = None,
        on_advance: Callable[[dt.datetime], None] | None = None,
        on_wait: Callable[[dt.datetime], None] | None = None,
    ) -> None:
        self.current = start
        self.until, self.stop = until, stop
        self.on_advance, self.on_wait = on_advance, on_wait
        self.waits = 0

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += dt.timedelta(seconds=seconds)
        if self.on_advance is not None:
            self.on_advance(self.current)
        if self.until is not None and self.stop is not None and self.current >= self.until:
            self.stop.set()

    def wait(self, seconds: float, wake: threading.Event) -> None:
        self.waits += 1
        if self.on_wait is not None:
            self.on_wait(self.current)
        if not wake.is_set():
            self.advance(max(seconds, 0.001))
