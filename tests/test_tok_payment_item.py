"""A payment order's item, built straight from the order (as the G68 receiver builds its own),
is the item of the order's payment instruction: the same columns, and the payload's JSON text
byte for byte, whatever the order's texts and ids hold."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given
from hypothesis import strategies as st

from tests.g68_helpers import assert_same_item
from tests.tok_helpers import NOW
from toekgw.adapters.tok.payments import new_payment, order_instruction, ordered_payment
from toekgw.formats.tok import Header, Party, PartyKind, PaymentOrder, Priority

# Any text (control characters, quotes, backslashes, U+2028, astral planes …), and the
# Danish and typographic characters an order's texts may really hold.
_ODD = st.text(max_size=40)
_TEXT = st.one_of(_ODD, st.text(alphabet="abcæøå ÆØÅ-'\"\\/é\x7f\u2028", max_size=35))


@given(
    kind=st.sampled_from(list(PartyKind)),
    number=_TEXT,
    sender=_TEXT,
    payment_id=_TEXT,
    benefit=_TEXT,
    place=_TEXT,
    amount=st.integers(0, 10**11),
    day=st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
    texts=st.lists(_TEXT, max_size=4),
    priority=st.sampled_from(list(Priority)),
)
def test_an_orders_item_is_its_instructions_item(
    kind: PartyKind,
    number: str,
    sender: str,
    payment_id: str,
    benefit: str,
    place: str,
    amount: int,
    day: dt.date,
    texts: list[str],
    priority: Priority,
) -> None:
    header = Header("0b7e4a1c-2f7d-4c55-9d3e-5a8b1f2c3d4e", sender, "29189846", priority, NOW)
    order = PaymentOrder(
        header, payment_id, Party(kind, number), amount, day, benefit, tuple(texts)
    )
    expected = new_payment(order_instruction(order, place))
    assert_same_item(ordered_payment(order, place), expected, "tok")


def test_a_straks_order_is_a_straks_payment() -> None:
    header = Header("0b7e4a1c-2f7d-4c55-9d3e-5a8b1f2c3d4e", "KY", "29189846", Priority.STRAKS, NOW)
    order = PaymentOrder(
        header, "P-1", Party(PartyKind.CVR, "29189846"), 100_00, NOW.date(), "KTH", ()
    )
    data = json.loads(ordered_payment(order, "0751").payload or "")
    assert data["straks"] is True
    assert (data["ident_code"], data["beneficiary"]) == ("11", "00000029189846")
    assert (data["supplier_id"], data["paying_unit"], data["transaction_type"]) == (
        "KY",
        "KTH",
        "01",
    )
