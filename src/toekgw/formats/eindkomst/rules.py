"""Validation of any eIndkomst delivery, ours or from elsewhere.

:func:`validate_delivery` streams the file once and collects every finding: record layouts
(via the layout tables), nesting and order, running line numbers, the 9999 count, the limit of
10,000 records of the 6000 group under one 5000, identifiers, dates, income types, the field
number's record type, and recipients abroad (8001, TIN). Given a :class:`History` it also
applies the rules that need earlier reports
(:class:`~toekgw.formats.eindkomst.history_rules.HistoryRules`).

Finding codes are stable (``eik.*``) and listed in ``docs/eindkomst.md``. No finding shows a
CPR number in clear.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from toekgw.formats.eindkomst.fieldnumbers import FIELDS, ValueKind
from toekgw.formats.eindkomst.history import History
from toekgw.formats.eindkomst.history_rules import HistoryRules
from toekgw.formats.eindkomst.layouts import CODECS, NIL_FIELD, REPORT_TYPES
from toekgw.formats.eindkomst.records import (
    record_class,
)
from toekgw.formats.eindkomst.report import MAX_GROUP_RECORDS, last_of_month
from toekgw.formats.findings import Finding, Severity, mask_cpr
from toekgw.formats.fixed import iter_lines
from toekgw.formats.idents import cpr_problem, cvr_problem, pnumber_problem

__all__ = [
    "TIN_REQUIRED_FROM",
    "DeliveryCheck",
    "ReportSummary",
    "validate_delivery",
]

TIN_REQUIRED_FROM = dt.date(2024, 1, 1)  # pay periods ending on or after this need a TIN

_ERROR = Severity.ERROR
_WARNING = Severity.WARNING

# Order of a company's records: 2101 orders, 3101 lines, 4101 reversals, then 5000 groups.
_PHASE = {"2101": 1, "3101": 2, "4101": 3, "5000": 4}
_SUB = frozenset({"6001", "6002", "6003", "6004", "6005"})
_KIND_OF = {k.record_type: k for k in ValueKind}


@dataclass(slots=True)
class ReportSummary:
    """What one 5000 group of the file holds (the sender's side of a reconciliation)."""

    report_id: str | None
    line: int
    recipients: int = 0  # 6000 records
    group_records: int = 0  # records of the 6000 group (6000-6999)
    amount_sum: int = 0  # signed øre over all 6001


@dataclass(slots=True)
class DeliveryCheck:
    findings: list[Finding] = field(default_factory=list)
    records: int = 0
    reports: list[ReportSummary] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.is_error for f in self.findings)


@dataclass(slots=True)
class _Recipient:
    line: int
    ident: str | None  # CPR/CVR as written (for the rules; never shown)
    has_cpr: bool
    has_cvr: bool
    tin: bool
    foreign: bool  # a TIN country other than DK
    person_data: int = 0  # number of 8001 records
    person_abroad: bool = False  # an 8001 with a country other than DK
    readable: bool = True  # False: the 6000 had field findings; its identity is unknown


