"""The debtor system's Beskedfordeler message about a deleted debtor account (ours).

Confirmed: the municipality's debtor system announces deleted debtor accounts through the
Beskedfordeler (SF1590_B). Not public: the message type's UUID and the payload's schema.
Ours, in this one module, so the official layout can replace it: ``DebitorkontoSlettet``
(namespace ``urn:toekgw:oir:besked:1``) = ``DebitorkontoId`` (the account's id in the debtor
system, 1-64 characters), ``Myndighed`` (the municipality's CVR, 8 digits) and
``SlettetTidspunkt`` (``xs:dateTime``, optional).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from lxml import etree

from toekgw.formats.kombit.besked import BadPayload
from toekgw.formats.xmlcheck import safe_parser

__all__ = ["NS", "DebitorkontoSlettet", "build_debitorkonto_slettet", "read_debitorkonto_slettet"]

NS = "urn:toekgw:oir:besked:1"
_N = f"{{{NS}}}"


@dataclasses.dataclass(frozen=True, slots=True)
class DebitorkontoSlettet:
    debitorkonto_id: str
    myndighed: str
    slettet: dt.datetime | None


def read_debitorkonto_slettet(payload: bytes | None) -> DebitorkontoSlettet:
    """Read the payload; :class:`BadPayload` names what is wrong."""
    if not payload:
        raise BadPayload("DebitorkontoSlettet: the message has no payload")
    try:
        root = etree.fromstring(payload, safe_parser(keep_comments=False))
    except etree.XMLSyntaxError as exc:
        raise BadPayload(f"DebitorkontoSlettet: not well-formed XML: {exc.msg}") from exc
    if root.tag != _N + "DebitorkontoSlettet":
        raise BadPayload(f"expected DebitorkontoSlettet in {NS}, found {root.tag}")
    account = (root.findtext(_N + "DebitorkontoId") or "").strip()
    cvr = (root.findtext(_N + "Myndighed") or "").strip()
    if not 1 <= len(account) <= 64:
        raise BadPayload("DebitorkontoSlettet/DebitorkontoId: expected 1-64 characters")
    if not (cvr.isascii() and cvr.isdigit() and len(cvr) == 8):  # not full-width digits
        raise BadPayload(f"DebitorkontoSlettet/Myndighed: expected a CVR (8 digits), {cvr!r}")
    when = root.findtext(_N + "SlettetTidspunkt")
    try:
        slettet = dt.datetime.fromisoformat(when.strip().replace("Z", "+00:00")) if when else None
    except ValueError:
        raise BadPayload(
            f"DebitorkontoSlettet/SlettetTidspunkt: not a date-time: {when!r}"
        ) from None
    return DebitorkontoSlettet(account, cvr, slettet)


def build_debitorkonto_slettet(message: DebitorkontoSlettet) -> bytes:
    root = etree.Element(_N + "DebitorkontoSlettet", nsmap={None: NS})  # type: ignore[dict-item]
    etree.SubElement(root, _N + "DebitorkontoId").text = message.debitorkonto_id
    etree.SubElement(root, _N + "Myndighed").text = message.myndighed
    if message.slettet is not None:
        etree.SubElement(root, _N + "SlettetTidspunkt").text = message.slettet.isoformat()
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
