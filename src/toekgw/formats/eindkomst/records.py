"""Typed eIndkomst records: one slots dataclass per record type.

The attributes are the layout's value fields in column order, without the running line number
(that belongs to the position in the file, not to the record). A test keeps the two in step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "AmountField",
    "CodeField",
    "Company",
    "CompanyLine",
    "CountField",
    "End",
    "PersonData",
    "RecipientRecord",
    "Record",
    "ReportHeader",
    "Reversal",
    "Start",
    "SumReceipt",
    "TaxCardOrderRecord",
    "TextField",
    "TickField",
    "record_class",
]


@dataclass(slots=True)
class Start:
    """1000: sender / start of delivery."""

    RECORD_TYPE: ClassVar[str] = "1000"
    sent_date: dt.date
    sent_time: dt.time
    sender_se: str
    sender_cvr: str
    sender_type: str
    method: str
    system_name: str
    system_version: str
    main_report_id: str
    format_version: str
    mode: str


@dataclass(slots=True)
class Company:
    """2001: reporting company."""

    RECORD_TYPE: ClassVar[str] = "2001"
    company_se: str
    cancel_subscription: str | None
    currency: str


@dataclass(slots=True)
class TaxCardOrderRecord:
    """2101: employment and tax-card order."""

    RECORD_TYPE: ClassVar[str] = "2101"
    cpr: str
    employee_no: str | None
    employment_start: dt.date
    employment_end: dt.date | None
    order_type: str
    valid_from: dt.date
    extra_reference: str | None
    reorder: str | None


@dataclass(slots=True)
class CompanyLine:
    """3101: company-level line (the monthly nil report)."""

    RECORD_TYPE: ClassVar[str] = "3101"
    pay_kind: str | None
    report_id: str
    reference_id: str | None
    period_start: dt.date
    period_end: dt.date
    nil_mark: str | None
    field_number: str | None
    amount: int | None
    sign: str | None


@dataclass(slots=True)
class Reversal:
    """4101: reversal of an earlier report, at SE level (``se_level`` J: the whole report)
    or for one CPR (N, the CPR in ``cpr``)."""

    RECORD_TYPE: ClassVar[str] = "4101"
    report_id: str
    reference_id: str | None
    se_level: str
    cpr: str | None


@dataclass(slots=True)
class ReportHeader:
    """5000: report header."""

    RECORD_TYPE: ClassVar[str] = "5000"
    correction: str | None
    report_id: str
    reference_id: str | None
    period_start: dt.date
    period_end: dt.date
    disposition_date: dt.date
    pay_kind: str | None
    greenland_municipality: str | None
    income_type: str


@dataclass(slots=True)
class RecipientRecord:
    """6000: income recipient."""

    RECORD_TYPE: ClassVar[str] = "6000"
    cpr: str | None
    cvr_se: str | None
    employee_no: str | None
    tin: str | None
    tin_country: str | None
    income_kind: str | None
    p_number: str | None


@dataclass(slots=True)
class AmountField:
    """6001: an amount in øre; ``sign`` is ``+`` or ``-``."""

    RECORD_TYPE: ClassVar[str] = "6001"
    field_number: str
    amount: int
    sign: str

    @property
    def signed(self) -> int:
        return -self.amount if self.sign == "-" else self.amount


@dataclass(slots=True)
class CodeField:
    RECORD_TYPE: ClassVar[str] = "6002"
    field_number: str
    code: str


@dataclass(slots=True)
class TickField:
    RECORD_TYPE: ClassVar[str] = "6003"
    field_number: str


@dataclass(slots=True)
class TextField:
    RECORD_TYPE: ClassVar[str] = "6004"
    field_number: str
    text: str


@dataclass(slots=True)
class CountField:
    """6005: a count with two decimals (``whole``.``decimals``) and a sign."""

    RECORD_TYPE: ClassVar[str] = "6005"
    field_number: str
    whole: int
    decimals: int
    sign: str

    @property
    def hundredths(self) -> int:
        value = self.whole * 100 + self.decimals
        return -value if self.sign == "-" else value


@dataclass(slots=True)
class PersonData:
    """8001: extra person data for a recipient abroad."""

    RECORD_TYPE: ClassVar[str] = "8001"
    birth_date: dt.date
    sex: str
    country: str
    name: str
    street: str | None
    postcode: str | None
    town: str | None


@dataclass(slots=True)
class End:
    """9999: end of delivery."""

    RECORD_TYPE: ClassVar[str] = "9999"
    record_count: int


@dataclass(slots=True)
class SumReceipt:
    """7100 (layout ours): SKAT's sum receipt for one report."""

    RECORD_TYPE: ClassVar[str] = "7100"
    report_id: str
    status_date: dt.date
    status: str
    count_6000: int
    amount_sum: int
    sign: str

    @property
    def accepted(self) -> bool:
        return self.status == "G"

    @property
    def signed_sum(self) -> int:
        return -self.amount_sum if self.sign == "-" else self.amount_sum


Record = (
    Start
    | Company
    | TaxCardOrderRecord
    | CompanyLine
    | Reversal
    | ReportHeader
    | RecipientRecord
    | AmountField
    | CodeField
    | TickField
    | TextField
    | CountField
    | PersonData
    | End
    | SumReceipt
)

_CLASSES: dict[str, type[Record]] = {
    cls.RECORD_TYPE: cls
    for cls in (
        Start,
        Company,
        TaxCardOrderRecord,
        CompanyLine,
        Reversal,
        ReportHeader,
        RecipientRecord,
        AmountField,
        CodeField,
        TickField,
        TextField,
        CountField,
        PersonData,
        End,
        SumReceipt,
    )
}


def record_class(record_type: str) -> type[Record]:
    return _CLASSES[record_type]
