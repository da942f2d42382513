"""Fuzzing Serviceplatformen's documents from the other side: trigger, metadata, technical
and business receipts.

Each parser raises only :class:`XmlDocumentError` (with every finding); no message shows a CPR
number in clear.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzkit import FUZZ, refuses_only, xml_mutations
from tests.test_serviceplatform_documents import ROUTING, UUID
from toekgw.formats.serviceplatform import (
    BusinessReceipt,
    ErrorMessage,
    FileAcceptance,
    FileContent,
    FileDescriptor,
    FileMetadata,
    TechnicalReceipt,
    Trigger,
    XmlDocumentError,
    build_business_receipt,
    build_metadata,
    build_technical_receipt,
    build_trigger,
    parse_business_receipt,
    parse_metadata,
    parse_technical_receipt,
    parse_trigger,
)

FILE = FileDescriptor("G68_0101701234.txt", 1234, "KSD", ("TOEK",), "F-1")
SAMPLES = [
    (build_trigger(Trigger(FILE, FileContent(routing=ROUTING))), parse_trigger),
    (build_metadata(FileMetadata(UUID, FILE, FileContent(routing=ROUTING))), parse_metadata),
    (
        build_technical_receipt(
            TechnicalReceipt(UUID, "F-1", None, (ErrorMessage(17, "FEJL", "forkert 0101701234"),))
        ),
        parse_technical_receipt,
    ),
    (build_technical_receipt(TechnicalReceipt(UUID, "F-1", "OK")), parse_technical_receipt),
    (
        build_business_receipt(
            BusinessReceipt(UUID, "G68.txt", "TOEK", FileAcceptance.REJECTED, "afvist")
        ),
        parse_business_receipt,
    ),
]


@FUZZ
@given(st.sampled_from(range(len(SAMPLES))).flatmap(
    lambda i: st.tuples(st.just(i), xml_mutations(SAMPLES[i][0]))
))  # fmt: skip
def test_a_damaged_document_is_refused_with_findings(case: tuple[int, bytes]) -> None:
    index, data = case
    parse = SAMPLES[index][1]
    refuses_only(lambda: parse(data, name="IN/x.metadata"), XmlDocumentError)


METADATA = SAMPLES[1][0]


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (b">2026-11-23T08:00:01+00:00<", b">-2026-11-23T08:00:01Z<", "SenderTimestamp"),
        (b">2026-11-23T08:00:01+00:00<", b">9999-12-31T24:00:00<", "SenderTimestamp"),
        (b">2026-11-24<", b">12026-11-24<", "RouteSelectionValueDate"),
    ],
)
def test_a_schema_valid_time_python_cannot_hold_is_a_finding(
    old: bytes, new: bytes, field: str
) -> None:
    # Was ValueError ("Invalid isoformat string", "hour must be in 0..23") past the receiver.
    with pytest.raises(XmlDocumentError) as info:
        parse_metadata(METADATA.replace(old, new), name="IN/G68.txt.metadata")
    (finding,) = info.value.findings
    assert (finding.code, finding.field) == ("sp.value", field)
    assert finding.path and finding.path.endswith(field)
    assert str(info.value).startswith("IN/G68.txt.metadata: line ")


def test_the_lexical_forms_python_does_not_read_are_read() -> None:
    data = METADATA.replace(b">2026-11-24<", b">2026-11-24+01:00<").replace(
        b">2026-11-23T08:00:01+00:00<", b">2026-11-23T24:00:00Z<"
    )
    routing = parse_metadata(data).content.routing
    assert routing is not None
    assert routing.route_selection_value_date == date(2026, 11, 24)
    assert routing.sender_timestamp == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
