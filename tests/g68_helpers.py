"""Shared builders for the G68 tests: a valid payment, a delivery's lines, a validation; and
the check that a payment item built straight is its instruction's."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import replace
from typing import Any

from toekgw.adapters.g68 import G68Config, G68Validation, read_delivery
from toekgw.formats.g68 import G68Delivery, G68Form, G68Header, G68Payment, encode_delivery
from toekgw.gateway.journal import NewItem
from toekgw.gateway.journal._item_rows import item_row

TODAY = dt.date(2026, 11, 23)
CONFIG = G68Config(today=TODAY)
CPR = "00000101851234"  # 010185-1234: a valid birth date
CVR = "00000013585628"  # passes mod-11


def payment(seq: int = 1, **changes: Any) -> G68Payment:
    p = G68Payment(
        registration_place="101",
        sequence=seq,
        transaction_type="01",
        paying_unit="4410",
        organisation_type="01",
        payment_ident=f"{seq:018d}",
        amount=123_45,
        sign="+",
        ident_code="02",
        beneficiary=CPR,
        payment_date=TODAY + dt.timedelta(days=2),
        posting_reference=f"KSD-{seq:06d}",
        texts=("Kontanthjælp november 2026",),
    )
    return replace(p, **changes)


def header(form: G68Form, **changes: Any) -> G68Header:
    h = G68Header("29189846", TODAY, dt.time(6, 30, 0), 17, form)
    return replace(h, **changes)


def delivery_lines(form: G68Form, payments: list[G68Payment]) -> list[str]:
    return list(encode_delivery(G68Delivery(header(form), payments)))


def validate_lines(
    lines: list[str], config: G68Config = CONFIG, *, end: str = "\r\n"
) -> G68Validation:
    data = ("\r\n".join(lines) + end).encode("iso-8859-1")
    return read_delivery(io.BytesIO(data), config, name="test.g68")


def codes(result: G68Validation) -> list[tuple[int | None, str]]:
    return [(f.line, f.code) for f in result.findings]


def assert_same_item(got: NewItem, expected: NewItem, counterpart: str) -> None:
    """``got`` (built straight, its payload as text) is ``expected`` (a payment instruction's
    item, its payload as data): the same fields, and the same journal row, byte for byte."""
    # the payload as journaled: the journal's encoder's text of the instruction's data
    assert got.payload == json.dumps(expected.data, ensure_ascii=False)
    assert json.loads(got.payload) == expected.data
    assert replace(got, payload=None, data=expected.data) == expected
    # the journal rows (every column) the two make are the same
    rest = ("pending", 11, "2026-12-04T00:00:00Z")
    assert item_row(7, counterpart, got, *rest) == item_row(7, counterpart, expected, *rest)
