"""A closed case stops its citizen's tax-card subscription (TØK's effectuation interface).

When a case system reports a case closed or deleted (``CaseReport`` on TØK's effectuation
interface, journaled ``received`` by :mod:`toekgw.adapters.tok`), the municipality no longer
pays that citizen from it, and SKAT should stop sending tax-card changes for them. In
eIndkomst that is a 2101 for the citizen with the employment end (``fratrædelsesdato``, 53/8)
set: the tax-card order already given, ended. :func:`stop_closed_cases` does it for every
closed case not yet handled, one delivery per case (a refused one never holds up the others),
through the ordinary send (validated, journaled, handed over on the configured route), and then
marks the case's item: ``applied`` (the stop sent, or nothing to stop: no tax-card order for the
citizen, or one already ended) or ``rejected`` (the status says why). TØK's status outbox tells
the case system.

Crash-safe without a lock of its own: the 2101 is journaled before the case item changes; a
crash in between finds the order ended on the next run and marks the case ``applied`` without
a second 2101 (and the send itself is refused a second identical delivery).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from toekgw.adapters.eindkomst.flow import EindkomstGateway, SendRefused
from toekgw.adapters.eindkomst.kinds import COUNTERPART, order_lookup
from toekgw.formats.eindkomst import TaxCardOrder
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.faults import crash_point
from toekgw.gateway.journal import Item

__all__ = ["CASE_ITEMS", "CaseStops", "stop_closed_cases"]

#: The journal kind of TØK's effectuation messages (a case report's item is one of them).
CASE_ITEMS = "tok-effectuations"
_SENT = ("journaled", "uploaded", "sent", "accepted")  # an order SKAT has, or will have


@dataclass(slots=True)
class CaseStops:
    stopped: int = 0  # a 2101 with the employment end sent
    nothing_to_stop: int = 0
    rejected: int = 0
    lines: list[str] = field(default_factory=list)


def stop_closed_cases(gw: EindkomstGateway) -> CaseStops:
    """Stop the tax-card subscription of every closed or deleted case not yet handled."""
    result = CaseStops()
    for case in gw.journal.items_of_kind(CASE_ITEMS, "received"):
        data = case.data or {}
        if ":case:" not in case.business_key or "cpr" not in data:
            continue  # another effectuation message, or a case journaled before its data
        outcome, why = _stop(gw, case)
        crash_point("eindkomst.casestop.after_send")
        state = "rejected" if outcome == "rejected" else "applied"
        gw.journal.set_item_state(case.id, state, reason=why)
        if outcome == "stopped":
            result.stopped += 1
        elif outcome == "rejected":
            result.rejected += 1
        else:
            result.nothing_to_stop += 1
        result.lines.append(f"{case.business_key}: {state}: {why}")
    return result


def _stop(gw: EindkomstGateway, case: Item) -> tuple[str, str]:
    """``("stopped" | "nothing" | "rejected", why)``."""
    data = case.data or {}
    cpr = str(data["cpr"])
    ended_on = dt.date.fromisoformat(str(data["event_date"]))
    orders = [
        o
        for o in gw.journal.items_by_lookup(COUNTERPART, order_lookup(cpr))
        if o.state in _SENT and o.data
    ]
    if not orders:
        return "nothing", "no tax-card order for the citizen: nothing to stop"
    last = orders[-1].data or {}
    if last.get("employment_end"):
        return "nothing", f"the tax-card order already ends on {last['employment_end']}"
    start = dt.date.fromisoformat(str(last["employment_start"]))
    if ended_on < start:
        return "rejected", (
            f"the case ended on {ended_on}, before the tax-card order's start ({start})"
        )
    stop = TaxCardOrder(
        company_se=str(last["se"]),
        cpr=cpr,
        employment_start=start,
        order_type=str(last["order_type"]),
        valid_from=dt.date.fromisoformat(str(last["valid_from"])),
        employment_end=ended_on,
    )
    try:
        sent = gw.send(orders=[stop])
    except SendRefused as exc:
        return "rejected", mask_cpr_in_text(str(exc))
    main = sent.transmissions[0].ref if sent.transmissions else "-"
    return "stopped", f"tax-card subscription stopped: 2101 with employment end {ended_on} ({main})"
