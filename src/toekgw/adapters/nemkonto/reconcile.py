"""Bundle reconciliation: per bundle and per disposition date, what was sent against what
NemKonto answered, in count and sum, with the differences listed.

Columns (each a count and a sum in øre):

- ``sent``: the bundle's payments; ``unanswered``: sent, no answer yet;
- ``received``: NemKonto acknowledged them (1, or any later answer);
- ``accepted``: passed receive control and not rejected since (``accepted``, ``at-bank``,
  ``cheque``, ``error-account``); ``at_bank``: Retursvar 8;
- ``rejected``: rejected (2 or 7), stopped (5), a bank error (9) or failed after the bank:
  not paid by this bundle (handled ones, ``toekgw payments``, count here and are settled);
- ``outstanding``: received, receive control not yet answered.

So ``received = accepted + rejected + outstanding`` always, and ``sent = received +
unanswered`` for a bundle NemKonto could read (``returned`` counts the payments of a bundle
answered 0, or withdrawn before the send when a payment was blocked: they were bundled again,
or held).

The category (``toekgw.gateway.reconcile``): settled are ``at-bank`` and, by our reading of the
municipalities' practice, ``cheque`` and ``error-account`` (the money has left the NemKonto
intermediate account; a cheque or the error account is followed up in the ERP, not here).
Everything else is follow-up. An answer about a payment a bundle does not hold is an
unexplained difference (category 3).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from rich.table import Table

from toekgw.adapters.nemkonto.answers import ACCEPTED_STATES, STRAY_SUBJECT
from toekgw.adapters.nemkonto.settings import BUNDLE_KIND, FlowSettings
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.danish_time import danish_midnight
from toekgw.gateway.journal import Item, JournalReader, MemberTotal, Transmission
from toekgw.gateway.money import kroner
from toekgw.gateway.reconcile import Answer, ItemClass, Reconciliation, Tally, reconcile_tallies

__all__ = [
    "COLUMNS",
    "BundleReconciliation",
    "OverduePayment",
    "ReconciliationRow",
    "overdue_payments",
    "reconcile_bundles",
    "render_bundles",
]

COLUMNS = (
    "sent",
    "unanswered",
    "received",
    "accepted",
    "rejected",
    "outstanding",
    "at_bank",
    "returned",
)
# Handled by an operator after NemKonto or the bank failed it (toekgw payments): settled here,
# its follow-up payment (if any) is in a bundle of its own.
_HANDLED = frozenset({"resent", "redirected", "cash-voucher", "own-account", "recalled"})
# A failure registered at the bank and not yet approved is still at the bank.
_ACCEPTED = ACCEPTED_STATES | {"fail-requested"}
SETTLED = frozenset({"at-bank", "cheque", "error-account", "fail-requested"}) | _HANDLED
_REJECTED = (
    frozenset({"rejected", "stopped", "bank-error", "failed-after-bank"})
    | _HANDLED
    | {"awaiting-approval"}
)
_RECEIVED = _ACCEPTED | _REJECTED | {"received"}

_EXPLAIN = {
    "sent": "no answer yet",
    "released": "not yet on the request queue",
    "received": "received, awaiting receive control (Retursvar 2)",
    "accepted": "accepted, awaiting the bank (Retursvar 8)",
    "rejected": "rejected: on the manual-handling list",
    "stopped": "stopped on request (Retursvar 5)",
    "bank-error": "error in the bank (Retursvar 9): on the manual-handling list",
    "returned": "bundle answered 0 or withdrawn: bundled again",
    "failed-after-bank": "failed after the bank (approved): on the manual-handling list",
    "awaiting-approval": "rejected; an alternative account waits for a second person",
}


def _classify(state: str) -> ItemClass:
    return ItemClass.SETTLED if state in SETTLED or state == "returned" else ItemClass.FOLLOW_UP


@dataclass(frozen=True, slots=True)
class Difference:
    bundle_id: str
    payment: str
    state: str
    amount_ore: int
    reason: str
    overdue: bool = False


@dataclass
class ReconciliationRow:
    """One bundle, one disposition date (``bundle_id`` None), or the total (both None)."""

    disposition_date: dt.date | None
    municipality: str | None
    bundle_id: str | None
    state: str | None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    reconciliation: Reconciliation | None = None

    def add(self, state: str, amount: int, count: int = 1) -> None:
        columns = ["sent"]
        if state == "returned":
            columns.append("returned")
        elif state in ("sent", "released"):
            columns.append("unanswered")
        if state in _RECEIVED:
            columns.append("received")
        if state in _ACCEPTED:
            columns.append("accepted")
        if state in _REJECTED:
            columns.append("rejected")
        if state == "received":
            columns.append("outstanding")
        if state == "at-bank":
            columns.append("at_bank")
        for c in columns:
            self.counts[c] += count
            self.sums[c] += amount

    @property
    def balanced(self) -> bool:
        """received = accepted + rejected + outstanding, in count and sum."""
        parts = ("accepted", "rejected", "outstanding")
        return self.counts["received"] == sum(self.counts[p] for p in parts) and self.sums[
            "received"
        ] == sum(self.sums[p] for p in parts)

    def as_dict(self) -> dict[str, object]:
        rec = self.reconciliation
        return {
            "disposition_date": (
                self.disposition_date.isoformat() if self.disposition_date else None
            ),
            "municipality": self.municipality,
            "bundle_id": self.bundle_id,
            "state": self.state,
            **{c: {"count": self.counts[c], "oere": self.sums[c]} for c in COLUMNS},
            "balanced": self.balanced,
            "category": int(rec.category) if rec else None,
            "category_title": rec.category.title if rec else None,
        }


@dataclass(frozen=True, slots=True)
class OverduePayment:
    bundle_id: str
    payment: str
    state: str
    amount_ore: int
    since: dt.datetime


@dataclass
class BundleReconciliation:
    as_of: dt.date
    bundles: list[ReconciliationRow]
    dates: list[ReconciliationRow]
    total: ReconciliationRow
    differences: list[Difference]
    unexplained: list[str]

    def as_dict(self) -> dict[str, object]:
        rec = self.total.reconciliation
        return {
            "as_of": self.as_of.isoformat(),
            "bundles": [b.as_dict() for b in self.bundles],
            "dates": [d.as_dict() for d in self.dates],
            "total": self.total.as_dict(),
            "reconciliation": rec.as_dict() if rec else None,
            "differences": [
                {
                    "bundle_id": d.bundle_id,
                    "payment": mask_cpr_in_text(d.payment),
                    "state": d.state,
                    "oere": d.amount_ore,
                    "reason": d.reason,
                    "overdue": d.overdue,
                }
                for d in self.differences
            ],
            "unexplained": [mask_cpr_in_text(text) for text in self.unexplained],
        }


def _sent_at(tx: Transmission) -> dt.datetime | None:
    value = tx.meta.get("sent_at")
    return dt.datetime.fromisoformat(str(value)) if value else None


def _deadline(tx: Transmission, item: Item, overdue: dt.timedelta) -> dt.datetime | None:
    """When the next answer about ``item`` is overdue: the receive answers are due soon after
    the send; Retursvar 8 on the disposition date (from its first moment in Denmark)."""
    sent = _sent_at(tx)
    if sent is None or item.state not in ("sent", "received", "accepted"):
        return None
    start = sent
    if item.state == "accepted":
        day = dt.date.fromisoformat(str(tx.meta["disposition_date"]))
        start = max(sent, danish_midnight(day))
    return start + overdue


def _bundles(journal: JournalReader, settings: FlowSettings) -> list[Transmission]:
    return journal.transmissions(counterpart=settings.counterpart, kind=BUNDLE_KIND.name)


def overdue_payments(
    journal: JournalReader, settings: FlowSettings, now: dt.datetime
) -> list[OverduePayment]:
    """Payments whose next answer is later than ``settings.overdue``."""
    found = []
    for tx in _bundles(journal, settings):
        if tx.state in ("prepared", "settled", *_NOT_CARRIED):
            continue
        for item in journal.members(tx.id, current_only=True, states=_AWAITING):
            deadline = _deadline(tx, item, settings.overdue)
            if deadline is not None and now > deadline:
                found.append(
                    OverduePayment(tx.ref, item.business_key, item.state, item.amount_ore, deadline)
                )
    return found


_AWAITING = ("sent", "received", "accepted")  # an answer about them is still to come
# Bundles whose payments went on in other bundles (answer 0), or were held (withdrawn).
_NOT_CARRIED = ("returned", "withdrawn")


def reconcile_bundles(
    journal: JournalReader,
    settings: FlowSettings,
    as_of: dt.date,
    *,
    now: dt.datetime | None = None,
) -> BundleReconciliation:
    """Reconcile every bundle, every disposition date and the whole, as of ``as_of``: from
    the journal's totals per bundle and state; only the payments that are not settled are
    read one by one (to list them)."""
    now = now or dt.datetime.now(dt.UTC)
    overdue = {(o.bundle_id, o.payment) for o in overdue_payments(journal, settings, now)}
    stray_by_bundle: dict[int, list[str]] = defaultdict(list)
    for e in journal.iter_errors(counterpart=settings.counterpart, subject=STRAY_SUBJECT):
        if e.transmission_id is not None and e.business_key:
            stray_by_bundle[e.transmission_id].append(e.business_key)
    totals: dict[int, list[MemberTotal]] = defaultdict(list)
    for t in journal.member_totals(settings.counterpart, BUNDLE_KIND.name, current_only=True):
        totals[t.transmission_id].append(t)
    bundles = _bundles(journal, settings)
    rows: list[ReconciliationRow] = []
    date_tallies: dict[dt.date, list[Tally]] = defaultdict(list)
    differences: list[Difference] = []
    unexplained: list[str] = []
    for tx in bundles:
        day = dt.date.fromisoformat(str(tx.meta["disposition_date"]))
        row = ReconciliationRow(day, str(tx.meta.get("municipality")), tx.ref, tx.state)
        if tx.state in _NOT_CARRIED:  # every payment it carried: bundled again since
            tallies = [Tally("returned", tx.item_count, tx.total_ore, day)] if tx.item_count else []
        else:
            tallies = [Tally(t.state, t.count, t.total_ore, day) for t in totals[tx.id]]
            date_tallies[day].extend(tallies)
            differences.extend(_differences(journal, tx, tallies, overdue))
        for tally in tallies:
            row.add(tally.state, tally.amount_oere, tally.count)
        strays = stray_by_bundle.get(tx.id, [])
        row.reconciliation = _reconcile(tallies, strays, _carried(journal, tx, strays, day), as_of)
        unexplained.extend(f"bundle {tx.ref}: answer about payment {k}, not in it" for k in strays)
        rows.append(row)
    by_date = []
    for day in sorted(date_tallies):
        drow = ReconciliationRow(day, None, None, None)
        for tally in date_tallies[day]:
            drow.add(tally.state, tally.amount_oere, tally.count)
        drow.reconciliation = _reconcile(date_tallies[day], [], {}, as_of)
        by_date.append(drow)
    total = ReconciliationRow(None, None, None, None)
    all_tallies = [t for day in sorted(date_tallies) for t in date_tallies[day]]
    for tally in all_tallies:
        total.add(tally.state, tally.amount_oere, tally.count)
    strays_all = [k for keys in stray_by_bundle.values() for k in keys]
    carried = _carried_anywhere(journal, bundles, strays_all)
    total.reconciliation = _reconcile(all_tallies, strays_all, carried, as_of)
    return BundleReconciliation(as_of, rows, by_date, total, differences, unexplained)


def _differences(
    journal: JournalReader,
    tx: Transmission,
    tallies: list[Tally],
    overdue: set[tuple[str, str]],
) -> Iterator[Difference]:
    """Every payment of the bundle that is not settled, with why."""
    unsettled = {t.state for t in tallies} - SETTLED
    if not unsettled:
        return
    for item in journal.members(tx.id, current_only=True, states=unsettled):
        late = (tx.ref, item.business_key) in overdue
        reason = _EXPLAIN.get(item.state, item.state) + ("; OVERDUE" if late else "")
        yield Difference(tx.ref, item.business_key, item.state, item.amount_ore, reason, late)


def _carried(
    journal: JournalReader, tx: Transmission, keys: list[str], day: dt.date
) -> dict[str, Tally]:
    """The stray keys that name a payment this bundle's reconciliation counts."""
    found = {}
    for key in dict.fromkeys(keys):
        item = journal.member(tx.id, key)
        if item is None:
            continue
        if tx.state in _NOT_CARRIED:
            found[key] = Tally("returned", 1, item.amount_ore, day)
        elif item.carrier_id == tx.id:
            found[key] = Tally(item.state, 1, item.amount_ore, day)
    return found


