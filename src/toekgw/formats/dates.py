"""Calendar dates column-wise (numpy): dates as YYYYMMDD numbers, and which (year, month,
day) rows are real dates (the same answer as ``datetime.date(year, month, day)`` succeeding,
for whole columns at once). And XML Schema's dates and times as Python's: :func:`xs_date`,
:func:`xs_datetime`.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import numpy.typing as npt

__all__ = ["XS_DATE", "XS_DATETIME", "valid_dates", "xs_date", "xs_datetime", "ymd"]

#: What :func:`xs_date` and :func:`xs_datetime` read, for a finding's ``expected``.
XS_DATE = "a date YYYY-MM-DD in the years 0001-9999"
XS_DATETIME = "a date and time YYYY-MM-DDThh:mm:ss in the years 0001-9999"
_XS_DATE = re.compile(r"\s*([0-9]{4}-[0-9]{2}-[0-9]{2})(?:Z|[+-][0-9]{2}:[0-9]{2})?\s*")
_END_OF_DAY = re.compile(r"\s*(.+)T24:00:00(?:\.0+)?(.*?)\s*")

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


def xs_date(text: str) -> dt.date:
    """A schema-checked ``xs:date`` as the day written: the whitespace around it and a zone
    after it (``2026-12-04Z``, ``2026-12-04+01:00``: legal, and not a day's shift) are
    dropped. :class:`ValueError` for what Python's dates do not hold (a year before 0001 or
    after 9999)."""
    m = _XS_DATE.fullmatch(text)
    if m is None:
        raise ValueError(f"not {XS_DATE}")
    return dt.date.fromisoformat(m.group(1))


def xs_datetime(text: str) -> dt.datetime:
    """A schema-checked ``xs:dateTime``; ``24:00:00``, the schema's end of a day, is the next
    day's midnight. :class:`ValueError` for what Python's datetimes do not hold (a year before
    0001 or after 9999)."""
    end_of_day = _END_OF_DAY.fullmatch(text)
    try:
        if end_of_day:
            day, zone = end_of_day.groups()
            return xs_datetime(f"{day}T00:00:00{zone}") + dt.timedelta(days=1)
        return dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise ValueError(f"not {XS_DATETIME}") from None
