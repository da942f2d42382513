"""NemKonto's answers: Kvitteringssvar 0/1 and Retursvar 2/5/7/8/9 in their 2006 documents.

Each kind is its own document with its own root and schema (``xsd/nemkonto/NKS_*.xsd``):
``nks:NKSReceipt1``, ``nks:NKSResponse2/5/7/8/9`` (public-impl) and ``nks:NKSReceipt0`` (ours,
Kvitteringssvar 0's document is not public). The body is ISO 20022 payment-status style:
``GnlInf`` (the answer's id and time), ``OrgnlGrpRefInfAndSts`` (the bundle id in ``GrpId``, the
bundle-level ``GrpSts`` ACPT/RJCT with ``StsRsn``/``AddtlInf``) and ``OrgnlPmtInf`` holding one
``OrgnlTxRefInfAndSts`` per payment (``PmtId``, ``TxSts``, ``StsRsn``, ``AddtlInf`` and what
``OrgnlTxInf`` repeats of the payment: amount, ``IncompletePaymentIndicator``, the recipient's
CPR in ``SclSctyNb`` or CVR in ``PrtryId``, the account as a 14-digit BBAN).

A payment's state is read from the kind and its ``TxSts`` through one table (:data:`STATUS`);
the cheque and error-account outcomes of Retursvar 7 are marked by ``StsRsn`` values of ours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from lxml import etree

from toekgw.formats.dates import xs_datetime
from toekgw.formats.findings import Finding, Severity
from toekgw.formats.nemkonto.errors import NemKontoFormatError
from toekgw.formats.nemkonto.model import (
    AnswerType,
    BundleAnswer,
    OriginalTransaction,
    PaymentState,
    PaymentStatus,
    PaymentStatuses,
)
from toekgw.formats.nemkonto.swift import (
    EBMS,
    NKS,
    SWIFT,
    account_xml,
    children,
    element,
    escape,
    format_amount,
    parse_amount,
    party_xml,
    read_account,
    read_recipient,
    text_at,
    text_of,
)
from toekgw.formats.xmlcheck import load_schema, parse_safely, schema_findings

__all__ = [
    "DOCUMENTS",
    "STATUS",
    "AnswerDocument",
    "answer_document",
    "build_answer",
    "parse_answer",
    "read_answer",
]

CODE = "nemkonto.answer"
ORIGINAL_MESSAGE_TYPE = "NKSBetaling"
_N = f"{{{NKS}}}"
_S = f"{{{SWIFT}}}"
_E = f"{{{EBMS}}}"


@dataclass(frozen=True, slots=True)
class AnswerDocument:
    """The document of one answer kind: its root element, schema and whether it has the ebms
    header (Receipt1, Response2 and Response5 do in the samples; 7, 8 and 9 do not)."""

    kind: AnswerType
    root: str
    schema: str
    header: bool


DOCUMENTS: dict[AnswerType, AnswerDocument] = {
    d.kind: d
    for d in (
        AnswerDocument(AnswerType.UNREADABLE, "NKSReceipt0", "nemkonto/NKS_NKSReceipt0.xsd", True),
        AnswerDocument(AnswerType.RECEIVED, "NKSReceipt1", "nemkonto/NKS_NKSReceipt1.xsd", True),
        AnswerDocument(
            AnswerType.RECEIVE_CONTROL, "NKSResponse2", "nemkonto/NKS_NKSResponse2.xsd", True
        ),
        AnswerDocument(AnswerType.STOPPED, "NKSResponse5", "nemkonto/NKS_NKSResponse5.xsd", True),
        AnswerDocument(
            AnswerType.COMPLETION_FAILED, "NKSResponse7", "nemkonto/NKS_NKSResponse7.xsd", False
        ),
        AnswerDocument(
            AnswerType.RECEIVED_BY_BANK, "NKSResponse8", "nemkonto/NKS_NKSResponse8.xsd", False
        ),
        AnswerDocument(
            AnswerType.BANK_ERROR, "NKSResponse9", "nemkonto/NKS_NKSResponse9.xsd", False
        ),
    )
}
_BY_ROOT = {_N + d.root: d for d in DOCUMENTS.values()}

# (kind, state) -> (TxSts, the StsRsn that marks the state or None). Public-impl: 2 ACPT/RJCT,
# 5 RJCT (stopped), 7 RJCT (no account: rejected), 8 ACPT, 9 RJCT. Ours: 7's cheque and
# error-account outcomes as TxSts ACPT with the StsRsn CHEK / FEJLKONTO, and 5's answer to a
# stop request that came too late (the payment goes ahead) as TxSts ACPT with StsRsn FORSENT.
STATUS: dict[tuple[AnswerType, PaymentState], tuple[str, str | None]] = {
    (AnswerType.RECEIVE_CONTROL, PaymentState.ACCEPTED): ("ACPT", None),
    (AnswerType.RECEIVE_CONTROL, PaymentState.REJECTED): ("RJCT", None),
    (AnswerType.STOPPED, PaymentState.STOPPED): ("RJCT", None),
    (AnswerType.STOPPED, PaymentState.STOP_REFUSED): ("ACPT", "FORSENT"),
    (AnswerType.COMPLETION_FAILED, PaymentState.REJECTED): ("RJCT", None),
    (AnswerType.COMPLETION_FAILED, PaymentState.CHEQUE): ("ACPT", "CHEK"),
    (AnswerType.COMPLETION_FAILED, PaymentState.ERROR_ACCOUNT): ("ACPT", "FEJLKONTO"),
    (AnswerType.RECEIVED_BY_BANK, PaymentState.RECEIVED_BY_BANK): ("ACPT", None),
    (AnswerType.BANK_ERROR, PaymentState.BANK_ERROR): ("RJCT", None),
}


def answer_document(root: etree._Element) -> AnswerDocument | None:
    """The answer kind whose root ``root`` is, or ``None``."""
    return _BY_ROOT.get(root.tag) if isinstance(root.tag, str) else None


# -- building -----------------------------------------------------------------------------


def _header(a: BundleAnswer, sender: str, receiver: str) -> str:
    action = "RJCT" if a.bundle_rejected else "ACPT"
    mid = escape(str(a.message_id))
    return (
        f'<nks:MessageHeader ebms:id="{mid}" ebms:version="2.0">'
        f"<ebms:From><ebms:PartyId>{escape(sender)}</ebms:PartyId></ebms:From>"
        f"<ebms:To><ebms:PartyId>{escape(receiver)}</ebms:PartyId></ebms:To>"
        f"<ebms:Action>{action}</ebms:Action><ebms:MessageData>"
        f"<ebms:MessageId>{mid}</ebms:MessageId>"
        f"<ebms:Timestamp>{a.processed_at.isoformat()}</ebms:Timestamp>"
        f"{element('ebms', 'RefToMessageId', a.ref_to_message_id)}"
        "</ebms:MessageData></nks:MessageHeader>\n"
    )


def _transaction(kind: AnswerType, p: PaymentStatus) -> str:
    # One string per payment, every value through escape() as element() would put it: an
    # answer of a 100,000-payment bundle is built from 100,000 of these.
    try:
        tx_status, marker = STATUS[kind, p.status]
    except KeyError:
        raise ValueError(f"a {DOCUMENTS[kind].root} cannot say {p.status.value}") from None
    if marker is not None and p.error_code is not None:
        raise ValueError(f"{p.status.value} is marked by StsRsn {marker}: no error code")
    payment_id = escape(p.payment_id)
    instruction = payment_id if not p.instruction_id else escape(p.instruction_id)
    reason = marker or p.error_code
    text = (
        "<swift:OrgnlTxRefInfAndSts><swift:PmtId>"
        f"<swift:InstrId>{instruction}</swift:InstrId>"
        f"<swift:EndToEndId>{payment_id}</swift:EndToEndId>"
        f"</swift:PmtId><swift:TxSts>{tx_status}</swift:TxSts>"
    )
    if reason is not None:
        text += f"<swift:StsRsn>{escape(reason)}</swift:StsRsn>"
    if p.error_text is not None:
        text += f"<swift:AddtlInf>{escape(p.error_text)}</swift:AddtlInf>"
    o = p.original
    if o is not None:
        account = account_xml("CdtrAcct", o.account) if o.account is not None else ""
        text += (
            "<swift:OrgnlTxInf><swift:Amt>"
            f'<swift:InstdAmt Ccy="DKK">{format_amount(o.amount_ore)}</swift:InstdAmt>'
            "</swift:Amt><swift:IncompletePaymentIndicator>"
            f"{1 if o.incomplete else 0}</swift:IncompletePaymentIndicator>"
            f"<swift:Cdtr>{party_xml(o.recipient)}</swift:Cdtr>{account}</swift:OrgnlTxInf>"
        )
    return text + "</swift:OrgnlTxRefInfAndSts>\n"


def _group_status(a: BundleAnswer) -> str:
    if a.answer_type.bundle_level:
        return "RJCT" if a.bundle_rejected else "ACPT"
    # 7, 8, 9: the group status only summarises the payments' (ours).
    statuses = (STATUS.get((a.answer_type, p.status), ("ACPT", None))[0] for p in a.payments)
    rejected = all(sts == "RJCT" for sts in statuses)
    return "RJCT" if rejected else "ACPT"


def _document(a: BundleAnswer, sender: str, receiver: str) -> str:
    doc = DOCUMENTS[a.answer_type]
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?>\n<nks:{doc.root} xmlns:nks="{NKS}" '
        f'xmlns:ebms="{EBMS}" xmlns:swift="{SWIFT}">\n',
        _header(a, sender, receiver) if doc.header else "",
        "<nks:GnlInf>",
        element("swift", "PmtInitnStsId", a.message_id),
        element("swift", "CreDtTm", a.processed_at.isoformat()),
        "</nks:GnlInf>\n<nks:OrgnlGrpRefInfAndSts>",
        element("swift", "GrpId", a.bundle_id),
        element("swift", "OrgnlMsgTp", ORIGINAL_MESSAGE_TYPE),
        element("swift", "GrpSts", _group_status(a)),
        element("swift", "StsRsn", a.error_code),
        element("swift", "AddtlInf", a.error_text),
        "</nks:OrgnlGrpRefInfAndSts>\n",
    ]
    if a.payments:
        parts.append("<nks:OrgnlPmtInf>\n")
        parts.extend(_transaction(a.answer_type, p) for p in a.payments)
        parts.append("</nks:OrgnlPmtInf>\n")
    parts.append(f"</nks:{doc.root}>\n")
    return "".join(parts)


def build_answer(
    answer: BundleAnswer,
    *,
    validate: bool = True,
    sender: str = "NemKonto",
    receiver: str = "NemKonto-kunde",
) -> bytes:
    """The document of ``answer`` (its kind decides the root); raises
    :class:`NemKontoFormatError` if it is not valid. ``sender``/``receiver`` are the header's
    ``From``/``To`` party ids (kinds with a header only)."""
    try:
        data = _document(answer, sender, receiver).encode("utf-8")
    except UnicodeEncodeError as exc:
        finding = Finding(
            f"{CODE}.text.encoding",
            Severity.ERROR,
            f"a text holds a character UTF-8 cannot encode ({exc.reason})",
            expected="characters XML 1.0 allows",
        )
        raise NemKontoFormatError("the answer is not valid", [finding]) from None
    except ValueError as exc:
        finding = Finding(f"{CODE}.inconsistent", Severity.ERROR, str(exc))
        raise NemKontoFormatError("the answer is not valid", [finding]) from None
    if validate:
        root, findings = parse_safely(data, CODE)
        if root is not None:
            findings = schema_findings(
                load_schema(DOCUMENTS[answer.answer_type].schema), root, CODE
            )
        if findings:
            raise NemKontoFormatError("the answer is not valid", findings)
    return data


# -- reading ------------------------------------------------------------------------------


def read_answer(
    data: bytes, *, originals: bool = True
) -> tuple[BundleAnswer | None, list[Finding]]:
    """Parse, validate against the schema of its root, and decode: the answer (``None`` on any
    error) and all findings.

    ``originals=False`` leaves each payment's ``original`` (the echoed ``OrgnlTxInf``:
    amount, recipient, account) ``None``: for a reader that only moves payments by their ids,
    it is about half the decoding of a large answer. The schema has checked it either way."""
    root, findings = parse_safely(data, CODE)
    if root is None:
        return None, findings
    doc = answer_document(root)
    if doc is None:
        roots = ", ".join(f"nks:{d.root}" for d in DOCUMENTS.values())
        found = etree.QName(root).text if isinstance(root.tag, str) else None
        return None, [
            Finding(
                f"{CODE}.root",
                Severity.ERROR,
                "not a NemKonto answer: unknown root element",
                line=1,
                expected=f"one of {roots} (namespace {NKS})",
                found=found,
            )
        ]
    findings = schema_findings(load_schema(doc.schema), root, CODE)
    if findings:
        return None, findings
    try:
        return _decode(doc, root, originals), []
    except ValueError as exc:
        # Schema-valid but inconsistent (e.g. a Retursvar 2 with neither payments nor RJCT).
        where = f"/{doc.root}"
        return None, [Finding(f"{CODE}.inconsistent", Severity.ERROR, str(exc), path=where)]


def parse_answer(data: bytes) -> BundleAnswer:
    """The answer in ``data``; raises :class:`NemKontoFormatError` unless it is valid."""
    answer, findings = read_answer(data)
    if answer is None:
        raise NemKontoFormatError("the answer is not valid", findings)
    return answer


def _datetime(text: str | None) -> dt.datetime:
    value = xs_datetime(text or "")  # ValueError: an inconsistent answer
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _decode(doc: AnswerDocument, root: etree._Element, originals: bool) -> BundleAnswer:
    info = root.find(_N + "GnlInf")
    group = root.find(_N + "OrgnlGrpRefInfAndSts")
    kind = doc.kind
    rejected = text_at(group, _S + "GrpSts") == "RJCT"
    if kind is AnswerType.UNREADABLE and not rejected:
        raise ValueError("a Kvitteringssvar 0 rejects the bundle: GrpSts must be RJCT")
    payments = (None if originals else _decode_columns(kind, root)) or tuple(
        _decode_transaction(kind, tx, originals)
        for tx in root.iterfind(f"{_N}OrgnlPmtInf/{_S}OrgnlTxRefInfAndSts")
    )
    return BundleAnswer(
        answer_type=kind,
        bundle_id=text_at(group, _S + "GrpId"),
        processed_at=_datetime(text_at(info, _S + "CreDtTm")),
        error_code=text_at(group, _S + "StsRsn"),
        error_text=text_at(group, _S + "AddtlInf"),
        payments=payments,
        # 7, 8 and 9 answer about payments: their group status only summarises them.
        bundle_rejected=rejected and kind.bundle_level,
        message_id=text_at(info, _S + "PmtInitnStsId"),
        ref_to_message_id=text_at(root, f"{_N}MessageHeader/{_E}MessageData/{_E}RefToMessageId"),
    )


def _state(kind: AnswerType, tx_status: str, reason: str | None) -> PaymentState:
    key = (kind, tx_status, reason)
    state = _STATES.get(key)
    if state is None:
        state = _STATES[key] = _find_state(kind, tx_status, reason)
    return state


# (kind, TxSts, StsRsn) -> state, filled as read: a few keys, ~10,000 payments per answer.
_STATES: dict[tuple[AnswerType, str, str | None], PaymentState] = {}


def _find_state(kind: AnswerType, tx_status: str, reason: str | None) -> PaymentState:
    plain = None
    for (k, state), (sts, marker) in STATUS.items():
        if k is kind and sts == tx_status:
            if marker is not None and marker == reason:
                return state
            if marker is None:
                plain = state
    if plain is None:
        want = " or ".join(
            f"{sts}{f' with StsRsn {m}' if m else ''}"
            for (k, _), (sts, m) in STATUS.items()
            if k is kind
        )
        raise ValueError(f"TxSts {tx_status}{f' {reason}' if reason else ''}: expected {want}")
    return plain


def _decode_transaction(kind: AnswerType, tx: etree._Element, originals: bool) -> PaymentStatus:
    # The schema has passed: each value is read from its parent's children in one pass.
    kids = children(tx)
    reason = text_of(kids, _S + "StsRsn")
    state = _state(kind, text_of(kids, _S + "TxSts") or "", reason)
    ids = children(kids.get(_S + "PmtId"))
    end_to_end = text_of(ids, _S + "EndToEndId") or ""
    instruction = text_of(ids, _S + "InstrId")
    return PaymentStatus(
        payment_id=end_to_end,
        status=state,
        error_code=None if STATUS[(kind, state)][1] else reason,
        error_text=text_of(kids, _S + "AddtlInf"),
        original=_decode_original(kids.get(_S + "OrgnlTxInf")) if originals else None,
        instruction_id=instruction if instruction != end_to_end else None,
    )


_TX = _S + "OrgnlTxRefInfAndSts"
# Each payment's three values, in the schema's order (``PmtId`` with ``InstrId`` and
# ``EndToEndId``, then ``TxSts``, in every payment) ...
_VALUES = (_S + "InstrId", _S + "EndToEndId", _S + "TxSts")
# ... and what makes a payment one to read the exact way: a reason or a text, each a child
# of its payment. (No comment or processing instruction can split a value: ``read_answer``
# parses with :func:`~toekgw.formats.xmlcheck.parse_safely`, which drops them.)
_MARKS = (_S + "StsRsn", _S + "AddtlInf")


def _decode_columns(kind: AnswerType, root: etree._Element) -> PaymentStatuses | None:
    """The payments without their originals, as columns, their values read in one walk of
    each payments block (the schema has passed). ``None`` where a value is wrong for the
    kind: then the exact per-payment path decides."""
    blocks = root.findall(_N + "OrgnlPmtInf")
    values = [el.text for block in blocks for el in block.iter(*_VALUES)]
    annotated: dict[int, etree._Element] = {}  # position -> a payment to read the exact way
    marked = {el.getparent() for block in blocks for el in block.iter(*_MARKS)}
    if marked:
        txs = (tx for block in blocks for tx in block.iterchildren(_TX))
        annotated = {n: tx for n, tx in enumerate(txs) if tx in marked}
    return _payments(kind, values[0::3], values[1::3], values[2::3], annotated)


def _payments(
    kind: AnswerType,
    instructions: list[str | None],
    ends: list[str | None],
    statuses: list[str | None],
    annotated: dict[int, etree._Element],
) -> PaymentStatuses | None:
    if not statuses or None in statuses or None in ends or None in instructions:
        return None
    try:
        plain = (
            set(statuses)
            if not annotated
            else {sts for n, sts in enumerate(statuses) if n not in annotated}
        )
        state = {sts: _state(kind, cast(str, sts), None) for sts in plain}
        states = [state.get(sts) for sts in statuses]  # an annotated payment's: below
        codes: list[str | None] = [None] * len(ends)
        texts: list[str | None] = [None] * len(ends)
        for n, tx in annotated.items():
            exact = _decode_transaction(kind, tx, False)
            states[n], codes[n], texts[n] = exact.status, exact.error_code, exact.error_text
    except ValueError:
        return None  # the exact path refuses it, at the first wrong payment in the document
    differ = (
        None
        if instructions == ends
        else [ins if ins != end else None for ins, end in zip(instructions, ends, strict=True)]
    )
    return PaymentStatuses(
        cast(list[str], ends),
        cast(list[PaymentState], states),
        error_codes=codes,
        error_texts=texts,
        instruction_ids=differ,
    )


def _decode_original(el: etree._Element | None) -> OriginalTransaction | None:
    if el is None:
        return None
    kids = children(el)
    return OriginalTransaction(
        amount_ore=parse_amount(text_of(children(kids.get(_S + "Amt")), _S + "InstdAmt") or ""),
        incomplete=text_of(kids, _S + "IncompletePaymentIndicator") == "1",
        recipient=read_recipient(kids.get(_S + "Cdtr")),
        account=read_account(kids.get(_S + "CdtrAcct")),
    )
