"""Findings: masking of CPR numbers everywhere, and the three renderings."""

from __future__ import annotations

import csv
import io
import json
import logging

import pytest

from toekgw.formats.findings import Finding, Severity, mask_cpr, mask_cpr_in_text
from toekgw.gateway.errors import GatewayError
from toekgw.gateway.findings import render
from toekgw.gateway.logsafe import CprMaskingFilter


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("0101011234", "010101-****"),
        ("00000101011234", "010101-****"),
        ("010101-1234", "010101-****"),
    ],
)
def test_mask_cpr(value: str, masked: str) -> None:
    assert mask_cpr(value) == masked


def test_mask_cpr_in_text_leaves_amounts_and_dates_alone() -> None:
    text = (
        "cpr 3112991234 and 010203-4455, amount 0000012345, date 20260131, ident 123456789012345678"
    )
    assert mask_cpr_in_text(text) == (
        "cpr 311299-**** and 010203-****, amount 0000012345, date 20260131, "
        "ident 123456789012345678"
    )


FINDINGS = [
    Finding(
        "g68.field.digits",
        Severity.ERROR,
        "amount: expected digits only",
        line=3,
        columns=(39, 49),
        field="amount",
        expected="11 digits",
        found="0000001234A",
        file="a.txt",
    ),
    Finding("g68.rule.x", Severity.WARNING, "about 0101011234", line=4, file="a.txt"),
]


def test_mask_cpr_in_text_leaves_a_dated_reference_alone() -> None:
    # A date written YYYYMMDD, a dash and four digits is a dated reference (a bundle's id),
    # which every view must show as it is; a dashed CPR number after a letter is masked.
    assert mask_cpr_in_text("bundle B-20261201-0001") == "bundle B-20261201-0001"
    assert mask_cpr_in_text("B-20261231-0001 B-20260131-9999") == "B-20261231-0001 B-20260131-9999"
    assert mask_cpr_in_text("x220185-4022") == "x220185-****"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("ref 9220185-4022", "ref 9220185-****"),  # one digit before: no date
        ("ref 20220185-4022", "ref 20220185-****"),  # 2022-01-85 is no date
        ("ref 120261201-0001", "ref 120261201-****"),  # nine digits before the dash
        ("220185-40221 2026-12-07", "220185-***** 2026-12-07"),  # a digit after
        ("B-20261201-00012", "B-20261201-*****"),  # a dated reference has four
    ],
)
def test_mask_cpr_in_text_masks_a_dashed_number_glued_to_digits(text: str, masked: str) -> None:
    assert mask_cpr_in_text(text) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("0101011234X", "010101-****"),  # the number at the start: no serial digit shown
        ("0000010185X234", "010185-****"),  # zero-padded
        ("00003213851234", "321385-****"),  # zero-padded, not a valid date
        ("01010112345", "010101*****"),  # either ten digits could be the number
        ("12340101011234", "1234010101****"),  # an account holding one
    ],
)
def test_mask_cpr_of_a_wider_value(value: str, masked: str) -> None:
    assert mask_cpr(value) == masked


def test_finding_masks_cpr_in_every_text() -> None:
    f = Finding(
        "x", Severity.ERROR, "bad 0101011234", expected="not 0101011234", found="0101011234",
        field="X0101011234", path="/a/X0101011234", file="G68_0101011234.g68",
    )  # fmt: skip
    texts = [f.message, f.expected, f.found, f.field, f.path, f.file, f.where()]
    assert all(t and "010101-****" in t and "0101011234" not in t for t in texts), texts
    assert f.field == "X010101-****" and f.file == "G68_010101-****.g68"


def test_render_json_has_the_documented_keys() -> None:
    rows = json.loads(render(FINDINGS, "json"))
    assert rows[0]["file"] == "a.txt"
    assert rows[0]["line"] == 3
    assert rows[0]["columns"] == "39-49"
    assert rows[0]["field"] == "amount"
    assert rows[0]["code"] == "g68.field.digits"
    assert rows[0]["severity"] == "error"
    assert rows[1]["message"] == "about 010101-****"


def test_render_csv_and_text() -> None:
    rows = list(csv.DictReader(io.StringIO(render(FINDINGS, "csv"))))
    assert rows[0]["columns"] == "39-49" and rows[1]["severity"] == "warning"
    text = render(FINDINGS, "text")
    assert text.splitlines()[0].startswith("a.txt:3:39-49: error [g68.field.digits]")


def test_errors_and_logs_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    assert "0101011234" not in str(GatewayError("no payment for 0101011234"))
    logger = logging.getLogger("toek.test")
    logger.addFilter(CprMaskingFilter())
    with caplog.at_level(logging.INFO, logger="toek.test"):
        logger.info("paying %s", "0101011234")
    assert "0101011234" not in caplog.text and "010101-****" in caplog.text
