"""What the ØiR documents share: namespaces, amounts, and parsing that ends in findings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from lxml import etree

from toekgw.formats.dates import XS_DATE, xs_date
from toekgw.formats.findings import Finding
from toekgw.formats.oir.model import OirFormatError
from toekgw.formats.xmlcheck import (
    load_schema,
    parse_safely,
    schema_findings,
    value_finding,
)

__all__ = [
    "BATCH_NS",
    "CODE_PREFIX",
    "SORTIMENT_NS",
    "STATUS_NS",
    "OirDocumentError",
    "format_amount",
    "parse_amount",
    "parse_date",
    "parse_validated",
    "schema",
]

CODE_PREFIX = "oir"
BATCH_NS = "urn:toek-gateway:oir:Finansbilag:1"
STATUS_NS = "urn:toek-gateway:oir:FinansbilagStatus:1"
SORTIMENT_NS = "urn:toek-gateway:oir:Sortiment:1"


class OirDocumentError(OirFormatError):
    """A document that cannot be used; ``findings`` says everything that is wrong with it."""

    def __init__(self, what: str, findings: Sequence[Finding]) -> None:
        self.findings = list(findings)
        first = self.findings[0]
        more = f" (and {len(self.findings) - 1} more)" if len(self.findings) > 1 else ""
        place = ", ".join(
            p for p in (f"line {first.line}" if first.line else "", first.path or "") if p
        )
        super().__init__(f"{what}: {place + ': ' if place else ''}{first.message}{more}")


def schema(name: str) -> etree.XMLSchema:
    """The compiled schema ``xsd/oir/<name>.xsd``."""
    return load_schema(f"oir/{name}.xsd")


def parse_validated(data: bytes, root: str, *, what: str) -> etree._Element:
    """Parse ``data`` safely and validate it against ``xsd/oir/<root>.xsd``, or raise
    :class:`OirDocumentError` with every finding."""
    element, findings = parse_safely(data, CODE_PREFIX)
    if element is None:
        raise OirDocumentError(what, findings)
    findings = schema_findings(schema(root), element, CODE_PREFIX)
    if findings:
        raise OirDocumentError(what, findings)
    return element


def parse_date(element: etree._Element, *, what: str) -> dt.date:
    """The schema-checked ``xs:date`` of ``element``: the day written (a zone after it, which
    the schema allows, is not a day's shift); :class:`OirDocumentError` for a year Python's
    dates do not hold (before 0001, after 9999)."""
    text = (element.text or "").strip()
    try:
        return xs_date(text)
    except ValueError:
        finding = value_finding(f"{CODE_PREFIX}.date", element, f"not {XS_DATE}", expected=XS_DATE)
        raise OirDocumentError(what, [finding]) from None


def format_amount(ore: int) -> str:
    """Øre as the schema's kroner with two decimals (``12345`` -> ``123.45``)."""
    if ore <= 0:
        raise OirFormatError(f"amount {ore} øre: a posting amount must be > 0")
    return f"{ore // 100}.{ore % 100:02d}"


def parse_amount(text: str) -> int:
    """The schema's kroner (at most two decimals) as øre, in integers only."""
    kr, _, dec = text.strip().partition(".")
    if not kr.isdigit() or (dec and (not dec.isdigit() or len(dec) > 2)):
        raise OirFormatError(f"amount {text!r}: expected kroner with at most 2 decimals")
    return int(kr) * 100 + int(dec.ljust(2, "0") if dec else 0)
