"""Finding payments and what belongs to one: ``toekgw payments find`` and ``show``.

A search reads the payments (received and follow-up) one by one, so memory stays flat
whatever the journal holds; each criterion narrows it. The recipient is compared on its key
(``CPR:…``, ``CVR:…``), and shown masked wherever it is printed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from toekgw.adapters.g68.payments import FOLLOW_UP_KIND, PaymentInstruction
from toekgw.adapters.nemkonto.orders import instruction_of, recipient_key
from toekgw.adapters.nemkonto.settings import FlowSettings
from toekgw.adapters.payments.records import Record, records
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.journal import Item, JournalReader

__all__ = ["Found", "PaymentQuery", "find_payments", "follow_ups", "records_of", "shown_recipient"]


@dataclass(frozen=True, slots=True)
class PaymentQuery:
    """What to look for; ``None`` matches anything. Amounts in øre, both ends included."""

    recipient: str | None = None  # a recipient key, from toekgw.adapters.nemkonto.recipient
    payment: str | None = None
    bundle: str | None = None
    min_ore: int | None = None
    max_ore: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    state: str | None = None

    def matches(self, item: Item, instr: PaymentInstruction) -> bool:
        date = instr.disposition_date
        return (
            (self.state is None or item.state == self.state)
            and (self.min_ore is None or instr.amount_ore >= self.min_ore)
            and (self.max_ore is None or instr.amount_ore <= self.max_ore)
            and (self.date_from is None or (date is not None and date >= self.date_from))
            and (self.date_to is None or (date is not None and date <= self.date_to))
            and (self.recipient is None or recipient_key(instr) == self.recipient)
        )


@dataclass(frozen=True, slots=True)
class Found:
    item: Item
    instruction: PaymentInstruction

    @property
    def recipient(self) -> str:
        return shown_recipient(self.instruction)


def shown_recipient(instr: PaymentInstruction) -> str:
    return mask_cpr_in_text(recipient_key(instr))


def _candidates(journal: JournalReader, flow: FlowSettings, query: PaymentQuery) -> Iterator[Item]:
    if query.payment is not None:
        yield from journal.find_items(query.payment)
        return
    if query.bundle is not None:
        tx = journal.find_transmission(ref=query.bundle)
        if tx is not None:
            yield from journal.members(tx.id)
        return
    for kind in (flow.payment_kind, FOLLOW_UP_KIND):
        for tx in journal.transmissions(kind=kind):
            yield from journal.items(tx.id)


def find_payments(
    journal: JournalReader, flow: FlowSettings, query: PaymentQuery
) -> Iterator[Found]:
    """The payments (not recalls) that match ``query``, oldest first."""
    for item in _candidates(journal, flow, query):
        if not item.data or item.data.get("recall") or "payment_ident" not in item.data:
            continue
        instr = instruction_of(item)
        if query.matches(item, instr):
            yield Found(item, instr)


def follow_ups(journal: JournalReader, flow: FlowSettings, key: str) -> list[Found]:
    """The payments that pay ``key`` again, and theirs in turn (``<key>:r1``, …)."""
    root = key.split(":r")[0]
    found: list[Found] = []
    number = 1
    while items := journal.find_items(f"{root}:r{number}"):
        found.append(Found(items[0], instruction_of(items[0])))
        number += 1
    return found


def records_of(journal: JournalReader, key: str) -> list[Record]:
    """The records about payment ``key`` (vouchers, requests, stop requests …)."""
    return [r for r in records(journal) if r.payment == key]
