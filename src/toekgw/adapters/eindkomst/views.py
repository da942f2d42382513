"""The journal seen through eIndkomst's protocols: :class:`History` for the rules,
:class:`ItemLocator` for the errors and advice of SKAT's error/advice file,
:class:`CardStore` for withholding.

A report counts in the history unless SKAT rejected it, or a reversal (4101) that SKAT did not
reject takes it back (whole, or for one CPR).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping, Sequence

from toekgw.adapters.eindkomst.kinds import (
    COUNTERPART,
    card_lookup,
    month_lookup,
    recipient_lookup,
    reversal_lookup,
)
from toekgw.formats.eindkomst.receipts import SentItem
from toekgw.formats.eindkomst.taxcards import CardType, TaxCard
from toekgw.gateway.journal import Item, JournalReader

__all__ = ["JournalCardStore", "JournalHistory", "JournalLocator", "card_data", "card_from_data"]

_DEAD = frozenset({"rejected"})


def _data(item: Item) -> Mapping[str, object]:
    return item.data or {}


class JournalHistory:
    """:class:`~toekgw.formats.eindkomst.history.History` over the journal's items (indexed
    lookups)."""

    def __init__(self, journal: JournalReader) -> None:
        self.journal = journal
        self._report_state: dict[str, str | None] = {}

    def _report_live(self, report_id: str) -> bool:
        if report_id not in self._report_state:
            found = self.journal.find_items(report_id, COUNTERPART)
            self._report_state[report_id] = found[0].state if found else None
        return self._report_state[report_id] not in _DEAD

    def _reversed(self, report_id: str, recipient: str) -> bool:
        for rev in self.journal.items_by_lookup(COUNTERPART, reversal_lookup(report_id)):
            if rev.state in _DEAD:
                continue
            cpr = _data(rev).get("cpr")
            if cpr is None or cpr == recipient:
                return True
        return False

    def _lines(self, se: str, recipient: str, month: str) -> list[Mapping[str, object]]:
        out = []
        for item in self.journal.items_by_lookup(
            COUNTERPART, recipient_lookup(se, recipient, month)
        ):
            data = _data(item)
            report = str(data["report"])
            if self._report_live(report) and not self._reversed(report, recipient):
                out.append(data)
        return out

    def monthly_total(
        self,
        se: str,
        recipient: str,
        field_number: str,
        month: str,
        *,
        excluding: frozenset[str] = frozenset(),
    ) -> int:
        total = 0
        for data in self._lines(se, recipient, month):
            if data["report"] in excluding:
                continue
            fields = data.get("fields")
            assert isinstance(fields, dict)
            total += int(fields.get(field_number, 0))
        return total

    def reports_with_value(
        self, se: str, recipient: str, field_number: str, month: str
    ) -> frozenset[str]:
        return frozenset(
            str(d["report"])
            for d in self._lines(se, recipient, month)
            if field_number in (d.get("values") or ())  # type: ignore[operator]
        )

    def _month_reports(self, se: str, month: str) -> list[Mapping[str, object]]:
        return [
            _data(i)
            for i in self.journal.items_by_lookup(COUNTERPART, month_lookup(se, month))
            if i.state not in _DEAD and not self._reversed(i.business_key, "")
        ]

    def nil_report_exists(self, se: str, month: str) -> bool:
        return any(d.get("type") == "3101" for d in self._month_reports(se, month))

    def withholding_reported(self, se: str, month: str) -> bool:
        return any(d.get("withholding") for d in self._month_reports(se, month))


class JournalLocator:
    """:class:`~toekgw.formats.eindkomst.receipts.ItemLocator`: the recipient behind a delivery
    line."""

    def __init__(self, journal: JournalReader) -> None:
        self.journal = journal
        self._cache: dict[str, tuple[list[int], list[Item]]] = {}

    def _recipients(self, report_id: str) -> tuple[list[int], list[Item]]:
        cached = self._cache.get(report_id)
        if cached is None:
            found = self.journal.find_items(report_id, COUNTERPART)
            items: list[Item] = []
            if found:
                items = [
                    i
                    for i in self.journal.items(found[0].transmission_id)
                    if _data(i).get("type") == "6000" and _data(i).get("report") == report_id
                ]
                items.sort(key=lambda i: i.seq or 0)
            cached = ([i.seq or 0 for i in items], items)
            self._cache[report_id] = cached
        return cached

    def item_for(self, report_id: str, line: int) -> Item | None:
        seqs, items = self._recipients(report_id)
        at = bisect.bisect_right(seqs, line) - 1
        if at < 0:
            return None
        item = items[at]
        last = _data(item).get("last")
        return item if isinstance(last, int) and line <= last else None

    def item_at(self, report_id: str, line: int) -> SentItem | None:
        item = self.item_for(report_id, line)
        if item is None:
            return None
        data = _data(item)
        kinds = data.get("lines")
        rtype = "6000"
        if isinstance(kinds, dict):
            rtype = str(kinds.get(str(line), "6000"))
        return SentItem(report_id, line, str(data.get("masked", "")), rtype)


def card_data(card: TaxCard) -> dict[str, object]:
    return {
        "cpr": card.cpr,
        "kort_type": int(card.kort_type),
        "valid_from": card.valid_from.isoformat(),
        "withholding_pct": card.withholding_pct,
        "deduction_month": card.deduction_month,
        "deduction_fortnight": card.deduction_fortnight,
        "deduction_week": card.deduction_week,
        "deduction_day": card.deduction_day,
        "free_amount": card.free_amount,
        "se": card.se,
    }


def card_from_data(data: Mapping[str, object]) -> TaxCard:
    values = dict(data)
    values["kort_type"] = CardType(int(str(values["kort_type"])))
    values["valid_from"] = dt.date.fromisoformat(str(values["valid_from"]))
    return TaxCard(**values)  # type: ignore[arg-type]


class JournalCardStore:
    """:class:`toekgw.formats.eindkomst.taxcards.CardStore` over the journaled tax cards."""

    def __init__(self, journal: JournalReader) -> None:
        self.journal = journal

    def cards_for(self, cpr: str) -> Sequence[TaxCard]:
        return tuple(
            card_from_data(_data(i))
            for i in self.journal.items_by_lookup(COUNTERPART, card_lookup(cpr))
        )
