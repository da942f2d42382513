"""Engine extensions used by G68: a decoder into a typed record, and encoding one field."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toekgw.formats.fixed import EncodeError, Field, Kind, Layout, compile_layout

LAYOUT = Layout(
    "R",
    40,
    [
        Field("ident", 1, 6, Kind.DIGITS),
        Field("unit", 7, 4, Kind.DIGITS, required=False),
        Field("amount", 11, 9, Kind.AMOUNT),
        Field("when", 20, 8, Kind.DATE, required=False),
        Field("code", 28, 2, Kind.CODE, codes=frozenset({"A", "BB"})),
        Field("text", 30, 10, Kind.TEXT, required=False, forbidden="&"),
        Field("filler", 40, 1, Kind.FILLER),
    ],
)
CODEC = compile_layout(LAYOUT, "t")


@dataclass(slots=True)
class Rec:
    ident: str
    unit: str | None
    amount: int
    when: dt.date | None
    code: str
    text: str | None


decode_rec = CODEC.decoder(Rec)


@given(
    ident=st.from_regex(r"[0-9]{6}", fullmatch=True),
    unit=st.none() | st.from_regex(r"[0-9]{4}", fullmatch=True),
    amount=st.integers(0, 10**9 - 1),
    when=st.none() | st.dates(dt.date(1000, 1, 1)),
    code=st.sampled_from(["A", "BB"]),
    text=st.none() | st.text("abcæøå XY", min_size=1, max_size=10).map(str.rstrip).filter(bool),
)
def test_decoder_builds_the_record_the_tuple_decoder_describes(
    ident: str,
    unit: str | None,
    amount: int,
    when: dt.date | None,
    code: str,
    text: str | None,
) -> None:
    line = CODEC.encode((ident, unit, amount, when, code, text))
    values = CODEC.decode(line)
    assert values is not None and decode_rec(line) == Rec(*values)
    assert decode_rec(line) == Rec(ident, unit, amount, when, code, text)


def test_decoder_says_none_for_an_invalid_record() -> None:
    line = CODEC.encode(("123456", None, 5, dt.date(2026, 1, 31), "A", "x"))
    assert decode_rec(line[:10] + "00000000X" + line[19:]) is None
    assert decode_rec(line[:19] + "20260231" + line[27:]) is None  # not a calendar date
    assert decode_rec(line[:29] + "a&b       " + line[39:]) is None


def test_encode_field() -> None:
    assert CODEC.encode_field("amount", 42) == "000000042"
    assert CODEC.encode_field("text", "æø") == "æø        "
    with pytest.raises(EncodeError, match="forbidden"):
        CODEC.encode_field("text", "a&b")
    with pytest.raises(EncodeError, match="no such field"):
        CODEC.encode_field("nope", 1)
