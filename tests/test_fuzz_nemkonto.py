"""Fuzzing NemKonto's readers: answers (Kvitteringssvar/Retursvar), bundles and stop requests.

``read_*`` return findings and never raise; ``parse_*`` raise only
:class:`NemKontoFormatError`; no message shows a CPR number in clear.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzkit import FUZZ, assert_masked, finding_texts, refuses_only, xml_mutations
from tests.nemkonto_data import bundle, payment
from toekgw.formats.findings import Finding
from toekgw.formats.nemkonto import (
    NemKontoFormatError,
    StopRequest,
    build_bundle,
    build_stop,
    parse_answer,
    parse_bundle,
    read_answer,
    read_bundle,
    read_stop,
)

SAMPLES = sorted((Path(__file__).parent / "samples" / "nemkonto").glob("*.xml"))
ANSWERS = [p.read_bytes() for p in SAMPLES]
BUNDLE = build_bundle(bundle([payment(1), payment(2, cpr_number="0101701234")]))
STOP = build_stop(
    StopRequest("STOP-1", dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC), "29189846", "4711",
                "B-0001", dt.date(2026, 11, 27), (("12345678:1", 100),), "paid twice")
)  # fmt: skip


def _mutated(samples: list[bytes]) -> st.SearchStrategy[bytes]:
    return st.sampled_from(samples).flatmap(xml_mutations)


def _check(result: object, findings: list[Finding]) -> None:
    assert (result is None) == any(f.is_error for f in findings)
    assert_masked(*finding_texts(findings))


@FUZZ
@given(_mutated(ANSWERS))
def test_a_damaged_answer_is_read_to_findings(data: bytes) -> None:
    for originals in (True, False):
        answer, findings = read_answer(data, originals=originals)
        _check(answer, findings)
    refuses_only(lambda: parse_answer(data), NemKontoFormatError)


@FUZZ
@given(_mutated([BUNDLE]))
def test_a_damaged_bundle_is_read_to_findings(data: bytes) -> None:
    found, findings = read_bundle(data)
    _check(found, findings)
    refuses_only(lambda: parse_bundle(data), NemKontoFormatError)


@FUZZ
@given(_mutated([STOP]))
def test_a_damaged_stop_request_is_read_to_findings(data: bytes) -> None:
    request, findings = read_stop(data)
    _check(request, findings)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (b">2026-11-27<", b">2026-11-27Z<", "ReqdExctnDt"),
        (b">2026-11-27<", b">12026-11-27<", "ReqdExctnDt"),
        (b">2026-11-24T09:00:00+00:00</nks:CreDtTm>", b">2026-11-24T24:00:00</nks:CreDtTm>",
         "CreDtTm"),
    ],
)  # fmt: skip
def test_a_stop_request_value_the_codec_cannot_read_is_a_finding(
    old: bytes, new: bytes, field: str
) -> None:
    # Was ValueError ("Invalid isoformat string") out of read_stop, as for the bundle's
    # dates the codec reads without a zone.
    assert old in STOP
    request, findings = read_stop(STOP.replace(old, new))
    assert request is None
    (finding,) = findings
    assert (finding.code, finding.path) == ("nemkonto.stop.value.unreadable", f"/NKSStop/{field}")
