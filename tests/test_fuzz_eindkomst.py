"""Fuzzing eIndkomst's readers of SKAT's answers: the 7100 sum receipts, the error/advice file
(0001/0002/0003/9999) and the tax-card document.

:func:`decode_receipts` and :func:`parse_tax_cards` never raise: what they cannot read is a
finding; no finding shows a CPR number in clear.
"""

from __future__ import annotations

import datetime as dt
import io

from hypothesis import given

from tests.eik_helpers import build_bytes, report
from tests.fuzzkit import (
    FUZZ,
    PLANTED_CPR,
    assert_masked,
    finding_texts,
    fixed_mutations,
    xml_mutations,
)
from tests.test_eindkomst_advice import HAND_WRITTEN
from toekgw.formats.eindkomst import TaxCard, build_tax_cards, decode_receipts, parse_tax_cards
from toekgw.formats.eindkomst.advice import ERROR, ErrorReceipt, encode_advice_file
from toekgw.formats.eindkomst.codec import decode_records, encode_delivery
from toekgw.formats.eindkomst.records import SumReceipt
from toekgw.formats.eindkomst.taxcards import CardType

DAY = dt.date(2026, 11, 23)
SUMS = b"".join(
    encode_delivery(
        [
            SumReceipt("R000000000000001", DAY, "G", 5, 500_000, "+"),
            SumReceipt("R000000000000002", DAY, "A", 1, 100_000, "-"),
        ]
    )
)
ADVICE = b"".join(
    encode_advice_file(
        [ErrorReceipt(ERROR, 12, "03", "R000000000000001", "12345678", "001234",
                      "beløb for stort", "0101701234")]
    )
)  # fmt: skip
CARDS = build_tax_cards(
    [
        TaxCard("0101701234", CardType.MAIN, dt.date(2026, 1, 1), 38, deduction_month=450_050),
        TaxCard("0202801234", CardType.FREE, dt.date(2026, 1, 1), free_amount=100),
    ]
)


@FUZZ
@given(fixed_mutations(SUMS) | fixed_mutations(ADVICE) | fixed_mutations(HAND_WRITTEN))
def test_damaged_receipts_are_findings(data: bytes) -> None:
    receipts = decode_receipts(io.BytesIO(data))
    assert_masked(*finding_texts(receipts.findings))


# A delivery of income reports (what SKAT's simulator and the gateway's own checks decode),
# one recipient's CPR number the planted one.
DELIVERY = build_bytes(report(2))[0].replace(b"0101500000", PLANTED_CPR.encode())


@FUZZ
@given(fixed_mutations(DELIVERY) | fixed_mutations(SUMS))
def test_damaged_records_are_entries_with_findings(data: bytes) -> None:
    for entry in decode_records(io.BytesIO(data)):
        assert (entry.record is None) == bool(entry.findings)
        assert_masked(*finding_texts(entry.findings))


@FUZZ
@given(xml_mutations(CARDS))
def test_a_damaged_tax_card_document_is_findings(data: bytes) -> None:
    cards = parse_tax_cards(data)
    assert cards.ok or not cards.cards or cards.findings
    assert_masked(*finding_texts(cards.findings))


def test_a_card_with_a_date_python_cannot_hold_is_refused_alone() -> None:
    # Was ValueError out of parse_tax_cards: the whole document lost for one card.
    data = CARDS.replace(
        b"<GYLDIG_FRA>2026-01-01</GYLDIG_FRA>", b"<GYLDIG_FRA>-2026-01-01</GYLDIG_FRA>", 1
    )
    cards = parse_tax_cards(data)
    assert [c.cpr for c in cards.cards] == ["0202801234"]
    (finding,) = cards.findings
    assert (finding.code, finding.path) == (
        "eik.taxcard.value",
        "/SkattekortListe/Skattekort[1]/GYLDIG_FRA",
    )
    assert finding.expected == "a date YYYY-MM-DD in the years 0001-9999"


def test_a_card_date_with_a_zone_is_the_day_written() -> None:
    data = CARDS.replace(
        b"<GYLDIG_FRA>2026-01-01</GYLDIG_FRA>", b"<GYLDIG_FRA>2026-01-01+01:00</GYLDIG_FRA>"
    )
    assert [c.valid_from for c in parse_tax_cards(data).cards] == [dt.date(2026, 1, 1)] * 2