def _carried_anywhere(
    journal: JournalReader, bundles: list[Transmission], keys: list[str]
) -> dict[str, Tally]:
    """The stray keys that a bundle not returned carries now, as tallies on its date."""
    live = {
        tx.id: dt.date.fromisoformat(str(tx.meta["disposition_date"]))
        for tx in bundles
        if tx.state not in _NOT_CARRIED
    }
    found = {}
    for key in dict.fromkeys(keys):
        for item in journal.find_items(key):
            if item.carrier_id in live:
                found[key] = Tally(item.state, 1, item.amount_ore, live[item.carrier_id])
    return found


def _reconcile(
    tallies: list[Tally], strays: list[str], carried: dict[str, Tally], as_of: dt.date
) -> Reconciliation:
    """A stray answer about a payment that is counted here overrides that payment's state
    (the last answer wins); any other stray answer is an unexplained difference."""
    sums: dict[tuple[str, dt.date], list[int]] = {}
    for tally, sign in (
        *((t, 1) for t in tallies),
        *((t, -1) for t in carried.values()),
        *((Tally("stray", 1, t.amount_oere, t.on), 1) for t in carried.values()),
    ):
        acc = sums.setdefault((tally.state, tally.on), [0, 0])
        acc[0] += sign * tally.count
        acc[1] += sign * tally.amount_oere
    return reconcile_tallies(
        [Tally(state, n, oere, on) for (state, on), (n, oere) in sums.items() if n],
        [Answer(k, "stray") for k in strays if k not in carried],
        _classify,
        as_of=as_of,
    )


