"""The clock the commands read: the system's, or a rehearsal's named by ``$TOEKGW_CLOCK``.

A command never reads the time from :mod:`datetime` itself: it asks :func:`now` (a
timezone-aware instant) or :func:`today` (the date in Denmark at that instant, whatever the
machine's own time zone: :mod:`toekgw.gateway.danish_time`). With
``TOEKGW_CLOCK=START[@SPEED]`` set (the syntax of ``toekgw run --clock``: an ISO time with its
offset, optionally how many times faster than real time it runs) every command of the process
sees that clock instead: a rehearsal of a month on chosen dates, or a test rig that must not
see midnight pass between two commands. A command's own ``--today`` still wins for the date
its rules take. Not for production: the journal's own time stamps (when an event was
recorded) always come from the system's clock.
"""

from __future__ import annotations

import datetime as dt
import functools
import os

from toekgw.gateway.danish_time import danish_date
from toekgw.gateway.errors import UsageError
from toekgw.gateway.scheduler import Clock, ScaledClock, SystemClock, parse_clock

__all__ = ["CLOCK_ENV", "clock", "now", "today"]

#: The environment variable naming a rehearsal's clock.
CLOCK_ENV = "TOEKGW_CLOCK"


def clock() -> Clock:
    """The system's clock, or the one ``$TOEKGW_CLOCK`` names (:class:`UsageError`, exit 2,
    when it names none)."""
    spec = os.environ.get(CLOCK_ENV, "").strip()
    return _scaled(spec) if spec else SystemClock()


def now() -> dt.datetime:
    """The current instant, timezone-aware, of :func:`clock`."""
    return clock().now()


def today() -> dt.date:
    """The current date in Denmark of :func:`clock`."""
    return danish_date(now())


@functools.lru_cache(maxsize=8)
def _scaled(spec: str) -> ScaledClock:
    # One clock per spec and process: it starts when first read, so time runs on from there.
    try:
        return parse_clock(spec)
    except ValueError as exc:
        raise UsageError(f"${CLOCK_ENV}: {exc}") from None