class _Check:
    """The state of one streaming validation."""

    def __init__(
        self, max_group_records: int, history: HistoryRules | None, today: dt.date
    ) -> None:
        self.today = today
        self.out = DeliveryCheck()
        self.add = self.out.findings.append
        self.max_group = max_group_records
        self.history = history
        self.prev_number = 0
        self.started = False
        self.ended_at: int | None = None
        self.after_end_reported = False
        self.company_line: int | None = None
        self.phase = 0
        self.group: ReportSummary | None = None
        self.group_period_end: dt.date | None = None
        self.limit_reported = False
        self.recipient: _Recipient | None = None
        self.valid = True  # whether the record being dispatched decoded without findings
        # Recipients of the current 5000 group (≤ 10,000 of them: memory stays bounded).
        self.seen: set[tuple[str | None, ...]] = set()

    def finding(
        self,
        code: str,
        message: str,
        line: int,
        *,
        columns: tuple[int, int] | None = None,
        fld: str | None = None,
        expected: str | None = None,
        found: str | None = None,
        severity: Severity = _ERROR,
    ) -> None:
        self.add(
            Finding(
                code=code,
                severity=severity,
                message=message,
                line=line,
                columns=columns,
                field=fld,
                expected=expected,
                found=found,
            )
        )

    # -- closing scopes -------------------------------------------------------------------

    def close_recipient(self) -> None:
        r = self.recipient
        if r is None:
            return
        self.recipient = None
        if r.person_data > 1:
            self.finding(
                "eik.abroad.person_data_twice", "more than one 8001 for a recipient", r.line
            )
        abroad = r.foreign or r.person_abroad or (r.tin and not r.has_cpr and not r.has_cvr)
        if not r.readable:
            return
        if not (r.has_cpr or r.has_cvr or r.tin):
            self.finding(
                "eik.recipient.id", "6000 has neither CPR, CVR/SE nor TIN", r.line, columns=(20, 79)
            )
        if r.has_cpr and r.has_cvr:
            self.finding(
                "eik.recipient.id", "6000 has both a CPR and a CVR/SE", r.line, columns=(20, 37)
            )
        if abroad and not r.person_data:
            self.finding(
                "eik.abroad.person_data",
                "a recipient abroad needs an 8001 with person data",
                r.line,
                expected="an 8001 record after the 6000",
            )
        end = self.group_period_end
        if abroad and not r.tin and end is not None and end >= TIN_REQUIRED_FROM:
            self.finding(
                "eik.abroad.tin",
                "a recipient abroad needs a TIN for pay periods ending 2024-01-01 or later",
                r.line,
                columns=(53, 79),
                fld="tin",
            )

    def close_group(self) -> None:
        self.close_recipient()
        g = self.group
        if g is None:
            return
        self.group = None
        if g.recipients == 0:
            self.finding("eik.group.empty", "a 5000 report without any 6000 recipient", g.line)

    def close_company(self) -> None:
        self.close_group()
        self.company_line = None
        self.phase = 0

    # -- per record -----------------------------------------------------------------------

    def record(self, line: int, text: str) -> None:
        self.out.records += 1
        rtype = text[7:11]
        codec = _REPORT_CODECS.get(rtype)
        values = codec.decode(text) if codec is not None else None
        if values is not None:  # the common case: a valid record of a known type
            if values[0] != self.prev_number + 1:
                self.sequence(line, values[0], text[:7])
            self.prev_number = values[0]
            self.valid = True
            self.dispatch(rtype, values, line)
            if self.history is not None:
                self.history.feed(line, record_class(rtype)(*values[1:]))
            return
        number_text = text[:7]
        if number_text.isdigit() and number_text.isascii():
            number = int(number_text)
            if number != self.prev_number + 1:
                self.sequence(line, number, number_text)
            self.prev_number = number
        else:
            self.finding(
                "eik.line.number",
                "the running line number is not 7 digits",
                line,
                columns=(1, 7),
                fld="line",
                expected=f"{self.prev_number + 1:07d}",
                found=number_text,
            )
            self.prev_number += 1
        if codec is None:
            shown = rtype if rtype.strip() else "blank"
            self.finding(
                "eik.record.type",
                f"unknown record type {shown!r}",
                line,
                columns=(8, 11),
                fld="rtype",
                expected="one of " + ", ".join(REPORT_TYPES),
                found=rtype,
            )
            return
        values, findings = codec.decode_checked(text, line)
        self.out.findings.extend(findings)
        if self.history is not None:
            self.history.unreadable(rtype)
        self.valid = False
        self.dispatch(rtype, values, line)

    def sequence(self, line: int, number: int, number_text: str) -> None:
        self.finding(
            "eik.line.sequence",
            f"line number {number} out of sequence after {self.prev_number}",
            line,
            columns=(1, 7),
            fld="line",
            expected=f"{self.prev_number + 1:07d}",
            found=number_text,
        )

    def structure(self, code: str, message: str, line: int) -> None:
        self.finding(code, message, line, columns=(8, 11), fld="rtype")

    def dispatch(self, rtype: str, v: tuple[Any, ...], line: int) -> None:
        if self.ended_at is not None:
            if not self.after_end_reported:
                self.after_end_reported = True
                self.structure("eik.structure.after_end", "records after the 9999 end record", line)
            return
        if not self.started and rtype != "1000":
            self.started = True
            self.structure("eik.structure.start", "a delivery starts with a 1000 record", line)
        if rtype in _SUB:
            self.sub_record(rtype, v, line)
        elif rtype == "6000":
            self.recipient_record(v, line)
        elif rtype == "8001":
            self.person_data(v, line)
        elif rtype in _PHASE:
            self.company_record(rtype, v, line)
        elif rtype == "2001":
            self.close_company()
            self.company_line = line
            self.ident(v[1], cvr_problem, "company_se", (28, 35), line)
        elif rtype == "1000":
            if self.started:
                self.structure("eik.structure.start", "a 1000 record inside a delivery", line)
            self.started = True
            self.ident(v[3], cvr_problem, "sender_se", (26, 33), line)
            self.ident(v[4], cvr_problem, "sender_cvr", (34, 41), line)
        elif rtype == "9999":
            self.close_company()
            self.ended_at = line
            count = v[1]
            if count is not None and count != self.out.records:
                self.finding(
                    "eik.count.mismatch",
                    f"9999 says {count} records, the delivery has {self.out.records}",
                    line,
                    columns=(12, 18),
                    fld="record_count",
                    expected=str(self.out.records),
                    found=str(count),
                )

    def in_group(self, line: int, rtype: str) -> ReportSummary | None:
        g = self.group
        if g is None:
            self.structure("eik.structure.nesting", f"{rtype} outside a 5000 report group", line)
            return None
        g.group_records += 1
        if g.group_records > self.max_group and not self.limit_reported:
            self.limit_reported = True
            self.finding(
                "eik.group.limit",
                f"more than {self.max_group} records of the 6000 group under the 5000 "
                f"of line {g.line}",
                line,
                expected=f"at most {self.max_group}",
                found=f"record {g.group_records}",
            )
        return g

    def recipient_record(self, v: tuple[Any, ...], line: int) -> None:
        self.close_recipient()
        g = self.in_group(line, "6000")
        if g is None:
            return
        g.recipients += 1
        _, cpr, cvr, _emp, tin, tin_country, kind, p_number = v
        who = (cpr, cvr, tin, tin_country, kind)
        if who in self.seen and self.valid:
            self.finding(
                "eik.recipient.duplicate",
                "a second 6000 for the same recipient and income kind in one report "
                "(one 6000 per CPR and income kind)",
                line,
                columns=(20, 85),
                severity=_WARNING,
            )
        self.seen.add(who)
        self.cpr(cpr, (20, 29), line)
        self.ident(cvr, cvr_problem, "cvr_se", (30, 37), line)
        if p_number is not None and pnumber_problem(p_number):
            self.finding("eik.ident.pnumber", "not a P-number", line, columns=(86, 95))
        foreign = tin_country is not None and tin_country != "DK"
        self.recipient = _Recipient(
            line,
            cpr or cvr,
            cpr is not None,
            cvr is not None,
            tin is not None,
            foreign,
            readable=self.valid,
        )

    def sub_record(self, rtype: str, v: tuple[Any, ...], line: int) -> None:
        if self.recipient is None:
            self.structure(
                "eik.structure.nesting", f"{rtype} without a 6000 recipient before it", line
            )
            if self.group is not None:
                self.in_group(line, rtype)
            return
        g = self.in_group(line, rtype)
        number = v[1]
        if number is None:
            return
        d = FIELDS.get(number)
        if d is None:
            self.finding(
                "eik.field.unknown",
                f"field number {number} is not in the gateway's field table",
                line,
                columns=(12, 15),
                fld="field_number",
                found=number,
                severity=_WARNING,
            )
        elif d.kind is not _KIND_OF[rtype]:
            self.finding(
                "eik.field.record_type",
                f"field {number} ({d.meaning}) is written with record {d.kind.record_type}",
                line,
                columns=(8, 15),
                fld="field_number",
                expected=d.kind.record_type,
                found=rtype,
            )
        elif d.codes is not None and rtype == "6002" and v[2] is not None and v[2] not in d.codes:
            self.finding(
                "eik.field.code_value",
                f"field {number} ({d.meaning}) does not allow this code",
                line,
                columns=(16, 25),
                fld="code",
                expected="one of " + ", ".join(sorted(d.codes)),
                found=v[2],
            )
        if rtype == "6001" and g is not None and v[2] is not None:
            g.amount_sum += -v[2] if v[3] == "-" else v[2]

    def person_data(self, v: tuple[Any, ...], line: int) -> None:
        r = self.recipient
        if r is None:
            self.structure("eik.structure.nesting", "8001 without a 6000 recipient before it", line)
            return
        r.person_data += 1
        country = v[3]
        if country is not None and country != "DK":
            r.person_abroad = True

    def company_record(self, rtype: str, v: tuple[Any, ...], line: int) -> None:
        if self.company_line is None:
            self.structure("eik.structure.nesting", f"{rtype} outside a 2001 company", line)
        phase = _PHASE[rtype]
        if phase < self.phase:
            self.structure(
                "eik.structure.order",
                f"{rtype} after a {'5000' if self.phase == 4 else 'later record'} "
                "of the same company (order: 2101, 3101, 4101, 5000)",
                line,
            )
        self.phase = max(self.phase, phase)
        self.close_group()
        if rtype == "5000":
            self.report_header(v, line)
        elif rtype == "3101":
            self.nil_report(v, line)
        elif rtype == "4101":
            self.reversal(v, line)
        else:  # 2101
            self.tax_card_order(v, line)

    def report_header(self, v: tuple[Any, ...], line: int) -> None:
        """5000: a report opens; its recipients follow."""
        self.limit_reported = False
        self.group = ReportSummary(v[2], line)
        self.out.reports.append(self.group)
        self.seen.clear()
        start, end = v[4], v[5]
        self.group_period_end = end
        if start is not None and end is not None and start > end:
            self.finding(
                "eik.period.order",
                "pay period starts after it ends",
                line,
                columns=(45, 60),
                fld="period_start",
            )

    def nil_report(self, v: tuple[Any, ...], line: int) -> None:
        """3101: a company's nil report or amount for one whole month."""
        start, end = v[4], v[5]
        if start is not None and (
            start.day != 1 or (end is not None and end != last_of_month(start))
        ):
            self.finding(
                "eik.nil.period",
                "a 3101 period runs from the 1st to the last day of one month",
                line,
                columns=(45, 60),
                fld="period_start",
                expected=f"{start.replace(day=1):%Y%m%d}{last_of_month(start):%Y%m%d}",
                found=f"{start:%Y%m%d}{end:%Y%m%d}" if end else None,
            )
        self.nil_or_amount(v[6], v[7], v[8], line)

    def reversal(self, v: tuple[Any, ...], line: int) -> None:
        """4101: a reversal, at SE level (J) or of one CPR (N)."""
        se_level, cpr = v[3], v[4]
        if se_level == "N" and cpr is None:
            self.finding(
                "eik.reversal.cpr", "a reversal for one CPR (N) without a CPR", line,
                columns=(45, 55),
            )  # fmt: skip
        elif se_level == "J" and cpr is not None:
            self.finding(
                "eik.reversal.cpr", "a reversal at SE level (J) names a CPR", line,
                columns=(45, 55),
            )  # fmt: skip
        self.cpr(cpr, (46, 55), line)

    def tax_card_order(self, v: tuple[Any, ...], line: int) -> None:
        """2101: a tax-card order for one employment."""
        self.cpr(v[1], (12, 21), line)
        start, end = v[3], v[4]
        if start is not None and end is not None and end < start:
            self.finding(
                "eik.period.order",
                "employment ends before it starts",
                line,
                columns=(45, 60),
                fld="employment_end",
            )

    def nil_or_amount(
        self, nil_mark: str | None, field_number: str | None, amount: int | None, line: int
    ) -> None:
        """A 3101 is a nil report (N and field 0000, or N alone) or an amount of 0059/0400."""
        if nil_mark == "N":
            if field_number not in (None, NIL_FIELD) or amount:
                self.finding(
                    "eik.nil.mixed",
                    f"a nil report (N) carries field {NIL_FIELD} and no amount",
                    line,
                    columns=(61, 82),
                    expected=f"N {NIL_FIELD}",
                    found=f"N {field_number or '    '}",
                )
        elif field_number is None or field_number == NIL_FIELD or amount is None:
            self.finding(
                "eik.nil.empty",
                f"a 3101 holds either the nil mark N (field {NIL_FIELD}) or a field number "
                "0059/0400 and an amount",
                line,
                columns=(61, 82),
            )

    def cpr(self, value: str | None, columns: tuple[int, int], line: int) -> None:
        """A CPR field: a finding (the number masked) unless it is a valid CPR number."""
        if value is None:
            return
        problem = cpr_problem(value, self.today)
        if problem:
            self.finding(
                "eik.ident.cpr",
                f"cpr: {problem}",
                line,
                columns=columns,
                fld="cpr",
                found=mask_cpr(value),
            )

    def ident(
        self,
        value: str | None,
        check: Any,
        name: str,
        columns: tuple[int, int],
        line: int,
    ) -> None:
        if value is None:
            return
        problem = check(value)
        if problem:
            self.finding(
                "eik.ident.cvr",
                f"{name}: {problem}",
                line,
                columns=columns,
                fld=name,
                found=value,
            )

    def finish(self, last_line: int) -> DeliveryCheck:
        if self.ended_at is None:
            self.close_company()
            self.finding(
                "eik.structure.end",
                "the delivery does not end with a 9999 record",
                max(last_line, 1),
                expected="9999",
            )
        if self.history is not None:
            self.out.findings.extend(self.history.finish())
        return self.out


_REPORT_CODECS = {t: CODECS[t] for t in REPORT_TYPES}


def validate_delivery(
    chunks: Iterable[bytes],
    *,
    today: dt.date,
    history: History | None = None,
    max_group_records: int = MAX_GROUP_RECORDS,
) -> DeliveryCheck:
    """Every finding of one delivery (a binary file object, or any iterable of lines as
    bytes) as on ``today`` (a CPR number's birth date must not be after it). ``history`` adds
    the rules that need earlier reports, dated by ``today`` too."""
    rules = HistoryRules(history, today) if history is not None else None
    check = _Check(max_group_records, rules, today)
    last = 0
    for ln in iter_lines(chunks):
        last = ln.number
        if not ln.text:
            check.out.records += 1
            check.prev_number += 1
            check.finding("eik.record.empty", "empty line", ln.number, expected="a record")
            continue
        check.record(ln.number, ln.text)
    if last == 0:
        check.finding("eik.structure.empty", "the file is empty", 1, expected="1000 … 9999")
        return check.out
    return check.finish(last)
