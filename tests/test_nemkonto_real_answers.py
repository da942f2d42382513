"""Hand-written answers in NemKonto's real 2006 documents, one per kind, built from the shapes
in shared/formats/nemkonto.md ("Update"): each parses to the right values, and the flow applies
a Kvitteringssvar 1 that rejects a bundle and a Retursvar 5 that stops payments."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from toekgw.formats.nemkonto import (
    Account,
    AnswerType,
    BundleAnswer,
    OriginalTransaction,
    PaymentState,
    RecipientId,
    RecipientKind,
    parse_answer,
    read_answer,
)

SAMPLES = Path(__file__).parent / "samples" / "nemkonto"
WHEN = dt.datetime(2026, 12, 1, 9, 15, tzinfo=dt.timezone(dt.timedelta(hours=1)))
CPR = RecipientId(RecipientKind.CPR, "0101701234")
CVR = RecipientId(RecipientKind.CVR, "29189927")
ACCOUNT = Account("1199", "0004445556")


def _answer(name: str) -> BundleAnswer:
    return parse_answer((SAMPLES / name).read_bytes())


def test_every_kind_has_a_sample_and_each_parses() -> None:
    kinds = {_answer(p.name).answer_type for p in SAMPLES.glob("*.xml")}
    assert kinds == set(AnswerType) - {AnswerType.UNREADABLE}  # 0's document is not public


def test_kvitteringssvar_1_accepts_and_rejects_a_bundle() -> None:
    ok = _answer("receipt1-accept.xml")
    assert (ok.answer_type, ok.bundle_id, ok.bundle_rejected) == (
        AnswerType.RECEIVED,
        "B-20261201-0001",
        False,
    )
    assert ok.processed_at == WHEN and ok.message_id == "R1-0001"
    assert ok.ref_to_message_id == "B-20261201-0001" and ok.payments == ()
    rejected = _answer("receipt1-reject.xml")
    assert rejected.bundle_rejected and rejected.whole_bundle
    assert (rejected.error_code, rejected.error_text) == (
        "0003",
        "BUNDT AFVIST: AFTALENUMMER UKENDT",
    )


def test_retursvar_2_per_payment_with_the_original_transaction() -> None:
    a = _answer("response2.xml")
    assert a.answer_type is AnswerType.RECEIVE_CONTROL and not a.bundle_rejected
    first, second = a.payments
    assert (first.payment_id, first.status, first.error_code) == (
        "P-0001",
        PaymentState.ACCEPTED,
        None,
    )
    assert first.original == OriginalTransaction(123450, True, CPR, None)
    assert first.instruction_id is None  # InstrId = EndToEndId
    assert (second.status, second.error_code, second.error_text) == (
        PaymentState.REJECTED,
        "0001",
        "CVR-NUMMER UKENDT",
    )
    assert second.original == OriginalTransaction(20000, True, CVR, None)
    assert "0101701234" not in repr(a)  # the CPR is masked in any repr


def test_retursvar_2_rejecting_the_whole_bundle() -> None:
    a = _answer("response2-reject.xml")
    assert a.bundle_rejected and a.whole_bundle and a.error_code == "0002"


def test_retursvar_5_stops_payments() -> None:
    a = _answer("response5.xml")
    assert a.answer_type is AnswerType.STOPPED and a.bundle_rejected
    assert a.error_text == "BETALING(ER) STANDSET"
    (p,) = a.payments
    assert (p.payment_id, p.status) == ("P-0001", PaymentState.STOPPED)


def test_retursvar_7_8_9() -> None:
    (seven,) = _answer("response7.xml").payments
    assert seven.status is PaymentState.REJECTED
    assert seven.error_text == "Ingen nemkonto/specifik konto"
    assert seven.original == OriginalTransaction(9995, True, CPR, None)
    eight = _answer("response8.xml")
    assert [p.status for p in eight.payments] == [PaymentState.RECEIVED_BY_BANK] * 2
    assert [p.original for p in eight.payments] == [
        OriginalTransaction(123450, True, CPR, ACCOUNT),
        OriginalTransaction(1000, False, CVR, ACCOUNT),
    ]
    assert not eight.bundle_rejected and eight.ref_to_message_id is None  # no header in 8
    (nine,) = _answer("response9.xml").payments
    assert (nine.status, nine.error_code, nine.error_text) == (
        PaymentState.BANK_ERROR,
        "0001",
        "FEJL I LIN NR. 12",
    )


@pytest.mark.parametrize("name", ["response2.xml", "response8.xml"])
def test_the_parser_reads_namespaces_not_prefixes(name: str) -> None:
    data = (SAMPLES / name).read_bytes()
    renamed = data.replace(b"swift:", b"s:").replace(b"xmlns:swift=", b"xmlns:s=")
    assert parse_answer(renamed) == parse_answer(data)
    wrong = data.replace(b"nemkonto.swift/xml/schemas/2006", b"nemkonto.swift/xml/schemas/2007")
    answer, findings = read_answer(wrong)
    assert answer is None and findings


def test_a_cpr_in_a_bad_answer_is_masked_in_the_findings() -> None:
    data = (SAMPLES / "response2.xml").read_bytes().replace(b">0101701234<", b">010170123X<")
    answer, findings = read_answer(data)
    assert answer is None
    assert findings and all("010170123X" not in f.message for f in findings)
    assert findings[0].path and findings[0].path.endswith("/Cdtr/PrvtId/SclSctyNb")


@pytest.mark.parametrize("name", ["response2.xml", "response7.xml", "response8.xml"])
def test_without_originals_an_answer_reads_the_same_but_the_echo(name: str) -> None:
    data = (SAMPLES / name).read_bytes()
    full = parse_answer(data)
    lean, findings = read_answer(data, originals=False)
    assert findings == [] and lean is not None
    assert any(p.original is not None for p in full.payments)
    assert all(p.original is None for p in lean.payments)
    assert lean.payments == tuple(dataclasses.replace(p, original=None) for p in full.payments)
    assert dataclasses.replace(lean, payments=full.payments) == full
