"""Danish banking days: when a payment must leave so that it is paid on its disposition date.

A banking day is a weekday that is neither a Danish public holiday (from ``holidays``) nor one
of the days the Danish banks keep closed although they are no public holidays: Grundlovsdag
(5 June), Christmas Eve (24 December) and New Year's Eve (31 December). 1 May is *not* a
closing day: the banks are open.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

__all__ = [
    "BANK_CLOSING_DAYS",
    "DEFAULT_BANKING_DAYS_BEFORE",
    "add_banking_days",
    "closing_days",
    "is_banking_day",
    "is_due_for_release",
    "next_banking_day",
    "release_date",
]

DEFAULT_BANKING_DAYS_BEFORE = 2

# (month, day) of the banks' own closing days, on top of the public holidays.
BANK_CLOSING_DAYS: tuple[tuple[int, int], ...] = ((6, 5), (12, 24), (12, 31))


@lru_cache(maxsize=64)
def closing_days(year: int) -> frozenset[dt.date]:
    """Every non-weekend date of ``year`` on which Danish banks are closed."""
    public = holidays.country_holidays("DK", years=year, categories=("public",))
    days = set(public.keys())
    days.update(dt.date(year, month, day) for month, day in BANK_CLOSING_DAYS)
    return frozenset(days)


def is_banking_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in closing_days(day.year)


def add_banking_days(day: dt.date, count: int) -> dt.date:
    """The date ``count`` banking days after ``day`` (before it when ``count`` is negative).

    ``day`` itself need not be a banking day; ``count == 0`` returns ``day`` unchanged.
    """
    step = dt.timedelta(days=1 if count > 0 else -1)
    remaining = abs(count)
    while remaining:
        day += step
        if is_banking_day(day):
            remaining -= 1
    return day


def next_banking_day(day: dt.date) -> dt.date:
    """``day`` itself when it is a banking day, else the first banking day after it."""
    while not is_banking_day(day):
        day += dt.timedelta(days=1)
    return day


def release_date(
    disposition_date: dt.date, banking_days_before: int = DEFAULT_BANKING_DAYS_BEFORE
) -> dt.date:
    """The day a payment with this disposition date leaves the journal for NemKonto."""
    if banking_days_before < 0:
        raise ValueError("banking_days_before must be 0 or more")
    return add_banking_days(disposition_date, -banking_days_before)


def is_due_for_release(
    disposition_date: dt.date,
    today: dt.date,
    *,
    banking_days_before: int = DEFAULT_BANKING_DAYS_BEFORE,
    immediate: bool = False,
) -> bool:
    """Whether a payment goes out ``today``: straks payments always, others from the release
    date on (a late one, whose release date has passed, goes at once)."""
    return immediate or today >= release_date(disposition_date, banking_days_before)
