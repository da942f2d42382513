"""Parsing untrusted XML: no entities, no DTD, no network, no DOCTYPE at all.

Every document from the other side (a trigger, metadata, a receipt) goes through
:func:`parse_validated`: a syntax error, a DOCTYPE (where entity tricks live) or a schema
violation is an :class:`XmlDocumentError` carrying every finding with its line and XPath.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from lxml import etree

import xsd
from formats.findings import Finding, Severity

__all__ = ["MAX_DOCUMENT", "XmlDocumentError", "parse_validated", "safe_parser", "schema"]

MAX_DOCUMENT = 1 << 20
MAX_FINDINGS = 100


class XmlDocumentError(ValueError):
    """An XML document that cannot be used; ``findings`` says everything that is wrong."""

    def __init__(self, what: str, findings: list[Finding]) -> None:
        self.findings = findings
        first = findings[0]
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        place = ", ".join(
            p for p in (f"line {first.line}" if first.line else "", first.path or "") if p
        )
        super().__init__(f"{what}: {place + ': ' if place else ''}{first.message}{more}")


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


@cache
def schema(name: str) -> etree.XMLSchema:
    """The compiled schema ``xsd/serviceplatform/<name>.xsd``."""
    path = xsd.schema_path(f"serviceplatform/{name}.xsd")
    return etree.XMLSchema(etree.parse(str(path), safe_parser()))


def parse_validated(data: bytes, root: str, *, what: str) -> etree._Element:
    """Parse ``data``, refuse a DOCTYPE, validate against the schema of element ``root``."""
    if len(data) > MAX_DOCUMENT:
        raise XmlDocumentError(
            what,
            [_finding("SP-XML-SIZE", f"larger than {MAX_DOCUMENT} bytes", found=str(len(data)))],
        )
    parser = safe_parser()
    try:
        tree = etree.fromstring(data, parser).getroottree()
    except etree.XMLSyntaxError as exc:
        # The parser's own log: the exception's may hold other documents' errors.
        found = [
            _finding("SP-XML-SYNTAX", e.message, line=e.line) for e in _entries(parser.error_log)
        ] or [_finding("SP-XML-SYNTAX", str(exc), line=exc.lineno)]
        raise XmlDocumentError(what, found[:MAX_FINDINGS]) from None
    info: Any = tree.docinfo  # lxml-stubs lack DocInfo.doctype
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise XmlDocumentError(
            what,
            [
                _finding(
                    "SP-XML-DOCTYPE",
                    "a DOCTYPE is not allowed (entities and DTDs are refused)",
                    line=1,
                    found=info.doctype or "<!DOCTYPE>",
                )
            ],
        )
    element = tree.getroot()
    checker = schema(root)
    if not checker.validate(tree):
        found = [
            _finding("SP-XSD", _plain(e.message), line=e.line, path=_readable_path(tree, e.path))
            for e in _entries(checker.error_log)[:MAX_FINDINGS]
        ]
        raise XmlDocumentError(what, found)
    return element


def _entries(log: Any) -> list[Any]:
    # lxml-stubs do not declare _ErrorLog iterable; it is.
    return list(log)


def _plain(message: str) -> str:
    """lxml's message without the ``{namespace}`` noise in every element name."""
    return re.sub(r"\{[^}]*\}", "", message)


def _readable_path(tree: etree._ElementTree, path: str | None) -> str | None:
    """``/Trigger/FileDescriptor/SizeInBytes`` for lxml's ``/*/*[1]/*[2]``."""
    if not path:
        return None
    try:
        hits = tree.xpath(path)
    except etree.XPathError:
        return path
    if not isinstance(hits, list) or not hits or not isinstance(hits[0], etree._Element):
        return path
    steps = []
    node: etree._Element | None = hits[0]
    while node is not None:
        name = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return "/" + "/".join(reversed(steps))


def _finding(
    code: str,
    message: str,
    *,
    line: int | None = None,
    path: str | None = None,
    found: str | None = None,
) -> Finding:
    return Finding(code, Severity.ERROR, message, line=line, path=path, found=found)
