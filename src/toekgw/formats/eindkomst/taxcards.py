"""Tax cards (eSkattekort): read SKAT's tax-card XML safely, and answer "which card applies to
this CPR on this day, and at what withholding rate" (no card: 55 %).

The schema is ours (``xsd/eindkomst/Skattekort.xsd``): only KORT_TYPE and its answer types are
confirmed. The element names live in ``_ELEMENTS`` and the schema, nowhere else.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Protocol

from lxml import etree

from toekgw.formats.dates import XS_DATE, xs_date
from toekgw.formats.findings import Finding, Severity, mask_cpr_in_text
from toekgw.formats.xmlcheck import (
    element_path,
    load_schema,
    parse_safely,
    schema_findings,
    value_finding,
)

__all__ = [
    "NO_CARD_RATE",
    "CardStore",
    "CardType",
    "MemoryCardStore",
    "TaxCard",
    "TaxCardFile",
    "Withholding",
    "build_tax_cards",
    "parse_tax_cards",
    "withholding",
]

SCHEMA = "eindkomst/Skattekort.xsd"
NS = "urn:toek-gateway:eindkomst:skattekort:1"
NO_CARD_RATE = 55  # per cent, when no tax card exists (confirmed)
CODE_PREFIX = "eik.taxcard"
MAX_FINDINGS = 1000  # lxml slows down sharply on many errors: stop collecting and say so


class CardType(enum.IntEnum):
    """KORT_TYPE answer types (confirmed)."""

    NO_CARD = 0
    GROSS = 1  # gross withholding card
    MAIN = 2
    FREE = 3
    SECONDARY = 4
    SPECIAL_5 = 5
    SPECIAL_6 = 6
    SPECIAL_7 = 7


@dataclass(frozen=True, slots=True)
class TaxCard:
    cpr: str
    kort_type: CardType
    valid_from: dt.date
    withholding_pct: int | None = None
    deduction_month: int | None = None  # øre
    deduction_fortnight: int | None = None
    deduction_week: int | None = None
    deduction_day: int | None = None
    free_amount: int | None = None  # øre, free card only
    se: str | None = None


# element name -> TaxCard attribute (the one place that knows the XML names)
_ELEMENTS = {
    "CPR": "cpr",
    "SE": "se",
    "KORT_TYPE": "kort_type",
    "TRAEKPROCENT": "withholding_pct",
    "FRADRAG_MAANED": "deduction_month",
    "FRADRAG_14DAGE": "deduction_fortnight",
    "FRADRAG_UGE": "deduction_week",
    "FRADRAG_DAG": "deduction_day",
    "FRIKORT_BELOEB": "free_amount",
    "GYLDIG_FRA": "valid_from",
}
_AMOUNTS = {
    "deduction_month",
    "deduction_fortnight",
    "deduction_week",
    "deduction_day",
    "free_amount",
}
_RATED = {CardType.GROSS, CardType.MAIN, CardType.SECONDARY} | {
    CardType.SPECIAL_5,
    CardType.SPECIAL_6,
    CardType.SPECIAL_7,
}


@dataclass(slots=True)
class TaxCardFile:
    cards: list[TaxCard] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.is_error for f in self.findings)


def _finding(code: str, message: str, line: int | None = None, path: str | None = None) -> Finding:
    return Finding(
        code=code, severity=Severity.ERROR, message=mask_cpr_in_text(message), line=line, path=path
    )


def parse_tax_cards(data: bytes) -> TaxCardFile:
    """Every card of a tax-card document, or findings (syntax, DOCTYPE, schema, content)."""
    out = TaxCardFile()
    root, out.findings = parse_safely(data, CODE_PREFIX)
    if root is None:
        return out
    out.findings = schema_findings(
        load_schema(SCHEMA), root, CODE_PREFIX, max_findings=MAX_FINDINGS
    )
    if out.findings:
        return out
    for el in root.iterchildren(f"{{{NS}}}Skattekort"):
        values: dict[str, object] = {}
        for child in el.iterchildren():
            name = etree.QName(child).localname
            attr = _ELEMENTS.get(name)
            if attr is None:  # pragma: no cover - the schema admits no other element
                continue
            try:
                values[attr] = _convert(attr, (child.text or "").strip())
            except ValueError:  # a value the schema let through: this card alone is refused
                out.findings.append(_unreadable(child, attr))
                break
        else:
            _card(el, values, out)
    return out


def _unreadable(child: etree._Element, attr: str) -> Finding:
    """A value of ``child`` the schema let through and :func:`_convert` cannot hold (a date
    in the year 12026)."""
    expected = XS_DATE if attr == "valid_from" else f"a {attr} value"
    return value_finding("eik.taxcard.value", child, f"not {expected}", expected=expected)


def _card(el: etree._Element, values: dict[str, object], out: TaxCardFile) -> None:
    """The card of ``el``'s ``values`` into ``out``, or the finding why not."""
    card = TaxCard(**values)  # type: ignore[arg-type]
    if card.kort_type in _RATED and card.withholding_pct is None:
        out.findings.append(
            _finding(
                "eik.taxcard.rate_missing",
                f"KORT_TYPE {int(card.kort_type)} needs a TRAEKPROCENT",
                el.sourceline if isinstance(el.sourceline, int) else None,
                element_path(el),
            )
        )
        return
    out.cards.append(card)


