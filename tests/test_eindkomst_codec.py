"""eIndkomst layouts and codec: tables in step with the typed records, round trips."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.eik_helpers import cpr
from toekgw.formats.eindkomst.codec import (
    decode_line,
    decode_records,
    encode_delivery,
    encode_record,
)
from toekgw.formats.eindkomst.fieldnumbers import FIELDS, ValueKind
from toekgw.formats.eindkomst.layouts import (
    ADVICE_LAYOUTS,
    CODECS,
    LAYOUTS,
    RECEIPT_TYPES,
    REPORT_TYPES,
)
from toekgw.formats.eindkomst.records import (
    AmountField,
    RecipientRecord,
    Record,
    Reversal,
    record_class,
)
from toekgw.formats.fixed import Field, Kind


def test_every_record_type_has_a_layout_and_a_typed_record_in_step() -> None:
    assert set(LAYOUTS) == set(REPORT_TYPES) | set(RECEIPT_TYPES)
    for rtype, layout in LAYOUTS.items():
        names = tuple(f.name for f in fields(record_class(rtype)))
        assert CODECS[rtype].names == ("line", *names), rtype
        assert layout.source in ("confirmed", "public-impl", "ours")
        assert layout.fields[0].start == 1 and layout.fields[0].length == 7
        assert layout.fields[1].literal == rtype and layout.fields[1].start == 8


def test_documented_lengths() -> None:
    lengths = {k: v.length for k, v in LAYOUTS.items()}
    assert lengths == {
        "1000": 142,
        "2001": 39,
        "2101": 144,
        "3101": 82,
        "4101": 55,
        "5000": 75,
        "6000": 95,
        "6001": 32,
        "6002": 25,
        "6003": 16,
        "6004": 73,
        "6005": 24,
        "8001": 146,
        "9999": 18,
        "7100": 60,
    }
    assert {k: layout.length for k, layout in ADVICE_LAYOUTS.items()} == dict.fromkeys(
        ("0001", "0002", "0003", "9999"), 361
    )


def test_field_sources_follow_the_format_facts() -> None:
    assert all(LAYOUTS[t].field_source("line") == "confirmed" for t in LAYOUTS)
    assert LAYOUTS["6000"].field_source("cpr") == "confirmed"
    assert LAYOUTS["6000"].field_source("tin") == "public-impl"
    assert LAYOUTS["5000"].field_source("income_type") == "confirmed"
    assert LAYOUTS["5000"].field_source("report_id") == "public-impl"
    assert LAYOUTS["6001"].field_source("amount") == "public-impl"
    assert LAYOUTS["3101"].field_source("amount") == "public-impl"
    assert LAYOUTS["6001"].field_source("field_number") == "public-impl"
    assert LAYOUTS["7100"].field_source("amount_sum") == "ours"
    assert "7200" not in LAYOUTS  # retired: SKAT's error/advice file replaced it
    assert ADVICE_LAYOUTS["0002"].field_source("cpr") == "public-impl"
    assert ADVICE_LAYOUTS["0001"].field_source("rest") == "ours"


def test_field_number_table_points_at_sub_record_types() -> None:
    assert FIELDS["0013"].kind is ValueKind.AMOUNT
    assert FIELDS["0045"].kind is ValueKind.CODE
    assert FIELDS["0200"].kind is ValueKind.COUNT
    assert FIELDS["0047"].source == "public-impl"
    assert {d.kind.record_type for d in FIELDS.values()} <= set(REPORT_TYPES)


def test_blank_sign_reads_as_plus() -> None:
    line = encode_record(AmountField("0013", 500, "+"), 3)[:-1] + " "
    entry = decode_line(line, 3)
    assert entry.record == AmountField("0013", 500, "+")


def test_unknown_type_and_bad_record_are_findings_with_masked_cpr() -> None:
    bad = encode_record(RecipientRecord("0101801234", None, None, None, None, None, None), 1)
    bad = bad[:25] + "x" + bad[26:]
    entry = decode_line(bad, 1)
    assert entry.record is None
    assert [f.code for f in entry.findings] == ["eik.field.digits"]
    assert "0101801" not in str(entry.findings)
    entry = decode_line("0000001ABCD", 1)
    assert [f.code for f in entry.findings] == ["eik.record.type"]


# -- property tests: decode(encode(x)) == x -----------------------------------------------------

_TEXT_CHARS = st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f")


def _value(f: Field) -> st.SearchStrategy[Any]:
    n = f.length
    s: st.SearchStrategy[Any]
    if f.kind is Kind.DIGITS:
        s = st.from_regex(rf"[0-9]{{{n}}}", fullmatch=True)
    elif f.kind in (Kind.NUMBER, Kind.AMOUNT):
        s = st.integers(0, 10**n // f.scale - 1)
    elif f.kind is Kind.DATE:
        s = st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31))
    elif f.kind is Kind.TIME:
        s = st.times().map(lambda t: t.replace(microsecond=0))
    elif f.kind is Kind.SIGN:
        s = st.sampled_from("+-")
    elif f.kind is Kind.CODE:
        assert f.codes is not None
        s = st.sampled_from(sorted(f.codes))
    else:
        s = st.text(_TEXT_CHARS, min_size=1, max_size=n).filter(lambda t: t.rstrip() == t)
    return s if f.required else st.none() | s


def record_strategy(rtype: str) -> st.SearchStrategy[Record]:
    cls = record_class(rtype)
    value_fields = CODECS[rtype].fields[1:]
    return st.tuples(*(_value(f) for f in value_fields)).map(lambda v: cls(*v))


@pytest.mark.parametrize("rtype", sorted(LAYOUTS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_roundtrip_per_record_type(rtype: str, data: st.DataObject) -> None:
    record = data.draw(record_strategy(rtype))
    number = data.draw(st.integers(1, 9_999_999))
    line = encode_record(record, number)
    assert len(line) == LAYOUTS[rtype].length
    entry = decode_line(line, 1)
    assert entry.findings == []
    assert entry.number == number
    assert entry.record == record


@settings(max_examples=30, deadline=None)
@given(st.lists(st.one_of(*(record_strategy(t) for t in sorted(LAYOUTS))), max_size=30))
def test_roundtrip_whole_delivery(records: list[Record]) -> None:
    data = b"".join(encode_delivery(records))
    entries = list(decode_records(data.splitlines(keepends=True)))
    assert [e.record for e in entries] == records
    assert [e.number for e in entries] == list(range(1, len(records) + 1))
    assert all(not e.findings for e in entries)


def test_an_amount_as_skat_writes_it() -> None:
    """1,234.50 kr is ``0000001234500000+``: 10 integer digits, 6 decimals, the sign (two
    public implementations agree); a hand-written line, not one of ours."""
    line = "0000017" + "6001" + "0013" + "0000001234500000" + "+"
    (entry,) = decode_records([line.encode("iso-8859-1") + b"\r\n"])
    assert entry.findings == [] and isinstance(entry.record, AmountField)
    assert entry.record.amount == 123_450 and entry.record.sign == "+"
    (again,) = encode_delivery([entry.record])
    assert again.decode("iso-8859-1").rstrip("\r\n")[11:] == line[11:]


def test_an_amount_more_precise_than_ore_is_a_finding() -> None:
    line = "0000017" + "6001" + "0013" + "0000001234501000" + "-"
    (entry,) = decode_records([line.encode("iso-8859-1") + b"\r\n"])
    assert [f.code for f in entry.findings] == ["eik.field.precision"]
    assert entry.findings[0].columns == (16, 31)


def test_a_reversal_as_the_public_implementations_write_it() -> None:
    """4101 45/1 "Tilbagefør SE": J the whole report at SE level, N for the CPR at 46."""
    report = "0123456789ABCDEF"
    whole = "0000005" + "4101" + report + " " * 16 + " " + "J" + " " * 10
    one = "0000006" + "4101" + report + " " * 16 + " " + "N" + cpr(7)
    entries = list(decode_records([(line + "\r\n").encode("iso-8859-1") for line in (whole, one)]))
    assert [e.findings for e in entries] == [[], []]
    first, second = (e.record for e in entries)
    assert isinstance(first, Reversal) and (first.se_level, first.cpr) == ("J", None)
    assert isinstance(second, Reversal) and (second.se_level, second.cpr) == ("N", cpr(7))
