"""G68 codec: both forms read and written, as typed records (property tests with hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.g68_helpers import delivery_lines, payment
from toekgw.formats.fixed import EncodeError
from toekgw.formats.g68 import (
    FAST,
    FLOATING,
    G68Delivery,
    G68Form,
    G68Header,
    G68Payment,
    G68Trailer,
    decode_delivery,
    decode_header,
    decode_trailer,
    encode_delivery,
    encode_header,
    encode_trailer,
)
from toekgw.formats.g68.layouts import G68_FAST, IDENT_CODES, SLUTD_FAST, Z300_FAST


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


def text(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    # ISO-8859-1 without control characters and without & ! \ ; as decoded: no trailing blank.
    chars = st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="&!\\\x7f")
    return st.text(chars, min_size=min_size, max_size=max_size).map(str.rstrip)


def text_lines(most: int) -> st.SearchStrategy[tuple[str, ...]]:
    # A skipped line is "", but the last one is never empty (that is how both forms read).
    return st.lists(text(0, 81), max_size=most).map(
        lambda xs: tuple(xs[: max((i + 1 for i, x in enumerate(xs) if x), default=0)])
    )


dates = st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31))


@st.composite
def payments(draw: st.DrawFn, most_texts: int = 2) -> G68Payment:
    return G68Payment(
        registration_place=draw(digits(3)),
        sequence=draw(st.integers(0, 99_999)),
        transaction_type=draw(st.sampled_from(["01", "10"])),
        paying_unit=draw(st.none() | digits(4)),
        organisation_type=draw(st.none() | digits(2)),
        payment_ident=draw(digits(18)),
        amount=draw(st.integers(0, 10**11 - 1)),
        sign=draw(st.sampled_from("+-")),
        ident_code=draw(st.sampled_from(sorted(IDENT_CODES))),
        beneficiary=draw(digits(14)),
        payment_date=draw(st.none() | dates),
        posting_reference=draw(text(1, 20).filter(bool)),
        texts=draw(text_lines(most_texts)),
    )


headers = st.builds(
    G68Header,
    supplier_id=digits(8),
    created_date=dates,
    created_time=st.times().map(lambda t: t.replace(microsecond=0)),
    delivery_number=st.integers(0, 99_999),
    form=st.sampled_from(G68Form),
)


@given(payments())
def test_fast_roundtrip(p: G68Payment) -> None:
    line = FAST.encode(p)
    assert len(line) == 256
    assert FAST.decode(line) == p


@given(payments(most_texts=36))
def test_floating_roundtrip(p: G68Payment) -> None:
    line = FLOATING.encode(p)
    assert FLOATING.decode(line) == p
    # The slow path reads the same payment, with nothing to find.
    q, _values, findings = FLOATING.diagnose(line, 2)
    assert findings == [] and q == p


@given(headers, st.integers(0, 9_999_999), st.integers(-(10**15) + 1, 10**15 - 1))
def test_start_and_end_records_roundtrip(h: G68Header, count: int, net: int) -> None:
    assert decode_header(encode_header(h), h.form) == (h, [])
    t = G68Trailer(h.supplier_id, count, net)
    assert decode_trailer(encode_trailer(t, h.form), h.form, 9) == (t, [])


@settings(max_examples=40)
@given(headers, st.lists(payments(), max_size=8))
def test_delivery_roundtrip_and_both_forms_agree(h: G68Header, ps: list[G68Payment]) -> None:
    decoded = {}
    for form in G68Form:
        d = G68Delivery(G68Header(**{**_fields(h), "form": form}), ps)
        lines = list(encode_delivery(d))
        back = decode_delivery(lines)
        assert back.header == d.header
        assert back.payments == ps
        assert back.trailer == d.control_trailer()
        decoded[form] = back.payments
    assert decoded[G68Form.FLOATING] == decoded[G68Form.FAST]


def _fields(h: G68Header) -> dict[str, object]:
    return {k: getattr(h, k) for k in G68Header.__dataclass_fields__}


def test_layouts_are_linted_and_padded() -> None:
    assert G68_FAST.length == Z300_FAST.length == SLUTD_FAST.length == 256
    assert G68_FAST.source == "ours"


def test_letter_aliases_are_read_and_digits_written() -> None:
    p = payment(ident_code="11", beneficiary="00000013585628")
    fast = FAST.encode(p)
    assert fast[50:52] == "11"
    aliased = fast[:50] + "C " + fast[52:]
    assert FAST.decode(aliased) == p
    floating = FLOATING.encode(p)
    assert "&1011" in floating
    assert FLOATING.decode(floating.replace("&1011", "&10C")) == p
    q = payment(ident_code="12", beneficiary="00001234567890")
    assert FLOATING.decode(FLOATING.encode(q).replace("&1012", "&10E")) == q


def test_floating_text_lines_keep_their_numbers() -> None:
    p = payment(texts=("første", "", "tredje"))
    line = FLOATING.encode(p)
    assert line.endswith("&40første&42tredje")
    assert FLOATING.decode(line) == p


def test_fast_form_refuses_more_than_two_text_lines() -> None:
    with pytest.raises(EncodeError, match="2 text lines"):
        FAST.encode(payment(texts=("a", "b", "c")))


def test_encoder_refuses_forbidden_characters_and_overlong_values() -> None:
    for form in (FAST, FLOATING):
        with pytest.raises(EncodeError, match="forbidden"):
            form.encode(payment(texts=("50 & 50",)))
        with pytest.raises(EncodeError, match="does not fit"):
            form.encode(payment(posting_reference="x" * 21))


def test_decode_delivery_is_strict() -> None:
    lines = delivery_lines(G68Form.FAST, [payment(1), payment(2)])
    lines[1] = lines[1][:40] + "X" + lines[1][41:]
    with pytest.raises(ValueError, match="line 2"):
        decode_delivery(lines)
