"""The fixed-record engine: layout lint, fast and slow decoding, strict encoding, streaming."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toekgw.formats.findings import Severity
from toekgw.formats.fixed import (
    EncodeError,
    Field,
    Kind,
    Layout,
    LayoutError,
    compile_layout,
    iter_lines,
    write_lines,
)

SAMPLE = Layout(
    "REC1",
    60,
    [
        Field("rtype", 1, 4, Kind.LITERAL, literal="REC1"),
        Field("ident", 5, 8, Kind.DIGITS),
        Field("count", 13, 5, Kind.NUMBER),
        Field("amount", 18, 11, Kind.AMOUNT),
        Field("sign", 29, 1, Kind.SIGN),
        Field("when", 30, 8, Kind.DATE),
        Field("at", 38, 6, Kind.TIME, required=False),
        Field("code", 44, 2, Kind.CODE, codes=frozenset({"01", "10"})),
        Field("cpr", 46, 10, Kind.DIGITS, personal=True, required=False),
        Field("text", 56, 4, Kind.TEXT, forbidden="&!\\"),
        Field("filler", 60, 1, Kind.FILLER),
    ],
)
CODEC = compile_layout(SAMPLE, "test")
VALID = "REC1123456780004200000012345+20260131235959100101011234Årø  "


def test_valid_record_decodes_on_the_fast_path() -> None:
    assert len(VALID) == 60
    values = CODEC.decode(VALID)
    assert values == (
        "12345678",
        42,
        12345,
        "+",
        dt.date(2026, 1, 31),
        dt.time(23, 59, 59),
        "10",
        "0101011234",
        "Årø",
    )
    assert CODEC.names[0] == "ident"


def test_encode_is_the_inverse_of_decode() -> None:
    values = CODEC.decode(VALID)
    assert values is not None
    assert CODEC.encode(values) == VALID


def test_optional_fields_blank_decode_to_none() -> None:
    line = VALID[:37] + " " * 6 + VALID[43:45] + " " * 10 + VALID[55:]
    values = CODEC.decode(line)
    assert values is not None
    assert values[5] is None and values[7] is None
    assert CODEC.encode(values) == line


def test_every_bad_field_is_reported_with_columns_and_no_cpr_in_clear() -> None:
    line = "REC21234x67800042000000123A5*20260231246060073112999999a&b!x"
    values, findings = CODEC.decode_checked(line, 7)
    codes = {(f.field, f.code) for f in findings}
    assert codes == {
        ("rtype", "test.field.literal"),
        ("ident", "test.field.digits"),
        ("amount", "test.field.digits"),
        ("sign", "test.field.sign"),
        ("when", "test.field.date"),
        ("at", "test.field.time"),
        ("code", "test.field.code"),
        ("text", "test.field.chars"),
        ("filler", "test.field.filler"),
    }
    by_field = {f.field: f for f in findings}
    assert by_field["amount"].columns == (18, 28)
    assert by_field["amount"].line == 7
    assert by_field["when"].expected == "a valid calendar date"
    assert all(f.severity is Severity.ERROR for f in findings)
    # The valid count still decodes; the bad fields are None.
    assert values[1] == 42 and values[0] is None
    rendered = " ".join(str(f) for f in findings)
    assert "3112999999" not in rendered


def test_personal_field_is_masked_in_findings() -> None:
    line = VALID[:45] + "01010112A4" + VALID[55:]
    _, findings = CODEC.decode_checked(line, 1)
    assert len(findings) == 1
    assert findings[0].found == "010101-****"


def test_truncated_line_is_one_length_finding_not_a_traceback() -> None:
    _values, findings = CODEC.decode_checked(VALID[:30], 3)
    assert [f.code for f in findings] == ["test.record.length"]
    assert findings[0].expected == "60" and findings[0].found == "30"
    assert "truncated" in findings[0].message


def test_required_blank_text_is_a_finding() -> None:
    _, findings = CODEC.decode_checked(VALID[:55] + "    " + " ", 1)
    assert [(f.field, f.code) for f in findings] == [("text", "test.field.required")]


@pytest.mark.parametrize("pad", ["\xa0", "\x1c", "\t", "\x85"])
def test_an_optional_number_padded_otherwise_than_with_spaces_is_a_finding(pad: str) -> None:
    """Only spaces pad: a no-break space or a control character where an optional number
    or time is blank is a wrong character (it was read as blank, being whitespace to
    Python)."""
    line = VALID[:37] + pad + " " * 5 + VALID[43:45] + " " * 9 + pad + VALID[55:]
    values, findings = CODEC.decode_checked(line, 1)
    assert [(f.field, f.code) for f in findings] == [
        ("at", "test.field.time"),
        ("cpr", "test.field.digits"),
    ]
    assert values[5] is None and values[7] is None


def test_a_text_of_control_characters_is_a_finding_and_of_spaces_blank() -> None:
    """A text that is only whitespace reads as blank (a required one is a finding), but one
    holding a control character is refused for it, blank or not."""
    _, findings = CODEC.decode_checked(VALID[:55] + "\t\t  " + " ", 1)
    assert [(f.field, f.code) for f in findings] == [("text", "test.field.chars")]
    _, findings = CODEC.decode_checked(VALID[:55] + "\xa0\xa0  " + " ", 1)
    assert [(f.field, f.code) for f in findings] == [("text", "test.field.required")]


@pytest.mark.parametrize(
    ("values", "field", "reason"),
    [
        (("123456789", 1, 1, "+", dt.date(2026, 1, 1), None, "01", None, "x"), "ident", "fit"),
        (("12345678", 100000, 1, "+", dt.date(2026, 1, 1), None, "01", None, "x"), "count", "fit"),
        (
            ("12345678", 1, -5, "+", dt.date(2026, 1, 1), None, "01", None, "x"),
            "amount",
            "negative",
        ),
        (("12345678", 1, 1, "*", dt.date(2026, 1, 1), None, "01", None, "x"), "sign", "'+'"),
        (("12345678", 1, 1, "+", dt.date(2026, 1, 1), None, "99", None, "x"), "code", "not one of"),
        (
            ("12345678", 1, 1, "+", dt.date(2026, 1, 1), None, "01", None, "a&b"),
            "text",
            "forbidden",
        ),
        (("12345678", 1, 1, "+", dt.date(2026, 1, 1), None, "01", None, "toolong"), "text", "fit"),
        (("12345678", 1, 1, "+", dt.date(2026, 1, 1), None, "01", None, "€"), "text", "ISO-8859-1"),
        (("12345678", 1, 1, "+", "20260101", None, "01", None, "x"), "when", "date"),
        (("12345678", 1, 1, "+", dt.date(2026, 1, 1), None, "01", None, None), "text", "required"),
    ],
)
def test_encoder_refuses_what_does_not_fit(
    values: tuple[object, ...], field: str, reason: str
) -> None:
    with pytest.raises(EncodeError) as err:
        CODEC.encode(values)
    assert err.value.field == field
    assert reason in str(err.value)


def test_encoder_never_prints_a_cpr_that_does_not_fit() -> None:
    values = ("12345678", 1, 1, "+", dt.date(2026, 1, 1), None, "01", "01010112345", "x")
    with pytest.raises(EncodeError) as err:
        CODEC.encode(values)
    assert "01010112345" not in str(err.value)


def test_layout_lint_reports_every_problem() -> None:
    with pytest.raises(LayoutError) as err:
        Layout(
            "BAD",
            20,
            [
                Field("a", 1, 4, Kind.TEXT),
                Field("b", 4, 3, Kind.DIGITS),  # overlaps a
                Field("c", 10, 2, Kind.DATE),  # gap 7-9, and a date is 8 long
                Field("a", 12, 1, Kind.SIGN),  # name used twice
            ],
        )
    problems = err.value.problems
    assert any("overlaps" in p for p in problems)
    assert any("gap at columns 7-9" in p for p in problems)
    assert any("DATE is 8" in p for p in problems)
    assert any("used twice" in p for p in problems)
    assert any("record length is 20" in p for p in problems)


def test_stream_reads_crlf_lf_and_an_unterminated_last_line() -> None:
    data = "første\r\nanden\nsidste".encode("iso-8859-1")
    lines = list(iter_lines(io.BytesIO(data)))
    assert [(n.number, n.text, n.terminated) for n in lines] == [
        (1, "første", True),
        (2, "anden", True),
        (3, "sidste", False),
    ]
    assert b"".join(write_lines(["a", "ø"])) == b"a\r\n\xf8\r\n"


text_value = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="&!\\\x7f"),
    min_size=1,
    max_size=4,
).filter(lambda s: s.strip() == s and s != "")


@given(
    ident=st.from_regex(r"[0-9]{8}", fullmatch=True),
    count=st.integers(0, 99999),
    amount=st.integers(0, 10**11 - 1),
    sign=st.sampled_from("+-"),
    when=st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31)),
    at=st.none() | st.times().map(lambda t: t.replace(microsecond=0)),
    code=st.sampled_from(["01", "10"]),
    cpr=st.none() | st.from_regex(r"[0-9]{10}", fullmatch=True),
    text=text_value,
)
def test_roundtrip_property(
    ident: str,
    count: int,
    amount: int,
    sign: str,
    when: dt.date,
    at: dt.time | None,
    code: str,
    cpr: str | None,
    text: str,
) -> None:
    values = (ident, count, amount, sign, when, at, code, cpr, text)
    line = CODEC.encode(values)
    assert len(line) == SAMPLE.length
    assert CODEC.decode(line) == values


def test_required_sign_with_blank_sign_reads_blank_on_the_slow_path_too() -> None:
    layout = Layout(
        "SGN",
        6,
        [
            Field("n", 1, 5, Kind.NUMBER),
            Field("sign", 6, 1, Kind.SIGN, blank_sign="+"),
        ],
    )
    codec = compile_layout(layout, "t")
    assert codec.decode("00012 ") == (12, "+")
    # Another field is bad, so the slow path runs: the blank sign is still no finding.
    values, findings = codec.decode_checked("0001x ", 4)
    assert [f.field for f in findings] == ["n"]
    assert values == (None, "+")


@given(
    ident=st.from_regex(r"[0-9]{1,8}", fullmatch=True),
    count=st.integers(0, 99999),
    amount=st.integers(0, 10**11 - 1),
    sign=st.sampled_from("+-"),
    when=st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31)),
    at=st.none() | st.times().map(lambda t: t.replace(microsecond=0)),
    code=st.sampled_from(["01", "10"]),
    cpr=st.none() | st.from_regex(r"[0-9]{10}", fullmatch=True),
    text=st.text(st.characters(min_codepoint=32, max_codepoint=255), min_size=1, max_size=4),
)
def test_fast_encoder_agrees_with_the_full_formatters(
    ident: str,
    count: int,
    amount: int,
    sign: str,
    when: dt.date,
    at: dt.time | None,
    code: str,
    cpr: str | None,
    text: str,
) -> None:
    values = (ident, count, amount, sign, when, at, code, cpr, text)
    try:
        expected: str | None = CODEC.encode_full(values)
    except EncodeError:
        expected = None
    if expected is None:
        with pytest.raises(EncodeError):
            CODEC.encode(values)
    else:
        assert CODEC.encode(values) == expected


def test_fast_encoder_pads_optional_blanks() -> None:
    values = ("1", 0, 0, "-", dt.date(2026, 1, 1), None, "01", None, "a")
    assert CODEC.encode(values) == CODEC.encode_full(values)
    assert CODEC.encode(values)[37:43] == " " * 6


def test_field_source_defaults_to_the_layout_and_is_linted() -> None:
    layout = Layout(
        "SRC",
        3,
        [Field("a", 1, 2, Kind.DIGITS), Field("b", 3, 1, Kind.TEXT, source="ours")],
        source="confirmed",
    )
    assert layout.field_source("a") == "confirmed"
    assert layout.field_source("b") == "ours"
    with pytest.raises(LayoutError) as err:
        Layout("BAD", 1, [Field("a", 1, 1, Kind.TEXT, source="guess")])
    assert err.value.problems == ("a: source 'guess' is not one of confirmed, public-impl, ours",)
