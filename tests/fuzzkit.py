"""Shared mutations for the fuzz tests (``tests/test_fuzz_*.py``): damaged bytes, wrong
encodings, hostile XML (entities, DTDs, deep nesting) and odd but schema-legal values, made from
a valid input; and the checks every parser of counterpart input must pass on them.

A parser given mutated input either returns its result (with findings) or raises only its
documented exception; no message, whichever way, shows the CPR number planted in the input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from lxml import etree

from toekgw.formats.findings import Finding

#: A CPR number planted in the input: no message may show it in clear.
PLANTED_CPR = "0101701234"
_CLEAR = (PLANTED_CPR, "010170-1234")

#: Fast enough for every push: each test about 200 examples, no deadline (shared cores).
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Values a schema may well accept (xs:date with a zone, xs:dateTime at 24:00, a decimal with a
# sign or no integer part, a huge integer) and a reader in Python may not; and plain junk.
ODD_VALUES = (
    "",
    " ",
    "0",
    "-0",
    "+5",
    "005",
    ".5",
    "5.",
    "1e3",
    "NaN",
    "INF",
    "-1",
    "0.001",
    "99999999999999999999999999999999",
    "1" * 400,
    "2026-12-04Z",
    "2026-12-04+01:00",
    " 2026-12-04 ",
    "2026-02-30",
    "0000-01-01",
    "-2026-12-04",
    "12026-12-04",
    "2026-12-04T24:00:00",
    "2026-12-04T24:00:00Z",
    "2026-12-04T09:30:00.123456789Z",
    "2026-12-04T09:30:00+14:00",
    "2026-12-04T09:30:00-14:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "2026-12-04T09:30:00",
    "true",
    "1",
    "æøå ÆØÅ",
    "\u200b",
    "A" * 300,
    PLANTED_CPR,
    "010170-1234",
    f"X{PLANTED_CPR}X",
)


def _truncate(data: bytes, draw: Any) -> bytes:
    return data[: draw(st.integers(0, max(len(data) - 1, 0)))]


def _flip(data: bytes, draw: Any) -> bytes:
    if not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]


def _insert(data: bytes, draw: Any) -> bytes:
    at = draw(st.integers(0, len(data)))
    junk: bytes = draw(
        st.one_of(
            st.binary(min_size=1, max_size=8),
            st.sampled_from(
                [b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\xc3", b"\r", b"\n", b"&", b"<", b"]]>"]
            ),
            st.just(PLANTED_CPR.encode()),
        )
    )
    return data[:at] + junk + data[at:]


def _delete(data: bytes, draw: Any) -> bytes:
    if not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    return data[:at] + data[at + draw(st.integers(1, 16)) :]


def _recode(data: bytes, draw: Any) -> bytes:
    text = data.decode("utf-8", "replace") if draw(st.booleans()) else data.decode("latin-1")
    how = draw(st.sampled_from(["latin-1", "utf-8", "utf-8-sig", "utf-16", "cp1252", "bom"]))
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    return text.encode(how, "replace")


_BYTE_OPS: tuple[Callable[[bytes, Any], bytes], ...] = (_truncate, _flip, _insert, _delete, _recode)


@st.composite
def damaged(draw: Any, data: bytes, most: int = 3) -> bytes:
    """``data`` with 1 to ``most`` byte-level damages (truncated, flipped, inserted, deleted,
    re-encoded)."""
    for _ in range(draw(st.integers(1, most))):
        data = draw(st.sampled_from(_BYTE_OPS))(data, draw)
    return data


# -- XML -------------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE r [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
]>
"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd"><!ENTITY p SYSTEM "http://127.0.0.1:9/x">]>
"""


def _elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str)]


def _leaves(root: etree._Element) -> list[etree._Element]:
    return [e for e in _elements(root) if len(e) == 0] or [root]


