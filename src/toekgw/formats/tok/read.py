"""Reading a message of TØK's interfaces: safe parse, the interface's XSD, then the rules.

:func:`read_message` returns a typed message or raises :class:`TokMessageError` with every
finding (CPR masked) and, when the header could be read, the :class:`Header`, so that the intake
can answer the sender with a rejection status. The root element's namespace names the interface
and its version; each (namespace, root) maps to one reader in :data:`READERS`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal

from lxml import etree

from toekgw.formats.dates import XS_DATE, XS_DATETIME, xs_date, xs_datetime
from toekgw.formats.findings import Finding, Severity, first_and_more
from toekgw.formats.idents import cpr_problem, cvr_problem
from toekgw.formats.tok.model import (
    CaseEvent,
    CaseReport,
    ClaimAdjustment,
    ClaimChange,
    ClaimCreate,
    CollectionRelease,
    EffectuationMethod,
    EffectuationOrder,
    Header,
    Origin,
    Party,
    PartyKind,
    PaymentChange,
    PaymentOrder,
    PaymentRecall,
    Priority,
    SetOff,
    SubClaim,
    TokMessage,
)
from toekgw.formats.tok.schemas import SCHEMAS
from toekgw.formats.xmlcheck import (
    element_path,
    load_schema,
    parse_safely,
    schema_findings,
    source_line,
)

__all__ = [
    "CODE_PREFIX",
    "MAX_MESSAGE_BYTES",
    "SYSTEM_NAME",
    "TokMessageError",
    "read_message",
    "read_origin",
]

CODE_PREFIX = "tok"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: A case system's short name (``SenderSystem``), as Common-1.xsd's ``Name`` type has it.
SYSTEM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._\-]{0,9}")
_CVR = re.compile(r"[0-9]{8}")
MAX_MESSAGE_BYTES = 1 << 20


class TokMessageError(ValueError):
    """A message that cannot be taken; ``findings`` says everything that is wrong and
    ``origin`` who sent it, when that could be read (to answer the sender)."""

    def __init__(self, findings: list[Finding], origin: Origin | None = None) -> None:
        self.findings = findings
        self.origin = origin
        texts = [f"{f.where() + ': ' if f.where() else ''}{f.message}" for f in findings]
        super().__init__(f"message refused: {first_and_more(texts)}")


class _Unreadable(Exception):
    """A value the schema let through that is no date (``-2026-12-04``, year 12026 …)."""

    def __init__(self, node: etree._Element | None, expected: str) -> None:
        super().__init__(expected)
        self.node = node
        self.expected = expected

    def finding(self) -> Finding:
        found = None if self.node is None else (self.node.text or "").strip()
        return _error("value", f"not {self.expected}", self.node, expected=self.expected,
                      found=found)  # fmt: skip


def read_datetime(parent: etree._Element, name: str) -> dt.datetime:
    """The xs:dateTime of ``parent``'s child ``name`` (schema-checked); raises
    :class:`TokMessageError` for one Python cannot read (the years outside 0001-9999)."""
    try:
        return _Body(parent).datetime(name)
    except _Unreadable as exc:
        raise TokMessageError([exc.finding()]) from None


class _Body:
    """The children of one element by local name, read as the schema promised."""

    def __init__(self, element: etree._Element) -> None:
        self.element = element
        self._children: dict[str, list[etree._Element]] = {}
        for node in element:
            tag = node.tag
            if isinstance(tag, str):  # an element ("{namespace}name"), not a comment
                self._children.setdefault(tag.rpartition("}")[2], []).append(node)

    def child(self, name: str) -> etree._Element | None:
        found = self._children.get(name)
        return found[0] if found else None

    def all(self, name: str) -> list[etree._Element]:
        return list(self._children.get(name, ()))

    def text(self, name: str) -> str:
        node = self.child(name)
        return "" if node is None or node.text is None else node.text.strip()

    def optional(self, name: str) -> str | None:
        return self.text(name) if self.child(name) is not None else None

    def date(self, name: str) -> dt.date:
        try:
            return xs_date(self.text(name))
        except ValueError:
            raise _Unreadable(self.child(name), XS_DATE) from None

    def datetime(self, name: str) -> dt.datetime:
        try:
            return xs_datetime(self.text(name))
        except ValueError:
            raise _Unreadable(self.child(name), XS_DATETIME) from None

    def optional_date(self, name: str) -> dt.date | None:
        return self.date(name) if self.child(name) is not None else None

    def ore(self, name: str) -> int:
        return int(Decimal(self.text(name)) * 100)

    def party(self, name: str) -> Party:
        node = self.child(name)
        if node is None:
            raise ValueError(f"no {name}")  # the schema requires it: only read_header meets this
        inner = _Body(node)
        if inner.child("CPR") is not None:
            return Party(PartyKind.CPR, inner.text("CPR"))
        return Party(PartyKind.CVR, inner.text("CVR"))


def _header(body: _Body) -> Header:
    node = body.child("Header")
    if node is None:
        raise ValueError("no Header")
    h = _Body(node)
    created = h.datetime("Created")
    return Header(
        message_id=h.text("MessageId").lower(),
        sender_system=h.text("SenderSystem"),
        municipality=h.text("Municipality"),
        priority=Priority(h.text("Priority")),
        created=created,
    )


def _payment_order(b: _Body, h: Header) -> PaymentOrder:
    return PaymentOrder(
        h,
        b.text("PaymentId"),
        b.party("Recipient"),
        b.ore("Amount"),
        b.date("DispositionDate"),
        b.text("BenefitType"),
        tuple((n.text or "") for n in b.all("Text")),
    )


def _payment_change(b: _Body, h: Header) -> PaymentChange:
    amount = b.ore("Amount") if b.child("Amount") is not None else None
    return PaymentChange(h, b.text("PaymentId"), amount, b.optional_date("DispositionDate"))


def _payment_recall(b: _Body, h: Header) -> PaymentRecall:
    return PaymentRecall(h, b.text("PaymentId"), b.text("Reason"))


def _claim_create(b: _Body, h: Header) -> ClaimCreate:
    subs = tuple(
        SubClaim(s.text("SubClaimId"), s.text("ClaimType"), s.ore("Amount"))
        for s in map(_Body, b.all("SubClaim"))
    )
    return ClaimCreate(
        h,
        b.text("ClaimId"),
        b.party("Debtor"),
        b.text("ClaimType"),
        b.ore("Amount"),
        b.date("PeriodFrom"),
        b.date("PeriodTo"),
        b.date("FoundingDate"),
        b.date("DueDate"),
        subs,
    )


def _claim_adjustment(b: _Body, h: Header) -> ClaimAdjustment:
    return ClaimAdjustment(
        h,
        b.text("ClaimId"),
        b.text("Direction"),
        b.ore("Amount"),
        b.date("EffectiveDate"),
        b.text("Reason"),
    )


def _claim_change(b: _Body, h: Header) -> ClaimChange:
    return ClaimChange(
        h, b.text("ClaimId"), b.optional("ClaimType"), b.optional_date("FoundingDate")
    )


def _collection_release(b: _Body, h: Header) -> CollectionRelease:
    return CollectionRelease(h, b.text("ClaimId"))


def _effectuation_order(b: _Body, h: Header) -> EffectuationOrder:
    return EffectuationOrder(
        h,
        b.text("EffectuationId"),
        b.text("ClaimId"),
        b.party("Debtor"),
        EffectuationMethod(b.text("Method")),
        b.date("StartDate"),
    )


def _set_off(b: _Body, h: Header) -> SetOff:
    return SetOff(
        h,
        b.text("SetOffId"),
        b.text("Action"),
        b.text("PaymentId"),
        b.text("ClaimId"),
        b.ore("Amount"),
    )


def _case_report(b: _Body, h: Header) -> CaseReport:
    return CaseReport(
        h, b.text("CaseId"), b.party("Citizen"), CaseEvent(b.text("Event")), b.date("EventDate")
    )


READERS: dict[str, Callable[[_Body, Header], TokMessage]] = {
    "PaymentOrder": _payment_order,
    "PaymentChange": _payment_change,
    "PaymentRecall": _payment_recall,
    "ClaimCreate": _claim_create,
    "ClaimAdjustment": _claim_adjustment,
    "ClaimChange": _claim_change,
    "CollectionRelease": _collection_release,
    "EffectuationOrder": _effectuation_order,
    "SetOff": _set_off,
    "CaseReport": _case_report,
}


def _error(
    code: str,
    message: str,
    node: etree._Element | None = None,
    *,
    expected: str | None = None,
    found: str | None = None,
) -> Finding:
    """A finding at ``node`` (its line, path and field), or at no particular place."""
    return Finding(
        f"{CODE_PREFIX}.{code}",
        Severity.ERROR,
        message,
        line=source_line(node) if node is not None else None,
        path=element_path(node) if node is not None else None,
        field=etree.QName(node).localname if node is not None else None,
        expected=expected,
        found=found,
    )


def _root(data: bytes) -> etree._Element:
    if len(data) > MAX_MESSAGE_BYTES:
        raise TokMessageError(
            [_error("xml.size", f"larger than {MAX_MESSAGE_BYTES} bytes", found=str(len(data)))]
        )
    root, findings = parse_safely(data, CODE_PREFIX)
    if root is None:
        raise TokMessageError(findings)
    qname = etree.QName(root)
    if (qname.namespace, qname.localname) not in SCHEMAS:
        known = ", ".join(sorted(f"{{{ns}}}{name}" for ns, name in SCHEMAS))
        raise TokMessageError(
            [
                _error(
                    "root",
                    f"unknown message {{{qname.namespace}}}{qname.localname}",
                    root,
                    expected=f"one of {known}",
                )
            ]
        )
    return root


def read_origin(data: bytes) -> Origin | None:
    """Who sent ``data`` and under which message id, if that much can be read, whatever else
    is wrong: to answer the sender of a message that is refused."""
    root, _ = parse_safely(data[:MAX_MESSAGE_BYTES], CODE_PREFIX)
    node = None if root is None else _Body(root).child("Header")
    if node is None:
        return None
    header = _Body(node)
    message_id = header.text("MessageId").lower()
    sender = header.text("SenderSystem")
    if not (_UUID.fullmatch(message_id) and SYSTEM_NAME.fullmatch(sender)):
        return None
    municipality = header.text("Municipality")
    return Origin(message_id, sender, municipality if _CVR.fullmatch(municipality) else None)


def read_message(data: bytes, *, today: dt.date) -> TokMessage:
    """The message in ``data``, validated against its interface's schema and the rules.

    ``today`` is the configured date (a CPR number born after it is refused)."""
    root = _root(data)
    qname = etree.QName(root)
    findings = schema_findings(
        load_schema(SCHEMAS[qname.namespace, qname.localname]), root, CODE_PREFIX
    )
    if findings:
        raise TokMessageError(findings, read_origin(data))
    body = _Body(root)
    try:
        message = READERS[qname.localname](body, _header(body))
    except _Unreadable as exc:
        raise TokMessageError([exc.finding()], read_origin(data)) from None
    findings = rule_findings(message, root, today)
    if findings:
        raise TokMessageError(findings, message.header.origin)
    return message


def rule_findings(message: TokMessage, root: etree._Element, today: dt.date) -> list[Finding]:
    """What the schema cannot say: identifiers that fail their checks, dates out of order, and
    sub-claims that do not add up."""
    findings: list[Finding] = []

    def at(name: str) -> etree._Element | None:
        return next(
            (n for n in root.iter() if isinstance(n.tag, str) and etree.QName(n).localname == name),
            None,
        )

    problem = cvr_problem(message.header.municipality)
    if problem:
        findings.append(_error("municipality", f"the municipality: {problem}", at("Municipality")))
    for party in _parties(message):
        if party.kind is PartyKind.CPR:
            problem = cpr_problem(party.number, today)
        else:
            problem = cvr_problem(party.number)
        if problem:
            findings.append(_error(party.kind.value.lower(), problem, at(party.kind.value)))
    if isinstance(message, ClaimCreate):
        findings.extend(_claim_findings(message, at))
    return findings


def _claim_findings(
    claim: ClaimCreate, at: Callable[[str], etree._Element | None]
) -> list[Finding]:
    findings = []
    if claim.period_from > claim.period_to:
        findings.append(
            _error(
                "period",
                "PeriodFrom is after PeriodTo",
                at("PeriodFrom"),
                expected="PeriodFrom on or before PeriodTo",
            )
        )
    total = sum(s.amount_ore for s in claim.sub_claims)
    if claim.sub_claims and total != claim.amount_ore:
        findings.append(
            _error(
                "subclaims",
                "the sub-claims do not add up to the claim's amount",
                at("SubClaim"),
                expected=f"{claim.amount_ore} øre",
                found=f"{total} øre",
            )
        )
    return findings


def _parties(message: TokMessage) -> list[Party]:
    for name in ("recipient", "debtor", "citizen"):
        party = getattr(message, name, None)
        if isinstance(party, Party):
            return [party]
    return []
