"""Calendar dates column-wise (numpy): dates as YYYYMMDD numbers, and which (year, month,
day) rows are real dates (the same answer as ``datetime.date(year, month, day)`` succeeding,
for whole columns at once).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

__all__ = ["valid_dates", "ymd"]

_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)


def ymd(day: dt.date) -> int:
    """A date as the number YYYYMMDD (so that dates compare as numbers, column-wise too)."""
    return day.year * 10_000 + day.month * 100 + day.day


def valid_dates(
    year: npt.NDArray[np.int64], month: npt.NDArray[np.int64], day: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    """Rows that are dates of the proleptic Gregorian calendar, years 1-9999."""
    month_ok = (month >= 1) & (month <= 12)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = _MONTH_DAYS[np.where(month_ok, month, 0)] + (leap & (month == 2))
    out: npt.NDArray[np.bool_] = (
        (year >= 1) & (year <= 9999) & month_ok & (day >= 1) & (day <= days)
    )
    return out