def _tree(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


def _serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# The odd values that fit the kind of value a leaf holds: a date, a time or a number is where a
# reader's own conversion meets what the schema let through.
ODD_DATES = (
    "2026-12-04Z",
    "2026-12-04+01:00",
    "2026-12-04-14:00",
    " 2026-12-04 ",
    "2026-02-30",
    "0001-01-01",
    "0001-01-01+14:00",
    "-2026-12-04",
    "12026-12-04",
    "9999-12-31-14:00",
)
ODD_DATETIMES = (
    "2026-12-04T24:00:00",
    "2026-12-04T24:00:00Z",
    "2026-12-04T09:30:00.123456789Z",
    "2026-12-04T09:30:00.5",
    "2026-12-04T09:30:00+14:00",
    "2026-12-04T09:30:00-14:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "-2026-12-04T09:30:00Z",
    "12026-12-04T09:30:00Z",
    " 2026-12-04T09:30:00Z ",
    "2026-12-04T09:30:00",
    "2026-12-04",
)
ODD_NUMBERS = (
    "+5",
    "-5",
    "-0",
    "005",
    ".5",
    "5.",
    "0.001",
    "1e3",
    "NaN",
    "INF",
    " 12.50 ",
    "99999999999999999999999999999999",
    "1" * 400,
    "١٢٣",  # Arabic-Indic digits: str.isdigit() says yes
    "²",
)
_KINDS = (
    (re.compile(r"\s*-?\d{4}-\d\d-\d\dT"), ODD_DATETIMES),
    (re.compile(r"\s*-?\d{4}-\d\d-\d\d"), ODD_DATES),
    (re.compile(r"\s*[-+]?[0-9.]+\s*$"), ODD_NUMBERS),
)


def _odd_for(text: str | None) -> tuple[str, ...]:
    for pattern, values in _KINDS:
        if text and pattern.match(text):
            return values
    return ODD_VALUES


@st.composite
def odd_value(draw: Any, data: bytes) -> bytes:
    """One leaf element's text replaced by an odd value of its kind (a date, a time, a number:
    :data:`ODD_DATES` ...), of any kind (:data:`ODD_VALUES`), or any text."""
    root = _tree(data)
    leaf = draw(st.sampled_from(_leaves(root)))
    value = draw(
        st.one_of(
            st.sampled_from(_odd_for(leaf.text)),
            st.sampled_from(_odd_for(leaf.text)),
            st.sampled_from(ODD_VALUES),
            st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20),
        )
    )
    leaf.text = value
    return _serialize(root)


@st.composite
def reshaped(draw: Any, data: bytes) -> bytes:
    """One element removed, repeated, emptied, renamed or moved into another namespace, or an
    unknown element or attribute added."""
    root = _tree(data)
    elements = _elements(root)
    el = draw(st.sampled_from(elements))
    parent = el.getparent()
    op = draw(st.sampled_from(["remove", "repeat", "empty", "rename", "foreign", "add", "attr"]))
    if op == "remove" and parent is not None:
        parent.remove(el)
    elif op == "repeat" and parent is not None:
        parent.insert(parent.index(el), etree.fromstring(etree.tostring(el)))
    elif op == "empty":
        for child in list(el):
            el.remove(child)
        el.text = None
    elif op == "rename":
        el.tag = etree.QName(etree.QName(el).namespace, "Unexpected").text
    elif op == "foreign":
        el.tag = etree.QName("urn:fuzz:other", etree.QName(el).localname).text
    elif op == "add":
        etree.SubElement(el, etree.QName(etree.QName(el).namespace, "Extra").text).text = "x"
    else:
        el.set("fuzz", PLANTED_CPR)
    return _serialize(root)


def _body(data: bytes) -> bytes:
    """The document without its XML declaration."""
    if data.startswith(b"<?xml"):
        return data[data.index(b"?>") + 2 :].lstrip()
    return data


@st.composite
def hostile_xml(draw: Any, data: bytes) -> bytes:
    """The document behind a DOCTYPE with entities (billion laughs, XXE) or entity references in
    it, nested very deep, or with a huge text."""
    body = _body(data)
    root_name = etree.QName(_tree(data)).localname
    op = draw(st.sampled_from(["laughs", "xxe", "deep", "wide", "huge", "doctype"]))
    if op in ("laughs", "xxe"):
        head = BILLION_LAUGHS if op == "laughs" else XXE
        ref = b"&e;" if op == "laughs" else draw(st.sampled_from([b"&e;", b"&p;"]))
        at = body.index(b">") + 1
        return head + body[:at] + ref + body[at:]
    if op == "doctype":
        return b"<!DOCTYPE " + root_name.encode() + b' SYSTEM "http://127.0.0.1:9/x.dtd">\n' + body
    if op == "deep":
        depth: int = draw(st.sampled_from([300, 3000, 20000]))
        at = body.index(b">") + 1
        return body[:at] + b"<a>" * depth + b"</a>" * depth + body[at:]
    if op == "wide":
        at = body.index(b">") + 1
        return body[:at] + b"<x/>" * 20000 + body[at:]
    at = body.index(b">") + 1
    return body[:at] + b"<x>" + b"9" * 200_000 + b"</x>" + body[at:]


