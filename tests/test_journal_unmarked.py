"""``unmarked_dates`` and ``unmarked_items``: the items of some kinds in a state, with a
disposition date in a range and payload fields equal to given texts, that no item of another
counterpart marks yet (its business key: a prefix and the item's id) - summed per kind and
date, or read in pages ordered by the tail of a payload field (or by id) after a key - the
same answers on both back ends (what :func:`~toekgw.adapters.eindkomst.collect.report_paid`
finds, reports and marks the payments at the bank with)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from tests.journals import raw_execute
from tests.nemkonto_flow_data import G68_KIND, instruction, journal_delivery
from toekgw.gateway.journal import (
    DateTotal,
    JournalLocation,
    NewItem,
    NewTransmission,
    SqliteJournal,
    Unmarked,
    open_journal,
)

DAY = dt.date(2026, 11, 25)
NEXT = DAY + dt.timedelta(days=1)


def _mark(journal: SqliteJournal, counterpart: str, keys: list[str]) -> None:
    with journal.transaction():
        tx = journal.create_transmission(
            NewTransmission(
                counterpart=counterpart, kind=G68_KIND.name, state="journaled",
                delivery_key=f"marks:{counterpart}", file_name=f"marks-{counterpart}",
            )
        )  # fmt: skip
        journal.add_items(tx.id, [NewItem(k, 0) for k in keys], state="pending", reason="t")


def test_unmarked_items_are_summed_per_date_and_read_in_pages(
    journal_at: JournalLocation,
) -> None:
    journal = open_journal(journal_at)
    beneficiaries = [
        "00002811700001",  # 14 digits: ordered by the last 10
        "0311700002",  # 10 digits as they are
        "99990311700001",
        "0311700002",
        "00001505700003",
        "0311700002",  # marked below
        "00001505700009",  # marked by another counterpart: still unmarked
    ]
    payments = [instruction(n, beneficiary=b, date=DAY) for n, b in enumerate(beneficiaries)]
    payments += [
        instruction(10, beneficiary="0311700001", ident_code="01", date=DAY),  # not a CPR
        instruction(11, beneficiary="0311700001", date=NEXT),
        instruction(12, beneficiary="0311700005", date=NEXT, amount=7),
        instruction(13, beneficiary="0311700004", date=DAY + dt.timedelta(days=5)),  # too late
        instruction(14, beneficiary="0311700004", date=DAY),  # not at the bank
    ]
    journal_delivery(journal, payments)
    raw_execute(journal, "UPDATE items SET state = 'at-bank' WHERE seq != 16")
    ids = {int(r[0]): int(r[1]) for r in raw_execute(journal, "SELECT seq, id FROM items")}
    _mark(journal, "eik", [f"seen:{ids[7]}", "seen:x", f"other:{ids[8]}"])
    _mark(journal, "else", [f"seen:{ids[8]}"])
    amount = {p.line - 2: p.amount_ore for p in payments}  # by n (line n + 2, seq n + 2)
    which = Unmarked(
        (G68_KIND.name, "other"), "at-bank", (DAY, DAY + dt.timedelta(days=2)), "eik", "seen:",
        "amount_ore", (("ident_code", "02"),),
    )  # fmt: skip
    on_day = [n for n in range(7) if n != 5]
    assert journal.unmarked_dates(which) == [
        DateTotal(
            G68_KIND.name, DAY, 6, sum(amount[n] for n in on_day), ids[2], ids[8]
        ),
        DateTotal(G68_KIND.name, NEXT, 2, amount[11] + 7, ids[13], ids[14]),
    ]  # fmt: skip
    assert journal.unmarked_dates(which, ids=(ids[3], ids[13])) == [
        DateTotal(G68_KIND.name, DAY, 5, sum(amount[n] for n in on_day[1:]), ids[3], ids[8]),
        DateTotal(G68_KIND.name, NEXT, 1, amount[11], ids[13], ids[13]),
    ]  # fmt: skip
    assert journal.unmarked_dates(replace(which, kinds=("other",))) == []

    day = replace(which, dates=(DAY, NEXT))
    whole = journal.unmarked_items(day, order=("beneficiary", 10), limit=100)
    assert whole == [
        ("0311700001", ids[4], amount[2]),
        ("0311700002", ids[3], amount[1]),
        ("0311700002", ids[5], amount[3]),
        ("1505700003", ids[6], amount[4]),
        ("1505700009", ids[8], amount[6]),
        ("2811700001", ids[2], amount[0]),
    ]
    read: list[tuple[str, int, int]] = []
    after = None
    while more := journal.unmarked_items(day, order=("beneficiary", 10), after=after, limit=2):
        read.extend(more)
        after = more[-1][:2]
    assert read == whole
    assert journal.unmarked_items(day, order=("beneficiary", 10), limit=0) == []
    bounded = journal.unmarked_items(
        day, order=("beneficiary", 10), ids=(ids[3], ids[5]), limit=100
    )
    assert bounded == [row for row in whole if ids[3] <= row[1] <= ids[5]]
    by_id = journal.unmarked_items(which, limit=100)
    assert by_id == [("", ids[n + 2], amount[n]) for n in (*on_day, 11, 12)]
    assert journal.unmarked_items(which, after=("", ids[6]), limit=3) == by_id[5:]
    journal.close()


def test_the_mark_is_looked_up_in_the_business_keys_index(tmp_path: Path) -> None:
    """SQLite: the items from the kinds' transmissions, each one's mark in the unique index of
    (counterpart, business_key), no table scanned; the payload's fields compared after."""
    journal = open_journal(tmp_path / "journal.sqlite")
    which = Unmarked(
        (G68_KIND.name,), "at-bank", (DAY, NEXT), "eik", "seen:", "amount_ore",
        (("ident_code", "02"),),
    )  # fmt: skip
    where, args = journal._unmarked(which, None)
    plan = " / ".join(
        str(r[-1]) for r in journal._db.execute(f"EXPLAIN QUERY PLAN SELECT 1 {where}", args)
    )
    assert "SEARCH m USING COVERING INDEX sqlite_autoindex_items_1" in plan, plan
    assert "CO-ROUTINE u" in plan, plan  # the payload's fields read after the mark's look-up
    assert not {"SCAN i", "SCAN m", "SCAN t"} & {step.strip() for step in plan.split("/")}, plan
    journal.close()
