"""Which eIndkomst field number is written with which record type: the one table.

Field numbers and meanings are confirmed (SKAT) except where ``source`` says public-impl. The
official list is far longer; a delivery from elsewhere may carry numbers we do not know, which
the validator reports as a warning, not an error. To add or correct a number, edit ``FIELDS``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["FIELDS", "FieldDef", "ValueKind", "field_def"]


class ValueKind(enum.Enum):
    """What a field number holds, and so the record type that carries it."""

    AMOUNT = "6001"
    CODE = "6002"
    TICK = "6003"
    TEXT = "6004"
    COUNT = "6005"

    @property
    def record_type(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class FieldDef:
    number: str
    kind: ValueKind
    meaning: str
    source: str = "confirmed"  # confirmed | public-impl | ours
    codes: frozenset[str] | None = None  # the allowed values of a CODE field, if known
    withholding: bool = False  # A-tax or AM-contribution: decides whether a nil report is due


FIELDS: dict[str, FieldDef] = {
    d.number: d
    for d in (
        FieldDef("0013", ValueKind.AMOUNT, "A-income subject to AM-contribution"),
        FieldDef("0014", ValueKind.AMOUNT, "A-income not subject to AM-contribution"),
        FieldDef("0015", ValueKind.AMOUNT, "A-tax withheld", withholding=True),
        FieldDef("0016", ValueKind.AMOUNT, "AM-contribution withheld", withholding=True),
        FieldDef("0036", ValueKind.AMOUNT, "B-income subject to AM-contribution"),
        FieldDef("0038", ValueKind.AMOUNT, "B-income not subject to AM-contribution"),
        FieldDef(
            "0045",
            ValueKind.CODE,
            "ATP rate type",
            codes=frozenset({"A", "B", "C", "D"}),
        ),
        FieldDef("0046", ValueKind.AMOUNT, "ATP contribution"),
        FieldDef(
            "0047",
            ValueKind.AMOUNT,
            "labour-market pension (OP) contribution",
            source="public-impl",
        ),
        FieldDef("0098", ValueKind.AMOUNT, "repayment of kontanthjælp", source="public-impl"),
        FieldDef("0200", ValueKind.COUNT, "paid hours"),
    )
}

WITHHOLDING_FIELDS = frozenset(n for n, d in FIELDS.items() if d.withholding)


def field_def(number: str) -> FieldDef | None:
    return FIELDS.get(number)
