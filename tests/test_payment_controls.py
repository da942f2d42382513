"""The payment controls at release: duplicates across deliveries, amount limits per benefit
type, the debtor account per benefit type."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.nemkonto_flow_data import instruction, journal_delivery, new_journal
from tests.payments_helpers import controlled_release, desk, state_of
from toekgw.adapters.g68 import PaymentInstruction
from toekgw.adapters.payments import (
    CONTROL_SUBJECT,
    BenefitType,
    MunicipalityPolicy,
    PaymentsSettings,
    records,
)
from toekgw.formats.nemkonto import Account
from toekgw.gateway.journal import SqliteJournal

LIMITS = PaymentsSettings(
    {
        "101": MunicipalityPolicy(
            "101",
            trivial_account="9.99.99.99",
            benefit_types=(BenefitType("kontanthjaelp", frozenset({"1234"}), 5_000, 10_050),),
        )
    }
)


@pytest.fixture
def journal(tmp_path: Path) -> SqliteJournal:
    return new_journal(tmp_path / "journal.sqlite")


def _again(n: int, new_ident: int) -> PaymentInstruction:
    """Payment n's paying unit, beneficiary, amount and date under another ident."""
    return dataclasses.replace(
        instruction(n, delivery=2), payment_ident=f"{new_ident:018d}", line=new_ident
    )


def test_the_same_three_payments_under_new_idents_are_held_as_suspects(
    journal: SqliteJournal,
) -> None:
    journal_delivery(journal, [instruction(n) for n in (1, 2, 3)])
    journal_delivery(journal, [_again(n, 100 + n) for n in (1, 2, 3)], delivery=2)
    result = controlled_release(journal)
    assert result.released == 3 and result.held == {"suspected-duplicate": 3}
    suspects = [f"12345678:{100 + n:018d}" for n in (1, 2, 3)]
    assert [state_of(journal, k) for k in suspects] == ["suspected-duplicate"] * 3
    entries = [e for e in journal.errors() if e.subject == CONTROL_SUBJECT]
    assert sorted(e.business_key or "" for e in entries) == suspects
    assert "the paying unit, beneficiary, amount and date of payment 12345678:" in (
        entries[0].findings[0].message
    )
    # An operator releases one (it is not held again) and recalls another.
    desk(journal, "anna").clear(suspects[0], "a second payment was due: checked the case")
    desk(journal, "anna").recall(suspects[1], "a duplicate indeed")
    again = controlled_release(journal)
    assert again.released == 1 and again.held == {}
    assert state_of(journal, suspects[0]) == "released"
    assert state_of(journal, suspects[1]) == "recalled"
    assert state_of(journal, suspects[2]) == "suspected-duplicate"
    open_entries = [e.business_key for e in journal.errors() if e.subject == CONTROL_SUBJECT]
    assert open_entries == [suspects[2]]


def test_the_ident_is_not_part_of_the_key_and_a_recalled_payment_is_no_original(
    journal: SqliteJournal,
) -> None:
    journal_delivery(journal, [instruction(1), instruction(2, amount=10_001)])
    # same beneficiary and date, but another amount: not a duplicate
    journal_delivery(journal, [_again(2, 102)], delivery=2)
    desk(journal, "anna").recall(instruction(1).business_key, "wrong amount")
    journal_delivery(journal, [_again(1, 101)], delivery=3)
    result = controlled_release(journal)
    assert result.held == {} and result.released == 3


def test_amount_limits_per_benefit_type(journal: SqliteJournal) -> None:
    journal_delivery(
        journal,
        [
            instruction(1, amount=4_999),
            instruction(2, amount=10_050),
            instruction(3, amount=10_051),
        ],
    )
    result = controlled_release(journal, LIMITS)
    assert result.released == 1 and result.held == {"trivial-amount": 1, "over-limit": 1}
    k1, k3 = instruction(1).business_key, instruction(3).business_key
    assert state_of(journal, k1) == "trivial-amount"
    assert state_of(journal, k3) == "over-limit"
    (trivial,) = records(journal, type_="trivial-amount")
    assert trivial.item.amount_ore == 4_999 and trivial.text("account") == "9.99.99.99"
    assert trivial.text("benefit_type") == "kontanthjaelp"
    (entry,) = [e for e in journal.errors() if e.subject == CONTROL_SUBJECT]
    assert "10051 øre is above the upper limit of kontanthjaelp (10050 øre)" in (
        entry.findings[0].message
    )
    desk(journal, "anna").clear(k3, "a back payment: checked")
    assert controlled_release(journal, LIMITS).released == 1


def test_a_benefit_type_with_its_own_account_gets_bundles_of_its_own(
    journal: SqliteJournal,
) -> None:
    own = Account("5555", "0000123123")
    settings = PaymentsSettings(
        {"101": MunicipalityPolicy("101", benefit_types=(
            BenefitType("boligstoette", frozenset({"2222"}), debtor_account=own),
        ))}
    )  # fmt: skip
    other = dataclasses.replace(instruction(2), paying_unit="2222")
    journal_delivery(journal, [instruction(1), other])
    result = controlled_release(journal, settings)
    assert len(result.bundles) == 2
    accounts = {
        str(journal.get_transmission(b.transmission_id).meta["debtor_account"])
        for b in result.bundles
    }
    assert accounts == {"0001234567", "0000123123"}
