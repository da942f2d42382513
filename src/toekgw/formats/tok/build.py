"""Writing messages of TØK's interfaces and the status TØK answers with.

The case-system simulator writes orders with :func:`build_message`; the intake writes its
answers with :func:`build_status`, and a case system reads them with :func:`read_status`.
Every document is validated against its schema before it leaves: a document we write that the
schema refuses is our bug and raises :class:`TokMessageError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from lxml import etree

from toekgw.formats.tok.model import (
    CaseReport,
    ClaimAdjustment,
    ClaimChange,
    ClaimCreate,
    CollectionRelease,
    DeliveryLine,
    EffectuationOrder,
    Header,
    Interface,
    Party,
    PaymentChange,
    PaymentOrder,
    PaymentRecall,
    SetOff,
    Status,
    StatusFinding,
    SubClaim,
    TokMessage,
)
from toekgw.formats.tok.read import CODE_PREFIX, TokMessageError, read_datetime
from toekgw.formats.tok.schemas import COMMON_NS, NAMESPACES, SCHEMAS, STATUS_NS, STATUS_SCHEMA
from toekgw.formats.xmlcheck import load_schema, parse_safely, schema_findings

__all__ = ["build_message", "build_status", "kroner", "read_status"]

# A document is written as a tree of (local name, text or children); the namespace of a name is
# its interface's, but for the names the common schema defines.
Node = tuple[str, "str | list[Node]"]
_COMMON_NAMES = frozenset(
    {"MessageId", "SenderSystem", "Municipality", "Priority", "Created", "CPR", "CVR"}
)


def _emit(parent: etree._Element, namespace: str, nodes: list[Node]) -> None:
    for name, content in nodes:
        ns = COMMON_NS if name in _COMMON_NAMES and namespace != STATUS_NS else namespace
        child = etree.SubElement(parent, f"{{{ns}}}{name}")
        if isinstance(content, str):
            child.text = content
        else:
            _emit(child, namespace, content)


def _document(namespace: str, root_name: str, nodes: list[Node]) -> etree._Element:
    nsmap = {None: namespace, "c": COMMON_NS}
    root = etree.Element(f"{{{namespace}}}{root_name}", nsmap=nsmap)  # type: ignore[arg-type]
    _emit(root, namespace, nodes)
    return root


def kroner(ore: int) -> str:
    """``123456`` øre as ``"1234.56"``."""
    return f"{Decimal(ore) / 100:.2f}"


def _timestamp(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("a message time must carry its time zone")
    return moment.isoformat()


def _header(h: Header) -> Node:
    return (
        "Header",
        [
            ("MessageId", h.message_id),
            ("SenderSystem", h.sender_system),
            ("Municipality", h.municipality),
            ("Priority", h.priority.value),
            ("Created", _timestamp(h.created)),
        ],
    )


def _party(name: str, party: Party) -> Node:
    return (name, [(party.kind.value, party.number)])


def _payment_order(m: PaymentOrder) -> list[Node]:
    return [
        ("PaymentId", m.payment_id),
        _party("Recipient", m.recipient),
        ("Amount", kroner(m.amount_ore)),
        ("DispositionDate", m.disposition_date.isoformat()),
        ("BenefitType", m.benefit_type),
        *(("Text", t) for t in m.texts),
    ]


def _payment_change(m: PaymentChange) -> list[Node]:
    parts: list[Node] = [("PaymentId", m.payment_id)]
    if m.amount_ore is not None:
        parts.append(("Amount", kroner(m.amount_ore)))
    if m.disposition_date is not None:
        parts.append(("DispositionDate", m.disposition_date.isoformat()))
    return parts


def _payment_recall(m: PaymentRecall) -> list[Node]:
    return [("PaymentId", m.payment_id), ("Reason", m.reason)]


def _sub_claim(s: SubClaim) -> Node:
    children: list[Node] = [
        ("SubClaimId", s.sub_claim_id),
        ("ClaimType", s.claim_type),
        ("Amount", kroner(s.amount_ore)),
    ]
    return ("SubClaim", children)


def _claim_create(m: ClaimCreate) -> list[Node]:
    return [
        ("ClaimId", m.claim_id),
        _party("Debtor", m.debtor),
        ("ClaimType", m.claim_type),
        ("Amount", kroner(m.amount_ore)),
        ("PeriodFrom", m.period_from.isoformat()),
        ("PeriodTo", m.period_to.isoformat()),
        ("FoundingDate", m.founding_date.isoformat()),
        ("DueDate", m.due_date.isoformat()),
        *(_sub_claim(s) for s in m.sub_claims),
    ]


def _claim_adjustment(m: ClaimAdjustment) -> list[Node]:
    return [
        ("ClaimId", m.claim_id),
        ("Direction", m.direction),
        ("Amount", kroner(m.amount_ore)),
        ("EffectiveDate", m.effective_date.isoformat()),
        ("Reason", m.reason),
    ]


def _claim_change(m: ClaimChange) -> list[Node]:
    parts: list[Node] = [("ClaimId", m.claim_id)]
    if m.claim_type is not None:
        parts.append(("ClaimType", m.claim_type))
    if m.founding_date is not None:
        parts.append(("FoundingDate", m.founding_date.isoformat()))
    return parts


def _collection_release(m: CollectionRelease) -> list[Node]:
    return [("ClaimId", m.claim_id)]


def _effectuation_order(m: EffectuationOrder) -> list[Node]:
    return [
        ("EffectuationId", m.effectuation_id),
        ("ClaimId", m.claim_id),
        _party("Debtor", m.debtor),
        ("Method", m.method.value),
        ("StartDate", m.start_date.isoformat()),
    ]


def _set_off(m: SetOff) -> list[Node]:
    return [
        ("SetOffId", m.set_off_id),
        ("Action", m.action),
        ("PaymentId", m.payment_id),
        ("ClaimId", m.claim_id),
        ("Amount", kroner(m.amount_ore)),
    ]


def _case_report(m: CaseReport) -> list[Node]:
    return [
        ("CaseId", m.case_id),
        _party("Citizen", m.citizen),
        ("Event", m.event.value),
        ("EventDate", m.event_date.isoformat()),
    ]


_WRITERS: dict[type, Callable[[Any], list[Node]]] = {
    PaymentOrder: _payment_order,
    PaymentChange: _payment_change,
    PaymentRecall: _payment_recall,
    ClaimCreate: _claim_create,
    ClaimAdjustment: _claim_adjustment,
    ClaimChange: _claim_change,
    CollectionRelease: _collection_release,
    EffectuationOrder: _effectuation_order,
    SetOff: _set_off,
    CaseReport: _case_report,
}


def _checked(root: etree._Element, schema_name: str) -> bytes:
    findings = schema_findings(load_schema(schema_name), root, CODE_PREFIX)
    if findings:
        raise TokMessageError(findings)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def build_message(message: TokMessage) -> bytes:
    """``message`` as the XML document of its interface, validated by its schema."""
    namespace = NAMESPACES[message.interface]
    root_name = type(message).__name__
    nodes = [_header(message.header), *_WRITERS[type(message)](message)]
    return _checked(_document(namespace, root_name, nodes), SCHEMAS[namespace, root_name])


def build_status(status: Status) -> bytes:
    """The status document TØK publishes to the sender's reply queue."""
    nodes: list[Node] = [("EventId", status.event_id)]
    if status.in_reply_to is not None:
        nodes.append(("InReplyTo", status.in_reply_to))
    if status.delivery is not None:
        line = status.delivery
        nodes.append(("Delivery", [("Reference", line.reference), ("Line", str(line.line))]))
    nodes.append(("Interface", status.interface.value))
    if status.municipality is not None:
        nodes.append(("Municipality", status.municipality))
    if status.business_key is not None:
        nodes.append(("BusinessKey", status.business_key))
    nodes += [("State", status.state), ("Time", _timestamp(status.time))]
    for f in status.findings:
        where: list[Node] = [("Where", f.where)] if f.where else []
        nodes.append(("Finding", [("Code", f.code), *where, ("Message", f.message)]))
    return _checked(_document(STATUS_NS, "Status", nodes), STATUS_SCHEMA)


def read_status(data: bytes) -> Status:
    """A status document, as a case system reads it (schema-validated)."""
    root, findings = parse_safely(data, CODE_PREFIX)
    if root is None:
        raise TokMessageError(findings)
    findings = schema_findings(load_schema(STATUS_SCHEMA), root, CODE_PREFIX)
    if findings:
        raise TokMessageError(findings)
    ns = {"s": STATUS_NS}

    def text(path: str, node: etree._Element = root) -> str | None:
        found = node.find(path, ns)
        return None if found is None else (found.text or "")

    delivery = root.find("s:Delivery", ns)
    return Status(
        delivery=None
        if delivery is None
        else DeliveryLine(text("s:Reference", delivery) or "", int(text("s:Line", delivery) or 0)),
        event_id=text("s:EventId") or "",
        in_reply_to=text("s:InReplyTo"),
        interface=Interface(text("s:Interface") or ""),
        municipality=text("s:Municipality"),
        business_key=text("s:BusinessKey"),
        state=text("s:State") or "",
        time=read_datetime(root, "Time"),
        findings=tuple(
            StatusFinding(text("s:Code", f) or "", text("s:Where", f), text("s:Message", f) or "")
            for f in root.findall("s:Finding", ns)
        ),
    )
