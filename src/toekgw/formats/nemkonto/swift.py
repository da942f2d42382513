"""What NemKonto's payment message and answers share: the 2006 namespaces, DKK amounts, and the
swift-named recipient and account elements, written as text and read from lxml elements.

Namespaces (public-impl, ``shared/formats/nemkonto.md`` "Update"): ``nks`` for the containers,
``ebms`` for the answers' header, ``swift`` for the ISO 20022 (2006 pain style) leaves. A
recipient is ``PrvtId/SclSctyNb`` (CPR) or ``OrgId/PrtryId/{Id, Issr}`` (``Issr`` ``CVR``
public-impl; ``SE`` and ``P`` ours); an account a 14-digit ``Id/BBAN``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from lxml import etree

from toekgw.formats.nemkonto.model import Account, RecipientId, RecipientKind

__all__ = [
    "EBMS",
    "ISSUER",
    "KIND_OF_ISSUER",
    "NEEDS_ESCAPING",
    "NKS",
    "SWIFT",
    "account_xml",
    "children",
    "element",
    "escape",
    "format_amount",
    "parse_amount",
    "party_xml",
    "read_recipient",
    "text_at",
    "text_of",
]

NKS = "http://rep.oio.dk/oes.dk/nemkonto/xml/schemas/2006/05/01/"
EBMS = "http://rep.oio.dk/oes.dk/nemkonto.ebms/xml/schemas/2006/05/01/"
SWIFT = "http://rep.oio.dk/oes.dk/nemkonto.swift/xml/schemas/2006/05/01/"
ISSUER = {RecipientKind.CVR: "CVR", RecipientKind.SE: "SE", RecipientKind.PNUMBER: "P"}
KIND_OF_ISSUER = {v: k for k, v in ISSUER.items()}
_S = f"{{{SWIFT}}}"
#: A character :func:`escape` rewrites.
NEEDS_ESCAPING = re.compile('[&<>"\r]')


def format_amount(ore: int) -> str:
    """Integer øre as DKK with two decimals: 12345 -> ``'123.45'``."""
    sign = "-" if ore < 0 else ""
    whole, cents = divmod(abs(ore), 100)
    return f"{sign}{whole}.{cents:02d}"


def parse_amount(text: str) -> int:
    """DKK with at most two decimals as integer øre, exactly (no float on the way)."""
    try:
        value = Decimal(text.strip()) * 100
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None
    if value != value.to_integral_value():
        raise ValueError(f"more than two decimals: {text!r}")
    return int(value)


def escape(text: str) -> str:
    """Text content or an attribute value. ``\\r`` would be normalised away by any XML parser,
    so it is written as a character reference."""
    if NEEDS_ESCAPING.search(text) is None:  # nearly every value: one scan instead of five
        return text
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
    )


def element(prefix: str, tag: str, value: object | None) -> str:
    """``<prefix:tag>value</prefix:tag>``, or nothing when ``value`` is ``None``."""
    if value is None:
        return ""
    return f"<{prefix}:{tag}>{escape(str(value))}</{prefix}:{tag}>"


def party_xml(recipient: RecipientId | None) -> str:
    """The identification inside a ``Cdtr``: ``PrvtId/SclSctyNb`` or ``OrgId/PrtryId``."""
    if recipient is None:
        return ""
    if recipient.kind is RecipientKind.CPR:
        return f"<swift:PrvtId>{element('swift', 'SclSctyNb', recipient.number)}</swift:PrvtId>"
    return (
        f"<swift:OrgId><swift:PrtryId>{element('swift', 'Id', recipient.number)}"
        f"<swift:Issr>{ISSUER[recipient.kind]}</swift:Issr></swift:PrtryId></swift:OrgId>"
    )


def account_xml(tag: str, account: Account) -> str:
    """``<swift:{tag}><swift:Id><swift:BBAN>`` of ``account``."""
    bban = element("swift", "BBAN", account.bban)
    return f"<swift:{tag}><swift:Id>{bban}</swift:Id></swift:{tag}>"


def text_at(el: etree._Element | None, path: str) -> str | None:
    """The text at ``path`` (Clark-notation tags) below ``el``; ``None`` when absent."""
    child = None if el is None else el.find(path)
    return None if child is None else (child.text or "")


def children(el: etree._Element | None) -> dict[object, etree._Element]:
    """``el``'s children by tag, the first of each (none when ``el`` is ``None``).

    One pass over the children instead of a path search per value: the way to read the many
    small, schema-valid elements of a bundle or an answer (a path search costs several times
    more per value, and an answer of 10,000 payments asks for ~70,000 values)."""
    if el is None:
        return {}
    return {child.tag: child for child in reversed(el)}


def text_of(kids: dict[object, etree._Element], tag: str) -> str | None:
    """The text of the child ``tag`` among ``kids`` (:func:`children`); ``None`` when absent."""
    child = kids.get(tag)
    return None if child is None else (child.text or "")


def read_recipient(party: etree._Element | None) -> RecipientId | None:
    """The recipient a ``Cdtr`` names, or ``None`` when it names none."""
    kids = children(party)
    cpr = text_of(children(kids.get(_S + "PrvtId")), _S + "SclSctyNb")
    if cpr is not None:
        return RecipientId(RecipientKind.CPR, cpr)
    proprietary = children(children(kids.get(_S + "OrgId")).get(_S + "PrtryId"))
    number = text_of(proprietary, _S + "Id")
    issuer = text_of(proprietary, _S + "Issr")
    if number is None or issuer is None:
        return None
    return RecipientId(KIND_OF_ISSUER[issuer], number)


def read_account(el: etree._Element | None) -> Account | None:
    """The account of a ``DbtrAcct``/``CdtrAcct``, or ``None`` when absent."""
    bban = text_of(children(children(el).get(_S + "Id")), _S + "BBAN")
    return None if bban is None else Account.from_bban(bban)
