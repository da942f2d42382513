"""SKAT's side of eIndkomst, whatever the route: register a delivery once, decide its answers.

:class:`Skat` reads and validates each delivery exactly as
:func:`toekgw.formats.eindkomst.validate_delivery` does, with its own history of what it
registered (so a correction that makes a monthly total negative is rejected, as is a second nil
report for a month); records it in the ledger (one SQLite transaction, idempotent by report id:
a delivery seen before is answered again from the ledger, the same bytes, and registered once);
and says what goes back: the 7100 sum receipts (``G`` accepted / ``A`` rejected), when SKAT
found anything its error and advice file (``0001``, a ``0002`` error or ``0003`` advice per
finding, ``9999``), and for 2101 orders a tax-card document. The routes put these answers on
a reply queue (:mod:`.simulator`, MQ) or upload them over Serviceplatformen (:mod:`.files`,
SF0770_B).

Scripted faults, all deterministic (a replay decides the same): reject given CPRs (an error on
the recipient's 6000 line, report rejected), reject a seeded share of recipients, give advice
(``0003``, report accepted) for given CPRs, count a seeded share of reports with a wrong sum,
answer every message twice, wait before answering, and answer "no tax card" for given CPRs.

Error and advice numbers (ours; SKAT's list is not public): 001001 the delivery fails
validation, 002001 recipient rejected by script, 002002 recipient rejected at random, 003001
advice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import random
from collections.abc import Callable
from pathlib import Path

from toekgw.formats.eindkomst import MemoryHistory, build_tax_cards, validate_delivery
from toekgw.formats.eindkomst.advice import ADVICE, ERROR, ErrorReceipt, encode_advice_file
from toekgw.formats.eindkomst.codec import Entry, decode_records, encode_record
from toekgw.formats.eindkomst.records import (
    AmountField,
    Company,
    CompanyLine,
    RecipientRecord,
    ReportHeader,
    Start,
    SumReceipt,
    TaxCardOrderRecord,
)
from toekgw.formats.eindkomst.taxcards import CardType, TaxCard
from toekgw.formats.findings import Finding
from toekgw.formats.fixed import ENCODING
from toekgw.gateway.danish_time import danish_date
from toekgw.simulators.eindkomst.ledger import Decided, Ledger, Recorded

__all__ = ["Answer", "SimulatorScript", "SimulatorStats", "Skat"]

_ALL = "*"  # in the ledger's rejected set: the whole delivery was rejected

_CARD_FOR_ORDER = {
    "1": CardType.MAIN,
    "2": CardType.SECONDARY,
    "6": CardType.SPECIAL_6,
    "7": CardType.SPECIAL_7,
}


@dataclasses.dataclass(frozen=True)
class SimulatorScript:
    reject_cprs: frozenset[str] = frozenset()
    reject_share: float = 0.0
    advice_cprs: frozenset[str] = frozenset()
    wrong_sum_share: float = 0.0
    wrong_sum_ore: int = 100
    no_card_cprs: frozenset[str] = frozenset()
    seed: int = 0
    delay: float = 0.0
    duplicate_answers: bool = False

    def __post_init__(self) -> None:
        for name in ("reject_share", "wrong_sum_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")


@dataclasses.dataclass
class SimulatorStats:
    deliveries: int = 0
    duplicates: int = 0
    reports_accepted: int = 0
    reports_rejected: int = 0
    error_receipts: int = 0
    tax_cards: int = 0
    answers: int = 0


@dataclasses.dataclass
class _Report:
    report_id: str
    first: int
    last: int
    se: str | None = None
    recipients: int = 0
    amount_sum: int = 0
    people: list[tuple[int, str | None]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _Read:
    main_id: str
    reports: list[_Report]
    orders: list[tuple[str, str, str, dt.date]]  # se, cpr, order type, valid from
    entries: list[Entry]


def _draw(seed: int, *parts: object) -> float:
    # Per thing, not a sequence: a replay after a crash draws the same number.
    return random.Random(":".join(map(str, (seed, *parts)))).random()


def _read(body: bytes) -> _Read:
    main_id = ""
    reports: list[_Report] = []
    orders: list[tuple[str, str, str, dt.date]] = []
    entries = list(decode_records(io.BytesIO(body)))
    current: _Report | None = None
    se = ""
    for e in entries:
        rec = e.record
        if isinstance(rec, Start):
            main_id = rec.main_report_id
        if isinstance(rec, ReportHeader):
            current = _Report(rec.report_id, e.line, e.line, se or None)
            reports.append(current)
            continue
        if e.record_type[0] in "68" and current is not None:
            current.last = e.line
            if isinstance(rec, RecipientRecord):
                current.recipients += 1
                current.people.append((e.line, rec.cpr))
            elif isinstance(rec, AmountField):
                current.amount_sum += rec.signed
            elif rec is None and e.record_type == "6000":
                current.recipients += 1
            continue
        current = None
        if isinstance(rec, Company):
            se = rec.company_se
        elif isinstance(rec, CompanyLine):
            reports.append(_Report(rec.report_id, e.line, e.line, se or None))
        elif isinstance(rec, TaxCardOrderRecord):
            orders.append((se, rec.cpr, rec.order_type, rec.valid_from))
    if not main_id:
        main_id = hashlib.sha256(body).hexdigest()[:16].upper()
    return _Read(main_id, reports, orders, entries)


def _text(message: str) -> str:
    # The text is 300 ISO-8859-1 characters: what does not fit is replaced, not refused.
    printable = "".join(c if c.isprintable() else " " for c in message)
    return printable.encode(ENCODING, "replace").decode(ENCODING)[:300].rstrip()


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    """One message back to the sender: ``kind`` is ``receipt``, ``advice`` or ``cards``."""

    kind: str
    main_id: str
    body: bytes


class Skat:
    """The ledger, the script and the history; :meth:`register` each delivery."""

    def __init__(
        self,
        ledger: Ledger | str | Path,
        script: SimulatorScript | None,
        *,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.ledger = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
        self.script = script or SimulatorScript()
        self.clock = clock
        self.stats = SimulatorStats()
        self.history = MemoryHistory()
        for body, rejected in self.ledger.accepted_deliveries():
            self._remember(_read(body), rejected)

    def register(self, body: bytes) -> list[Answer]:
        """Record ``body`` once in the ledger; the answers to send back (every copy of them,
        when the script answers twice)."""
        read = _read(body)
        recorded = self.ledger.record(
            read.main_id,
            [r.report_id for r in read.reports],
            body,
            lambda: self._decide(read, body),
            now=self.clock().timestamp(),
        )
        if recorded.duplicate:
            self.stats.duplicates += 1
        else:
            self.stats.deliveries += 1
            self._remember(read, recorded.rejected)
            self._count(recorded)
        answers = []
        if recorded.answer:  # a delivery of tax-card orders only has no receipt records
            answers.append(Answer("receipt", recorded.main_id, recorded.answer))
        if recorded.advice is not None:
            answers.append(Answer("advice", recorded.main_id, recorded.advice))
        if recorded.cards is not None:
            answers.append(Answer("cards", recorded.main_id, recorded.cards))
        copies = 2 if self.script.duplicate_answers else 1
        self.stats.answers += copies * len(answers)
        return [a for a in answers for _ in range(copies)]

    def _remember(self, read: _Read, rejected: frozenset[str]) -> None:
        if _ALL in rejected:
            return
        skip: set[int] = set()
        for r in read.reports:
            if r.report_id in rejected:
                skip.update(range(r.first, r.last + 1))
        self.history.add_delivery(e for e in read.entries if e.line not in skip)

    def _decide(self, read: _Read, body: bytes) -> Decided:
        today = danish_date(self.clock())
        check = validate_delivery(io.BytesIO(body), history=self.history, today=today)
        errors: list[ErrorReceipt] = []
        rejected: set[str] = set()
        by_line = {line: r for r in read.reports for line in range(r.first, r.last + 1)}

        def remark(
            kind: str, r: _Report | None, line: int, number: str, text: str, cpr: str | None = None
        ) -> None:
            rid = r.report_id if r is not None else read.main_id  # the delivery as a whole
            se = r.se if r is not None else None
            errors.append(ErrorReceipt(kind, line, None, rid, se, number, text, cpr))

        for f in check.findings:
            if not f.is_error:
                continue
            report = by_line.get(f.line or 0)
            rejected.add(_ALL if report is None else report.report_id)
            remark(ERROR, report, f.line or 0, "001001", _finding_text(f))
        s = self.script
        for r in read.reports:
            for line, cpr in r.people:
                if cpr is not None and cpr in s.reject_cprs:
                    rejected.add(r.report_id)
                    remark(ERROR, r, line, "002001", "recipient rejected", cpr)
                elif s.reject_share and _draw(s.seed, r.report_id, line) < s.reject_share:
                    rejected.add(r.report_id)
                    remark(ERROR, r, line, "002002", "rejected at random", cpr)
                elif cpr is not None and cpr in s.advice_cprs:
                    remark(ADVICE, r, line, "003001", "advice for recipient", cpr)
        if _ALL in rejected:
            rejected.update(r.report_id for r in read.reports)
        sums: list[SumReceipt] = []
        outcomes: list[tuple[str, str, int, int]] = []
        for r in read.reports:
            status = "A" if r.report_id in rejected else "G"
            counted = r.amount_sum
            if (
                status == "G"
                and s.wrong_sum_share
                and _draw(s.seed, "sum", r.report_id) < (s.wrong_sum_share)
            ):
                counted += s.wrong_sum_ore
            sums.append(
                SumReceipt(
                    r.report_id,
                    today,
                    status,
                    r.recipients,
                    abs(counted),
                    "-" if counted < 0 else "+",
                )
            )
            outcomes.append((r.report_id, status, r.recipients, counted))
        answer = b"".join(
            (encode_record(rec, n) + "\r\n").encode(ENCODING) for n, rec in enumerate(sums, start=1)
        )
        advice = b"".join(encode_advice_file(errors)) if errors else None
        cards = None
        if read.orders and _ALL not in rejected:
            cards = build_tax_cards(self._card(*order) for order in read.orders)
        return Decided(answer, cards, tuple(outcomes), frozenset(rejected), advice)

    def _card(self, se: str, cpr: str, order_type: str, valid_from: dt.date) -> TaxCard:
        if cpr in self.script.no_card_cprs:
            return TaxCard(cpr, CardType.NO_CARD, valid_from, se=se)
        kind = _CARD_FOR_ORDER.get(order_type, CardType.MAIN)
        digest = int(hashlib.sha256(f"{cpr}:{order_type}".encode()).hexdigest()[:8], 16)
        pct = 30 + digest % 16
        deduction = 300_000 + digest % 500_000 if kind is CardType.MAIN else None
        return TaxCard(cpr, kind, valid_from, pct, deduction_month=deduction, se=se)

    def _count(self, recorded: Recorded) -> None:
        sums = [line for line in recorded.answer.split(b"\r\n") if line[7:11] == b"7100"]
        accepted = sum(1 for line in sums if line[35:36] == b"G")
        self.stats.reports_accepted += accepted
        self.stats.reports_rejected += len(sums) - accepted
        if recorded.advice is not None:
            lines = recorded.advice.split(b"\r\n")
            self.stats.error_receipts += sum(1 for line in lines if line[:4] in _REMARKS)
        if recorded.cards is not None:
            self.stats.tax_cards += recorded.cards.count(b"<Skattekort>")


_REMARKS = (ERROR.encode(), ADVICE.encode())


def _finding_text(f: Finding) -> str:
    return _text(f"{f.code}: {f.message}")
