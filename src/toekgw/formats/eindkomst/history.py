"""What the journal knows about earlier reports, as far as the correction and nil-report rules
need it: a small protocol, and an in-memory implementation fed with decoded deliveries.

The journal-backed implementation lives with the journal (gateway side); the rules in
:mod:`toekgw.formats.eindkomst.rules` only see this protocol. A month is ``"YYYY-MM"`` and is
decided by the disposition date of a 5000 report (by the period of a 3101 nil report).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

from toekgw.formats.eindkomst.codec import Entry
from toekgw.formats.eindkomst.fieldnumbers import WITHHOLDING_FIELDS
from toekgw.formats.eindkomst.records import (
    AmountField,
    CodeField,
    Company,
    CompanyLine,
    RecipientRecord,
    ReportHeader,
    Reversal,
    TextField,
    TickField,
)

__all__ = ["History", "MemoryHistory", "month_of", "recipient_key"]


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def recipient_key(rec: RecipientRecord) -> str:
    """The person (or company) a 6000 is about: CPR, else CVR/SE, else TIN."""
    return rec.cpr or rec.cvr_se or f"TIN:{rec.tin_country or ''}:{rec.tin or ''}"


class History(Protocol):
    def monthly_total(
        self,
        se: str,
        recipient: str,
        field_number: str,
        month: str,
        *,
        excluding: frozenset[str] = frozenset(),
    ) -> int:
        """Sum of signed amounts already reported, leaving out the reports in ``excluding``."""
        ...

    def reports_with_value(
        self, se: str, recipient: str, field_number: str, month: str
    ) -> frozenset[str]:
        """Report ids (not reversed) that hold a code, tick or text for this field."""
        ...

    def nil_report_exists(self, se: str, month: str) -> bool: ...

    def withholding_reported(self, se: str, month: str) -> bool:
        """Whether A-tax or AM-contribution was reported for the month (by disposition date)."""
        ...


_Key = tuple[str, str, str, str]  # se, recipient, field number, month


class MemoryHistory:
    """History kept in dictionaries; fed with the decoded entries of accepted deliveries."""

    def __init__(self) -> None:
        self._amounts: dict[_Key, dict[str, int]] = defaultdict(dict)
        self._values: dict[_Key, set[str]] = defaultdict(set)
        self._nil: set[tuple[str, str]] = set()
        self._withholding: set[tuple[str, str]] = set()
        self._reversed: set[str] = set()
        self._reversed_for: set[tuple[str, str]] = set()

    def add_delivery(self, entries: Iterable[Entry]) -> None:
        se = ""
        month = ""
        report = ""
        person = ""
        for e in entries:
            rec = e.record
            if isinstance(rec, Company):
                se = rec.company_se
            elif isinstance(rec, ReportHeader):
                month = month_of(rec.disposition_date)
                report = rec.report_id
            elif isinstance(rec, RecipientRecord):
                person = recipient_key(rec)
            elif isinstance(rec, AmountField):
                by_report = self._amounts[(se, person, rec.field_number, month)]
                by_report[report] = by_report.get(report, 0) + rec.signed
                if rec.field_number in WITHHOLDING_FIELDS and rec.amount:
                    self._withholding.add((se, month))
            elif isinstance(rec, CodeField | TickField | TextField):
                self._values[(se, person, rec.field_number, month)].add(report)
            elif isinstance(rec, CompanyLine) and rec.nil_mark == "N":
                self._nil.add((se, month_of(rec.period_start)))
            elif isinstance(rec, Reversal):
                if rec.cpr:
                    self._reversed_for.add((rec.report_id, rec.cpr))
                else:
                    self._reversed.add(rec.report_id)

    def _live(self, report: str, recipient: str) -> bool:
        return report not in self._reversed and (report, recipient) not in self._reversed_for

    def monthly_total(
        self,
        se: str,
        recipient: str,
        field_number: str,
        month: str,
        *,
        excluding: frozenset[str] = frozenset(),
    ) -> int:
        by_report = self._amounts.get((se, recipient, field_number, month), {})
        return sum(
            amount
            for report, amount in by_report.items()
            if report not in excluding and self._live(report, recipient)
        )

    def reports_with_value(
        self, se: str, recipient: str, field_number: str, month: str
    ) -> frozenset[str]:
        reports = self._values.get((se, recipient, field_number, month), set())
        return frozenset(r for r in reports if self._live(r, recipient))

    def nil_report_exists(self, se: str, month: str) -> bool:
        return (se, month) in self._nil

    def withholding_reported(self, se: str, month: str) -> bool:
        return (se, month) in self._withholding
