"""The typed report API: build income reports, nil reports, reversals and tax-card orders,
and get complete deliveries (1000 … 9999) that respect eIndkomst's limits.

- at most ``max_group_records`` (10,000) records of the 6000 group under one 5000: a report
  that needs more becomes several 5000 groups with the same header and new report ids, never
  splitting one recipient's 6000 from its sub-records;
- a delivery never exceeds ``max_message_bytes`` (the queue's maximum message size): the
  builder starts a new complete delivery instead;
- report ids are derived from the content (SHA-256), so building the same input again gives the
  same ids: a re-send is the same report.

Everything streams: a group (≤ 10,000 records) is the largest thing held in memory, and a
delivery's lines are produced while the caller writes them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from toekgw.formats.eindkomst.codec import MAX_LINE_NUMBER
from toekgw.formats.eindkomst.fieldnumbers import FIELDS, ValueKind
from toekgw.formats.eindkomst.layouts import CODECS, LAYOUTS, NIL_FIELD
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.formats.fixed import ENCODING, EncodeError

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "MAX_GROUP_RECORDS",
    "Abroad",
    "Delivery",
    "IncomeReport",
    "NilReport",
    "Recipient",
    "ReportBuilder",
    "ReportError",
    "ReversalRequest",
    "Sender",
    "SentReport",
    "TaxCardOrder",
    "last_of_month",
]

MAX_GROUP_RECORDS = 10_000  # records of the 6000 group under one 5000 (solution description)
DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
FORMAT_VERSION = "001"  # ours: the 1000 format version we write
_EOL = 2  # CRLF


class ReportError(ValueError):
    """The input cannot become a valid report. The message never holds a CPR in clear."""

    def __init__(self, message: str) -> None:
        super().__init__(mask_cpr_in_text(message))


def last_of_month(day: dt.date) -> dt.date:
    nxt = day.replace(day=28) + dt.timedelta(days=4)
    return nxt - dt.timedelta(days=nxt.day)


@dataclass(frozen=True, slots=True)
class Sender:
    se: str
    cvr: str
    system_name: str = "toek-gateway"
    system_version: str = "0.1.0"
    sender_type: str = "01"  # 01 company, 02 payroll bureau
    production: bool = False


@dataclass(frozen=True, slots=True)
class Abroad:
    """Person data for a recipient living abroad (8001), and the foreign TIN (6000)."""

    birth_date: dt.date
    sex: str  # 1 male, 2 female, 3 unknown
    country: str  # two letters
    name: str  # surname, first names
    street: str | None = None
    postcode: str | None = None
    town: str | None = None
    tin: str | None = None
    tin_country: str | None = None


@dataclass(slots=True)
class Recipient:
    """One income recipient: a CPR (or a CVR/SE), and its fields by field number.

    Amounts are signed øre (negative in a supplementary report that corrects downwards);
    counts are signed hundredths (750 = 7.50 hours).
    """

    cpr: str | None = None
    cvr_se: str | None = None
    income_kind: str | None = None
    employee_no: str | None = None
    p_number: str | None = None
    amounts: Mapping[str, int] = field(default_factory=dict)
    codes: Mapping[str, str] = field(default_factory=dict)
    ticks: Sequence[str] = ()
    texts: Mapping[str, str] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)
    abroad: Abroad | None = None


@dataclass(slots=True)
class IncomeReport:
    """One report: one company, pay period, disposition date and income type.

    ``recipients`` may be any iterable (a generator for a large report: it is read once).
    ``key`` goes into the report ids: two reports with the same content and the same key get
    the same id; give a batch id to keep otherwise identical reports apart.
    """

    company_se: str
    period_start: dt.date
    period_end: dt.date
    disposition_date: dt.date
    income_type: str
    recipients: Iterable[Recipient]
    correction: bool = False  # 5000 mark R: correction of an earlier period
    pay_kind: str | None = None  # F advance / B arrears (public employers)
    reference_id: str | None = None
    greenland_municipality: str | None = None
    key: str = ""


@dataclass(frozen=True, slots=True)
class NilReport:
    """3101: the company had no A-tax or AM-contribution in ``month`` (any day of it)."""

    company_se: str
    month: dt.date
    pay_kind: str | None = None

    @property
    def report_id(self) -> str:
        return _digest("nil", self.company_se, self.month.strftime("%Y%m"), self.pay_kind or "")


@dataclass(frozen=True, slots=True)
class ReversalRequest:
    """4101: reverse a whole earlier report, or only one CPR's part of it."""

    company_se: str
    report_id: str
    cpr: str | None = None
    reference_id: str | None = None


@dataclass(frozen=True, slots=True)
class TaxCardOrder:
    """2101: employment and tax-card order (order type 1 main, 2 secondary, 6/7 special)."""

    company_se: str
    cpr: str
    employment_start: dt.date
    order_type: str
    valid_from: dt.date
    employment_end: dt.date | None = None
    employee_no: str | None = None
    extra_reference: str | None = None
    reorder: bool = False