def render_bundles(rec: BundleReconciliation, *, differences: int | None = None) -> list[Table]:
    """Rich tables: per bundle, per disposition date (with the total), and the differences
    (the first ``differences`` of them, when given: a month of a million payments may have
    tens of thousands, which ``as_dict`` and the month report list whole)."""
    tables = []
    for title, rows in (
        (f"NemKonto bundles as of {rec.as_of.isoformat()}", rec.bundles),
        ("Per disposition date", [*rec.dates, rec.total]),
    ):
        table = Table(title=title)
        first = "bundle" if rows is rec.bundles else "date"
        for column in (first, "state", *COLUMNS, "cat."):
            table.add_column(column, justify="left" if column in (first, "state") else "right")
        for row in rows:
            if row.bundle_id:
                label = row.bundle_id[:8] + "…"
            elif row.disposition_date is None:
                label = "total"
            else:
                label = row.disposition_date.isoformat()
            cells = [f"{row.counts[c]}\n{kroner(row.sums[c])}" for c in COLUMNS]
            category = str(int(row.reconciliation.category)) if row.reconciliation else ""
            table.add_row(label, row.state or "", *cells, category)
        tables.append(table)
    if rec.differences or rec.unexplained:
        tables.append(_differences_table(rec, differences))
    return tables


def _differences_table(rec: BundleReconciliation, limit: int | None) -> Table:
    """The unsettled payments (the first ``limit``), then every unexplained difference."""
    shown = rec.differences if limit is None else rec.differences[:limit]
    caption = None
    if len(shown) < len(rec.differences):
        caption = (
            f"the first {len(shown):,} of {len(rec.differences):,} payments (--json lists all)"
        )
    diff = Table(title="Differences", caption=caption)
    for column in ("bundle", "payment", "state", "kr", "why"):
        diff.add_column(column, justify="right" if column == "kr" else "left")
    for d in shown:
        diff.add_row(
            d.bundle_id[:8] + "…", mask_cpr_in_text(d.payment), d.state, kroner(d.amount_ore),
            d.reason,
        )  # fmt: skip
    for text in rec.unexplained:
        diff.add_row("", "", "unexplained", "", mask_cpr_in_text(text))
    return diff
