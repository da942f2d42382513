"""Fuzzing TØK's message readers: every interface's message (as a case system sends it over
AMQP) and the status document a case system reads back.

:func:`read_message` and :func:`read_status` raise only :class:`TokMessageError`;
:func:`read_origin` never raises; no message shows a CPR number in clear.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given

from tests.fuzzkit import FUZZ, PLANTED_CPR, refuses_only, xml_mutations
from tests.test_tok_messages import HAND_WRITTEN_ORDER, HEADER, TODAY, messages
from toekgw.formats.tok import (
    Interface,
    Status,
    StatusFinding,
    TokMessageError,
    build_message,
    build_status,
    read_message,
    read_origin,
    read_status,
)

DOCUMENTS = messages.map(build_message).flatmap(xml_mutations)
# The planted CPR number is a recipient that passes the schema: its check findings show it.
PLANTED = HAND_WRITTEN_ORDER.replace(b"0101901234", PLANTED_CPR.encode())


@FUZZ
@given(DOCUMENTS)
def test_a_damaged_message_is_refused_with_findings(data: bytes) -> None:
    message, error = refuses_only(lambda: read_message(data, today=TODAY), TokMessageError)
    assert (message is None) == (error is not None)
    if error is not None:
        assert error.findings  # type: ignore[attr-defined]
    read_origin(data)


@FUZZ
@given(xml_mutations(PLANTED))
def test_a_damaged_message_never_shows_the_cpr_number(data: bytes) -> None:
    refuses_only(lambda: read_message(data, today=TODAY), TokMessageError)


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        (b"2026-12-04T10:15:00+01:00", b"-2026-12-04T10:00:00Z", "/PaymentOrder/Header/Created"),
        (b"2026-12-04T10:15:00+01:00", b"9999-12-31T24:00:00Z", "/PaymentOrder/Header/Created"),
        (b">2026-12-04</bet:Disp", b">12026-12-04</bet:Disp", "/PaymentOrder/DispositionDate"),
    ],
)
def test_a_schema_valid_date_python_cannot_read_is_a_finding(
    old: bytes, new: bytes, where: str
) -> None:
    # Was ValueError ("Invalid isoformat string"), out of read_message and the intake.
    data = HAND_WRITTEN_ORDER.replace(old, new)
    with pytest.raises(TokMessageError) as info:
        read_message(data, today=TODAY)
    (finding,) = info.value.findings
    assert (finding.code, finding.path) == ("tok.value", where)
    assert finding.expected and finding.expected.startswith("a date")
    assert info.value.origin is not None  # the sender still gets its rejection


def test_the_end_of_a_day_is_the_next_days_midnight() -> None:
    data = HAND_WRITTEN_ORDER.replace(b"2026-12-04T10:15:00+01:00", b"2026-12-04T24:00:00+01:00")
    created = read_message(data, today=TODAY).header.created
    assert created.isoformat() == "2026-12-05T00:00:00+01:00"


STATUS = build_status(
    Status("evt-17", HEADER.message_id, Interface.PAYMENTS, "29189846", "KP-2026-417",
           "rejected", dt.datetime(2026, 12, 4, 9, 31, tzinfo=dt.UTC),
           (StatusFinding("tok.cpr", "/PaymentOrder/Recipient/CPR", "not a CPR number"),))
)  # fmt: skip


@FUZZ
@given(xml_mutations(STATUS))
def test_a_damaged_status_is_refused_with_findings(data: bytes) -> None:
    refuses_only(lambda: read_status(data), TokMessageError)
