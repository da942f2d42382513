"""A change of a claim's type or founding date (the solution description, 2.5.16): a full
write-down and a new claim that carries the old one's sub-claims (scaled to the remaining
debt), its account, period and collection state, and a link the ledger shows both ways."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.debitor_rig import CVR, Rig, claim, debtor_rig
from tests.tok_helpers import header
from toekgw.adapters.debitor.claims import fordring_id, prorated
from toekgw.adapters.debitor.ledger import chain, claim_ledger
from toekgw.formats.debitor.registrering import (
    Delfordring,
    OpretFordring,
    Registrering,
    operation_from_data,
    operation_to_data,
)
from toekgw.formats.tok import ClaimAdjustment, ClaimChange, CollectionRelease
from toekgw.gateway.journal import open_journal
from toekgw.simulators.debitor import Refusal


@pytest.fixture
def rig(tmp_path: Path):  # type: ignore[no-untyped-def]
    with debtor_rig(tmp_path) as made:
        yield made


def test_each_change_carries_the_sub_claims_and_the_chain(rig: Rig) -> None:
    rig.send_tok(claim("C-7", 1_000_00))  # sub-claims 900.00 + 100.00
    journal = open_journal(rig.journal_path)
    try:
        assert rig.sender(journal).run().sent == 1
        day = dt.date(2026, 12, 1)
        rig.send_tok(
            ClaimAdjustment(header(sender="KP"), "C-7", "down", 100_00, day, "fejl"),
            CollectionRelease(header(sender="KP"), "C-7"),
            ClaimChange(header(sender="KP"), "C-7", "NYTYPE", None),
            ClaimChange(header(sender="KP"), "C-7", None, dt.date(2026, 10, 15)),
        )
        assert rig.sender(journal).run().sent == 4
        first, second, third = (fordring_id("KP", "C-7", n) for n in (1, 2, 3))
        made = rig.system.claim(CVR, second)
        assert made is not None and made.erstatter == first and made.released
        assert [(d.delfordring_id, d.beloeb_ore) for d in made.delfordringer] == [
            ("C-7a", 810_00),
            ("C-7b", 90_00),
        ]
        last = rig.system.claim(CVR, third)
        assert last is not None and last.erstatter == second and last.original_ore == 900_00
        assert sum(d.beloeb_ore for d in last.delfordringer) == 900_00
        links = [(c.fordring_id, c.erstatter, c.erstattet_af, c.remaining_ore) for c in
                 chain(journal, CVR, second)]  # fmt: skip
        assert links == [
            (first, "", second, 0),
            (second, first, third, 0),
            (third, second, "", 900_00),
        ]
        assert chain(journal, CVR, first) == chain(journal, CVR, third)
        calls = journal.transmissions(counterpart="debitor", kind="debitor-afsend")
        (change,) = [c for c in calls if str(c.meta["operations"][-1].get("fordring_id")) == third]  # type: ignore[index, union-attr]
        new = operation_from_data(change.meta["operations"][-1])  # type: ignore[index]
        assert isinstance(new, OpretFordring)
        assert (new.fordring_type, new.stiftelses_dato) == ("NYTYPE", dt.date(2026, 10, 15))
        assert new.aktiv  # the first claim was released for collection; so is its successor
        last_ledger = claim_ledger(journal, CVR, third)
        assert last_ledger is not None and last_ledger.released
    finally:
        journal.close()


def test_the_simulator_refuses_a_successor_of_a_claim_with_debt_left(rig: Rig) -> None:
    rig.send_tok(claim("C-8", 500_00))
    journal = open_journal(rig.journal_path)
    try:
        assert rig.sender(journal).run().sent == 1
    finally:
        journal.close()
    old = rig.system.claim(CVR, fordring_id("KP", "C-8"))
    assert old is not None
    day = dt.date(2026, 12, 1)
    successor = OpretFordring("KP-C-8~2", old.konto, "T", 500_00, day, day, day, day,
                              erstatter=old.fordring_id)  # fmt: skip
    with pytest.raises(Refusal, match="DEB-112"):
        rig.system.registrer(
            Registrering("0d9c1f7e-3c55-4f7e-9a51-0b7f3e2a1c01", CVR, (successor,))
        )


def test_a_journaled_claim_without_the_link_reads_back_without_it() -> None:
    day = dt.date(2026, 12, 1)
    op = OpretFordring("F", "K", "T", 1_00, day, day, day, day, erstatter="F0")
    data = operation_to_data(op)
    assert operation_from_data(data) == op
    del data["erstatter"]  # journaled by an earlier version
    assert operation_from_data(data) == dataclasses.replace(op, erstatter=None)


@given(
    st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=12),
    st.data(),
)
def test_prorated_sub_claims_add_up_exactly_and_never_grow(
    amounts: list[int], data: st.DataObject
) -> None:
    parts = tuple(Delfordring(f"d{n}", "T", a) for n, a in enumerate(amounts))
    total = data.draw(st.integers(min_value=0, max_value=sum(amounts)))
    scaled = prorated(parts, total)
    assert sum(p.beloeb_ore for p in scaled) == total
    by_id = {p.delfordring_id: p.beloeb_ore for p in parts}
    assert all(0 < p.beloeb_ore <= by_id[p.delfordring_id] for p in scaled)
    assert [p.delfordring_id for p in scaled] == [
        p.delfordring_id for p in parts if p.delfordring_id in {s.delfordring_id for s in scaled}
    ]
    if total == sum(amounts):
        assert scaled == parts