@dataclass(slots=True)
class SentReport:
    """What one 5000 group (or 3101 nil report) carried: what its receipt must confirm."""

    report_id: str
    company_se: str
    kind: str  # "income" | "nil"
    recipients: int  # number of 6000 records
    amount_sum: int  # signed øre, all 6001 amounts
    delivery: int = 0  # index of the delivery (1-based) it went in
    first_line: int = 0
    last_line: int = 0


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16].upper()


def _size(rtype: str) -> int:
    return LAYOUTS[rtype].length + _EOL


# -- encoding a recipient ---------------------------------------------------------------------

_E6000 = CODECS["6000"].encode
_E6001 = CODECS["6001"].encode
_E6002 = CODECS["6002"].encode
_E6003 = CODECS["6003"].encode
_E6004 = CODECS["6004"].encode
_E6005 = CODECS["6005"].encode
_E8001 = CODECS["8001"].encode
_E5000 = CODECS["5000"].encode


def _check_kind(number: str, expected: ValueKind) -> None:
    d = FIELDS.get(number)
    if d is not None and d.kind is not expected:
        raise ReportError(
            f"field {number} ({d.meaning}) is written with record {d.kind.record_type}, "
            f"not {expected.record_type}"
        )


def _check_company(se: str) -> None:
    """The company's SE number as its 2001 record takes it, before anything is built for it."""
    try:
        CODECS["2001"].encode((1, se, None, "DKK"))
    except EncodeError as exc:
        raise ReportError(f"company {se}: {exc}") from None


def _recipient_tails(r: Recipient) -> tuple[list[str], int, int]:
    """The recipient's records without their line numbers; records of the 6000 group; sum."""
    abroad = r.abroad
    if not (r.cpr or r.cvr_se or (abroad and abroad.tin)):
        raise ReportError("a recipient needs a CPR, a CVR/SE or (abroad) a TIN")
    if r.cpr and r.cvr_se:
        raise ReportError("a recipient has either a CPR or a CVR/SE, not both")
    tails = [
        _E6000(
            (
                0,
                r.cpr,
                r.cvr_se,
                r.employee_no,
                abroad.tin if abroad else None,
                abroad.tin_country if abroad else None,
                r.income_kind,
                r.p_number,
            )
        )[7:]
    ]
    total = 0
    for number in sorted(r.amounts):
        _check_kind(number, ValueKind.AMOUNT)
        amount = r.amounts[number]
        total += amount
        tails.append(_E6001((0, number, abs(amount), "-" if amount < 0 else "+"))[7:])
    for number in sorted(r.codes) if r.codes else ():
        _check_kind(number, ValueKind.CODE)
        tails.append(_E6002((0, number, r.codes[number]))[7:])
    for number in sorted(r.ticks) if r.ticks else ():
        _check_kind(number, ValueKind.TICK)
        tails.append(_E6003((0, number))[7:])
    for number in sorted(r.texts) if r.texts else ():
        _check_kind(number, ValueKind.TEXT)
        tails.append(_E6004((0, number, r.texts[number]))[7:])
    for number in sorted(r.counts) if r.counts else ():
        _check_kind(number, ValueKind.COUNT)
        count = r.counts[number]
        whole, decimals = divmod(abs(count), 100)
        tails.append(_E6005((0, number, whole, decimals, "-" if count < 0 else "+"))[7:])
    group_records = len(tails)
    if abroad is not None:
        tails.append(
            _E8001(
                (
                    0,
                    abroad.birth_date,
                    abroad.sex,
                    abroad.country,
                    abroad.name,
                    abroad.street,
                    abroad.postcode,
                    abroad.town,
                )
            )[7:]
        )
    return tails, group_records, total


# -- chunks: the units a delivery is packed from ----------------------------------------------


@dataclass(slots=True)
class _Chunk:
    company_se: str
    tails: list[str]  # records without the 7-digit line number
    size: int  # bytes with line ends
    ident: str  # feeds the delivery's main report id
    reports: list[tuple[int, SentReport]]  # (offset of the report's first record, report)