def xml_mutations(data: bytes) -> st.SearchStrategy[bytes]:
    """Every kind of damage for an XML sample."""
    return st.one_of(
        odd_value(data),
        odd_value(data),
        damaged(data),
        reshaped(data),
        hostile_xml(data),
        st.just(b""),
    )


# -- checks ----------------------------------------------------------------------------------


def finding_texts(findings: Iterable[Finding]) -> list[str]:
    return [
        t
        for f in findings
        for t in (f.message, f.expected, f.found, f.field, f.path, f.file)
        if t is not None
    ]


def assert_masked(*texts: object) -> None:
    """No text shows the planted CPR number in clear."""
    for text in texts:
        shown = str(text)
        for clear in _CLEAR:
            assert clear not in shown, f"CPR in clear: {shown!r}"


def refuses_only(
    call: Callable[[], Any], *documented: type[BaseException]
) -> tuple[Any, BaseException | None]:
    """Run ``call``: its result, or the documented exception it raised (masked, one line);
    any other exception fails the test."""
    try:
        return call(), None
    except documented as exc:
        assert_masked(exc)
        for finding in getattr(exc, "findings", ()) or ():
            assert_masked(*finding_texts([finding]))
        return None, exc


# -- fixed-width records ---------------------------------------------------------------------

_FIELD_JUNK = (
    b" ",
    b"0",
    b"9" * 20,
    b"-",
    b"+",
    b"&",
    b"A",
    b"\xe6\xf8\xe5",  # æøå in ISO-8859-1
    "æøå".encode(),  # ... and in UTF-8: other byte counts
    b"\x00",
    b"\t",
    b"\r",
    b"\x85",  # NEL: a line end to str.splitlines()
    b"\x0c",
    PLANTED_CPR.encode(),
    b"00000000",
    b"20261399",
    b"99999999",
)


@st.composite
def overwritten(draw: Any, data: bytes) -> bytes:
    """A span of one line overwritten with junk of its own length or not (a field's digits
    turned to letters, a date that is none, a CPR number planted)."""
    lines = data.split(b"\n")
    at = draw(st.integers(0, len(lines) - 1))
    line = lines[at]
    start = draw(st.integers(0, max(len(line) - 1, 0)))
    junk = draw(st.sampled_from(_FIELD_JUNK))
    keep_length = draw(st.booleans())
    end = start + len(junk) if keep_length else start + draw(st.integers(0, 4))
    lines[at] = line[:start] + junk + line[end:]
    return b"\n".join(lines)


@st.composite
def lines_reshaped(draw: Any, data: bytes) -> bytes:
    """A line removed, repeated or swapped with the next; or the line ends changed."""
    lines = data.split(b"\n")
    at = draw(st.integers(0, len(lines) - 1))
    op = draw(st.sampled_from(["remove", "repeat", "swap", "lf", "cr", "none"]))
    if op == "remove":
        del lines[at]
    elif op == "repeat":
        lines.insert(at, lines[at])
    elif op == "swap" and at + 1 < len(lines):
        lines[at], lines[at + 1] = lines[at + 1], lines[at]
    elif op == "lf":
        return data.replace(b"\r\n", b"\n")
    elif op == "cr":
        return data.replace(b"\r\n", b"\r")
    elif op == "none":
        return data.rstrip(b"\r\n")
    return b"\n".join(lines)


def fixed_mutations(data: bytes) -> st.SearchStrategy[bytes]:
    """Every kind of damage for a fixed-width file."""
    return st.one_of(
        overwritten(data),
        overwritten(data).flatmap(overwritten),
        lines_reshaped(data),
        damaged(data),
        st.just(b""),
    )
