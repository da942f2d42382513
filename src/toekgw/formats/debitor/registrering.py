"""SF1590_B outbound: ``DebitorRegistreringAfsend`` (B_01) and ``DebitorIndbetalingAfsend`` (B_03).

A fagsystem hands the municipality's debtor system its debtor accounts and claims (B_01:
create a debtor account, create a claim with sub-claims, write a claim down, release it for
collection) and payments on claims from set-offs (B_03). The operations are confirmed; the
messages are **ours** (``xsd/oir/DebitorRegistrering.xsd``, namespace
``urn:toekgw:oir:debitorregistrering:1``; the WSDL ``xsd/oir/SF1590_B.wsdl``).

A message's ``BeskedId`` is its idempotency key: the debtor system answers a repeated
``BeskedId`` with its first answer and applies nothing again. Amounts are kroner with two
decimals in the XML and integer øre in the records; a debtor's CPR number is carried to the
debtor system (it needs it) but never shown: :class:`Part` masks it in ``repr``.

This module holds the records, their plain-data form (what the journal keeps to send the
same message again) and the reader the debtor system would use (schema-validated).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from lxml import etree

from toekgw.formats.dates import XS_DATE, xs_date
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.formats.xmlcheck import load_schema, without_comments

__all__ = [
    "ENTITY_IDS",
    "NS",
    "SCHEMA",
    "WSDL",
    "BadMessage",
    "Delfordring",
    "Indbetaling",
    "IndbetalingBesked",
    "NedskrivFordring",
    "Operation",
    "OpretDebitorkonto",
    "OpretFordring",
    "Part",
    "Registrering",
    "RetFordringTilstand",
    "kroner",
    "operation_from_data",
    "operation_to_data",
    "ore",
    "read_indbetaling",
    "read_registrering",
]

NS = "urn:toekgw:oir:debitorregistrering:1"
SCHEMA = "oir/DebitorRegistrering.xsd"
WSDL = "oir/SF1590_B.wsdl"
_N = f"{{{NS}}}"
#: The services' entity ids (the token's audience): B_03's is confirmed, B_01's ours.
ENTITY_IDS = {
    "DebitorRegistreringAfsend": "http://entityid.kombit.dk/service/debitorregistreringafsend/1",
    "DebitorIndbetalingAfsend": "http://oir.serviceplatformen.dk/service/debitorindbetalingafsend/1",
}


class BadMessage(ValueError):
    """Not a valid B_01/B_03 message (the text says where and what was expected; a CPR
    number the schema's message quotes is masked)."""

    def __init__(self, message: str) -> None:
        super().__init__(mask_cpr_in_text(message))


@dataclasses.dataclass(frozen=True, slots=True)
class Part:
    """A debtor: ``CPR`` (10 digits) or ``CVR`` (8). ``repr`` never shows a CPR in clear."""

    kind: str
    number: str

    def __repr__(self) -> str:
        shown = f"{self.number[:6]}-****" if self.kind == "CPR" else self.number
        return f"Part({self.kind} {shown})"


@dataclasses.dataclass(frozen=True, slots=True)
class OpretDebitorkonto:
    debitorkonto_id: str
    part: Part


@dataclasses.dataclass(frozen=True, slots=True)
class Delfordring:
    delfordring_id: str
    fordring_type: str
    beloeb_ore: int


@dataclasses.dataclass(frozen=True, slots=True)
class OpretFordring:
    """A claim as PSRM needs it; ``aktiv``: collect now (else later); ``erstatter``: the claim
    this one replaces after a change of its claim type or founding date (the solution
    description, 2.5.16: the old one is written down in full in the same message)."""

    fordring_id: str
    debitorkonto_id: str
    fordring_type: str
    beloeb_ore: int
    periode_fra: dt.date
    periode_til: dt.date
    stiftelses_dato: dt.date
    forfalds_dato: dt.date
    aktiv: bool = False
    delfordringer: tuple[Delfordring, ...] = ()
    erstatter: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class NedskrivFordring:
    fordring_id: str
    beloeb_ore: int
    virknings_dato: dt.date
    aarsag: str


@dataclasses.dataclass(frozen=True, slots=True)
class RetFordringTilstand:
    fordring_id: str
    tilstand: str = "FRIGIVET"


Operation = OpretDebitorkonto | OpretFordring | NedskrivFordring | RetFordringTilstand
_OPERATIONS: dict[str, type[Operation]] = {
    "OpretDebitorkonto": OpretDebitorkonto,
    "OpretFordring": OpretFordring,
    "NedskrivFordring": NedskrivFordring,
    "RetFordringTilstand": RetFordringTilstand,
}


@dataclasses.dataclass(frozen=True, slots=True)
class Registrering:
    """One B_01 message: its operations are applied in order, all or none."""

    besked_id: str
    cvr: str
    operationer: tuple[Operation, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Indbetaling:
    """A payment on a claim; with ``tilbagefoerer`` (ours) a reversal of ``beloeb_ore`` of that
    earlier payment, given back to the claim (B_03 knows payments only)."""

    indbetaling_id: str
    fordring_id: str
    beloeb_ore: int
    dato: dt.date
    tilbagefoerer: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class IndbetalingBesked:
    """One B_03 message."""

    besked_id: str
    cvr: str
    indbetalinger: tuple[Indbetaling, ...]


def kroner(amount_ore: int) -> Decimal:
    """øre -> kroner with two decimals (exact)."""
    return Decimal(amount_ore).scaleb(-2)


def ore(text: str) -> int:
    """A schema-valid amount (kroner, at most two decimals) -> øre."""
    return int(Decimal(text).scaleb(2))


def operation_to_data(operation: Operation) -> dict[str, Any]:
    """The plain (JSON) form the journal keeps: ``{"type": ..., fields...}``."""
    data: dict[str, Any] = {"type": type(operation).__name__}
    for field in dataclasses.fields(operation):
        value = getattr(operation, field.name)
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, Part):
            value = {"kind": value.kind, "number": value.number}
        elif field.name == "delfordringer":
            value = [dataclasses.asdict(d) for d in value]
        data[field.name] = value
    return data


def operation_from_data(data: Mapping[str, Any]) -> Operation:
    kind = _OPERATIONS[str(data["type"])]
    values: dict[str, Any] = {}
    for field in dataclasses.fields(kind):
        if field.name not in data and field.default is not dataclasses.MISSING:
            continue  # journaled before the field existed: its default
        value = data[field.name]
        if field.name == "part":
            value = Part(str(value["kind"]), str(value["number"]))
        elif field.name == "delfordringer":
            value = tuple(Delfordring(**d) for d in value)
        elif field.name.endswith(("_dato", "_fra", "_til")):
            value = dt.date.fromisoformat(value)
        values[field.name] = value
    return kind(**values)


def _validated(element: etree._Element, name: str) -> etree._Element:
    """``element`` as the message ``name``, detached (without comments and processing
    instructions, the texts around them joined: what the schema and a signature read) and valid
    against the schema."""
    if not isinstance(element.tag, str) or element.tag != _N + name:
        raise BadMessage(f"expected {name} in {NS}, found {_shown_tag(element)}")
    try:
        detached = without_comments(element)
    except etree.XMLSyntaxError as exc:  # beyond the safe parser's limits (depth, size)
        raise BadMessage(f"{name} cannot be read: {exc.msg}") from None
    schema = load_schema(SCHEMA)
    if not schema.validate(etree.ElementTree(detached)):
        log: Any = schema.error_log
        error = log.last_error
        # The element's path: a line would be the detached copy's, not the request's.
        where = error.path or name
        raise BadMessage(f"invalid against {SCHEMA}: {where}: {error.message}")
    return detached


def _shown_tag(element: etree._Element) -> str:
    return element.tag if isinstance(element.tag, str) else "a comment or processing instruction"


def _text(element: etree._Element, name: str) -> str:
    return element.findtext(_N + name) or ""


def _date(element: etree._Element, name: str) -> dt.date:
    text = _text(element, name)
    try:
        return xs_date(text)
    except ValueError:
        where = f"{etree.QName(element).localname}/{name}"
        raise BadMessage(f"{where} {text.strip()!r}: expected {XS_DATE}") from None


def _operation(element: etree._Element) -> Operation:
    name = etree.QName(element).localname
    if name == "OpretDebitorkonto":
        part = element.find(_N + "Part")
        assert part is not None  # the schema requires it
        return OpretDebitorkonto(
            _text(element, "DebitorkontoId"),
            Part(_text(part, "PartType"), _text(part, "PartNummer")),
        )
    if name == "OpretFordring":
        return OpretFordring(
            fordring_id=_text(element, "FordringId"),
            debitorkonto_id=_text(element, "DebitorkontoId"),
            fordring_type=_text(element, "FordringType"),
            beloeb_ore=ore(_text(element, "Beloeb")),
            periode_fra=_date(element, "PeriodeFra"),
            periode_til=_date(element, "PeriodeTil"),
            stiftelses_dato=_date(element, "StiftelsesDato"),
            forfalds_dato=_date(element, "ForfaldsDato"),
            aktiv=_text(element, "Aktiv") in ("true", "1"),
            delfordringer=tuple(
                Delfordring(
                    _text(d, "DelfordringId"), _text(d, "FordringType"), ore(_text(d, "Beloeb"))
                )
                for d in element.iterfind(_N + "Delfordring")
            ),
            erstatter=_text(element, "ErstatterFordringId") or None,
        )
    if name == "NedskrivFordring":
        return NedskrivFordring(
            _text(element, "FordringId"),
            ore(_text(element, "Beloeb")),
            _date(element, "VirkningsDato"),
            _text(element, "Aarsag"),
        )
    return RetFordringTilstand(_text(element, "FordringId"), _text(element, "Tilstand"))


def read_registrering(element: etree._Element) -> Registrering:
    """A ``DebitorRegistreringAfsend_I`` (the body's child), validated against the schema."""
    root = _validated(element, "DebitorRegistreringAfsend_I")
    return Registrering(
        besked_id=_text(root, "BeskedId").lower(),
        cvr=_text(root, "MyndighedCVR"),
        operationer=tuple(_operation(op[0]) for op in root.iterfind(_N + "Operation")),
    )


def read_indbetaling(element: etree._Element) -> IndbetalingBesked:
    """A ``DebitorIndbetalingAfsend_I`` (the body's child), validated against the schema."""
    root = _validated(element, "DebitorIndbetalingAfsend_I")
    return IndbetalingBesked(
        besked_id=_text(root, "BeskedId").lower(),
        cvr=_text(root, "MyndighedCVR"),
        indbetalinger=tuple(
            Indbetaling(
                _text(i, "IndbetalingId"),
                _text(i, "FordringId"),
                ore(_text(i, "Beloeb")),
                _date(i, "IndbetalingsDato"),
                _text(i, "TilbagefoererIndbetalingId") or None,
            )
            for i in root.iterfind(_N + "Indbetaling")
        ),
    )