class ReportBuilder:
    """Builds deliveries for one sender. ``created`` is written in every 1000 record.

    ``created`` is the caller's to keep: the journal stores it, so a re-send rebuilt from the
    journal is byte for byte the same delivery.
    """

    def __init__(
        self,
        sender: Sender,
        *,
        created: dt.datetime,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        max_group_records: int = MAX_GROUP_RECORDS,
    ) -> None:
        self.sender = sender
        self.created = created
        self.max_message_bytes = max_message_bytes
        self.max_group_records = max_group_records
        self._envelope = _size("1000") + _size("2001") + _size("9999")
        if max_message_bytes < self._envelope + _size("5000") + _size("6000"):
            raise ReportError(f"max_message_bytes {max_message_bytes} cannot hold one recipient")

    # -- public -------------------------------------------------------------------------

    def deliveries(
        self,
        reports: Iterable[IncomeReport] = (),
        *,
        orders: Iterable[TaxCardOrder] = (),
        nil_reports: Iterable[NilReport] = (),
        reversals: Iterable[ReversalRequest] = (),
        cancel_subscriptions: Iterable[str] = (),
    ) -> Iterator[Delivery]:
        """Complete deliveries, one at a time. Consume each one's ``lines()`` before the next
        (a delivery not consumed is built and dropped when the next is asked for).

        ``cancel_subscriptions``: company SEs whose tax-card subscription ends (2001 mark A).
        """
        cancel = frozenset(cancel_subscriptions)
        chunks = _Peek(
            self._chunks(list(reports), list(orders), list(nil_reports), reversals, cancel)
        )
        index = 0
        while chunks.peek() is not None:
            index += 1
            first = chunks.peek()
            assert first is not None
            main_id = _digest("delivery", self.sender.se, str(index), first.ident)
            delivery = Delivery(index, main_id)
            delivery._body = self._delivery_lines(delivery, chunks, cancel)
            yield delivery
            for _ in delivery._body:  # not consumed by the caller: keep the stream in step
                pass

    # -- internals ----------------------------------------------------------------------

    def _chunks(
        self,
        reports: list[IncomeReport],
        orders: list[TaxCardOrder],
        nils: list[NilReport],
        reversals: Iterable[ReversalRequest],
        cancel: frozenset[str],
    ) -> Iterator[_Chunk]:
        revs = list(reversals)
        companies = sorted(
            {r.company_se for r in reports}
            | {o.company_se for o in orders}
            | {n.company_se for n in nils}
            | {v.company_se for v in revs}
            | cancel
        )
        for se in companies:
            _check_company(se)
            pre = self._preamble(
                se,
                [o for o in orders if o.company_se == se],
                [n for n in nils if n.company_se == se],
                [v for v in revs if v.company_se == se],
            )
            if pre is not None:
                yield pre
            has_reports = False
            for report in reports:
                if report.company_se == se:
                    has_reports = True
                    yield from self._groups(report)
            if pre is None and not has_reports:  # only the cancellation: a bare 2001
                yield _Chunk(se, [], 0, _digest("cancel", se), [])

    def _preamble(
        self,
        se: str,
        orders: list[TaxCardOrder],
        nils: list[NilReport],
        reversals: list[ReversalRequest],
    ) -> _Chunk | None:
        tails: list[str] = []
        sent: list[tuple[int, SentReport]] = []
        try:
            for o in orders:
                tails.append(
                    CODECS["2101"].encode(
                        (
                            0,
                            o.cpr,
                            o.employee_no,
                            o.employment_start,
                            o.employment_end,
                            o.order_type,
                            o.valid_from,
                            o.extra_reference,
                            "R" if o.reorder else None,
                        )
                    )[7:]
                )
            for n in nils:
                first = n.month.replace(day=1)
                end = last_of_month(first)
                sent.append((len(tails), SentReport(n.report_id, se, "nil", 0, 0)))
                tails.append(
                    CODECS["3101"].encode(
                        (0, n.pay_kind, n.report_id, None, first, end, "N", NIL_FIELD, None, None)
                    )[7:]
                )
            for v in reversals:
                tails.append(
                    CODECS["4101"].encode(
                        (0, v.report_id, v.reference_id, "N" if v.cpr else "J", v.cpr)
                    )[7:]
                )
        except EncodeError as exc:
            raise ReportError(f"company {se}: {exc}") from None
        if not tails:
            return None
        size = sum(len(t) + 7 + _EOL for t in tails)
        if size + self._envelope > self.max_message_bytes:
            raise ReportError(f"company {se}: orders, nil reports and reversals exceed one message")
        return _Chunk(se, tails, size, _digest("pre", se, *tails), sent)

    def _groups(self, report: IncomeReport) -> Iterator[_Chunk]:
        try:
            CODECS["5000"].encode(self._header(report, "0" * 16))
        except EncodeError as exc:
            raise ReportError(f"report for SE {report.company_se}: {exc}") from None
        max_records = self.max_group_records
        max_bytes = self.max_message_bytes - self._envelope - _size("5000")
        tails: list[str] = []
        records = 0
        size = 0
        recipients = 0
        amount_sum = 0
        ordinal = 0
        for number, r in enumerate(report.recipients, start=1):
            try:
                block, count, total = _recipient_tails(r)
            except (EncodeError, ReportError) as exc:
                raise ReportError(
                    f"report for SE {report.company_se}, recipient {number}: {exc}"
                ) from None
            block_size = sum(len(t) + 7 + _EOL for t in block)
            if count > max_records or block_size > max_bytes:
                raise ReportError(f"recipient {number} alone exceeds a 5000 group")
            if tails and (records + count > max_records or size + block_size > max_bytes):
                ordinal += 1
                yield self._close_group(report, ordinal, tails, recipients, amount_sum)
                tails, records, size, recipients, amount_sum = [], 0, 0, 0, 0
            tails.extend(block)
            records += count
            size += block_size
            recipients += 1
            amount_sum += total
        if not tails and ordinal == 0:
            raise ReportError(f"report for SE {report.company_se} has no recipients")
        if tails:
            ordinal += 1
            yield self._close_group(report, ordinal, tails, recipients, amount_sum)

    def _header(self, report: IncomeReport, report_id: str) -> tuple[object, ...]:
        return (
            0,
            "R" if report.correction else None,
            report_id,
            report.reference_id,
            report.period_start,
            report.period_end,
            report.disposition_date,
            report.pay_kind,
            report.greenland_municipality,
            report.income_type,
        )

    def _close_group(
        self,
        report: IncomeReport,
        ordinal: int,
        tails: list[str],
        recipients: int,
        amount_sum: int,
    ) -> _Chunk:
        report_id = _digest(
            "report",
            report.company_se,
            report.key,
            str(ordinal),
            _E5000(self._header(report, "0" * 16)),
            "\n".join(tails),
        )
        header = _E5000(self._header(report, report_id))[7:]
        tails.insert(0, header)
        size = sum(len(t) for t in tails) + len(tails) * (7 + _EOL)
        sent = SentReport(report_id, report.company_se, "income", recipients, amount_sum)
        return _Chunk(report.company_se, tails, size, report_id, [(0, sent)])

    def _delivery_lines(
        self, delivery: Delivery, chunks: _Peek, cancel: frozenset[str]
    ) -> Iterator[str]:
        s = self.sender
        created = self.created
        number = 1
        yield CODECS["1000"].encode(
            (
                1,
                created.date(),
                created.time().replace(microsecond=0),
                s.se,
                s.cvr,
                s.sender_type,
                "0",
                s.system_name,
                s.system_version,
                delivery.main_report_id,
                FORMAT_VERSION,
                "P" if s.production else "T",
            )
        )
        size = _size("1000") + _size("9999")
        company: str | None = None
        encode_2001 = CODECS["2001"].encode
        while (chunk := chunks.peek()) is not None:
            extra = _size("2001") if chunk.company_se != company else 0
            fits = size + extra + chunk.size <= self.max_message_bytes
            fits = fits and number + len(chunk.tails) + 2 <= MAX_LINE_NUMBER
            if number > 1 and not fits:
                break
            chunks.advance()
            if extra:
                number += 1
                company = chunk.company_se
                mark = "A" if company in cancel else None
                yield encode_2001((number, company, mark, "DKK"))
            offsets = dict(chunk.reports)
            for i, tail in enumerate(chunk.tails):
                number += 1
                sent = offsets.get(i)
                if sent is not None:
                    sent.delivery = delivery.index
                    sent.first_line = number
                    delivery.reports.append(sent)
                yield str(number).zfill(7) + tail
            for _, sent in chunk.reports:
                if sent.kind == "income":
                    sent.last_line = number  # the group ends with the chunk
                else:
                    sent.last_line = sent.first_line
            size += extra + chunk.size
        number += 1
        delivery.record_count = number
        yield CODECS["9999"].encode((number, number))


class _Peek:
    def __init__(self, it: Iterator[_Chunk]) -> None:
        self._it = it
        self._next: _Chunk | None = next(it, None)

    def peek(self) -> _Chunk | None:
        return self._next

    def advance(self) -> None:
        self._next = next(self._it, None)


class Delivery:
    """One complete delivery (1000 … 9999). ``reports`` and ``record_count`` are filled in as
    ``lines()`` is consumed; both are complete once it is exhausted."""

    def __init__(self, index: int, main_report_id: str) -> None:
        self.index = index
        self.main_report_id = main_report_id
        self.reports: list[SentReport] = []
        self.record_count: int | None = None
        self._body: Iterator[str] = iter(())
        self._taken = False

    def lines(self) -> Iterator[str]:
        """The records as text lines without line ends; can be taken once."""
        if self._taken:
            raise RuntimeError("a delivery's lines can be taken once")
        self._taken = True
        return self._body

    def chunks(self, newline: str = "\r\n") -> Iterator[bytes]:
        """The delivery as ISO-8859-1 bytes, line by line."""
        end = newline
        for line in self.lines():
            yield (line + end).encode(ENCODING)

    def to_bytes(self, newline: str = "\r\n") -> bytes:
        return b"".join(self.chunks(newline))
