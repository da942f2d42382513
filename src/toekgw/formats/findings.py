"""What a validator found: one :class:`Finding` per problem, never an exception.

A finding is plain data so that codecs (which do no I/O) can produce them and the gateway can
journal and render them. Every text that goes into a finding passes :func:`mask_cpr_in_text`,
so no CPR number reaches an error list, a log line or a terminal in clear.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass, replace

__all__ = [
    "Finding",
    "Severity",
    "first_and_more",
    "mask_cpr",
    "mask_cpr_in_text",
]


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


# A 10-digit run whose first six digits are a plausible DDMMYY, alone or written DDMMYY-NNNN.
# Over-masking (a P-number that happens to look like a date) is the safe side.
_CPR_IN_TEXT = re.compile(
    r"(?<![0-9])((?:0[1-9]|[12][0-9]|3[01])(?:0[1-9]|1[0-2])[0-9]{2})-?[0-9]{4}(?![0-9])"
)
# A dashed CPR number glued to digits before or after it ("ref 9220185-4022", "220185-40221")
# is masked too, unless the run before the dash is a date written YYYYMMDD and the four digits
# after it end the run: that is a dated reference.
_GLUED_DASHED = re.compile(
    r"(?<![0-9])([0-9]*)((?:0[1-9]|[12][0-9]|3[01])(?:0[1-9]|1[0-2])[0-9]{2})-([0-9]{4,})"
)
# A CPR number can also sit inside a longer run of digits: a field's raw value read together
# with the next field's when the tag between them is damaged, or a zero-padded identifier.
_LONG_RUN = re.compile(r"[0-9]{11,}")
_DDMMYY = re.compile(r"(?:0[1-9]|[12][0-9]|3[01])(?:0[1-9]|1[0-2])[0-9]{2}")


def _mask_glued(match: re.Match[str]) -> str:
    prefix, ddmmyy, serial = match.groups()
    if len(serial) == 4 and len(prefix) == 2 and _is_yyyymmdd(prefix + ddmmyy):
        return match.group(0)
    return f"{prefix}{ddmmyy}-{'*' * len(serial)}"


def _is_yyyymmdd(digits: str) -> bool:
    try:
        dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return True


def _mask_long_run(match: re.Match[str]) -> str:
    return _mask_windows(match.group(0))


def _mask_windows(digits: str) -> str:
    """Every 10-digit window of ``digits`` that starts with a plausible DDMMYY loses its last
    four digits: ``00002302782711`` -> ``0000230278****``."""
    run = list(digits)
    for start in range(len(run) - 9):
        if _DDMMYY.fullmatch(digits, start, start + 6):
            run[start + 6 : start + 10] = "****"
    return "".join(run)


def mask_cpr(value: str) -> str:
    """Mask a CPR number (or a zero-padded field holding one) as ``DDMMYY-****``.

    >>> mask_cpr("0101011234")
    '010101-****'
    >>> mask_cpr("00000101011234")
    '010101-****'
    >>> mask_cpr("0101011234X")  # not zero-padded: no digit of the serial number shown
    '010101-****'
    >>> mask_cpr("01010112345")  # either ten digits could be the number
    '010101*****'
    """
    digits = value.strip().replace("-", "")
    if len(digits) > 10:
        tail = len(digits) - 10
        padded = not digits[:tail].strip("0")  # zero-padded to a wider field
        if digits.isdigit():
            dates = [i for i in range(tail + 1) if _DDMMYY.fullmatch(digits, i, i + 6)]
            if dates and not (dates == [tail] and padded):
                # Which ten digits are the number is not sure: mask every candidate.
                return _mask_windows(digits)
        elif _DDMMYY.fullmatch(digits, 0, 6):
            padded = False  # "0101011234X": the number is at the start
        if padded:
            digits = digits[tail:]
    if len(digits) < 6:
        return "*" * len(digits)
    return f"{digits[:6]}-****"


def mask_cpr_in_text(text: str) -> str:
    """Mask everything in ``text`` that could be a CPR number, also inside a longer run of
    digits.

    >>> mask_cpr_in_text("found 0101011234 and 02O1100002302782711")
    'found 010101-**** and 02O110000230278****'
    >>> mask_cpr_in_text("bundle B-20261201-0001, 220185-4022, ref 9220185-4022")
    'bundle B-20261201-0001, 220185-****, ref 9220185-****'
    """
    masked = _GLUED_DASHED.sub(_mask_glued, _CPR_IN_TEXT.sub(r"\1-****", text))
    return _LONG_RUN.sub(_mask_long_run, masked)


def first_and_more(texts: list[str], shown: int = 1, sep: str = "; ") -> str:
    """The first ``shown`` of ``texts`` and how many more there are: a one-line summary.

    >>> first_and_more(["page 3 is damaged", "page 4 is damaged"])
    'page 3 is damaged (and 1 more)'
    """
    more = f" (and {len(texts) - shown} more)" if len(texts) > shown else ""
    return sep.join(texts[:shown]) + more


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in one place of one input.

    ``line`` is the 1-based line of the file (the first record is line 1); ``columns`` the
    1-based, inclusive character range; ``path`` an XPath for XML input. ``code`` is stable
    (documented per format) so that operators and tools can act on it.
    """

    code: str
    severity: Severity
    message: str
    line: int | None = None
    columns: tuple[int, int] | None = None
    field: str | None = None
    expected: str | None = None
    found: str | None = None
    path: str | None = None
    file: str | None = None

    def __post_init__(self) -> None:
        # The last line of defence: whatever a rule wrote, and wherever the input put a CPR
        # number (a value, an element's name, a file's name), none leaves in clear.
        for name in ("message", "expected", "found", "field", "path", "file"):
            text = getattr(self, name)
            if text is not None:
                masked = mask_cpr_in_text(text)
                if masked != text:
                    object.__setattr__(self, name, masked)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def columns_text(self) -> str:
        if self.columns is None:
            return ""
        start, end = self.columns
        return str(start) if start == end else f"{start}-{end}"

    def in_file(self, file: str) -> Finding:
        return replace(self, file=file)

    def at_line(self, line: int) -> Finding:
        return replace(self, line=line)

    def where(self) -> str:
        """``file:line:columns`` (or the XPath) — the place an operator looks at."""
        parts = [p for p in (self.file, self.line, self.columns_text or None) if p is not None]
        place = ":".join(str(p) for p in parts)
        if self.path:
            place = f"{place} {self.path}" if place else self.path
        return place

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "columns": self.columns_text or None,
            "field": self.field,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "expected": self.expected,
            "found": self.found,
            "path": self.path,
        }
