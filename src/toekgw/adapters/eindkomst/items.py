"""A delivery's bytes -> the journal items that describe it (see :mod:`.kinds`).

Read from the delivery as built (or as handed in as a file), so that what is journaled is
exactly what goes on the queue.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from toekgw.adapters.eindkomst.kinds import (
    month_lookup,
    order_lookup,
    recipient_lookup,
    reversal_lookup,
)
from toekgw.formats.eindkomst.codec import decode_records
from toekgw.formats.eindkomst.fieldnumbers import WITHHOLDING_FIELDS
from toekgw.formats.eindkomst.history import month_of, recipient_key
from toekgw.formats.eindkomst.records import (
    AmountField,
    CodeField,
    Company,
    CompanyLine,
    CountField,
    PersonData,
    RecipientRecord,
    ReportHeader,
    Reversal,
    Start,
    TaxCardOrderRecord,
    TextField,
    TickField,
)
from toekgw.formats.findings import mask_cpr
from toekgw.gateway.journal import NewItem

__all__ = ["DeliveryItems", "delivery_items"]


@dataclass(slots=True)
class DeliveryItems:
    main_report_id: str
    items: list[NewItem] = field(default_factory=list)
    report_ids: list[str] = field(default_factory=list)
    recipients: int = 0
    amount_sum: int = 0


@dataclass(slots=True)
class _Open:
    key: str
    seq: int
    lookup: str
    data: dict[str, object]
    amount: int = 0


def delivery_items(body: bytes) -> DeliveryItems:
    """The items of one valid delivery (validate it first: unreadable lines are skipped)."""
    reader = _Reader()
    for entry in decode_records(io.BytesIO(body)):
        reader.feed(entry.record, entry.line)
    return reader.finish()


_Field = AmountField | CodeField | TickField | TextField | CountField


class _Reader:
    """A delivery's records in file order: the reports (5000 and 3101) and their recipients
    (6000) stay open until the next record that closes them; reversals (4101) and tax-card
    orders (2101) are items of their own."""

    def __init__(self) -> None:
        self.out = DeliveryItems("")
        self.se = ""
        self.report: _Open | None = None
        self.person: _Open | None = None
        self.reports: list[_Open] = []
        self.people: list[_Open] = []
        self.others: list[NewItem] = []

    def feed(self, rec: object, line: int) -> None:
        if isinstance(rec, Start):
            self.out.main_report_id = rec.main_report_id
        elif isinstance(rec, Company):
            self._close_report()
            self.se = rec.company_se
        elif isinstance(rec, ReportHeader):
            self._close_report()
            self.report = self._report(rec, line)
        elif isinstance(rec, RecipientRecord):
            self._recipient(rec, line)
        elif isinstance(rec, _Field):
            self._field(rec, line)
        elif isinstance(rec, PersonData):
            if self.person is not None and self.report is not None:
                self.person.data["last"] = self.report.data["last"] = line
        elif isinstance(rec, CompanyLine):
            self._close_report()
            self.reports.append(self._company_line(rec, line))
        elif isinstance(rec, Reversal):
            self._close_report()
            self.others.append(self._reversal(rec, line))
        elif isinstance(rec, TaxCardOrderRecord):
            self._close_report()
            self.others.append(self._tax_card_order(rec, line))

    def finish(self) -> DeliveryItems:
        self._close_report()
        out = self.out
        for r in self.reports:
            out.report_ids.append(r.key)
            out.recipients += int(str(r.data["recipients"]))
            out.amount_sum += int(str(r.data["sum"]))
            # The report carries no amount of its own: its recipients do (no double count).
            out.items.append(NewItem(r.key, r.amount, seq=r.seq, lookup=r.lookup, data=r.data))
        for p in self.people:
            out.items.append(NewItem(p.key, p.amount, seq=p.seq, lookup=p.lookup, data=p.data))
        out.items.extend(self.others)
        return out

    def _close_person(self) -> None:
        if self.person is not None:
            self.people.append(self.person)
            self.person = None

    def _close_report(self) -> None:
        self._close_person()
        if self.report is not None:
            self.reports.append(self.report)
            self.report = None

    def _report(self, rec: ReportHeader, line: int) -> _Open:
        month = month_of(rec.disposition_date)
        return _Open(
            rec.report_id,
            line,
            month_lookup(self.se, month),
            {
                "type": "5000",
                "se": self.se,
                "month": month,
                "disposition": rec.disposition_date.isoformat(),
                "income_type": rec.income_type,
                "correction": rec.correction == "R",
                "first": line,
                "last": line,
                "recipients": 0,
                "sum": 0,
                "withholding": False,
            },
        )

    def _recipient(self, rec: RecipientRecord, line: int) -> None:
        report = self.report
        if report is None:
            return
        self._close_person()
        who = recipient_key(rec)
        month = str(report.data["month"])
        report.data["recipients"] = int(str(report.data["recipients"])) + 1
        self.person = _Open(
            f"{report.key}:{line}",
            line,
            recipient_lookup(self.se, who, month),
            {
                "type": "6000",
                "report": report.key,
                "se": self.se,
                "who": who,
                "masked": mask_cpr(who) if rec.cpr else who,
                "fields": {},
                "values": [],
                "last": line,
            },
        )

    def _field(self, rec: _Field, line: int) -> None:
        person, report = self.person, self.report
        if person is None or report is None:
            return
        person.data["last"] = report.data["last"] = line
        if isinstance(rec, AmountField):
            fields = person.data["fields"]
            assert isinstance(fields, dict)
            fields[rec.field_number] = fields.get(rec.field_number, 0) + rec.signed
            person.amount += rec.signed
            report.data["sum"] = int(str(report.data["sum"])) + rec.signed
            if rec.field_number in WITHHOLDING_FIELDS and rec.amount:
                report.data["withholding"] = True
        elif not isinstance(rec, CountField):
            values = person.data["values"]
            assert isinstance(values, list)
            values.append(rec.field_number)

    def _company_line(self, rec: CompanyLine, line: int) -> _Open:
        month = month_of(rec.period_start)
        signed = (rec.amount or 0) * (-1 if rec.sign == "-" else 1)
        return _Open(
            rec.report_id,
            line,
            month_lookup(self.se, month),
            {
                "type": "3101",
                "se": self.se,
                "month": month,
                "nil": rec.nil_mark == "N",
                "first": line,
                "last": line,
                "recipients": 0,
                "sum": signed,
                "withholding": rec.field_number in WITHHOLDING_FIELDS and bool(signed),
            },
            signed,
        )

    def _reversal(self, rec: Reversal, line: int) -> NewItem:
        return NewItem(
            f"4101:{self.out.main_report_id}:{line}",
            0,
            seq=line,
            lookup=reversal_lookup(rec.report_id),
            data={"type": "4101", "se": self.se, "reversed": rec.report_id, "cpr": rec.cpr},
        )

    def _tax_card_order(self, rec: TaxCardOrderRecord, line: int) -> NewItem:
        return NewItem(
            f"2101:{self.out.main_report_id}:{line}",
            0,
            seq=line,
            lookup=order_lookup(rec.cpr),
            data={
                "type": "2101",
                "se": self.se,
                "cpr": rec.cpr,
                "order_type": rec.order_type,
                "valid_from": rec.valid_from.isoformat(),
                "employment_start": rec.employment_start.isoformat(),
                "employment_end": (rec.employment_end.isoformat() if rec.employment_end else None),
            },
        )
