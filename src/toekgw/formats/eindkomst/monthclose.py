"""Month close: which companies owe SKAT a nil report (3101) for a month.

A company registered for withholding sends every month either reports with A-tax or
AM-contribution, or one nil report; the month is decided by the disposition date. Nil reports
are not sent for months three or more years back. The CLI (``toekgw eindkomst close-month``)
runs this over the journal's history; this function is the rule, without I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from toekgw.formats.eindkomst.history import History, month_of
from toekgw.formats.eindkomst.history_rules import NIL_MAX_MONTHS_BACK
from toekgw.formats.eindkomst.report import NilReport

__all__ = ["nil_reports_due"]


def nil_reports_due(
    companies: Iterable[str], month: dt.date, history: History, *, today: dt.date
) -> list[NilReport]:
    """One :class:`NilReport` per company (SE) with nothing withheld and no nil report yet."""
    first = month.replace(day=1)
    back = (today.year * 12 + today.month) - (first.year * 12 + first.month)
    if back >= NIL_MAX_MONTHS_BACK or back < 0:
        return []
    key = month_of(first)
    return [
        NilReport(se, first)
        for se in sorted(set(companies))
        if not history.withholding_reported(se, key) and not history.nil_report_exists(se, key)
    ]
