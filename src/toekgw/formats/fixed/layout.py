"""Declarative record layouts: one table per record type, linted when it is built.

A layout is data, not code. Where a layout is *ours* (no public source), the table is the one
place to change when the official layout turns up; the decoder and encoder are compiled from it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["SOURCES", "Align", "Field", "Kind", "Layout", "LayoutError"]


class Kind(enum.Enum):
    """What a field holds, and so how it is checked and converted."""

    DIGITS = "digits"  # an identifier of digits, kept as ``str`` (leading zeros matter)
    NUMBER = "number"  # a count or sequence number -> ``int``
    AMOUNT = "amount"  # unsigned øre -> ``int``; the sign is a SIGN field of its own
    TEXT = "text"  # free text -> ``str`` without its padding
    DATE = "date"  # YYYYMMDD -> ``datetime.date``
    TIME = "time"  # HHMMSS -> ``datetime.time``
    SIGN = "sign"  # ``+`` or ``-`` -> ``str``
    CODE = "code"  # one of ``Field.codes`` -> ``str``
    LITERAL = "literal"  # exactly ``Field.literal``; not part of the decoded record
    FILLER = "filler"  # padding only; not part of the decoded record


class Align(enum.Enum):
    LEFT = "left"
    RIGHT = "right"


_NUMERIC = {Kind.DIGITS, Kind.NUMBER, Kind.AMOUNT}

# Where a layout or field comes from (see the format facts): stated by the interface's owner,
# taken from a public implementation, or the project's own decision.
SOURCES = ("confirmed", "public-impl", "ours")


class LayoutError(ValueError):
    """A layout table is inconsistent. Lists every problem found, not just the first."""

    def __init__(self, layout: str, problems: Sequence[str]) -> None:
        self.layout = layout
        self.problems = tuple(problems)
        super().__init__(f"layout {layout}: " + "; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a fixed record. ``start`` is 1-based, as in the interface documents."""

    name: str
    start: int
    length: int
    kind: Kind
    required: bool = True
    align: Align | None = None  # default: numbers right, everything else left
    pad: str | None = None  # default: "0" for right-aligned numbers, " " otherwise
    literal: str | None = None  # the value of a LITERAL field
    codes: frozenset[str] | None = None  # the allowed values of a CODE field
    forbidden: str = ""  # characters a TEXT field must not hold
    personal: bool = False  # holds a CPR number: masked in every finding
    blank_sign: str | None = None  # SIGN: a blank reads as this sign (e.g. "+")
    # AMOUNT: the text holds the value in øre times this. eIndkomst writes kroner with six
    # decimals (10 integer + 6 decimal digits): øre x 10,000. A text with more precision than
    # whole øre is a finding, never rounded.
    scale: int = 1
    doc: str = ""
    source: str | None = None  # where this field comes from, when it differs from its layout

    @property
    def end(self) -> int:
        """1-based inclusive end column."""
        return self.start + self.length - 1

    @property
    def columns(self) -> tuple[int, int]:
        return (self.start, self.end)

    @property
    def alignment(self) -> Align:
        if self.align is not None:
            return self.align
        return Align.RIGHT if self.kind in _NUMERIC else Align.LEFT

    @property
    def padding(self) -> str:
        if self.pad is not None:
            return self.pad
        if self.kind in _NUMERIC and self.alignment is Align.RIGHT:
            return "0"
        return " "

    @property
    def carries_value(self) -> bool:
        return self.kind not in (Kind.LITERAL, Kind.FILLER)

    def problems(self) -> list[str]:
        out: list[str] = []
        if self.source is not None and self.source not in SOURCES:
            out.append(f"{self.name}: source {self.source!r} is not one of {', '.join(SOURCES)}")
        if not self.name.isidentifier():
            out.append(f"field name {self.name!r} is not an identifier")
        if self.start < 1:
            out.append(f"{self.name}: start {self.start} is before column 1")
        if self.length < 1:
            out.append(f"{self.name}: length {self.length} is not positive")
        if len(self.padding) != 1:
            out.append(f"{self.name}: padding must be one character")
        if self.kind is Kind.LITERAL:
            if self.literal is None or len(self.literal) != self.length:
                out.append(f"{self.name}: a literal needs a value of exactly {self.length} chars")
        elif self.literal is not None:
            out.append(f"{self.name}: only a LITERAL field has a literal value")
        if self.kind is Kind.CODE:
            if not self.codes:
                out.append(f"{self.name}: a CODE field needs its allowed codes")
            elif any(len(c) > self.length for c in self.codes):
                out.append(f"{self.name}: a code is longer than the field")
        if self.kind is Kind.DATE and self.length != 8:
            out.append(f"{self.name}: a DATE is 8 characters (YYYYMMDD)")
        if self.kind is Kind.TIME and self.length != 6:
            out.append(f"{self.name}: a TIME is 6 characters (HHMMSS)")
        if self.kind is Kind.SIGN and self.length != 1:
            out.append(f"{self.name}: a SIGN is 1 character")
        if self.scale != 1 and (self.kind is not Kind.AMOUNT or self.scale < 1):
            out.append(f"{self.name}: only an AMOUNT has a scale, and it is positive")
        return out


@dataclass(frozen=True)
class Layout:
    """The fields of one record type, in column order, covering every column exactly once.

    ``key`` is the record type as the discriminator reads it (``"Z300"``, ``"6000"`` …).
    """

    key: str
    length: int
    fields: tuple[Field, ...]
    source: str = "ours"  # confirmed | public-impl | ours: where the layout comes from
    doc: str = ""
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __init__(
        self,
        key: str,
        length: int,
        fields: Iterable[Field],
        *,
        source: str = "ours",
        doc: str = "",
    ) -> None:
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "length", length)
        object.__setattr__(self, "fields", tuple(fields))
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "doc", doc)
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})
        problems = self.lint()
        if problems:
            raise LayoutError(key, problems)

    def field_source(self, name: str) -> str:
        """Where a field comes from: its own ``source``, else the layout's."""
        return self.by_name[name].source or self.source

    @property
    def value_fields(self) -> tuple[Field, ...]:
        """The fields that end up in a decoded record, in column order."""
        return tuple(f for f in self.fields if f.carries_value)

    def lint(self) -> list[str]:
        """Every inconsistency of the table: overlaps, gaps, length, names."""
        problems: list[str] = []
        seen: set[str] = set()
        for f in self.fields:
            problems.extend(f.problems())
            if f.name in seen:
                problems.append(f"field name {f.name!r} is used twice")
            seen.add(f.name)
        column = 1
        for f in sorted(self.fields, key=lambda f: f.start):
            if f.start > column:
                problems.append(
                    f"gap at columns {column}-{f.start - 1} before {f.name} (declare it as FILLER)"
                )
            elif f.start < column:
                problems.append(f"{f.name} at column {f.start} overlaps the field before it")
            column = max(column, f.end + 1)
        if column - 1 != self.length:
            problems.append(
                f"fields cover {column - 1} columns, the record length is {self.length}"
            )
        if list(self.fields) != sorted(self.fields, key=lambda f: f.start):
            problems.append("fields are not listed in column order")
        return problems
