"""Fuzzing G68 deliveries as bytes: both forms, read record by record (the receiver's way,
``on_payments``) and block-wise as columns (``toekgw validate``'s way).

Reading never raises: the result has the findings (each record's alone, the delivery's as a
whole), the two ways agree, and no finding shows a CPR number in clear.
"""

from __future__ import annotations

import io

from hypothesis import given

from tests.fuzzkit import FUZZ, assert_masked, finding_texts, fixed_mutations
from tests.g68_helpers import CONFIG, delivery_lines, payment
from toekgw.adapters.g68 import read_delivery
from toekgw.formats.g68 import G68Form, PaymentEntry


def _delivery(form: G68Form) -> bytes:
    payments = [
        payment(1),
        payment(2, beneficiary="00000101701234", texts=("Tekst 0101701234", "to")),
        payment(3, ident_code="01", beneficiary="00000013585628", texts=()),
    ]
    return ("\r\n".join(delivery_lines(form, payments)) + "\r\n").encode("iso-8859-1")


FLOATING = _delivery(G68Form.FLOATING)
FAST = _delivery(G68Form.FAST)


@FUZZ
@given(fixed_mutations(FLOATING) | fixed_mutations(FAST))
def test_a_damaged_delivery_is_findings_the_same_both_ways(data: bytes) -> None:
    entries: list[PaymentEntry] = []
    one_by_one = read_delivery(io.BytesIO(data), CONFIG, name="G68.txt", on_payments=entries.extend)
    columns = read_delivery(io.BytesIO(data), CONFIG, name="G68.txt")
    assert [(f.line, f.code) for f in one_by_one.findings] == [
        (f.line, f.code) for f in columns.findings
    ]
    assert one_by_one.refused == columns.refused
    assert_masked(*finding_texts(one_by_one.findings))
    for entry in entries:
        assert_masked(*finding_texts(entry.findings))
