"""Safe XML parsing and XSD validation that ends in readable findings.

Parsing never resolves entities, never touches the network, never loads a DTD, and refuses a
document that has a DOCTYPE at all. Validation is lxml's (libxml2) XMLSchema - the fast path;
each error becomes a :class:`Finding` with the line, a readable XPath built from local names
(``/NKSBetaling/PmtInf/CdtTrfTxInf[3]/Amt/InstdAmt``), the element, and what the
schema expected. lxml slows down sharply on a large document with many errors, so collecting
stops after ``max_findings`` and says so.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, cast

from lxml import etree

import toekgw.xsd
from toekgw.formats.findings import Finding, Severity, mask_cpr

__all__ = [
    "DEFAULT_MAX_FINDINGS",
    "element_path",
    "load_schema",
    "parse_safely",
    "safe_parser",
    "schema_findings",
    "source_line",
    "value_finding",
    "without_comments",
]

DEFAULT_MAX_FINDINGS = 100

# A namespace URI (it has a colon: "urn:..." or "http://..."), not an enumeration's value set
# or a pattern's quantifier ("[0-9]{10}").
_NS = re.compile(r"\{[^}'\s:]*:[^}'\s]*\}")
_EXPECTED = re.compile(r"Expected is (?:one of )?\( ?(.+?) ?\)")
_FACETS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"accepted by the pattern '(.*)'"), "a value matching {0}"),
    (re.compile(r"allowed maximum length of '(\d+)'"), "at most {0} characters"),
    (re.compile(r"allowed minimum length of '(\d+)'"), "at least {0} characters"),
    (re.compile(r"more fractional digits than are allowed \('(\d+)'\)"), "at most {0} decimals"),
    (re.compile(r"more digits than are allowed \('(\d+)'\)"), "at most {0} digits"),
    (re.compile(r"must be greater than '(.*?)'"), "a value greater than {0}"),
    (re.compile(r"greater than or equal to '(.*?)'"), "a value of at least {0}"),
    (re.compile(r"not an element of the set \{(.*)\}"), "one of {0}"),
    (re.compile(r"atomic type '(?:xs:)?(\w+)'"), "a valid {0}"),
)

# Elements whose values are personal: a finding shows them masked, whatever they look like.
PERSONAL_ELEMENTS = frozenset({"CPR", "SclSctyNb"})


def safe_parser(*, keep_comments: bool = True) -> etree.XMLParser:
    """A parser for untrusted XML: no entities, no DTD, no network, no huge trees.

    ``keep_comments=False``, for a document whose values are read: comments and processing
    instructions are dropped while parsing, and the texts around them join. A comment
    inside a value (``<Beloeb>12<!---->34.00</Beloeb>``) is legal XML that the schema (and
    a signature's canonical form) reads as ``1234.00``, but an element's ``.text`` and
    ``findtext`` give only the part before it. Kept where a document is only checked or
    passed on (a signature's own canonical form decides about comments)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=not keep_comments,
        remove_pis=not keep_comments,
    )


@lru_cache(maxsize=16)
def load_schema(name: str) -> etree.XMLSchema:
    """The compiled schema ``name`` from the ``xsd`` package (compiled once per process)."""
    doc = etree.parse(str(toekgw.xsd.schema_path(name)), safe_parser())
    return etree.XMLSchema(doc)


_PARSERS = threading.local()


def _reused_parser() -> etree.XMLParser:
    """This thread's :func:`safe_parser` for reading (comments and processing instructions
    dropped), made once: an lxml parser may be reused, one document after the other, by the
    thread that made it."""
    parser: etree.XMLParser | None = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = safe_parser(keep_comments=False)
    return parser


def without_comments(element: etree._Element) -> etree._Element:
    """A detached copy of ``element`` without comments and processing instructions, the texts
    around them joined: what a schema and a signature (exclusive canonicalisation) read, and
    so what its values must be read from. :class:`lxml.etree.XMLSyntaxError` beyond the safe
    parser's limits (depth, size)."""
    return etree.fromstring(etree.tostring(element, with_tail=False), _reused_parser())


def parse_safely(data: bytes, code_prefix: str) -> tuple[etree._Element | None, list[Finding]]:
    """Parse ``data`` to read its values (comments and processing instructions dropped:
    :func:`safe_parser`); on failure the root is ``None`` and the findings say why."""
    try:
        root = etree.fromstring(data, _reused_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        return None, [
            Finding(
                f"{code_prefix}.xml.syntax",
                Severity.ERROR,
                f"not well-formed XML: {_NS.sub('', exc.msg)}",
                line=line,
                expected="well-formed XML",
            )
        ]
    docinfo: Any = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        return None, [
            Finding(
                f"{code_prefix}.xml.doctype",
                Severity.ERROR,
                "a DOCTYPE is not allowed (entities and DTDs are refused)",
                line=1,
                expected="no DOCTYPE",
            )
        ]
    return root, []


def element_path(element: etree._Element) -> str:
    """An XPath of local names with 1-based positions among same-named siblings."""
    steps = []
    node: etree._Element | None = element
    while node is not None:
        name = etree.QName(node).localname
        parent = node.getparent()
        if parent is None:
            steps.append(f"/{name}")
        else:
            same = [c for c in parent if c.tag == node.tag]
            steps.append(f"/{name}[{same.index(node) + 1}]" if len(same) > 1 else f"/{name}")
        node = parent
    return "".join(reversed(steps))


def source_line(element: etree._Element) -> int | None:
    line = getattr(element, "sourceline", None)
    return line if isinstance(line, int) else None


def value_finding(
    code: str,
    element: etree._Element,
    message: str,
    *,
    expected: str | None,
    found: str | None = None,
) -> Finding:
    """An error at ``element``: its line, field (local name) and path; ``found`` its text,
    stripped, unless given (a value the schema let through and a reader cannot hold)."""
    return Finding(
        code,
        Severity.ERROR,
        message,
        line=source_line(element),
        field=etree.QName(element).localname,
        expected=expected,
        found=(element.text or "").strip() if found is None else found,
        path=element_path(element),
    )


def _expected(message: str) -> str | None:
    m = _EXPECTED.search(message)
    if m:
        return " or ".join(p.strip() for p in _NS.sub("", m.group(1)).split(","))
    for pattern, template in _FACETS:
        m = pattern.search(message)
        if m:
            return template.format(m.group(1))
    return None


# The element's value in libxml2's messages ("The value '0101011234' is not accepted ..."):
# the element's name, the facet and the pattern, quoted too, stay as they are.
_VALUE = re.compile(r"(\bvalue ')([^']*)(')")


def _mask_values(message: str) -> str:
    return _VALUE.sub(lambda m: f"{m.group(1)}{mask_cpr(m.group(2))}{m.group(3)}", message)


class _Locator:
    """The element a schema error names, found without evaluating the error's path.

    libxml2 reports the path with the document's own prefixes (``/Root/x:note``); evaluating
    that as XPath fails on a prefix the document declares only locally, and would evaluate
    whatever a counterpart put there. Instead the elements on the error's line are compared
    with the path as text (:meth:`getpath`), built once per document on the first error.
    """

    def __init__(self, root: etree._Element) -> None:
        self._root = root
        self._by_line: dict[int, list[etree._Element]] | None = None

    def __call__(self, path: str | None, line: int | None) -> etree._Element | None:
        if not path or not line:
            return None
        if self._by_line is None:
            self._by_line = {}
            for element in self._root.iter(tag=etree.Element):
                at = source_line(element)
                if at is not None:
                    self._by_line.setdefault(at, []).append(element)
        candidates = self._by_line.get(line, [])
        tree = self._root.getroottree()
        for element in candidates:
            if tree.getpath(element) == path:
                return element
        return candidates[-1] if candidates else None


def schema_findings(
    schema: etree.XMLSchema,
    root: etree._Element,
    code_prefix: str,
    *,
    max_findings: int = DEFAULT_MAX_FINDINGS,
) -> list[Finding]:
    """All schema errors of ``root`` (up to ``max_findings``) as findings."""
    if schema.validate(root):
        return []
    findings: list[Finding] = []
    locate = _Locator(root)
    for entry in cast(Iterable[Any], schema.error_log):
        if len(findings) >= max_findings:
            findings.append(
                Finding(
                    f"{code_prefix}.xsd.capped",
                    Severity.ERROR,
                    f"more than {max_findings} schema errors; the rest are not listed",
                )
            )
            break
        message = _NS.sub("", entry.message)
        path = None
        field = None
        element = locate(entry.path, entry.line)
        if element is not None:
            path = element_path(element)
            field = etree.QName(element).localname
        if field in PERSONAL_ELEMENTS:
            message = _mask_values(message)
        message = message.removeprefix(f"Element '{field}': ") if field else message
        findings.append(
            Finding(
                f"{code_prefix}.xsd.{entry.type_name.lower().removeprefix('schemav_')}",
                Severity.ERROR,
                message,
                line=entry.line or None,
                field=field,
                expected=_expected(message),
                path=path,
            )
        )
    return findings