def build_tax_cards(cards: Iterable[TaxCard]) -> bytes:
    """The tax-card document for ``cards`` (what SKAT sends; the simulator writes it)."""
    names = {attr: name for name, attr in _ELEMENTS.items()}
    root = etree.Element(f"{{{NS}}}SkattekortListe", nsmap={None: NS})  # type: ignore[dict-item]
    for card in cards:
        el = etree.SubElement(root, f"{{{NS}}}Skattekort")
        for attr in _ORDER:
            value = getattr(card, attr)
            if value is None:
                continue
            if attr in _AMOUNTS:
                text = f"{value // 100}.{value % 100:02d}"
            elif attr == "valid_from":
                text = value.isoformat()
            else:
                text = str(int(value)) if attr in ("kort_type", "withholding_pct") else str(value)
            etree.SubElement(el, f"{{{NS}}}{names[attr]}").text = text
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


# the schema's element order (a sequence)
_ORDER = (
    "cpr",
    "se",
    "kort_type",
    "withholding_pct",
    "deduction_month",
    "deduction_fortnight",
    "deduction_week",
    "deduction_day",
    "free_amount",
    "valid_from",
)


def _convert(attr: str, text: str) -> object:
    if attr == "kort_type":
        return CardType(int(text))
    if attr == "withholding_pct":
        return int(text)
    if attr == "valid_from":
        return xs_date(text)
    if attr in _AMOUNTS:
        try:
            return int(Decimal(text) * 100)
        except InvalidOperation:  # pragma: no cover - the schema checked it
            raise ValueError(attr) from None
    return text


# -- which card applies ------------------------------------------------------------------------


class CardStore(Protocol):
    def cards_for(self, cpr: str) -> Sequence[TaxCard]:
        """Every card received for the CPR, in the order received."""
        ...


class MemoryCardStore:
    def __init__(self, cards: Iterable[TaxCard] = ()) -> None:
        self._cards: dict[str, list[TaxCard]] = defaultdict(list)
        self.add(cards)

    def add(self, cards: Iterable[TaxCard]) -> None:
        for card in cards:
            self._cards[card.cpr].append(card)

    def cards_for(self, cpr: str) -> Sequence[TaxCard]:
        return tuple(self._cards.get(cpr, ()))


@dataclass(frozen=True, slots=True)
class Withholding:
    card: TaxCard | None  # None: no card applies
    rate_pct: int
    reason: str


def withholding(store: CardStore, cpr: str, on: dt.date) -> Withholding:
    """The card that applies on ``on`` (the latest valid-from not after it; on a tie, the one
    received last) and its withholding rate. No card, or KORT_TYPE 0: 55 %. A free card
    withholds 0 % up to its free amount; keeping track of what is used is the caller's."""
    best: TaxCard | None = None
    for card in store.cards_for(cpr):
        if card.valid_from <= on and (best is None or card.valid_from >= best.valid_from):
            best = card
    if best is None:
        return Withholding(None, NO_CARD_RATE, "no tax card")
    if best.kort_type is CardType.NO_CARD:
        return Withholding(None, NO_CARD_RATE, "SKAT answered: no tax card (KORT_TYPE 0)")
    if best.kort_type is CardType.FREE:
        return Withholding(best, 0, "free card")
    assert best.withholding_pct is not None  # parse_tax_cards refuses a rated card without it
    return Withholding(best, best.withholding_pct, best.kort_type.name.lower().replace("_", " "))
