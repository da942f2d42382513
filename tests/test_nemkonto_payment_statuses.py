"""``PaymentStatuses``: an answer's payments as columns behave as the sequence of
``PaymentStatus`` they hold - indexing, slicing, iteration, equality and hashing - and
``read_answer`` hands the flow's case (no originals) its payments that way."""

from __future__ import annotations

import datetime as dt
import operator

import pytest

from toekgw.formats.nemkonto import (
    AnswerType,
    BundleAnswer,
    OriginalTransaction,
    PaymentState,
    PaymentStatus,
    PaymentStatuses,
    build_answer,
    read_answer,
)

PAYMENTS = (
    PaymentStatus("P1", PaymentState.ACCEPTED),
    PaymentStatus("P2", PaymentState.REJECTED, "0101", "Ingen NemKonto"),
    PaymentStatus("P3", PaymentState.ACCEPTED, instruction_id="I3"),
    PaymentStatus("P4", PaymentState.ACCEPTED, original=OriginalTransaction(100, False)),
)


def test_columns_are_the_sequence_they_hold() -> None:
    columns = PaymentStatuses.of(PAYMENTS)
    assert len(columns) == 4
    assert columns == PAYMENTS
    assert operator.eq(PAYMENTS, columns)  # the tuple's side: answered by the columns
    assert tuple(columns) == PAYMENTS
    assert [columns[n] for n in range(-4, 4)] == [*PAYMENTS, *PAYMENTS]
    assert columns[1:3] == PAYMENTS[1:3]
    assert columns[::-1] == PAYMENTS[::-1]
    assert hash(columns) == hash(PAYMENTS)
    assert PaymentStatuses.of(columns) is columns
    assert columns != PAYMENTS[:3]
    assert columns != (*PAYMENTS[:3], PaymentStatus("P4", PaymentState.ACCEPTED))
    assert columns != "P1P2P3P4"
    assert PaymentStatuses([], []) == ()
    with pytest.raises(IndexError):
        columns[4]
    given = [p.payment_id for p in PAYMENTS]
    held = PaymentStatuses(given, [p.status for p in PAYMENTS])
    given[0] = "changed"  # the caller's list is copied: the payments cannot change
    assert held[0].payment_id == "P1"
    assert isinstance(held.payment_ids, tuple)


def test_a_column_left_out_is_none_and_the_lengths_must_agree() -> None:
    columns = PaymentStatuses(["A", "B"], [PaymentState.ACCEPTED, PaymentState.STOPPED])
    assert list(columns) == [
        PaymentStatus("A", PaymentState.ACCEPTED),
        PaymentStatus("B", PaymentState.STOPPED),
    ]
    with pytest.raises(ValueError, match="differ in length"):
        PaymentStatuses(["A", "B"], [PaymentState.ACCEPTED])
    with pytest.raises(ValueError, match="differ in length"):
        PaymentStatuses(["A"], [PaymentState.ACCEPTED], error_texts=[None, None])


def test_read_answer_without_originals_gives_columns_equal_to_the_exact_read() -> None:
    payments = tuple(
        PaymentStatus(f"P{n}", PaymentState.ACCEPTED)
        if n % 7
        else PaymentStatus(f"P{n}", PaymentState.REJECTED, "0101", f"nej {n}")
        for n in range(50)
    )
    answer = BundleAnswer(
        AnswerType.RECEIVE_CONTROL,
        "B1",
        dt.datetime(2026, 12, 6, 10, tzinfo=dt.UTC),
        payments=payments,
    )
    data = build_answer(answer)
    fast, findings = read_answer(data, originals=False)
    exact, _ = read_answer(data)
    assert not findings and fast is not None and exact is not None
    assert isinstance(fast.payments, PaymentStatuses)
    assert fast.payments == payments
    assert fast == answer
    assert [p.payment_id for p in exact.payments] == list(fast.payments.payment_ids)
    assert fast.payments.error_texts[7] == "nej 7"
