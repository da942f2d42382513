"""Payments journaled the way the G68 receiver journals them, for the NemKonto flow tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from tests.nemkonto_data import AUTHORITY_CVR, cpr
from toekgw.adapters.g68 import PAYMENT_ITEM, PaymentInstruction
from toekgw.adapters.nemkonto import Authority, FlowSettings
from toekgw.formats.nemkonto import Account
from toekgw.gateway.inbound import inbound_kind
from toekgw.gateway.journal import NewTransmission, SqliteJournal, open_journal

MUNICIPALITY = "101"
SUPPLIER = "12345678"
TODAY = dt.date(2026, 11, 23)  # a Monday
DUE = dt.date(2026, 11, 25)  # two banking days on: released today
LATER = dt.date(2026, 11, 27)  # released on the 25th
AUTHORITY = Authority(AUTHORITY_CVR, "4711", Account("1234", "0001234567"))
SETTINGS = FlowSettings(authorities={MUNICIPALITY: AUTHORITY})
G68_KIND = inbound_kind("g68-delivery", PAYMENT_ITEM)


def instruction(
    n: int,
    *,
    date: dt.date | None = DUE,
    amount: int | None = None,
    straks: bool = False,
    recall: bool = False,
    delivery: int = 1,
    ident_code: str = "02",
    beneficiary: str | None = None,
    municipality: str = MUNICIPALITY,
) -> PaymentInstruction:
    return PaymentInstruction(
        supplier_id=SUPPLIER,
        delivery_number=delivery,
        line=n + 2,
        municipality=municipality,
        paying_unit="1234",
        payment_ident=f"{n:018d}",
        amount_ore=amount if amount is not None else 10_000 + n,
        recall=recall,
        transaction_type="10" if ident_code == "01" else "01",
        ident_code=ident_code,
        beneficiary=beneficiary or cpr(n).rjust(14, "0"),
        disposition_date=date,
        posting_reference=f"REF-{n}",
        texts=("Kontanthjælp", "", f"for november, sag {n}"),
        straks=straks,
    )


def journal_delivery(
    journal: SqliteJournal, payments: Iterable[PaymentInstruction], *, delivery: int = 1
) -> int:
    """One G68 delivery: a transmission of kind g68-delivery with PAYMENT_ITEM items."""
    journal.define_kind(G68_KIND)
    items = [p.new_item() for p in payments]
    with journal.transaction(durable=True):
        tx = journal.create_transmission(
            NewTransmission(
                counterpart="ksd",
                kind=G68_KIND.name,
                state="journaled",
                delivery_key=f"{SUPPLIER}:{delivery}",
                file_name=f"G68_{delivery:04d}.txt",
            )
        )
        for state in ("pending", "recall-requested"):
            chosen = [i for i in items if bool(i.data and i.data["recall"]) == (state != "pending")]
            if chosen:
                journal.add_items(tx.id, chosen, state=state, reason="G68 delivery journaled")
    return tx.id


def new_journal(path: Path) -> SqliteJournal:
    return open_journal(path)


def states(journal: SqliteJournal) -> dict[str, str]:
    """business key -> state of every payment item."""
    found = {}
    for tx in journal.transmissions(kind=G68_KIND.name):
        for item in journal.items(tx.id):
            found[item.business_key] = item.state
    return found
