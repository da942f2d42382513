"""TØK's own interfaces: the messages a case system sends and the status it gets back."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toekgw.formats.tok import (
    CaseEvent,
    CaseReport,
    ClaimAdjustment,
    ClaimChange,
    ClaimCreate,
    CollectionRelease,
    DeliveryLine,
    EffectuationMethod,
    EffectuationOrder,
    Header,
    Interface,
    Origin,
    Party,
    PartyKind,
    PaymentChange,
    PaymentOrder,
    PaymentRecall,
    Priority,
    SetOff,
    Status,
    StatusFinding,
    SubClaim,
    TokMessageError,
    build_message,
    build_status,
    read_message,
    read_origin,
    read_status,
)
from toekgw.formats.tok.build import _WRITERS
from toekgw.formats.tok.read import READERS
from toekgw.formats.tok.schemas import ROOTS

TODAY = dt.date(2026, 12, 4)
MUNICIPALITY = "29189846"  # a CVR that passes its mod-11 check
CPR = "0101901234"  # born 1990; no mod-11 since 2007, so a valid CPR number
HEADER = Header(
    "6f0c1d4e-2b7a-4c55-9a51-3f6d2e1a9b10",
    "KY",
    MUNICIPALITY,
    Priority.NORMAL,
    dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC),
)

# Written by hand the way a case system might: other prefixes, whitespace, a short amount.
HAND_WRITTEN_ORDER = b"""<?xml version="1.0" encoding="UTF-8"?>
<bet:PaymentOrder xmlns:bet="urn:toekgw:tok:payments:1" xmlns:f="urn:toekgw:tok:common:1">
  <bet:Header>
    <f:MessageId>6F0C1D4E-2B7A-4C55-9A51-3F6D2E1A9B10</f:MessageId>
    <f:SenderSystem>KP</f:SenderSystem>
    <f:Municipality>29189846</f:Municipality>
    <f:Priority>straks</f:Priority>
    <f:Created>2026-12-04T10:15:00+01:00</f:Created>
  </bet:Header>
  <bet:PaymentId>KP-2026-417</bet:PaymentId>
  <bet:Recipient><f:CPR>0101901234</f:CPR></bet:Recipient>
  <bet:Amount>1234.5</bet:Amount>
  <bet:DispositionDate>2026-12-04</bet:DispositionDate>
  <bet:BenefitType>PEN</bet:BenefitType>
  <bet:Text>Pension december</bet:Text>
