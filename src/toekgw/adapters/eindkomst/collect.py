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
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from toekgw.adapters.eindkomst.casestop import CaseStops, stop_closed_cases
from toekgw.adapters.eindkomst.demo import PaidBenefit, benefit_reports
from toekgw.adapters.eindkomst.flow import EindkomstGateway, SendRefused
from toekgw.adapters.eindkomst.kinds import COUNTERPART, order_lookup
from toekgw.adapters.g68.payments import PaymentInstruction
from toekgw.formats.eindkomst import TaxCardOrder
from toekgw.gateway.journal import Item, NewItem

__all__ = ["OrderRun", "ReportRun", "order_tax_cards", "report_paid"]

PAID = "at-bank"  # the bank has the payment: it is income for the month of its disposition date
_CPR_IDENT = "02"
# A payment on its way to the citizen (journaled, released, sent, accepted, at the bank).
_OPEN = ("pending", "released", "sent", "received", "accepted", PAID)


@dataclass(slots=True)
class ReportRun:
    payments: int = 0
    report_ids: list[str] = field(default_factory=list)


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


def _mark(item: Item) -> str:
    return f"paid:{item.id}"


def report_paid(gw: EindkomstGateway, kinds: Sequence[str], *, before: dt.date) -> ReportRun:
    """Report every payment at the bank with a disposition date before ``before`` that no
    report carried yet."""
    paid = [(i, b) for i, b in _payments(gw, kinds, (PAID,)) if b.disposition_date < before]
    done = gw.journal.existing_items(COUNTERPART, [_mark(i) for i, _ in paid])
    due = [(i, b) for i, b in paid if _mark(i) not in done]
    run = ReportRun(payments=len(due))
    by_month: dict[dt.date, list[tuple[Item, PaidBenefit]]] = defaultdict(list)
    for item, benefit in due:
        by_month[benefit.disposition_date.replace(day=1)].append((item, benefit))
    for first, batch in sorted(by_month.items()):
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        reports = benefit_reports(
            gw, [b for _, b in batch], (first, last), company_se=gw.sender.se,
            key=f"paid:{batch[0][0].id}",
        )  # fmt: skip
        marks = [
            NewItem(_mark(i), 0, seq=n, data={"type": "paid"}) for n, (i, _) in enumerate(batch)
        ]
        run.report_ids.extend(gw.send(reports, marks=marks).report_ids)
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
