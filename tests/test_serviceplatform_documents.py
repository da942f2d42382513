"""Trigger, metadata and receipts: round trips, schema checks, and hostile XML refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toekgw.formats.serviceplatform import (
    NS,
    BusinessReceipt,
    ErrorMessage,
    FileAcceptance,
    FileContent,
    FileDescriptor,
    FileMetadata,
    RoutingInfo,
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

UUID = "0b9e4c1e-3f0a-4a57-9d7e-6c2b1f1e2a3b"
ROUTING = RoutingInfo(
    inf_ref="INF-G68",
    sender_it_system=UUID,
    sender_authority="urn:oio:cvr-nr:29189846",
    transaction_id="11111111-2222-4333-8444-555555555555",
    sender_timestamp=datetime(2026, 11, 23, 8, 0, 1, tzinfo=UTC),
    recipient_authority="urn:oio:cvr-nr:12345678",
    recipient_it_system="aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
    route_selection_value_date=date(2026, 11, 24),
)

text = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=0x17F, exclude_characters="<>&"),
    min_size=1,
    max_size=40,
)
descriptors = st.builds(
    FileDescriptor,
    file_name=text,
    size=st.integers(0, 2**63),
    sender=text,
    recipients=st.lists(text, min_size=1, max_size=3).map(tuple),
    senders_file_id=st.none() | text,
)


@given(descriptors, st.sampled_from([FileContent(), FileContent(routing=ROUTING)]))
def test_trigger_and_metadata_round_trip(fd: FileDescriptor, content: FileContent) -> None:
    trigger = Trigger(fd, content)
    assert parse_trigger(build_trigger(trigger)) == trigger
    metadata = FileMetadata(UUID, fd, content)
    assert parse_metadata(build_metadata(metadata)) == metadata


@given(
    st.none() | text,
    st.lists(st.builds(ErrorMessage, st.integers(-(2**31), 2**31 - 1), text, text), max_size=3).map(
        tuple
    ),
)
def test_technical_receipt_round_trips(
    senders_id: str | None, errors: tuple[ErrorMessage, ...]
) -> None:
    receipt = TechnicalReceipt(UUID, senders_id, None if errors else "OK", errors)
    assert parse_technical_receipt(build_technical_receipt(receipt)) == receipt


@given(st.sampled_from(list(FileAcceptance)), st.none() | text)
def test_business_receipt_round_trips(acceptance: FileAcceptance, reason: str | None) -> None:
    receipt = BusinessReceipt(UUID, "G68_0001.txt", "TOEK", acceptance, reason)
    assert parse_business_receipt(build_business_receipt(receipt)) == receipt


def test_foreign_content_passes_through() -> None:
    other = b'<x:Extra xmlns:x="urn:example">kept</x:Extra>'
    trigger = Trigger(FileDescriptor("a", 1, "S", ("R",)), FileContent(other=other))
    assert parse_trigger(build_trigger(trigger)).content.other == other


def test_schema_violations_name_line_and_readable_xpath() -> None:
    good = build_trigger(Trigger(FileDescriptor("a.txt", 10, "KSD", ("TOEK",))))
    bad = good.replace(b"<SizeInBytes>10<", b"<SizeInBytes>ten<").replace(
        b"<Recipients>TOEK</Recipients>", b""
    )
    with pytest.raises(XmlDocumentError) as info:
        parse_trigger(bad, name="OUT/a.txt.trigger")
    message = str(info.value)
    assert message.startswith("OUT/a.txt.trigger: line 5, /Trigger/FileDescriptor/SizeInBytes")
    assert "'ten' is not a valid value" in message and "(and 1 more)" in message
    assert [f.code.split(".")[:2] for f in info.value.findings] == [["sp", "xsd"]] * 2


@pytest.mark.parametrize(
    "doctype",
    [
        b'<!DOCTYPE Trigger [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        b'<!DOCTYPE Trigger [<!ENTITY x SYSTEM "http://127.0.0.1:9/evil">]>',
        b'<!DOCTYPE Trigger [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
        b'<!DOCTYPE Trigger SYSTEM "http://127.0.0.1:9/evil.dtd">',
    ],
)
def test_doctype_and_entities_are_refused(doctype: bytes) -> None:
    body = (
        b'<?xml version="1.0"?>' + doctype + b'<Trigger xmlns="' + NS.encode() + b'">'
        b"<FileDescriptor><FileName>&x;</FileName></FileDescriptor></Trigger>"
    ).replace(b"&x;", b"&b;" if b"ENTITY b" in doctype else b"&x;")
    with pytest.raises(XmlDocumentError, match="DOCTYPE is not allowed") as info:
        parse_trigger(body)
    assert info.value.findings[0].code == "sp.xml.doctype"


def test_syntax_errors_and_oversize_documents_are_refused() -> None:
    with pytest.raises(XmlDocumentError, match="line 1"):
        parse_metadata(b"<FileMetadata><unclosed></FileMetadata>")
    with pytest.raises(XmlDocumentError, match="larger than"):
        parse_metadata(b" " * (2 << 20))