</bet:PaymentOrder>
"""


def order(**changes: object) -> bytes:
    text = HAND_WRITTEN_ORDER
    for old, new in changes.items():
        text = text.replace(old.encode(), str(new).encode())
    return text


def test_a_hand_written_order_is_read_into_the_payment_it_describes() -> None:
    message = read_message(HAND_WRITTEN_ORDER, today=TODAY)
    assert message == PaymentOrder(
        Header(
            "6f0c1d4e-2b7a-4c55-9a51-3f6d2e1a9b10",
            "KP",
            MUNICIPALITY,
            Priority.STRAKS,
            dt.datetime(2026, 12, 4, 10, 15, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        ),
        "KP-2026-417",
        Party(PartyKind.CPR, CPR),
        123450,
        dt.date(2026, 12, 4),
        "PEN",
        ("Pension december",),
    )
    assert message.header.priority.level > Priority.NORMAL.level
    assert "010190-****" in repr(message.recipient) and CPR not in repr(message)


def test_a_comment_or_instruction_inside_a_value_does_not_cut_it() -> None:
    # Legal XML the schema reads whole; an element's .text is only the part before the first.
    commented = order(
        **{
            "KP-2026-417": "KP-2026<!--the year-->-417",
            "1234.5<": "12<?tool x?>34.5<",
            "Pension december": "Pension <!--month-->december",
            "<f:CPR>0101901234": "<f:CPR>010190<!---->1234",
        }
    )
    assert read_message(commented, today=TODAY) == read_message(HAND_WRITTEN_ORDER, today=TODAY)


@pytest.mark.parametrize(
    ("old", "new", "code", "where", "expected"),
    [
        ("1234.5<", "1234.505<", "tok.xsd", "/PaymentOrder/Amount", "at most 2 decimals"),
        ("1234.5<", "-5<", "tok.xsd", "/PaymentOrder/Amount", "greater than 0"),
        ("straks", "urgent", "tok.xsd", "/PaymentOrder/Header/Priority", "one of"),
        ("<f:CPR>0101901234", "<f:CPR>3213901234", "tok.cpr", "/PaymentOrder/Recipient/CPR", ""),
        ("<f:Municipality>29189846", "<f:Municipality>29189847", "tok.municipality", "", ""),
        ("PEN<", "P E N<", "tok.xsd", "/PaymentOrder/BenefitType", "a value matching"),
    ],
)
def test_a_bad_order_is_refused_with_where_and_what_was_expected(
    old: str, new: str, code: str, where: str, expected: str
) -> None:
    with pytest.raises(TokMessageError) as info:
        read_message(order(**{old: new}), today=TODAY)
    finding = info.value.findings[0]
    assert finding.code.startswith(code)
    assert finding.line is not None and finding.line > 1
    assert where in (finding.path or "")
    assert expected in (finding.expected or "")
    # Who sent it is still known, so the intake can answer the sender with a rejection.
    origin = info.value.origin
    assert origin is not None
    assert (origin.message_id, origin.sender_system) == (HEADER.message_id, "KP")


def test_no_cpr_number_leaves_in_clear_from_a_refusal() -> None:
    unborn = order(**{"<f:CPR>0101901234": "<f:CPR>0101304234"})  # born 2030: not yet
    bad_format = order(**{"<f:CPR>0101901234": "<f:CPR>01019012345"})
    for document in (unborn, bad_format):
        with pytest.raises(TokMessageError) as info:
            read_message(document, today=TODAY)
        shown = str(info.value) + repr([f.as_dict() for f in info.value.findings])
        assert "0101304234" not in shown and "01019012345" not in shown
        assert "0101901234" not in shown


def test_what_is_not_a_message_of_ours_is_refused_in_one_line() -> None:
    cases = {
        b"<x/>": "tok.root",
        b"<PaymentOrder": "tok.xml.syntax",
        b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>': "tok.xml",
        HAND_WRITTEN_ORDER.replace(b"payments:1", b"payments:9"): "tok.root",
        b"<a>" + b" " * (1 << 20) + b"</a>": "tok.xml.size",
    }
    for document, code in cases.items():
        with pytest.raises(TokMessageError) as info:
            read_message(document, today=TODAY)
        assert info.value.findings[0].code.startswith(code), document[:40]
        assert "\n" not in str(info.value)
    assert read_origin(b"<x/>") is None
    assert read_origin(HAND_WRITTEN_ORDER.replace(b"6F0C1D4E", b"not-a-uuid")) is None
    bad_municipality = HAND_WRITTEN_ORDER.replace(b"29189846<", b"2918<")
    assert read_origin(bad_municipality) == Origin(HEADER.message_id, "KP", None)


def test_a_claim_whose_sub_claims_do_not_add_up_or_whose_period_is_reversed_is_refused() -> None:
    claim = ClaimCreate(
        HEADER,
        "C-1",
        Party(PartyKind.CPR, CPR),
        "TILBAGEBET",
        100_000,
        dt.date(2026, 11, 1),
        dt.date(2026, 10, 1),
        dt.date(2026, 12, 1),
        dt.date(2027, 1, 1),
        (SubClaim("C-1a", "A", 60_000), SubClaim("C-1b", "B", 30_000)),
    )
    with pytest.raises(TokMessageError) as info:
        read_message(build_message(claim), today=TODAY)
    assert [f.code for f in info.value.findings] == ["tok.period", "tok.subclaims"]
    assert info.value.findings[1].found == "90000 øre"


def test_every_message_kind_has_a_reader_a_writer_and_a_schema_row() -> None:
    roots = {root for names in ROOTS.values() for root in names}
    assert roots == set(READERS) == {cls.__name__ for cls in _WRITERS}


def test_a_status_is_written_and_read_as_the_case_system_reads_it() -> None:
    status = Status(
        "evt-17",
        HEADER.message_id,
        Interface.PAYMENTS,
        MUNICIPALITY,
        "KP-2026-417",
        "rejected",
        dt.datetime(2026, 12, 4, 9, 31, tzinfo=dt.UTC),
        (StatusFinding("tok.cpr", "/PaymentOrder/Recipient/CPR", "not a CPR number"),),
    )
    assert read_status(build_status(status)) == status
    with pytest.raises(TokMessageError):
        build_status(Status("", None, Interface.CLAIMS, "1", None, "x", status.time))
    anonymous = Status("evt-18", None, Interface.CLAIMS, None, None, "rejected", status.time)
    assert read_status(build_status(anonymous)) == anonymous
    g68 = dataclasses.replace(
        anonymous, interface=Interface.PAYMENTS, delivery=DeliveryLine("29189846/00001", 17)
    )
    document = build_status(g68)
    assert b"<Reference>29189846/00001</Reference><Line>17</Line>" in document
    assert read_status(document) == g68


# -- every message kind survives build and read unchanged ----------------------------------

keys = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,19}", fullmatch=True)
codes = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,19}", fullmatch=True)
ore = st.integers(min_value=1, max_value=10**13 - 1)
dates = st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31))
texts = st.text(
    st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), min_size=1, max_size=35
).filter(lambda t: t == t.strip() and t.strip())
parties = st.sampled_from(
    [
        Party(PartyKind.CPR, CPR),
        Party(PartyKind.CVR, MUNICIPALITY),
        Party(PartyKind.CVR, "10103940"),
    ]
)
headers = st.builds(
    Header,
    st.uuids().map(str),
    st.from_regex(r"[A-Za-z][A-Za-z0-9._\-]{0,9}", fullmatch=True),
    st.just(MUNICIPALITY),
    st.sampled_from(Priority),
    st.datetimes(timezones=st.just(dt.UTC)),
)
messages = st.one_of(
    st.builds(
        PaymentOrder,
        headers,
        keys,
        parties,
        ore,
        dates,
        codes,
        st.lists(texts, max_size=4).map(tuple),
    ),
    st.builds(PaymentChange, headers, keys, ore, st.none() | dates),
    st.builds(PaymentChange, headers, keys, st.none(), dates),
    st.builds(PaymentRecall, headers, keys, texts),
    st.builds(
        ClaimCreate,
        headers,
        keys,
        parties,
        codes,
        ore,
        dates,
        st.dates(dt.date(2041, 1, 1), dt.date(2041, 12, 31)),  # after every other date
        dates,
        dates,
    ),
    st.builds(ClaimAdjustment, headers, keys, st.sampled_from(["up", "down"]), ore, dates, texts),
    st.builds(ClaimChange, headers, keys, codes, st.none() | dates),
    st.builds(ClaimChange, headers, keys, st.none(), dates),
    st.builds(CollectionRelease, headers, keys),
    st.builds(
        EffectuationOrder, headers, keys, keys, parties, st.sampled_from(EffectuationMethod), dates
    ),
    st.builds(SetOff, headers, keys, st.sampled_from(["create", "change"]), keys, keys, ore),
    st.builds(CaseReport, headers, keys, parties, st.sampled_from(CaseEvent), dates),
)


@settings(max_examples=150, deadline=None)
@given(messages)
def test_every_message_kind_survives_build_and_read(message: object) -> None:
    assert read_message(build_message(message), today=TODAY) == message  # type: ignore[arg-type]


def test_the_system_name_pattern_is_the_schemas() -> None:
    """``simulate fagsystem --sender`` is checked with it before a message is built."""
    from lxml import etree

    from toekgw.formats.tok.read import SYSTEM_NAME
    from toekgw.xsd import schema_path

    xsd = etree.parse(str(schema_path("tok/Common-1.xsd")))
    ns = {"xs": "http://www.w3.org/2001/XMLSchema"}
    (pattern,) = xsd.xpath("//xs:simpleType[@name='Name']//xs:pattern/@value", namespaces=ns)
    assert SYSTEM_NAME.pattern == pattern
