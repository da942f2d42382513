"""What the service reports to eIndkomst by itself (``toekgw run``; issue 16).

- :func:`report_paid`: the benefits the bank has received (payments ``at-bank`` to a CPR,
  from G68 deliveries, their follow-ups and TØK's payments interface) that no report has
  carried yet, as kontanthjælp income reports (:func:`~toekgw.adapters.eindkomst.demo.
  benefit_reports`: income type 06, one report per disposition date), collected over the
  service's report window. Each payment reported is marked in the journal in the same durable
  transaction as its delivery (an item ``paid:<payment>`` of the delivery), so a payment is
  reported once, whatever the window or a crash did.
- :func:`order_tax_cards`: a tax-card order (2101, employment from the payment's disposition
  date) for each citizen a payment is journaled for and no order was given yet - run every
  quarter of an hour and at once when a delivery or a straks payment came in, so a cash or
  straks payment has its card ordered at once - then :func:`~toekgw.adapters.eindkomst.
  casestop.stop_closed_cases`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from toekgw.adapters.eindkomst.casestop import CaseStops, stop_closed_cases
from toekgw.adapters.eindkomst.demo import (
    INCOME_TYPE_KONTANTHJAELP,
    PaidBenefit,
    sorted_recipients,
)
from toekgw.adapters.eindkomst.flow import EindkomstGateway, SendRefused
from toekgw.adapters.eindkomst.kinds import COUNTERPART, order_lookup
from toekgw.adapters.g68.payments import PaymentInstruction
from toekgw.formats.eindkomst import IncomeReport, TaxCardOrder
from toekgw.gateway.journal import DateTotal, Item, JournalError, NewItem, Unmarked

__all__ = ["OrderRun", "ReportRun", "order_tax_cards", "report_paid"]

PAID = "at-bank"  # the bank has the payment: it is income for the month of its disposition date
_CPR_IDENT = "02"
# A payment on its way to the citizen (journaled, released, sent, accepted, at the bank).
_OPEN = ("pending", "released", "sent", "received", "accepted", PAID)
#: Payments read a page at a time by :func:`report_paid`.
_PAGE = 5_000


@dataclass(slots=True)
class ReportRun:
    payments: int = 0
    reports: int = 0


@dataclass(slots=True)
class OrderRun:
    ordered: int = 0
    cases: CaseStops = field(default_factory=CaseStops)


def _payments(
    gw: EindkomstGateway, kinds: Sequence[str], states: Sequence[str]
) -> Iterator[tuple[Item, PaidBenefit]]:
    """The payments to a person (CPR) in ``states``, as benefits paid."""
    for kind in kinds:
        for state in states:
            for item in gw.journal.items_of_kind(kind, state):
                if item.data is None:
                    continue
                p = PaymentInstruction.from_data(item.data)
                if p.ident_code == _CPR_IDENT and p.disposition_date is not None:
                    yield item, PaidBenefit(p.beneficiary[-10:], p.amount_ore, p.disposition_date)


_MARK = "paid:"  # a payment reported is marked by an eIndkomst item "paid:<payment's id>"
#: The largest item id either journal keeps (a read of ids from one on).
_LAST_ID = 2**63 - 1


def _mark(item_id: int) -> str:
    return f"{_MARK}{item_id}"


def _due(kinds: Sequence[str], dates: tuple[dt.date, dt.date]) -> Unmarked:
    """The payments at the bank to a CPR with a disposition date in ``dates`` (from, before)
    that no report carried yet (no mark), read with their amounts."""
    return Unmarked(
        tuple(kinds), PAID, dates, COUNTERPART, _MARK, "amount_ore", (("ident_code", _CPR_IDENT),)
    )


def _span(totals: Iterable[DateTotal]) -> tuple[int, int]:
    """The lowest and highest id of ``totals``' payments."""
    spans = [(t.first_id, t.last_id) for t in totals]
    return min(s[0] for s in spans), max(s[1] for s in spans)


def _next_month(first: dt.date) -> dt.date:
    return (first + dt.timedelta(days=32)).replace(day=1)


