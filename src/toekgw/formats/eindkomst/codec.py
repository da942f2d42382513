"""Records <-> lines: a streaming decoder that dispatches on the record type, and an encoder.

The decoder never raises on bad input: a line it cannot read becomes findings, and the stream
goes on. Memory stays flat: one line at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Any

from toekgw.formats.eindkomst.layouts import CODE_PREFIX, CODECS, RECEIPT_TYPES, REPORT_TYPES
from toekgw.formats.eindkomst.records import Record, record_class
from toekgw.formats.findings import Finding, Severity
from toekgw.formats.fixed import ENCODING, iter_lines, write_lines

__all__ = [
    "Entry",
    "decode_line",
    "decode_records",
    "encode_delivery",
    "encode_record",
    "record_values",
]

MAX_LINE_NUMBER = 9_999_999  # the running number is 7 digits

_NAMES: dict[str, tuple[str, ...]] = {
    rtype: tuple(f.name for f in fields(record_class(rtype))) for rtype in CODECS
}


@dataclass(slots=True)
class Entry:
    """One line of a file: its place, its record (``None`` if unreadable) and its findings."""

    line: int  # 1-based line of the file
    number: int | None  # the running line number written in the record
    record_type: str
    record: Record | None
    findings: list[Finding]


def record_values(record: Record) -> tuple[Any, ...]:
    """The record's values in layout order (without the line number)."""
    return tuple(getattr(record, name) for name in _NAMES[record.RECORD_TYPE])


def encode_record(record: Record, number: int) -> str:
    """The record as a line of text with running line number ``number``."""
    return CODECS[record.RECORD_TYPE].encode((number, *record_values(record)))


def encode_delivery(records: Iterable[Record], *, newline: str = "\r\n") -> Iterator[bytes]:
    """Number ``records`` from 1 and encode them as ISO-8859-1 lines."""
    return write_lines(
        (encode_record(r, n) for n, r in enumerate(records, start=1)),
        ENCODING,
        newline,
    )


def _type_finding(line: int, rtype: str, allowed: tuple[str, ...]) -> Finding:
    shown = rtype if rtype.strip() else "blank"
    return Finding(
        code=f"{CODE_PREFIX}.record.type",
        severity=Severity.ERROR,
        message=f"unknown record type {shown!r}",
        line=line,
        columns=(8, 11),
        field="rtype",
        expected="one of " + ", ".join(allowed),
        found=rtype,
    )


def decode_line(
    text: str, line: int, allowed: tuple[str, ...] = REPORT_TYPES + RECEIPT_TYPES
) -> Entry:
    """Decode one line (fast path first; every finding of the record if it is not valid)."""
    rtype = text[7:11]
    if rtype not in allowed:
        number = int(text[:7]) if text[:7].isdigit() else None
        return Entry(line, number, rtype, None, [_type_finding(line, rtype, allowed)])
    codec = CODECS[rtype]
    values = codec.decode(text)
    if values is not None:
        return Entry(line, values[0], rtype, record_class(rtype)(*values[1:]), [])
    # A partial record would mislead; the findings say what is wrong with it.
    values, findings = codec.decode_checked(text, line)
    return Entry(line, values[0] if values else None, rtype, None, findings)


def decode_records(
    chunks: Iterable[bytes], allowed: tuple[str, ...] = REPORT_TYPES + RECEIPT_TYPES
) -> Iterator[Entry]:
    """Every line of a byte stream as an :class:`Entry`, in order."""
    for ln in iter_lines(chunks):
        yield decode_line(ln.text, ln.number, allowed)
