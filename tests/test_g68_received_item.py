"""The receiver's fast item builder makes exactly the item the payment instruction makes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from hypothesis import given
from hypothesis import strategies as st

from tests.g68_helpers import header, payment
from toekgw.adapters.g68 import PaymentInstruction
from toekgw.adapters.g68.payments import received_item
from toekgw.formats.g68 import G68Form

_TEXT = st.text(alphabet="abcæøå ÆØÅ-'\"\\/é", max_size=35)


@given(
    sign=st.sampled_from(["+", "-"]),
    unit=st.sampled_from([None, "5110", "0042"]),
    day=st.one_of(st.none(), st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31))),
    amount=st.integers(0, 10**11),
    texts=st.lists(_TEXT, max_size=4),
    line=st.integers(2, 100_000),
    straks=st.booleans(),
    form=st.sampled_from(list(G68Form)),
)
def test_received_item_is_the_instructions_item(
    sign: str,
    unit: str | None,
    day: dt.date | None,
    amount: int,
    texts: list[str],
    line: int,
    straks: bool,
    form: G68Form,
) -> None:
    record = payment(
        sign=sign, paying_unit=unit, payment_date=day, amount=amount, texts=tuple(texts)
    )
    head = header(form)
    expected = PaymentInstruction.from_g68(record, head, line, straks=straks).new_item()
    got = received_item(record, head, line, straks=straks)
    assert got == expected
    # the payload as journaled: the same keys in the same order, the same JSON text
    assert list(got.data or {}) == list(expected.data or {})
    assert json.dumps(got.data, ensure_ascii=False) == json.dumps(expected.data, ensure_ascii=False)
    assert dataclasses.astuple(got) == dataclasses.astuple(expected)
