"""The eIndkomst rules that need earlier reports: corrections, reversals and nil reports.

A delivery read on its own can be well formed and still be wrong against what was reported
before: a correction that makes a month's total negative, an amount field reported again for a
month without reversing the earlier report, a second nil report for a company's month, a nil
report for a month with A-tax or AM-contribution reported, a nil report more than
:data:`NIL_MAX_MONTHS_BACK` months back. :class:`HistoryRules` checks those against a
:class:`~toekgw.formats.eindkomst.history.History` while ``rules.validate_delivery`` streams
the file; :func:`check_entries` applies them alone to entries already decoded (a delivery in
the journal). Finding codes are stable (``eik.*``, listed in
``docs/eindkomst.md``); no finding shows a CPR number in clear.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from toekgw.formats.eindkomst.codec import Entry
from toekgw.formats.eindkomst.fieldnumbers import FIELDS, WITHHOLDING_FIELDS
from toekgw.formats.eindkomst.history import History, month_of, recipient_key
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
from toekgw.formats.findings import Finding, Severity

__all__ = ["NIL_MAX_MONTHS_BACK", "HistoryRules", "check_entries"]

NIL_MAX_MONTHS_BACK = 36  # no nil report for months three or more years back

_ERROR = Severity.ERROR


class HistoryRules:
    """Corrections, reversals and nil reports, checked against a :class:`History`.

    Fed the delivery's typed records in order; ``finish`` returns the findings. It keeps one
    integer per (company, person, amount field, month) the delivery touches.
    """

    def __init__(self, history: History, today: dt.date) -> None:
        self.history = history
        self.today = today
        self.findings: list[Finding] = []
        self.se = ""
        self.month = ""
        self.report = ""
        self.person = ""
        self.deltas: dict[tuple[str, str, str, str], list[int]] = {}  # [sum, last line]
        self.reversed: set[tuple[str, str]] = set()  # (se, report id)
        self.reversed_for: set[tuple[str, str, str]] = set()  # (se, report id, cpr)
        self.nil: dict[tuple[str, str], int] = {}
        self.withholding: set[tuple[str, str]] = set()
        # After an unreadable 2001/5000 or 6000 the company, month or person is unknown.
        self.blind_group = False
        self.blind_person = False

    def unreadable(self, rtype: str) -> None:
        """A record with findings: whatever depends on it cannot be judged against history."""
        if rtype in ("2001", "5000"):
            self.blind_group = True
        elif rtype == "6000":
            self.blind_person = True

    def feed(self, line: int, rec: object) -> None:
        if self.blind_group or self.blind_person:
            if isinstance(rec, Company | ReportHeader):
                self.blind_group = self.blind_person = False
            elif isinstance(rec, RecipientRecord):
                self.blind_person = False
            elif isinstance(rec, AmountField | CodeField | TickField | TextField):
                return
        if isinstance(rec, AmountField):
            key = (self.se, self.person, rec.field_number, self.month)
            slot = self.deltas.get(key)
            if slot is None:
                self.deltas[key] = [rec.signed, line]
            else:
                slot[0] += rec.signed
                slot[1] = line
            if rec.field_number in WITHHOLDING_FIELDS and rec.amount:
                self.withholding.add((self.se, self.month))
        elif isinstance(rec, RecipientRecord):
            self.person = recipient_key(rec)
        elif isinstance(rec, CodeField | TickField | TextField):
            self.value_field(line, rec)
        elif isinstance(rec, ReportHeader):
            self.month = month_of(rec.disposition_date)
            self.report = rec.report_id
        elif isinstance(rec, Company):
            self.se = rec.company_se
        elif isinstance(rec, Reversal):
            if rec.cpr:
                self.reversed_for.add((self.se, rec.report_id, rec.cpr))
            else:
                self.reversed.add((self.se, rec.report_id))
        elif isinstance(rec, CompanyLine) and rec.nil_mark == "N":
            self.nil_report(line, rec)

    def excluded(self, person: str, reports: Iterable[str]) -> frozenset[str]:
        return frozenset(
            r
            for r in reports
            if (self.se, r) in self.reversed or (self.se, r, person) in self.reversed_for
        )

    def value_field(self, line: int, rec: CodeField | TickField | TextField) -> None:
        earlier = self.history.reports_with_value(
            self.se, self.person, rec.field_number, self.month
        )
        if earlier and not earlier <= self.excluded(self.person, earlier):
            d = FIELDS.get(rec.field_number)
            what = d.meaning if d else "a code, tick or text"
            self.findings.append(
                Finding(
                    code="eik.correction.not_reversed",
                    severity=_ERROR,
                    message=f"field {rec.field_number} ({what}) was already reported for "
                    f"{self.month}; codes, ticks and texts are reversed (4101), not corrected",
                    line=line,
                    columns=(12, 15),
                    field="field_number",
                    expected="a 4101 reversal of report " + ", ".join(sorted(earlier)),
                )
            )

    def nil_report(self, line: int, rec: CompanyLine) -> None:
        month = month_of(rec.period_start)
        key = (self.se, month)
        if key in self.nil or self.history.nil_report_exists(self.se, month):
            self.findings.append(
                Finding(
                    code="eik.nil.duplicate",
                    severity=_ERROR,
                    message=f"a nil report for {month} was already sent for this company",
                    line=line,
                    columns=(45, 61),
                    expected="one nil report per month",
                )
            )
        self.nil.setdefault(key, line)
        back = (self.today.year * 12 + self.today.month) - (
            rec.period_start.year * 12 + rec.period_start.month
        )
        if back >= NIL_MAX_MONTHS_BACK:
            self.findings.append(
                Finding(
                    code="eik.nil.too_old",
                    severity=_ERROR,
                    message=f"no nil report for {month}: three or more years back",
                    line=line,
                    columns=(45, 52),
                    field="period_start",
                    expected=f"a month less than {NIL_MAX_MONTHS_BACK} months back",
                    found=month,
                )
            )
        if self.history.withholding_reported(self.se, month):
            self.findings.append(self.nil_with_tax(line, month))

    @staticmethod
    def nil_with_tax(line: int, month: str) -> Finding:
        return Finding(
            code="eik.nil.has_withholding",
            severity=_ERROR,
            message=f"nil report for {month}, but A-tax or AM-contribution is reported for it",
            line=line,
            columns=(45, 61),
        )

    def finish(self) -> list[Finding]:
        out = self.findings
        for (se, month), line in self.nil.items():
            if (se, month) in self.withholding:
                out.append(self.nil_with_tax(line, month))
        for (se, person, number, month), (delta, line) in self.deltas.items():
            if delta >= 0:
                continue  # adding never makes a total negative
            before = self.history.monthly_total(
                se, person, number, month, excluding=self.excluded_for(se, person)
            )
            if before + delta < 0:
                out.append(
                    Finding(
                        code="eik.correction.negative_total",
                        severity=_ERROR,
                        message=f"field {number} for {month} would total {before + delta} øre "
                        f"for this recipient ({before} reported before, {delta} now)",
                        line=line,
                        columns=(16, 32),
                        field="amount",
                        expected="a monthly total of 0 or more",
                        found=str(before + delta),
                    )
                )
        out.sort(key=lambda f: f.line or 0)
        return out

    def excluded_for(self, se: str, person: str) -> frozenset[str]:
        return frozenset(r for s, r in self.reversed if s == se) | frozenset(
            r for s, r, p in self.reversed_for if s == se and p == person
        )


def check_entries(entries: Iterable[Entry], history: History, today: dt.date) -> list[Finding]:
    """The history rules alone, over already decoded entries (e.g. a delivery in the journal)."""
    rules = HistoryRules(history, today)
    for e in entries:
        if e.record is not None:
            rules.feed(e.line, e.record)
    return rules.finish()