class _Month:
    """The reports and marks of the payments due in one month, each read from the journal as
    the send takes it (in its transaction), a page at a time: memory holds a page of payments
    and one recipient's sum, whatever the number of payments.

    The month's payments are summed per kind and date once (count, øre, ids), from the
    lowest id the run found due in the month on (``start``); each date's payments are then
    read in CPR order, and the marks kind by kind in id order, each among the ids the sums
    found for it, so that neither reads the older payments (those reported before) again."""

    def __init__(
        self,
        gw: EindkomstGateway,
        kinds: Sequence[str],
        first: dt.date,
        before: dt.date,
        start: int,
    ) -> None:
        self.gw, self.kinds, self.first, self.start = gw, kinds, first, start
        self.due = _due(kinds, (first, min(_next_month(first), before)))
        self.totals: list[DateTotal] = []
        self.payments = 0
        self._total = 0  # øre of the month's payments, as first read
        self._read = [0, 0]  # payments and øre read for the reports

    def reports(self) -> Iterator[IncomeReport]:
        """One report per disposition date, keyed by the month's first payment in the
        journal's order (kind by kind, oldest first); each one's recipients read from the
        journal in CPR order as the builder takes them."""
        self.totals = self.gw.journal.unmarked_dates(self.due, ids=(self.start, _LAST_ID))
        if not self.totals:
            return
        self.payments = sum(t.count for t in self.totals)
        self._total = sum(t.total for t in self.totals)
        key = next(
            min(t.first_id for t in self.totals if t.kind == kind)
            for kind in self.kinds
            if any(t.kind == kind for t in self.totals)
        )
        last = _next_month(self.first) - dt.timedelta(days=1)
        for day in sorted({t.day for t in self.totals}):
            yield IncomeReport(
                self.gw.sender.se,
                self.first,
                last,
                day,
                INCOME_TYPE_KONTANTHJAELP,
                sorted_recipients(self.gw, self._on(day), day),
                key=f"paid:{key}:{day.isoformat()}",
            )

    def _on(self, day: dt.date) -> Iterator[tuple[str, int]]:
        """The CPR and amount of each payment due with disposition date ``day``, ordered by
        CPR (the beneficiary's last 10 digits), then oldest first."""
        due = replace(self.due, dates=(day, day + dt.timedelta(days=1)))
        ids = _span(t for t in self.totals if t.day == day)
        for cpr, _id, amount in self._unmarked(due, ids, order=("beneficiary", 10)):
            self._read[0] += 1
            self._read[1] += amount
            yield cpr, amount

    def marks(self) -> Iterator[NewItem]:
        """A mark for each payment reported, in the journal's order (kind by kind, oldest
        first); read last, in the send's transaction: the payments reported and those marked
        must be the same (the journal's writer lock holds them still), else the send is
        undone."""
        n = total = 0
        for kind in self.kinds:
            of_kind = [t for t in self.totals if t.kind == kind]
            if not of_kind:
                continue
            due = replace(self.due, kinds=(kind,))
            for _key, item_id, amount in self._unmarked(due, _span(of_kind)):
                yield NewItem(_mark(item_id), 0, seq=n, data={"type": "paid"})
                n += 1
                total += amount
        if not (n == self.payments == self._read[0]) or not (total == self._read[1] == self._total):
            raise JournalError(
                f"the payments of {self.first:%Y-%m} at the bank were not read alike for their "
                f"reports ({self._read[0]}, {self._read[1]} øre) and marks ({n}, {total} øre) "
                f"of {self.payments} ({self._total} øre): nothing was reported",
                hint="run it again; if it says so again, the payments' data are not as expected",
            )

    def _unmarked(
        self, due: Unmarked, ids: tuple[int, int], *, order: tuple[str, int] | None = None
    ) -> Iterator[tuple[str, int, int]]:
        """Each (key, id, amount) of :meth:`JournalReader.unmarked_items`, read ``_PAGE`` at
        a time."""
        after: tuple[str, int] | None = None
        while True:
            rows = self.gw.journal.unmarked_items(
                due, order=order, ids=ids, after=after, limit=_PAGE
            )
            yield from rows
            if len(rows) < _PAGE:
                return
            after = rows[-1][:2]


def report_paid(gw: EindkomstGateway, kinds: Sequence[str], *, before: dt.date) -> ReportRun:
    """Report every payment at the bank with a disposition date before ``before`` that no
    report carried yet.

    The journal finds them (one read, in SQL: the typed state and disposition date, no mark
    in the business key's index) and sums them per kind and date. Then a month at a time,
    each in one send (one durable transaction: its deliveries and the marks of its
    payments), they are read a page at a time: summed again for the month (from its lowest
    id on), per date in CPR order for the recipients' sums, and kind by kind for the marks;
    no list of them is kept. (A payment that reached the bank after the first read, with an id
    below its month's lowest, is left to the next run, as one after the read always was.)"""
    starts: dict[dt.date, int] = {}
    for t in gw.journal.unmarked_dates(_due(kinds, (dt.date.min, before))):
        first = t.day.replace(day=1)
        starts[first] = min(starts.get(first, t.first_id), t.first_id)
    run = ReportRun()
    for first, start in sorted(starts.items()):
        month = _Month(gw, kinds, first, before, start)
        run.reports += gw.send(month.reports(), marks=month.marks(), listed=False).reports
        run.payments += month.payments
    return run


def order_tax_cards(
    gw: EindkomstGateway, kinds: Sequence[str], *, order_type: str, today: dt.date
) -> OrderRun:
    """Order a tax card for each citizen with a payment on its way and no order yet; then stop
    the subscriptions of the cases closed."""
    wanted: dict[str, dt.date] = {}
    for _item, b in _payments(gw, kinds, _OPEN):
        if b.cpr not in wanted or b.disposition_date < wanted[b.cpr]:
            wanted[b.cpr] = b.disposition_date
    known = gw.journal.items_by_lookups(COUNTERPART, [order_lookup(c) for c in wanted])
    orders = [
        TaxCardOrder(gw.sender.se, cpr, min(day, today), order_type, today)
        for cpr, day in sorted(wanted.items())
        if not known.get(order_lookup(cpr))
    ]
    run = OrderRun()
    try:
        if orders:
            gw.send(orders=orders)
        run.ordered = len(orders)
    except SendRefused:
        # One bad order never holds up the rest: each alone, a refused one listed.
        for order in orders:
            try:
                gw.send(orders=[order])
                run.ordered += 1
            except SendRefused as refused:
                gw.journal.add_error(
                    counterpart=COUNTERPART, subject="tax-card order", findings=refused.findings
                )
    run.cases = stop_closed_cases(gw)
    return run
