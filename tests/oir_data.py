"""Test data for ØiR: an [oir] configuration, a sortiment, payments journaled and moved."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from toekgw.adapters.oir.settings import MunicipalityBooks, OirSettings
from toekgw.formats.oir import Account, Delivery, Klasse, SortimentDelivery
from toekgw.gateway.journal import SqliteJournal

SORTIMENT = "0b5b6c1e-2f51-4c5e-8f38-6a3a3b0c9d11"
SENDER_SYSTEM = "5f2c1d7e-0a4b-4c39-9e21-3c0e5b7a8d42"
ERP = "ERP-KOMMUNE-101"
EXPENSE = "5.57.72/1/5.2"
EXPENSE_NEW = "5.57.73/1/5.2"
INTERMEDIATE = "9.52.59/0/9.1"
BANK = "9.22.05/0/9.1"
TRIVIAL = "9.52.56/0/9.1"
CASH = "9.22.01/0/9.1"
OWN_ACCOUNT = "9.22.05/0/9.2"
START = dt.date(2026, 1, 1)


def posting_day() -> dt.date:
    """Today in the books' time zone ([oir] ``time_zone``, Europe/Copenhagen): the day a
    voucher built now is dated. Read it, not the machine's date, where a test compares with
    voucher dates: the two differ for an hour or two before midnight UTC (UTC+1, UTC+2)."""
    return dt.datetime.now(ZoneInfo(settings().time_zone)).date()


def class_id(code: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"klasse:{code}"))


def settings(**changes: object) -> OirSettings:
    base: dict[str, object] = dict(
        sender_system=SENDER_SYSTEM,
        erp=ERP,
        sortiment=SORTIMENT,
        accounts={
            "expense": Account.parse(EXPENSE),
            "intermediate": Account.parse(INTERMEDIATE),
            "bank": Account.parse(BANK),
            "trivial": Account.parse(TRIVIAL),
            "cash": Account.parse(CASH),
            "own_account": Account.parse(OWN_ACCOUNT),
        },
        expense_by_category={},
        municipalities={"101": MunicipalityBooks("101", "29189846")},
    )
    base.update(changes)
    return OirSettings(**base)  # type: ignore[arg-type]


def klasse(code: str, *, until: dt.date | None = None, since: dt.date = START) -> Klasse:
    return Klasse(class_id(code), code, f"Konto {code}", since, until)


def full_sortiment(version: int = 1) -> SortimentDelivery:
    return SortimentDelivery(
        SORTIMENT,
        "TØK konti",
        START,
        version,
        Delivery.FULL,
        tuple(klasse(c) for c in (EXPENSE, INTERMEDIATE, BANK, TRIVIAL, CASH, OWN_ACCOUNT)),
    )


def load_sortiment(journal: SqliteJournal, delivery: SortimentDelivery | None = None) -> None:
    from toekgw.adapters.oir.replica import apply_delivery

    apply_delivery(journal, delivery or full_sortiment())
