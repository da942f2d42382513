"""SKAT's error and advice file (fejl- og advisfil): what SKAT found wrong or worth a remark in
a delivery, one record per finding, each naming the line of the delivery it is about.

Records of 361 characters (public-impl, one public source parses it so): ``0001`` start,
``0002`` error, ``0003`` advice, ``9999`` end; the record type at 1/4 (not after a running line
number as in the delivery). An error or advice record holds the line number in the submitted
file (5/7), the field's number within that record (12/2), the report id (14/16), the SE number
(30/8), SKAT's error/advice number (38/6), the text (44/300), the CPR (344/10) and the SE person
number (354/8). What the start and end records hold beyond their type is not public: they are
read as the frame of the file (a file must start with ``0001`` and end with ``9999``, so a cut
file is a finding), their content is not interpreted (ours). The layouts live in
:data:`toekgw.formats.eindkomst.layouts.ADVICE_LAYOUTS`.

This replaces our invented receipt record 7200; the sum receipt 7100 stays ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from toekgw.formats.eindkomst.layouts import ADVICE_CODECS, ADVICE_END, ADVICE_START, CODE_PREFIX
from toekgw.formats.findings import Finding, Severity, mask_cpr
from toekgw.formats.fixed import ENCODING, Line, write_lines

__all__ = ["ADVICE", "ERROR", "ErrorReceipt", "decode_advice_file", "encode_advice_file"]

ERROR = "0002"
ADVICE = "0003"


@dataclass(frozen=True, slots=True, repr=False)
class ErrorReceipt:
    """One error (``0002``) or advice (``0003``) on a line of a delivery. ``report_id`` is
    blank for a remark about the delivery as a whole."""

    record_type: str
    line_number: int
    field_index: str | None
    report_id: str
    se: str | None
    number: str
    text: str | None
    cpr: str | None = None
    se_person: str | None = None

    @property
    def is_error(self) -> bool:
        return self.record_type == ERROR

    @property
    def error_code(self) -> str:
        """SKAT's error or advice number."""
        return self.number

    @classmethod
    def from_values(cls, record_type: str, values: Sequence[Any]) -> ErrorReceipt:
        """The record of ``values`` in column order (as :meth:`values` gives them)."""
        line_number, field_index, report_id, se, number, text, cpr, se_person = values
        return cls(
            record_type, line_number, field_index, report_id or "", se, number, text, cpr, se_person
        )

    def values(self) -> tuple[object, ...]:
        """The values in column order, as the layout encodes them."""
        return (
            self.line_number,
            self.field_index,
            self.report_id or None,
            self.se,
            self.number,
            self.text,
            self.cpr,
            self.se_person,
        )

    def __repr__(self) -> str:
        # A CPR number must not reach a log or a traceback through a repr.
        cpr = mask_cpr(self.cpr) if self.cpr else None
        return (
            f"ErrorReceipt({self.record_type}, line {self.line_number}, report "
            f"{self.report_id!r}, number {self.number}, cpr {cpr!r}, text {self.text!r})"
        )


def encode_advice_file(
    entries: Iterable[ErrorReceipt], *, newline: str = "\r\n"
) -> Iterator[bytes]:
    """The file: ``0001``, one record per entry, ``9999`` - as ISO-8859-1 lines."""

    def lines() -> Iterator[str]:
        yield ADVICE_CODECS[ADVICE_START].encode((None,))
        for e in entries:
            yield ADVICE_CODECS[e.record_type].encode(e.values())
        yield ADVICE_CODECS[ADVICE_END].encode((None,))

    return write_lines(lines(), ENCODING, newline)


def _frame(line: int, message: str, expected: str, found: str | None) -> Finding:
    return Finding(
        code=f"{CODE_PREFIX}.advice.frame",
        severity=Severity.ERROR,
        message=message,
        line=line,
        columns=(1, 4),
        field="rtype",
        expected=expected,
        found=found,
    )


def decode_advice_file(lines: Iterable[Line]) -> tuple[list[ErrorReceipt], list[Finding]]:
    """The errors and advice in the file, and every finding: a record that cannot be read, a
    file that does not start with ``0001`` or end with ``9999``, anything after ``9999``."""
    entries: list[ErrorReceipt] = []
    findings: list[Finding] = []
    last: Line | None = None
    ended = False
    for ln in lines:
        last = ln
        rtype = ln.text[:4]
        if ended:
            findings.append(_frame(ln.number, "a record after the end record 9999", "", rtype))
            continue
        if ln.number == 1 and rtype != ADVICE_START:
            findings.append(_frame(1, "the file does not start with 0001", ADVICE_START, rtype))
        codec = ADVICE_CODECS.get(rtype)
        if codec is None:
            expected = "one of " + ", ".join(ADVICE_CODECS)
            findings.append(_frame(ln.number, f"unknown record type {rtype!r}", expected, rtype))
            continue
        values, problems = codec.decode_checked(ln.text, ln.number)
        if problems:
            findings.extend(problems)
            continue
        if rtype == ADVICE_END:
            ended = True
        elif rtype != ADVICE_START:
            entries.append(ErrorReceipt.from_values(rtype, values))
    if last is None or not ended:
        at = last.number if last is not None else 1
        findings.append(_frame(at, "the file ends without the end record 9999", ADVICE_END, None))
    return entries, findings
