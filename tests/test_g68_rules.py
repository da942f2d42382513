"""G68 rules and the delivery scan: every finding with line and columns, never a traceback."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from tests.g68_helpers import (
    CONFIG,
    CVR,
    TODAY,
    codes,
    delivery_lines,
    payment,
    validate_lines,
)
from toekgw.adapters.g68 import G68Config, read_delivery
from toekgw.formats.findings import Severity
from toekgw.formats.g68 import G68Form
from toekgw.gateway.findings import render

FORMS = [G68Form.FAST, G68Form.FLOATING]


@pytest.mark.parametrize("form", FORMS)
def test_a_valid_delivery_has_no_findings(form: G68Form) -> None:
    ps = [payment(1), payment(2, sign="-", amount=500), payment(3, texts=())]
    result = validate_lines(delivery_lines(form, ps))
    assert result.findings == []
    assert result.ok and not result.refused and not result.is_straks
    assert (result.count, result.recalls, result.net_sum) == (3, 1, 2 * 123_45 - 500)
    assert result.header is not None and result.header.form is form
    assert result.trailer is not None and result.trailer.count == 3


@pytest.mark.parametrize("form", FORMS)
def test_all_payments_dated_today_is_a_straks_delivery(form: G68Form) -> None:
    result = validate_lines(delivery_lines(form, [payment(1, payment_date=TODAY)]))
    assert result.is_straks and result.ok


def _one(form: G68Form, **changes: object) -> list[tuple[int | None, str]]:
    return codes(validate_lines(delivery_lines(form, [payment(1), payment(2, **changes)])))


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"amount": 0}, "g68.amount.zero"),
        ({"beneficiary": "00003201851234"}, "g68.ident.cpr"),
        ({"beneficiary": "10000101851234"}, "g68.ident.cpr"),
        ({"ident_code": "11", "beneficiary": "00000013585627"}, "g68.ident.cvr"),
        ({"ident_code": "03", "beneficiary": "00000113585628"}, "g68.ident.se"),
        ({"ident_code": "12", "beneficiary": "12345678901234"}, "g68.ident.pnumber"),
        ({"ident_code": "01", "beneficiary": "00001234567890"}, "g68.ident.account"),
        ({"transaction_type": "10"}, "g68.type10.ident"),
        (
            {"ident_code": "12", "beneficiary": "00001234567890", "paying_unit": "5110"},
            "g68.ident.pnumber_dagpenge",
        ),
        ({"payment_date": TODAY - dt.timedelta(days=61)}, "g68.date.too_old"),
        ({"sign": "-", "payment_ident": "0" * 18}, "g68.recall.ident"),
        ({"sequence": 7}, "g68.sequence"),
    ],
)
def test_payment_rules(form: G68Form, changes: dict[str, object], code: str) -> None:
    assert _one(form, **changes) == [(3, code)]


@pytest.mark.parametrize("form", FORMS)
def test_rule_findings_have_columns_of_the_form(form: G68Form) -> None:
    lines = delivery_lines(form, [payment(1, amount=0)])
    (finding,) = validate_lines(lines).findings
    assert finding.columns is not None
    start, end = finding.columns
    assert lines[1][start - 1 : end] == "00000000000"


def test_valid_edge_values_pass() -> None:
    ps = [
        payment(1, ident_code="11", beneficiary=CVR),
        payment(2, ident_code="03", beneficiary=CVR),
        payment(3, ident_code="12", beneficiary="00001234567890", paying_unit="4410"),
        payment(4, transaction_type="10", ident_code="01", beneficiary="12341234567890"),
        payment(5, payment_date=TODAY - dt.timedelta(days=60)),
        payment(6, payment_date=None, paying_unit=None, organisation_type=None),
    ]
    for form in FORMS:
        assert validate_lines(delivery_lines(form, ps)).findings == []


def test_configured_limits_are_used() -> None:
    lines = delivery_lines(G68Form.FAST, [payment(1, payment_date=TODAY - dt.timedelta(days=10))])
    assert validate_lines(lines).ok
    strict = G68Config(today=TODAY, max_age_days=5, dagpenge_units=frozenset({"4410"}))
    assert codes(validate_lines(lines, strict)) == [(2, "g68.date.too_old")]
    pnum = delivery_lines(G68Form.FAST, [payment(1, ident_code="12", beneficiary="00001234567890")])
    assert codes(validate_lines(pnum, strict)) == [(2, "g68.ident.pnumber_dagpenge")]


def test_recalls_are_matched_when_a_lookup_is_given() -> None:
    lines = delivery_lines(G68Form.FAST, [payment(1, sign="-"), payment(2, sign="-")])
    known = {f"{1:018d}"}
    config = G68Config(today=TODAY, recall_known=known.__contains__)
    assert codes(validate_lines(lines, config)) == [(3, "g68.recall.unmatched")]


@pytest.mark.parametrize("form", FORMS)
def test_likely_duplicate_payment_is_a_warning(form: G68Form) -> None:
    twin = dataclasses.replace(payment(1), sequence=2, posting_reference="other")
    result = validate_lines(delivery_lines(form, [payment(1), twin, payment(3)]))
    assert codes(result) == [(3, "g68.payment.duplicate")]
    assert result.findings[0].severity is Severity.WARNING
    assert "line 2" in result.findings[0].message
    assert result.ok  # a warning does not stop the delivery


def test_duplicates_across_deliveries_through_a_lookup() -> None:
    lines = delivery_lines(G68Form.FAST, [payment(1)])
    config = G68Config(today=TODAY, earlier_payment=lambda key: "file a.g68 line 9")
    (finding,) = validate_lines(lines, config).findings
    assert finding.code == "g68.payment.duplicate" and "a.g68 line 9" in finding.message


def test_one_slip_in_the_sequence_is_one_finding() -> None:
    ps = [payment(1), payment(2), payment(9), payment(4), payment(5)]
    assert codes(validate_lines(delivery_lines(G68Form.FAST, ps))) == [(4, "g68.sequence")]
    gap = [payment(1), payment(2), payment(5), payment(6)]
    assert codes(validate_lines(delivery_lines(G68Form.FAST, gap))) == [(4, "g68.sequence")]


# --- the whole delivery -----------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_wrong_slutd_sum_refuses_the_delivery_with_one_finding(form: G68Form) -> None:
    lines = delivery_lines(form, [payment(1), payment(2)])
    slutd = lines[-1]
    lines[-1] = slutd[:20] + "000000000099999" + slutd[35:]
    result = validate_lines(lines)
    assert result.refused
    (finding,) = result.findings
    assert (finding.line, finding.code, finding.field) == (4, "g68.slutd.sum", "net_sum")
    assert finding.expected == "24690 øre" and finding.found == "99999 øre"
    assert finding.columns == (21, 36)
    assert "line 4" in result.refusal[0]


@pytest.mark.parametrize("form", FORMS)
def test_wrong_slutd_count_and_supplier_refuse(form: G68Form) -> None:
    lines = delivery_lines(form, [payment(1), payment(2)])
    slutd = lines[-1]
    lines[-1] = slutd[:5] + "11111111" + "0000003" + slutd[20:]
    result = validate_lines(lines)
    assert result.refused
    assert codes(result) == [(4, "g68.slutd.supplier"), (4, "g68.slutd.count")]
    by_code = {f.code: f for f in result.findings}
    assert by_code["g68.slutd.count"].expected == "2"
    assert by_code["g68.slutd.count"].found == "3"
    assert by_code["g68.slutd.count"].columns == (14, 20)


def test_missing_start_and_end_records_refuse() -> None:
    lines = delivery_lines(G68Form.FAST, [payment(1), payment(2)])
    no_start = validate_lines(lines[1:])
    assert no_start.refused and codes(no_start) == [(1, "g68.structure.no_header")]
    no_end = validate_lines(lines[:-1])
    assert no_end.refused and codes(no_end) == [(4, "g68.structure.no_trailer")]
    empty = validate_lines([], end="")
    assert empty.refused and codes(empty) == [(1, "g68.structure.no_header")]
    after = validate_lines([*lines, lines[1]])
    assert after.refused and codes(after) == [(5, "g68.structure.after_trailer")]


@pytest.mark.parametrize("form", FORMS)
def test_truncated_last_line_is_a_finding_with_columns(form: G68Form) -> None:
    lines = delivery_lines(form, [payment(1), payment(2)])
    cut = [*lines[:-1], lines[-1][:17]]
    result = validate_lines(cut, end="")
    assert result.refused
    assert codes(result) == [(4, "g68.record.length"), (4, "g68.structure.unterminated")]
    assert result.findings[0].columns is not None
    # A payment cut short where the file ends.
    cut = [*lines[:2], lines[2][:60]]
    result = validate_lines(cut, end="")
    found = codes(result)
    assert found[0][0] == 3 and found[0][1] in ("g68.record.length", "g68.tag.width")
    assert result.findings[0].columns is not None
    assert (4, "g68.structure.no_trailer") in found and result.refused


@pytest.mark.parametrize("form", FORMS)
def test_non_digit_amount_is_a_field_finding(form: G68Form) -> None:
    lines = delivery_lines(form, [payment(1), payment(2)])
    amount = "00000012345"
    at = lines[2].index(amount)
    lines[2] = lines[2][:at] + "000000123A5" + lines[2][at + 11 :]
    result = validate_lines(lines)
    (finding,) = result.findings
    assert (finding.line, finding.code, finding.field) == (3, "g68.field.digits", "amount")
    assert finding.columns == (at + 1, at + 11)
    assert finding.found == "000000123A5"
    assert not result.refused and not result.sum_verified
    assert result.payments_with_errors == 1


@pytest.mark.parametrize("form", FORMS)
def test_forbidden_character_is_a_finding(form: G68Form) -> None:
    lines = delivery_lines(form, [payment(1)])
    at = lines[1].index("Kontanthjælp")
    lines[1] = lines[1][:at] + "Kontant!hjælp" + lines[1][at + 12 :]
    if form is G68Form.FAST:
        lines[1] = lines[1][:256]
    (finding,) = validate_lines(lines).findings
    assert (finding.line, finding.code, finding.field) == (2, "g68.field.chars", "text_01")
    assert finding.columns is not None


def test_floating_tag_findings() -> None:
    (line,) = delivery_lines(G68Form.FLOATING, [payment(1)])[1:2]
    header, _, trailer = delivery_lines(G68Form.FLOATING, [payment(1)])

    def check(bad: str) -> list[tuple[str, tuple[int, int] | None]]:
        result = validate_lines([header, bad, trailer])
        assert all(f.line == 2 for f in result.findings)
        return [(f.code, f.columns) for f in result.findings]

    amount_at = line.index("&08")
    sign_at = line.index("&09")
    swapped = line[:amount_at] + line[sign_at : sign_at + 4] + line[amount_at:sign_at]
    swapped += line[sign_at + 4 :]
    assert check(swapped) == [("g68.tag.order", (amount_at + 5, amount_at + 18))]
    ref_at = line.index("&16")
    missing = line[:ref_at] + line[line.index("&40") :]
    assert check(missing) == [("g68.tag.missing", (ref_at + 1, ref_at + 1))]
    twice = line + "&40igen"
    assert [c for c, _ in check(twice)] == ["g68.tag.repeated"]
    unknown = line[:ref_at] + "&20x" + line[ref_at:]
    assert check(unknown) == [("g68.tag.unknown", (ref_at + 1, ref_at + 4))]
    assert [c for c, _ in check(line.replace("&0800000012345", "&08123"))] == ["g68.tag.width"]
    assert [c for c, _ in check(line.replace("&09+", "&9+"))] == [
        "g68.tag.malformed",
        "g68.tag.missing",
    ]
    # str.isdigit() accepts '²': a tag id of non-ASCII digits is malformed, not a crash.
    assert [c for c, _ in check(line.replace("&09+", "&²9+"))] == [
        "g68.tag.malformed",
        "g68.tag.missing",
    ]


def test_no_cpr_in_clear_in_any_rendering() -> None:
    bad_cpr = "00003213851234"
    ps = [payment(1, beneficiary=bad_cpr), payment(2, transaction_type="10")]
    lines = delivery_lines(G68Form.FLOATING, ps)
    lines[1] = lines[1].replace("&11" + bad_cpr, "&1100003213851X34")
    lines.append(delivery_lines(G68Form.FLOATING, [payment(1)])[1])
    result = validate_lines(lines)
    assert result.findings
    for fmt in ("text", "json", "csv"):
        out = render(result.findings, fmt)
        assert "0101851234" not in out and "3213851234" not in out and "321385" in out
    assert "010185-****" not in json.dumps(result.refusal)


def test_reading_a_missing_file_is_an_input_error(tmp_path: object) -> None:
    from toekgw.gateway.errors import InputError

    with pytest.raises(InputError, match="no such file"):
        read_delivery(f"{tmp_path}/nope.g68", CONFIG)
