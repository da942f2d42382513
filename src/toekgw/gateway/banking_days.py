"""Danish banking days: when a payment must leave so that it is paid on its disposition date.

A banking day is a weekday on which the Danish banks are open. Danmarks Nationalbank lists the
closing days: the Danish public holidays (from ``holidays``; Store Bededag only until 2023, it
was abolished from 2024) and the days the banks keep closed although they are no public
holidays: **the Friday after Ascension Day**, Grundlovsdag (5 June), Christmas Eve (24
December) and New Year's Eve (31 December). 1 May is *not* a closing day: the banks are open.

A :class:`BankCalendar` may add extra closing days (configuration ``[nemkonto]
extra_closing_days``), for a day the banks announce late; the module functions use the
calendar without extras.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import holidays

__all__ = [
    "BANK_CLOSING_DAYS",
    "DEFAULT_BANKING_DAYS_BEFORE",
    "STANDARD",
    "BankCalendar",
    "add_banking_days",
    "closing_days",
    "easter_sunday",
    "is_banking_day",
    "is_due_for_release",
    "next_banking_day",
    "release_date",
]

DEFAULT_BANKING_DAYS_BEFORE = 2

# (month, day) of the banks' own fixed closing days, on top of the public holidays.
BANK_CLOSING_DAYS: tuple[tuple[int, int], ...] = ((6, 5), (12, 24), (12, 31))


@lru_cache(maxsize=64)
def closing_days(year: int) -> frozenset[dt.date]:
    """Every date of ``year`` on which Danish banks are closed, weekends aside."""
    public = holidays.country_holidays("DK", years=year, categories=("public",))
    days = set(public.keys())
    days.update(dt.date(year, month, day) for month, day in BANK_CLOSING_DAYS)
    days.add(easter_sunday(year) + dt.timedelta(days=40))  # the Friday after Ascension Day
    return frozenset(days)


def easter_sunday(year: int) -> dt.date:
    """Western Easter Sunday (the anonymous Gregorian algorithm); Ascension Day is 39 days
    later, always a Thursday."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_fix = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday_fix) // 451
    month, day = divmod(h + weekday_fix - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@dataclass(frozen=True, slots=True)
class BankCalendar:
    """The Danish bank calendar, with ``extra`` closing days on top of the standard ones."""

    extra: frozenset[dt.date] = field(default_factory=frozenset)

    @classmethod
    def with_extra(cls, days: Iterable[dt.date]) -> BankCalendar:
        return cls(frozenset(days))

    def is_banking_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in closing_days(day.year) and day not in self.extra

    def add_banking_days(self, day: dt.date, count: int) -> dt.date:
        """The date ``count`` banking days after ``day`` (before it when ``count`` is
        negative). ``day`` itself need not be a banking day; ``count == 0`` returns it."""
        step = dt.timedelta(days=1 if count > 0 else -1)
        remaining = abs(count)
        while remaining:
            day += step
            if self.is_banking_day(day):
                remaining -= 1
        return day

    def next_banking_day(self, day: dt.date) -> dt.date:
        """``day`` itself when it is a banking day, else the first banking day after it."""
        while not self.is_banking_day(day):
            day += dt.timedelta(days=1)
        return day

    def release_date(
        self, disposition_date: dt.date, banking_days_before: int = DEFAULT_BANKING_DAYS_BEFORE
    ) -> dt.date:
        """The day a payment with this disposition date leaves the journal for NemKonto."""
        if banking_days_before < 0:
            raise ValueError("banking_days_before must be 0 or more")
        return self.add_banking_days(disposition_date, -banking_days_before)

    def is_due_for_release(
        self,
        disposition_date: dt.date,
        today: dt.date,
        *,
        banking_days_before: int = DEFAULT_BANKING_DAYS_BEFORE,
        immediate: bool = False,
    ) -> bool:
        """Whether a payment goes out ``today``: straks payments always, others from the
        release date on (a late one, whose release date has passed, goes at once)."""
        return immediate or today >= self.release_date(disposition_date, banking_days_before)


STANDARD = BankCalendar()
is_banking_day = STANDARD.is_banking_day
add_banking_days = STANDARD.add_banking_days
next_banking_day = STANDARD.next_banking_day
release_date = STANDARD.release_date
is_due_for_release = STANDARD.is_due_for_release
