"""Hostile documents: a stray element with a prefix of its own, in every XML we read.

libxml2 names a schema error's element by a path with the document's prefixes
(``/Trigger/x:note``). Evaluating that path as XPath raised ``XPathEvalError`` for a prefix the
document declares only on the stray element itself, so every reader crashed on it (issue 11,
case 1). Now each reader refuses the document with a finding naming line, element and what
the schema expected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from toekgw.formats.eindkomst.taxcards import CardType, TaxCard, build_tax_cards, parse_tax_cards
from toekgw.formats.findings import Finding
from toekgw.formats.nemkonto.answer import AnswerType, BundleAnswer, build_answer, read_answer
from toekgw.formats.serviceplatform import (
    FileDescriptor,
    FileMetadata,
    TechnicalReceipt,
    XmlDocumentError,
    build_metadata,
    build_technical_receipt,
    parse_metadata,
    parse_technical_receipt,
)

STRAY = b'<x:note xmlns:x="urn:x">hello</x:note>'
UUID = "0b9e4c1e-3f0a-4a57-9d7e-6c2b1f1e2a3b"
NOW = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)


STRAY_LINE = 3


def _plant(document: bytes) -> bytes:
    """``document`` with the stray element as the root's first child, on line 3."""
    body = document[document.index(b"?>") + 2 :] if b"?>" in document else document
    body = body.lstrip()
    end_of_root_tag = body.index(b">") + 1
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        + body[:end_of_root_tag]
        + b"\n"
        + STRAY
        + b"\n"
        + body[end_of_root_tag:].lstrip()
    )


def _sp_findings(parse: Callable[[bytes], object], data: bytes) -> list[Finding]:
    with pytest.raises(XmlDocumentError) as info:
        parse(data)
    return list(info.value.findings)


def _metadata() -> list[Finding]:
    doc = build_metadata(FileMetadata(UUID, FileDescriptor("G68.txt", 10, "KSD", ("TOEK",))))
    return _sp_findings(parse_metadata, _plant(doc))


def _receipt() -> list[Finding]:
    doc = build_technical_receipt(TechnicalReceipt(UUID, "G68.txt", "received"))
    return _sp_findings(parse_technical_receipt, _plant(doc))


def _answer() -> list[Finding]:
    doc = build_answer(BundleAnswer(AnswerType.RECEIVED, "B1", NOW))
    answer, findings = read_answer(_plant(doc))
    assert answer is None
    return findings


def _tax_cards() -> list[Finding]:
    card = TaxCard("0101901234", CardType.FREE, dt.date(2026, 1, 1), free_amount=100)
    return parse_tax_cards(_plant(build_tax_cards([card]))).findings


@pytest.mark.parametrize("read", [_metadata, _receipt, _answer, _tax_cards])
def test_a_prefixed_stray_element_is_a_finding_not_a_crash(
    read: Callable[[], list[Finding]],
) -> None:
    findings = read()
    assert findings, "the stray element must be refused"
    stray = findings[0]
    assert stray.line == STRAY_LINE
    assert stray.field == "note"
    assert stray.path is not None and stray.path.endswith("/note")
    assert "not expected" in stray.message
    assert stray.expected
