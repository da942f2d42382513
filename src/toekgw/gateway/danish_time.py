"""Danish time: the day an instant falls on in Denmark.

Every date the gateway decides on or writes - the day payments are released for, the date of
a payment on a claim or of a write-down, the day a month is closed, the day a CPR number must
be born before, the day a report is as of - is a Danish date: KSD, NemKonto, SKAT, the debt
collection and the case workers all reckon in Danish time. The instants the gateway reads
from its clock are in UTC, and a UTC instant's own date is the day before the Danish one from
midnight to 01:00 in winter (CET, UTC+1) and to 02:00 in summer (CEST, UTC+2). So no code
takes ``.date()`` of an instant, nor the first ten characters of a time stamp: it asks
:func:`danish_date` or :func:`danish_date_of`. The same goes the other way: a Danish day or
month begins at :func:`danish_midnight`, not at the UTC midnight of its date, when it bounds
the journal's UTC time stamps or a deadline (``tests/test_danish_time.py`` checks the sources
for both).

A command shows a time stamp in Danish time too (:func:`danish_clock`); its ``--json`` gives
the journal's stamp as it is, in UTC with its offset.

ØiR's books have a time zone of their own in their configuration (``[oir] time_zone``, by
default this one): their days are the ERP's.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

__all__ = [
    "DANISH_TIME",
    "danish_clock",
    "danish_date",
    "danish_date_of",
    "danish_midnight",
    "danish_stamp",
    "danish_today",
]

#: Denmark's time zone (CET/CEST).
DANISH_TIME = ZoneInfo("Europe/Copenhagen")


def _in_denmark(instant: dt.datetime) -> dt.datetime:
    """``instant`` on Denmark's clock; a naive one is refused with a :class:`ValueError`:
    whose time it is cannot be known."""
    if instant.utcoffset() is None:
        raise ValueError(f"{instant.isoformat()} has no time zone: its Danish time is unknown")
    return instant.astimezone(DANISH_TIME)


def danish_date(instant: dt.datetime) -> dt.date:
    """The date in Denmark at ``instant`` (timezone-aware; a naive one is refused with a
    :class:`ValueError`: whose time it is cannot be known)."""
    return _in_denmark(instant).date()


def danish_today() -> dt.date:
    """Today in Denmark by the system's clock: the default of a caller that injects none."""
    return danish_date(dt.datetime.now(dt.UTC))


def danish_date_of(stamp: str) -> dt.date:
    """The date in Denmark of the ISO time stamp ``stamp`` (the journal's, in UTC with its
    offset): not its first ten characters, which are the UTC date."""
    return danish_date(dt.datetime.fromisoformat(stamp))


def danish_midnight(day: dt.date) -> dt.datetime:
    """The instant ``day`` begins in Denmark, in UTC: 23:00 (in summer 22:00) UTC the day
    before. Denmark changes its clocks at 02:00 and 03:00, so every Danish day has exactly one
    midnight."""
    return dt.datetime.combine(day, dt.time(), DANISH_TIME).astimezone(dt.UTC)


def danish_stamp(day: dt.date) -> str:
    """:func:`danish_midnight` of ``day`` as the journal writes its time stamps (UTC, ISO 8601
    with microseconds), so that it bounds them compared as text: a stamp is on or after
    ``day`` in Denmark exactly when it is ``>=`` this."""
    return danish_midnight(day).isoformat(timespec="microseconds")


def danish_clock(when: dt.datetime | str, *, precise: bool = False) -> str:
    """The time in Denmark at ``when`` (an instant, or an ISO time stamp as the journal writes
    it) as a command shows it: ``2026-12-01 00:30:00`` (``precise``: with the microseconds,
    which order a history). Not the stamp's first 19 characters, its UTC time. A stamp without
    an offset is the journal's, in UTC (a command shows it rather than fail); a naive instant
    is refused with a :class:`ValueError`, as :func:`danish_date` refuses it."""
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when)
        if when.utcoffset() is None:
            when = when.replace(tzinfo=dt.UTC)
    return _in_denmark(when).strftime("%Y-%m-%d %H:%M:%S.%f" if precise else "%Y-%m-%d %H:%M:%S")
