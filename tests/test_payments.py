"""The payment payload shared by the G68 receiver and the NemKonto sender."""

from __future__ import annotations

import datetime as dt

from toekgw.adapters.g68 import FINAL_STATES, PAYMENT_ITEM, PaymentInstruction
from toekgw.formats.g68 import G68Form, G68Header, G68Payment

HEADER = G68Header("12345678", dt.date(2026, 11, 23), dt.time(8, 0), 17, G68Form.FAST)


def payment(sign: str = "+") -> G68Payment:
    return G68Payment(
        "101", 3, "01", "1234", "01", "000000000000004711", 123456, sign, "02",
        "00000101011234", dt.date(2026, 11, 30), "REF-1", ("Kontanthjælp", "", "november"),
    )  # fmt: skip


def test_payload_round_trips_through_json_data() -> None:
    instr = PaymentInstruction.from_g68(payment(), HEADER, 4, straks=False)
    assert PaymentInstruction.from_data(instr.to_data()) == instr
    assert instr.business_key == "12345678:000000000000004711"
    assert instr.municipality == "101" and instr.amount_ore == 123456


def test_a_recall_is_its_own_item_and_fingerprint() -> None:
    pay = PaymentInstruction.from_g68(payment(), HEADER, 4, straks=False)
    recall = PaymentInstruction.from_g68(payment("-"), HEADER, 5, straks=False)
    assert recall.recall and recall.business_key == "12345678:000000000000004711:recall:17:5"
    assert recall.fingerprint != pay.fingerprint


def test_lifecycle_final_states() -> None:
    assert {"at-bank", "rejected", "recalled", "stopped", "bank-error"} <= FINAL_STATES
    assert "pending" not in FINAL_STATES and "sent" not in FINAL_STATES
    assert PAYMENT_ITEM.allows("sent", "pending")  # answer 0 returns the bundle
    assert not PAYMENT_ITEM.allows("released", "recalled")  # too late to recall
