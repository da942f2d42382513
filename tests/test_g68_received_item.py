"""The receiver's fast item builder makes exactly the journal row the payment instruction
makes: the same columns, and the payload's JSON text byte for byte (it is encoded by a format
string, not by ``json.dumps``), whatever characters the record's texts hold."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from tests.g68_helpers import assert_same_item, header, payment
from toekgw.adapters.g68 import PaymentInstruction
from toekgw.adapters.g68.payments import received_item
from toekgw.formats.g68 import G68Form
from toekgw.gateway.journal._item_rows import item_row

# Any text (control characters, quotes, backslashes, U+2028, astral planes …), and the
# Danish and typographic characters a G68 text may really hold.
_ODD = st.text(max_size=40)
_TEXT = st.one_of(_ODD, st.text(alphabet="abcæøå ÆØÅ-'\"\\/é\x7f\u2028", max_size=35))


@given(
    sign=st.sampled_from(["+", "-"]),
    unit=st.one_of(st.none(), st.sampled_from(["5110", "0042"]), _ODD),
    day=st.one_of(st.none(), st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31))),
    amount=st.integers(0, 10**11),
    texts=st.lists(_TEXT, max_size=4),
    reference=_TEXT,
    place=_TEXT,
    beneficiary=_TEXT,
    ident=_TEXT,
    supplier=_TEXT,
    delivery=st.integers(0, 99_999),
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
    reference: str,
    place: str,
    beneficiary: str,
    ident: str,
    supplier: str,
    delivery: int,
    line: int,
    straks: bool,
    form: G68Form,
) -> None:
    record = payment(
        sign=sign,
        paying_unit=unit,
        payment_date=day,
        amount=amount,
        texts=tuple(texts),
        posting_reference=reference,
        registration_place=place,
        beneficiary=beneficiary,
        payment_ident=ident,
    )
    head = header(form, supplier_id=supplier, delivery_number=delivery)
    expected = PaymentInstruction.from_g68(record, head, line, straks=straks).new_item()
    assert_same_item(received_item(record, head, line, straks=straks), expected, "ksd")


def test_a_payload_given_is_stored_as_it_is() -> None:
    item = received_item(payment(), header(G68Form.FAST), 2, straks=False)
    row = item_row(1, "ksd", item, "pending", 1, "t")
    assert row[9] == item.payload and item.data is None
