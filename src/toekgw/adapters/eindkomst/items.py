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
    out = DeliveryItems("")
    se = ""
    report: _Open | None = None
    person: _Open | None = None
    reports: list[_Open] = []
    people: list[_Open] = []
    others: list[NewItem] = []

    def close_person() -> None:
        nonlocal person
        if person is not None:
            people.append(person)
            person = None

    def close_report() -> None:
        nonlocal report
        close_person()
        if report is not None:
            reports.append(report)
            report = None

    for e in decode_records(io.BytesIO(body)):
        rec = e.record
        line = e.line
        if isinstance(rec, Start):
            out.main_report_id = rec.main_report_id
        elif isinstance(rec, Company):
            close_report()
            se = rec.company_se
        elif isinstance(rec, ReportHeader):
            close_report()
            month = month_of(rec.disposition_date)
            report = _Open(
                rec.report_id,
                line,
                month_lookup(se, month),
                {
                    "type": "5000",
                    "se": se,
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
        elif isinstance(rec, RecipientRecord) and report is not None:
            close_person()
            who = recipient_key(rec)
            month = str(report.data["month"])
            report.data["recipients"] = int(str(report.data["recipients"])) + 1
            person = _Open(
                f"{report.key}:{line}",
                line,
                recipient_lookup(se, who, month),
                {
                    "type": "6000",
                    "report": report.key,
                    "se": se,
                    "who": who,
                    "masked": mask_cpr(who) if rec.cpr else who,
                    "fields": {},
                    "values": [],
                    "last": line,
                },
            )
        elif isinstance(rec, AmountField | CodeField | TickField | TextField | CountField):
            if person is None or report is None:
                continue
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
        elif isinstance(rec, PersonData) and person is not None and report is not None:
            person.data["last"] = report.data["last"] = line
        elif isinstance(rec, CompanyLine):
            close_report()
            month = month_of(rec.period_start)
            signed = (rec.amount or 0) * (-1 if rec.sign == "-" else 1)
            reports.append(
                _Open(
                    rec.report_id,
                    line,
                    month_lookup(se, month),
                    {
                        "type": "3101",
                        "se": se,
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
            )
        elif isinstance(rec, Reversal):
            close_report()
            others.append(
                NewItem(
                    f"4101:{out.main_report_id}:{line}",
                    0,
                    seq=line,
                    lookup=reversal_lookup(rec.report_id),
                    data={"type": "4101", "se": se, "reversed": rec.report_id, "cpr": rec.cpr},
                )
            )
        elif isinstance(rec, TaxCardOrderRecord):
            close_report()
            others.append(
                NewItem(
                    f"2101:{out.main_report_id}:{line}",
                    0,
                    seq=line,
                    lookup=order_lookup(rec.cpr),
                    data={
                        "type": "2101",
                        "se": se,
                        "cpr": rec.cpr,
                        "order_type": rec.order_type,
                        "valid_from": rec.valid_from.isoformat(),
                        "employment_start": rec.employment_start.isoformat(),
                        "employment_end": (
                            rec.employment_end.isoformat() if rec.employment_end else None
                        ),
                    },
                )
            )
    close_report()
    for r in reports:
        out.report_ids.append(r.key)
        out.recipients += int(str(r.data["recipients"]))
        out.amount_sum += int(str(r.data["sum"]))
        # The report carries no amount of its own: its recipients do (no double count).
        out.items.append(NewItem(r.key, r.amount, seq=r.seq, lookup=r.lookup, data=r.data))
    for p in people:
        out.items.append(NewItem(p.key, p.amount, seq=p.seq, lookup=p.lookup, data=p.data))
    out.items.extend(others)
    return out
