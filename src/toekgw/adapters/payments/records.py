"""Where payment operations are journaled: follow-up payments and payment records.

Two transmissions, made on first use, hold what the operations add to the journal:

- ``payment-follow-up`` (one per counterpart of the originals): the new payments that pay a
  failed one again (``resend``) or to an alternative account (``pay-alternative``). Their items
  move through :data:`~toekgw.adapters.g68.payments.PAYMENT_ITEM` like any payment, so release,
  bundling, answers and blocks treat them as they treat the originals. The business key is the
  original's with ``:r<n>``; the payload names the payment it follows.
- ``payment-records``: one item per record of something done outside NemKonto or asked of a
  second person: a cash voucher, an own-account payout, a trivial amount moved to its account,
  a request waiting for approval, a stop request, a control run. Each record carries what a
  posting needs (amount, account, dates, municipality, benefit type, the original payment) and
  who did it: issue 13 (ØiR Finans) turns them into postings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from toekgw.adapters.g68.payments import FOLLOW_UP_KIND as FOLLOW_UP_KIND_NAME
from toekgw.adapters.g68.payments import PAYMENT_ITEM
from toekgw.gateway.journal import (
    Direction,
    Item,
    Journal,
    JournalReader,
    KindSpec,
    Lifecycle,
    NewItem,
    NewTransmission,
    Transmission,
)
from toekgw.gateway.kinds import register_kind

__all__ = [
    "FOLLOW_UP_KIND",
    "RECORDS_COUNTERPART",
    "RECORDS_KIND",
    "Record",
    "add_record",
    "define_kinds",
    "follow_up_transmission",
    "records",
]

RECORDS_COUNTERPART = "payments"
_OPEN = Lifecycle(("open",), {}, {"open": "open: items are added as operators act"})
FOLLOW_UP_KIND = KindSpec(FOLLOW_UP_KIND_NAME, Direction.OUT, _OPEN, PAYMENT_ITEM)
register_kind(FOLLOW_UP_KIND)
RECORD_ITEM = Lifecycle(
    initial=("recorded", "awaiting-approval"),
    transitions={"awaiting-approval": ("approved", "denied")},
    descriptions={
        "recorded": "done and recorded (final)",
        "awaiting-approval": "asked; waits for a second person's approval",
        "approved": "approved by a second person and carried out (final)",
        "denied": "denied by a second person: the payment is back where it was (final)",
    },
)
RECORDS_KIND = KindSpec("payment-records", Direction.IN, _OPEN, RECORD_ITEM)
register_kind(RECORDS_KIND)


@dataclass(frozen=True, slots=True)
class Record:
    """One payment record as journaled (``data`` holds its fields, see the module doc)."""

    item: Item

    @property
    def data(self) -> Mapping[str, object]:
        return self.item.data or {}

    @property
    def type(self) -> str:
        return str(self.data.get("type", ""))

    @property
    def payment(self) -> str:
        return str(self.data.get("payment", ""))

    def text(self, key: str) -> str:
        value = self.data.get(key)
        return "" if value is None else str(value)


def define_kinds(journal: Journal) -> None:
    journal.define_kind(FOLLOW_UP_KIND)
    journal.define_kind(RECORDS_KIND)


def _open(journal: Journal, kind: KindSpec, counterpart: str, ref: str, why: str) -> Transmission:
    tx = journal.find_transmission(ref=ref)
    if tx is None:
        journal.define_kind(kind)
        tx = journal.create_transmission(
            NewTransmission(counterpart=counterpart, kind=kind.name, state="open", ref=ref,
                            reason=why)
        )  # fmt: skip
    return tx


def follow_up_transmission(journal: Journal, counterpart: str) -> Transmission:
    """The transmission that holds the follow-up payments of ``counterpart``'s payments."""
    return _open(
        journal,
        FOLLOW_UP_KIND,
        counterpart,
        f"{counterpart}:payment-follow-ups",
        "follow-up payments (resent, alternative account)",
    )


def _records_tx(journal: Journal) -> Transmission:
    return _open(
        journal,
        RECORDS_KIND,
        RECORDS_COUNTERPART,
        f"{RECORDS_COUNTERPART}:records",
        "payment records: vouchers, own-account and trivial amounts, approvals, controls",
    )


def add_record(
    journal: Journal,
    type_: str,
    subject: str,
    data: Mapping[str, object],
    *,
    amount_ore: int = 0,
    awaiting: bool = False,
    reason: str,
    at: dt.datetime,
) -> Item:
    """Journal one record of ``type_`` about ``subject`` (a payment key or a control name)."""
    tx = _records_tx(journal)
    number = tx.item_count + 1
    key = f"{type_}:{number}:{subject}"
    state = "awaiting-approval" if awaiting else "recorded"
    payload = {"type": type_, "subject": subject, "at": at.isoformat(), **data}
    journal.add_items(
        tx.id, [NewItem(key, amount_ore, seq=number, data=payload)], state=state, reason=reason
    )
    found = journal.find_items(key, RECORDS_COUNTERPART)
    return found[0]


def records(
    journal: JournalReader, *, type_: str | None = None, state: str | None = None
) -> Iterator[Record]:
    """Every record (of ``type_``, in ``state``), oldest first."""
    tx = journal.find_transmission(ref=f"{RECORDS_COUNTERPART}:records")
    if tx is None:
        return
    for item in journal.items(tx.id, state=state):
        record = Record(item)
        if type_ is None or record.type == type_:
            yield record
