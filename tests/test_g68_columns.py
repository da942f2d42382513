"""The column-wise validator against the exact one.

``DeliveryScan.check_stream`` (columns, a block at a time) must give exactly what
``scan_stream`` (one record at a time, the exact path) gives: the same findings in the same
order and the same totals, on any input. And a row the columns call clean must be one the
exact path finds nothing in, with the same values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.g68_helpers import CONFIG, CPR, CVR, TODAY, delivery_lines, payment
from toekgw.formats.dates import ymd
from toekgw.formats.g68 import (
    FAST,
    DeliveryScan,
    G68Config,
    G68Form,
    G68Payment,
    PaymentKey,
    payment_codec,
)
from toekgw.formats.g68.columns import Screen, ScreenRules, split_lines
from toekgw.formats.g68.layouts import G68_FAST, TAGS
from toekgw.formats.g68.rules import duplicate_key, payment_checker
from toekgw.simulators.ksd import GeneratorSettings, generate_lines

FORMS = [G68Form.FAST, G68Form.FLOATING]


def _outcome(scan: DeliveryScan) -> dict[str, Any]:
    r = scan.result()
    return {
        "findings": [dataclasses.astuple(f) for f in r.findings],
        "refused": r.refused,
        "refusal": r.refusal,
        "is_straks": r.is_straks,
        "count": r.count,
        "recalls": r.recalls,
        "net_sum": r.net_sum,
        "sum_verified": r.sum_verified,
        "payments_with_errors": r.payments_with_errors,
    }


def both_ways(
    data: bytes, config: G68Config = CONFIG, block_size: int = 1 << 22
) -> tuple[dict[str, Any], dict[str, Any], list[int], list[int]]:
    exact = DeliveryScan(config, "d.g68")
    exact_lines = [e.line for e in exact.scan_stream(io.BytesIO(data)) if e.findings]
    columns = DeliveryScan(config, "d.g68")
    column_lines = [e.line for e in columns.check_stream(io.BytesIO(data), block_size=block_size)]
    return _outcome(exact), _outcome(columns), exact_lines, column_lines


def assert_same(data: bytes, config: G68Config = CONFIG, block_size: int = 1 << 22) -> None:
    exact, columns, exact_lines, column_lines = both_ways(data, config, block_size)
    assert columns == exact
    # check_stream hands out exactly the records with findings
    assert column_lines == exact_lines


def _encode(lines: list[str], end: str = "\r\n", last_end: bool = True) -> bytes:
    text = end.join(lines) + (end if last_end else "")
    return text.encode("iso-8859-1")


# --- generated deliveries with planted errors ------------------------------------------------


def test_planted_errors_found_alike_in_both_forms() -> None:
    for form in FORMS:
        for seed in (1, 2, 3):
            s = GeneratorSettings(count=400, seed=seed, form=form, today=TODAY, error_rate=0.2)
            lines = list(generate_lines(s))
            data = _encode(lines)
            exact, columns, _, _ = both_ways(data)
            assert columns == exact
            assert exact["findings"], "the planted errors are found"
            # and across block boundaries that cut lines anywhere
            assert_same(data, block_size=997)


def test_clean_generated_delivery_is_clean_and_straks_alike() -> None:
    for form in FORMS:
        s = GeneratorSettings(count=300, seed=9, form=form, today=TODAY)
        data = _encode(list(generate_lines(s)))
        exact, columns, _, _ = both_ways(data)
        assert columns == exact
        assert not exact["findings"] and exact["count"] == 300


def test_straks_delivery() -> None:
    for form in FORMS:
        ps = [payment(i, payment_date=TODAY) for i in range(1, 6)]
        data = _encode(delivery_lines(form, ps))
        exact, columns, _, _ = both_ways(data)
        assert columns == exact and columns["is_straks"]


def test_duplicates_and_sequence_slips_across_blocks() -> None:
    for form in FORMS:
        ps = [payment(i) for i in range(1, 60)]
        ps[40] = dataclasses.replace(ps[3], sequence=41)  # same payment as line 5
        ps[50] = dataclasses.replace(ps[50], sequence=77)  # a slip
        data = _encode(delivery_lines(form, ps))
        for block_size in (64, 300, 1 << 20):
            assert_same(data, block_size=block_size)
        _, columns, _, _ = both_ways(data)
        codes = [f[0] for f in columns["findings"]]
        assert "g68.payment.duplicate" in codes and "g68.sequence" in codes


def _seen_before(ident: str) -> Any:
    def look_up(key: PaymentKey) -> str | None:
        return "delivery 7, line 4" if key[1] == ident else None

    return look_up


def test_recall_lookups_and_journal_lookups_alike() -> None:
    known = {f"{i:018d}" for i in range(1, 5)}
    for form in FORMS:
        ps = [payment(i, sign="-" if i % 3 == 0 else "+") for i in range(1, 12)]
        data = _encode(delivery_lines(form, ps))
        assert_same(data)
        assert_same(data, dataclasses.replace(CONFIG, recall_known=known.__contains__))
        config = G68Config(today=TODAY, earlier_payment=_seen_before(ps[2].payment_ident))
        assert_same(data, config)


def test_unterminated_last_line_and_lf_only() -> None:
    for form in FORMS:
        lines = delivery_lines(form, [payment(i) for i in range(1, 4)])
        for block_size in (1, 7):  # lines read in many pieces
            assert_same(_encode(lines), block_size=block_size)
            assert_same(_encode(lines, last_end=False), block_size=block_size)
        assert_same(_encode(lines, end="\n"))
        assert_same(_encode(lines, last_end=False))
        assert_same(_encode(lines[:-1], last_end=False))  # truncated: no SLUTD
        assert_same(b"")
        assert_same(_encode(lines[1:]))  # no Z300


@pytest.mark.parametrize("form", FORMS)
def test_latin1_signs_are_clean_and_utf8_sequences_go_the_exact_way(form: G68Form) -> None:
    # '§ 34' and '½' are ISO-8859-1 text; 'Ã§' is UTF-8 for 'ç' and the \x96 a Windows-1252
    # dash: those two the exact path warns of (g68.text.encoding).
    texts = [("Særlig støtte § 34",), ("½ takst",), ("Ã§a",), ("\x96 tillæg",)]
    ps = [payment(n, texts=t) for n, t in enumerate(texts, start=1)]
    data = _encode(delivery_lines(form, ps))
    lines = split_lines(np.frombuffer(data, np.uint8))
    columns = Screen(ScreenRules.of(CONFIG, form))(lines)
    assert columns.clean[1:5].tolist() == [True, True, False, False]
    assert both_ways(data)[2] == [4, 5]  # the lines the exact path hands out: the two warned
    assert_same(data)


# --- any input: mutations of valid deliveries ----------------------------------------------

_BYTES = "0123456789 &!\\\r\x00\x7fæ\xa0\x85+-CE" + "AZ§Ã\xc2½"
# Raw values written over a field, past what the encoder allows.
_RAW = {
    "payment_date": ["20261131", "20270229", "20280229", "00001201", "20261301", "20261100"],
    "posting_reference": ["", " ", "\xa0\x85", "x", "§ 34", "Ã§", "Ã", "\xc2\xa0", "æ½"],
    "paying_unit": ["    ", "44 0"],
    "organisation_type": ["  ", "0 ", "x1"],
    "ident_code": ["C", "E", "1", "C ", "E1", "11"],
    "beneficiary": [
        "00011234567890",  # too many significant digits for a CPR or a P-number
        "0000010185123:",
        "00000101851 34",
        "000001018A1234",
        "00001234567890",
        "00000013585628",
        "00000101851234",
    ],
}


def _overwrite(line: str, form: G68Form, name: str, raw: str) -> str:
    if form is G68Form.FAST:
        f = G68_FAST.by_name[name]
        return line[: f.start - 1] + raw.ljust(f.length)[: f.length] + line[f.end :]
    tag = next(f"&{t:02d}" for t, f in TAGS.items() if f.name == name)
    at = line.find(tag)
    if at < 0:
        return line
    stop = line.find("&", at + 3)
    return line[: at + 3] + raw + (line[stop:] if stop >= 0 else "")


_MUTATIONS = ["set", "set", "delete", "insert", "copy", "alias", "raw", "raw", "raw", "tags", "gap"]


def _reorder(line: str, how: str) -> str:
    """Floating tags moved about: two swapped, one repeated."""
    head, *tags = line.split("&")
    if len(tags) < 2:
        return line
    if how == "swap":
        tags[-1], tags[-2] = tags[-2], tags[-1]
    else:
        tags.append(tags[-1])
    return "&".join([head, *tags])


_DAGPENGE_UNIT = sorted(CONFIG.dagpenge_units)[0]


_VALID_IDENTS = [("02", CPR), ("11", CVR), ("03", CVR), ("12", "00001234567890")]
_IDENTS = [
    ("02", "00003113851234"),  # 31 13 85: no such date
    ("02", "00000101990000"),  # born 2099 by the century rule: not yet born
    ("02", "00100101851234"),  # too many significant digits
    ("11", "00000013585629"),  # mod-11 fails
    ("11", "00000001000004"),  # passes mod-11, but a CVR does not start with 0
    ("01", "12340001234567"),
    ("01", "00000001234567"),  # registration number 0000
    ("01", "12340000000000"),  # account all zeros
]


def _mostly(valid: list[Any], other: list[Any]) -> st.SearchStrategy[Any]:
    """Mostly a valid value (so that a mutation lands on an otherwise clean record)."""
    return st.sampled_from(valid * 3 + other)


@st.composite
def payments(draw: st.DrawFn, seq: int) -> G68Payment:
    code, ben = draw(_mostly(_VALID_IDENTS, _IDENTS))
    return payment(
        seq,
        transaction_type=draw(_mostly(["01"], ["10"])),
        paying_unit=draw(_mostly(["4410", None], [_DAGPENGE_UNIT])),
        organisation_type=draw(st.sampled_from(["01", None])),
        payment_ident=draw(_mostly([f"{seq:018d}"], ["0" * 18, f"{seq % 3:018d}"])),
        amount=draw(_mostly([1, 12_345, 99_999_999_999], [0])),
        sign=draw(_mostly(["+"], ["-"])),
        ident_code=code,
        beneficiary=ben,
        payment_date=draw(
            _mostly(
                [TODAY, TODAY + dt.timedelta(days=3), None],
                [TODAY - dt.timedelta(days=61), TODAY - dt.timedelta(days=60)],
            )
        ),
        posting_reference=draw(st.sampled_from(["KSD-1", "A" * 20, "Ref æøå"])),
        texts=draw(
            st.sampled_from(
                [
                    *[(), ("Kontanthjælp",), ("", "Linje 2"), ("a", "b"), ("", "", "3")],
                    *[("§ 34",), ("Ã¦ble",), ("kr. ½", "Ã"), ("\x96 tillæg",)],
                ]
            )
        ),
    )


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[bytes, int]:
    form = draw(st.sampled_from(FORMS))
    n = draw(st.integers(1, 12))
    ps = [draw(payments(i)) for i in range(1, n + 1)]
    if form is G68Form.FAST:  # it holds two text lines
        ps = [dataclasses.replace(p, texts=p.texts[:2]) for p in ps]
    lines = delivery_lines(form, ps)
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        what = draw(st.sampled_from(_MUTATIONS))
        at = draw(st.integers(0, max(0, len(line) - 1)))
        if what == "set" and line:
            line = line[:at] + draw(st.sampled_from(_BYTES)) + line[at + 1 :]
        elif what == "delete":
            line = line[:at] + line[at + 1 :]
        elif what == "insert":
            line = line[:at] + draw(st.sampled_from(_BYTES)) + line[at:]
        elif what == "raw" and 0 < i < len(lines) - 1:
            name = draw(st.sampled_from(sorted(_RAW)))
            line = _overwrite(line, form, name, draw(st.sampled_from(_RAW[name])))
        elif what == "tags" and form is G68Form.FLOATING and 0 < i < len(lines) - 1:
            line = _reorder(line, draw(st.sampled_from(["swap", "repeat"])))
        elif what == "gap":  # something between the prefix and the first tag
            line = line[:14] + draw(st.sampled_from(_BYTES)) + line[14:]
        elif what == "alias":  # a letter code for 11/12, in either form
            line = line.replace("&1011", "&10C").replace("&1012", "&10E")
            if form is G68Form.FAST and line[50:52] in ("11", "12"):
                line = line[:50] + ("C " if line[50:52] == "11" else "E ") + line[52:]
        elif what == "copy":
            lines.insert(i, line)
        lines[i] = line
    end = draw(st.sampled_from(["\r\n", "\n"]))
    data = _encode(lines, end=end, last_end=draw(st.booleans()))
    return data, draw(st.sampled_from([1 << 22, 64, 1000]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deliveries())
def test_any_delivery_gives_the_same_outcome_both_ways(case: tuple[bytes, int]) -> None:
    data, block_size = case
    assert_same(data, block_size=block_size)


# --- row level: clean means the exact path finds nothing, and the same values ----------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deliveries())
def test_a_clean_row_is_clean_the_exact_way_with_the_same_values(case: tuple[bytes, int]) -> None:
    data, _ = case
    form = G68Form.FAST if data[31:32] == b"2" else G68Form.FLOATING
    arr = np.frombuffer(data, np.uint8)
    lines = split_lines(arr)
    columns = Screen(ScreenRules.of(CONFIG, form))(lines)
    codec = payment_codec(form)
    check = payment_checker(CONFIG)
    keys = columns.keys()
    signed = columns.signed_amount
    for i in np.flatnonzero(columns.clean).tolist():
        text = lines.text(i).decode("iso-8859-1")
        p = codec.decode(text)
        if p is None:
            p, _values, found = codec.diagnose(text, i + 1)
            assert not found, text
        assert p is not None
        assert check(i + 1, p) is None, text
        assert columns.sequence[i] == p.sequence
        assert signed[i] == p.signed_amount
        d = p.payment_date
        assert columns.payment_date[i] == (0 if d is None else ymd(d))
        assert keys[i] == duplicate_key(p)
        assert columns.column("beneficiary")[i].decode() == p.beneficiary
        assert columns.ident_code[i].decode() == p.ident_code
        assert columns.column("registration_place")[i].decode() == p.registration_place
        unit = columns.column("paying_unit")[i].decode()
        assert (unit.strip() or None) == p.paying_unit
        dates = columns.dates
        assert (None if np.isnat(dates[i]) else dates[i].astype(dt.date)) == d
        if form is G68Form.FAST:  # the receiver's second pass cuts a clean row unchecked
            assert FAST.decode(text) is not None, text  # clean: the pattern matches


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deliveries())
def test_a_fast_record_the_pattern_matches_cut_at_its_positions_has_its_decoded_values(
    case: tuple[bytes, int],
) -> None:
    """What the receiver's second pass relies on: a record its pattern matches (as every
    clean row's does, above), cut unchecked at its positions, has the values the exact
    decoder reads."""
    data, _ = case
    assume(data[31:32] == b"2")  # the fast form
    lines = split_lines(np.frombuffer(data, np.uint8))
    for i in range(1, len(lines)):
        text = lines.text(i).decode("iso-8859-1")
        p = FAST.decode(text)
        if p is not None:
            assert FAST.values_of_matching(text) == dataclasses.astuple(p), text


def test_a_no_break_space_is_no_padding() -> None:
    """A blank optional number padded with a no-break space: the pattern fails, the field by
    field reading reports the paying unit (it took it for blank once, as Python's whitespace),
    and cut at its positions it would keep the padding, which is why the second pass cuts
    only the screen's clean rows."""
    line = delivery_lines(G68Form.FAST, [payment(1)])[1]
    unit = G68_FAST.by_name["paying_unit"]
    odd = line[: unit.start - 1] + "\xa0   " + line[unit.end :]
    _p, _values, found = FAST.diagnose(odd, 2)
    assert FAST.decode(odd) is None
    assert [(f.code, f.field, f.columns) for f in found] == [
        ("g68.field.digits", "paying_unit", (15, 18))
    ]
    values = FAST.values_of_matching(odd)
    assert values is not None and values[3] == "\xa0   "


def test_each_raw_value_and_tag_change_alike() -> None:
    """Every targeted change on an otherwise clean record, deterministically."""
    account = {"transaction_type": "10", "ident_code": "01", "beneficiary": "12340001234567"}
    pnumber = {"ident_code": "12", "beneficiary": "00001234567890"}
    cvr = {"ident_code": "11", "beneficiary": CVR}
    for form in FORMS:
        others = [payment(i) for i in range(6, 13)]
        ps = [payment(1), payment(2), payment(3, **account), payment(4, **pnumber)]
        base = delivery_lines(form, [*ps, payment(5, **cvr), *others])
        # a sequence number with a byte just past '9' (':' would read as 10 if not a digit)
        line = base[10]
        assert line[6:11] == "00010"
        lines = [*base[:10], line[:9] + "0:" + line[11:], *base[11:]]
        assert_same(_encode(lines))
        for target in (2, 3, 4, 5):
            line = base[target]
            variants = [
                _overwrite(line, form, name, raw) for name, raws in _RAW.items() for raw in raws
            ]
            if form is G68Form.FLOATING:
                variants += [_reorder(line, "swap"), _reorder(line, "repeat")]
                variants += [line[:14] + c + line[14:] for c in "X&0 "]
            # the prefix: registration place, 'G68', sequence, transaction type, form
            variants += [
                line[:at] + c + line[at + 1 :] for at in range(14) for c in "X012 " if line[at] != c
            ]
            for variant in variants:
                lines = [*base[:target], variant, *base[target + 1 :]]
                assert_same(_encode(lines))
                assert_same(_encode(lines), block_size=100)
