"""Serviceplatformen documents from the other side, parsed and validated or refused whole.

Parsing and schema checking are :mod:`toekgw.formats.xmlcheck`'s (no entities, no DTD, no network,
no DOCTYPE at all); this module adds the size cap for documents that are only metadata and
turns findings into one :class:`XmlDocumentError` that carries all of them.
"""

from __future__ import annotations

from lxml import etree

from toekgw.formats.findings import Finding, Severity, first_and_more
from toekgw.formats.xmlcheck import load_schema, parse_safely, safe_parser, schema_findings

__all__ = ["MAX_DOCUMENT", "XmlDocumentError", "parse_validated", "safe_parser", "schema"]

MAX_DOCUMENT = 1 << 20
CODE_PREFIX = "sp"


class XmlDocumentError(ValueError):
    """An XML document that cannot be used; ``findings`` says everything that is wrong."""

    def __init__(self, what: str, findings: list[Finding]) -> None:
        self.findings = findings
        texts = []
        for finding in findings:
            place = ", ".join(
                p for p in (f"line {finding.line}" if finding.line else "", finding.path or "") if p
            )
            texts.append(f"{place + ': ' if place else ''}{finding.message}")
        super().__init__(f"{what}: {first_and_more(texts)}")


def schema(name: str) -> etree.XMLSchema:
    """The compiled schema ``xsd/serviceplatform/<name>.xsd``."""
    return load_schema(f"serviceplatform/{name}.xsd")


def parse_validated(data: bytes, root: str, *, what: str) -> etree._Element:
    """Parse ``data``, refuse a DOCTYPE, validate against the schema of element ``root``."""
    if len(data) > MAX_DOCUMENT:
        raise XmlDocumentError(
            what,
            [
                Finding(
                    f"{CODE_PREFIX}.xml.size",
                    Severity.ERROR,
                    f"larger than {MAX_DOCUMENT} bytes",
                    found=str(len(data)),
                )
            ],
        )
    element, findings = parse_safely(data, CODE_PREFIX)
    if element is None:
        raise XmlDocumentError(what, findings)
    findings = schema_findings(schema(root), element, CODE_PREFIX)
    if findings:
        raise XmlDocumentError(what, findings)
    return element
