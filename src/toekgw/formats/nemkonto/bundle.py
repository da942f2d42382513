"""NKSBetaling: build, validate and parse a payment bundle (``nemkonto/NKS_NKSBetaling.xsd``).

The message keeps its three levels - the bundle (``nks:GrpHdr``), the paying authority and
disposition date (``nks:PmtInf``) and one ``swift:CdtTrfTxInf`` per payment - under the 2006
``swift`` names NemKonto's answers echo (inferred: the message's own schema is not public):
``GrpId``, ``CreDtTm``, ``NbOfTxs``, ``CtrlSum``, ``InitgPty``, ``PmtInfId``, ``ReqdExctnDt``,
``DbtrAcct/Id/BBAN``, ``PmtId/{InstrId, EndToEndId}`` (both the payment id),
``Amt/InstdAmt @Ccy="DKK"``, ``IncompletePaymentIndicator``, ``Cdtr`` (``Nm``, ``PstlAdr``,
``PrvtId/SclSctyNb`` or ``OrgId/PrtryId``), ``CdtrAcct``, ``RmtInf/Ustrd``, ``Purp/Prtry``.

The builder writes the XML text directly (escaping every value) and then parses and validates
those exact bytes with lxml: what is validated is byte for byte what is sent, and this is
faster than building an lxml tree element by element. Each payment's fragment can be built on
its own (:func:`payment_fragment`), so a chunker can measure exact sizes.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Iterable

from lxml import etree

from toekgw.formats.findings import Finding, Severity
from toekgw.formats.idents import cpr_problem, cvr_problem, pnumber_problem
from toekgw.formats.nemkonto.errors import NemKontoFormatError
from toekgw.formats.nemkonto.model import (
    Account,
    Address,
    PaymentBundle,
    PaymentOrder,
    RecipientId,
    RecipientKind,
)
from toekgw.formats.nemkonto.swift import (
    ISSUER,
    KIND_OF_ISSUER,
    NEEDS_ESCAPING,
    NKS,
    SWIFT,
    account_xml,
    children,
    element,
    escape,
    format_amount,
    parse_amount,
    read_account,
    text_at,
)
from toekgw.formats.xmlcheck import (
    DEFAULT_MAX_FINDINGS,
    element_path,
    load_schema,
    parse_safely,
    schema_findings,
    source_line,
    value_finding,
)

__all__ = [
    "ROOT",
    "SCHEMA",
    "build_bundle",
    "bundle_overhead",
    "format_amount",
    "parse_amount",
    "parse_bundle",
    "payment_findings",
    "payment_fragment",
    "read_bundle",
    "validate_bundle",
]

SCHEMA = "nemkonto/NKS_NKSBetaling.xsd"
ROOT = "NKSBetaling"
CODE = "nemkonto.bundle"
_N = f"{{{NKS}}}"
_S = f"{{{SWIFT}}}"
_TX = f"{_N}PmtInf/{_S}CdtTrfTxInf"


@functools.lru_cache(maxsize=20_000)  # two bundles of 10,000 (the NemKonto maximum)
def payment_fragment(p: PaymentOrder) -> str:
    """The ``swift:CdtTrfTxInf`` element of one payment, as XML text.

    Remembered for the last bundle's worth of payments: bundling measures each payment's
    fragment and then builds the bundle of the same orders. A payment none of whose texts
    needs escaping (nearly every one) is written with its texts as they are, checked in one
    scan instead of one per text."""
    plain = NEEDS_ESCAPING.search(_texts(p)) is None
    return _fragment(p, str if plain else escape)


def _texts(p: PaymentOrder) -> str:
    """Every text of ``p`` that :func:`payment_fragment` writes, in one string (to scan)."""
    texts = [p.payment_id, p.recipient.number, *p.notification]
    if p.name is not None:
        texts.append(p.name)
    if (a := p.address) is not None:
        texts += (*a.lines, a.post_code, a.city, a.country or "")
    if p.account is not None:
        texts.append(p.account.bban)
    if p.benefit_kind is not None:
        texts.append(p.benefit_kind)
    return "".join(texts)


def _fragment(p: PaymentOrder, text: Callable[[str], str]) -> str:
    """:func:`payment_fragment` with each text written as ``text`` gives it (:func:`escape`,
    or as it is)."""
    pid = text(p.payment_id)
    parts = [
        f"<swift:CdtTrfTxInf><swift:PmtId><swift:InstrId>{pid}</swift:InstrId>"
        f"<swift:EndToEndId>{pid}</swift:EndToEndId></swift:PmtId>"
        f'<swift:Amt><swift:InstdAmt Ccy="DKK">{format_amount(p.amount_ore)}</swift:InstdAmt>'
        "</swift:Amt><swift:IncompletePaymentIndicator>"
        f"{'1' if p.account is None else '0'}</swift:IncompletePaymentIndicator><swift:Cdtr>"
    ]
    if p.name is not None:
        parts.append(f"<swift:Nm>{text(p.name)}</swift:Nm>")
    if (a := p.address) is not None:
        parts.append("<swift:PstlAdr>")
        parts.extend(f"<swift:AdrLine>{text(line)}</swift:AdrLine>" for line in a.lines)
        parts.append(
            f"<swift:PstCd>{text(a.post_code)}</swift:PstCd>"
            f"<swift:TwnNm>{text(a.city)}</swift:TwnNm>"
        )
        if a.country is not None:
            parts.append(f"<swift:Ctry>{text(a.country)}</swift:Ctry>")
        parts.append("</swift:PstlAdr>")
    r = p.recipient
    if r.kind is RecipientKind.CPR:
        parts.append(
            f"<swift:PrvtId><swift:SclSctyNb>{text(r.number)}</swift:SclSctyNb></swift:PrvtId>"
        )
    else:
        parts.append(
            f"<swift:OrgId><swift:PrtryId><swift:Id>{text(r.number)}</swift:Id>"
            f"<swift:Issr>{ISSUER[r.kind]}</swift:Issr></swift:PrtryId></swift:OrgId>"
        )
    parts.append("</swift:Cdtr>")
    if p.account is not None:
        parts.append(
            f"<swift:CdtrAcct><swift:Id><swift:BBAN>{text(p.account.bban)}</swift:BBAN>"
            "</swift:Id></swift:CdtrAcct>"
        )
    if p.notification:
        parts.append("<swift:RmtInf>")
        parts.extend(f"<swift:Ustrd>{text(t)}</swift:Ustrd>" for t in p.notification)
        parts.append("</swift:RmtInf>")
    if p.benefit_kind is not None:
        parts.append(f"<swift:Purp><swift:Prtry>{text(p.benefit_kind)}</swift:Prtry></swift:Purp>")
    parts.append("</swift:CdtTrfTxInf>\n")
    return "".join(parts)


def _head(b: PaymentBundle, count: int, control_sum_ore: int) -> str:
    initiating = (
        f"<swift:OrgId>{element('swift', 'BkPtyId', b.agreement_number)}"
        f"<swift:PrtryId>{element('swift', 'Id', b.authority_cvr)}"
        "<swift:Issr>CVR</swift:Issr></swift:PrtryId></swift:OrgId>"
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<nks:{ROOT} xmlns:nks="{NKS}" '
        f'xmlns:swift="{SWIFT}">\n'
        f"<nks:GrpHdr>{element('swift', 'GrpId', b.bundle_id)}"
        f"<swift:CreDtTm>{b.created_at.isoformat()}</swift:CreDtTm>"
        f"<swift:NbOfTxs>{count}</swift:NbOfTxs>"
        f"<swift:CtrlSum>{format_amount(control_sum_ore)}</swift:CtrlSum>"
        f"<swift:InitgPty>{initiating}</swift:InitgPty></nks:GrpHdr>\n<nks:PmtInf>"
        f"{element('swift', 'PmtInfId', b.payment_information_id)}"
        f"<swift:ReqdExctnDt>{b.disposition_date.isoformat()}</swift:ReqdExctnDt>"
        f"{account_xml('DbtrAcct', b.debtor_account)}\n"
    )


_TAIL = f"</nks:PmtInf>\n</nks:{ROOT}>\n"


def bundle_overhead() -> int:
    """An upper bound of the bytes of any valid bundle without its payments: the header with
    every field at its schema maximum (text fields made of ``&``, the worst case escaped)."""
    widest = PaymentBundle(
        bundle_id="x" * 36,
        created_at=dt.datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=-23))),
        authority_cvr="9" * 8,
        agreement_number="9" * 15,
        payment_information_id="&" * 35,
        disposition_date=dt.date(2000, 1, 1),
        debtor_account=Account("9" * 4, "9" * 10),
        payments=(PaymentOrder("x", 1, RecipientId(RecipientKind.CVR, "9" * 8)),),
    )
    head = _head(widest, 10**18 - 1, 10**18 - 1)
    return len(head.encode("utf-8")) + len(_TAIL)


def build_bundle(bundle: PaymentBundle, *, validate: bool = True) -> bytes:
    """The NKSBetaling document of ``bundle``; validated against the schema unless told not to.

    Raises :class:`NemKontoFormatError` with every finding when the result is not valid (a
    value too long, a bad identifier pattern...): nothing invalid leaves the builder.
    """
    text = (
        _head(bundle, bundle.number_of_payments, bundle.control_sum_ore)
        + "".join(payment_fragment(p) for p in bundle.payments)
        + _TAIL
    )
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NemKontoFormatError(
            f"bundle {bundle.bundle_id} is not valid",
            [
                Finding(
                    f"{CODE}.text.encoding",
                    Severity.ERROR,
                    f"a text holds a character UTF-8 cannot encode ({exc.reason})",
                    expected="characters XML 1.0 allows",
                )
            ],
        ) from None
    if validate:
        # The header's count and sum are derived from the payments here, so the schema is
        # what is left to check; duplicate ids are caught before anything is written.
        findings = _duplicate_findings([p.payment_id for p in bundle.payments])
        root, syntax = parse_safely(data, CODE)
        findings += syntax
        if root is not None:
            findings += schema_findings(load_schema(SCHEMA), root, CODE)
        if findings:
            raise NemKontoFormatError(f"bundle {bundle.bundle_id} is not valid", findings)
    return data


def validate_bundle(data: bytes, *, max_findings: int = DEFAULT_MAX_FINDINGS) -> list[Finding]:
    """Every finding of an NKSBetaling document (empty when it is valid): syntax, schema,
    header count and control sum, duplicate payment ids. Decodes nothing."""
    root, findings = parse_safely(data, CODE)
    if root is None:
        return findings
    findings = schema_findings(load_schema(SCHEMA), root, CODE, max_findings=max_findings)
    if findings:
        return findings
    ids = [el.text or "" for el in root.iterfind(f"{_TX}/{_S}PmtId/{_S}EndToEndId")]
    total = sum(parse_amount(el.text or "") for el in root.iterfind(f"{_TX}/{_S}Amt/{_S}InstdAmt"))
    try:
        _datetime(_child(root, f"{_N}GrpHdr/{_S}CreDtTm"))
        _date(_child(root, f"{_N}PmtInf/{_S}ReqdExctnDt"))
        for tx in root.iterfind(_TX):
            _completeness(tx)
    except _Unreadable as exc:
        return [exc.finding()]
    return _header_findings(root, len(ids), total) + _duplicate_findings(ids)


def parse_bundle(data: bytes) -> PaymentBundle:
    """The bundle in ``data``; raises :class:`NemKontoFormatError` unless it is valid."""
    bundle, findings = read_bundle(data)
    if bundle is None:
        raise NemKontoFormatError("the payment bundle is not valid", findings)
    return bundle


def read_bundle(
    data: bytes, *, max_findings: int = DEFAULT_MAX_FINDINGS
) -> tuple[PaymentBundle | None, list[Finding]]:
    """Parse, validate and decode in one pass: the bundle (``None`` on any error) and all
    findings - syntax, schema, header count and control sum, duplicate payment ids."""
    root, findings = parse_safely(data, CODE)
    if root is None:
        return None, findings
    findings = schema_findings(load_schema(SCHEMA), root, CODE, max_findings=max_findings)
    if findings:
        return None, findings
    try:
        bundle = _decode(root)
    except _Unreadable as exc:
        return None, [exc.finding()]
    findings = _header_findings(
        root, bundle.number_of_payments, bundle.control_sum_ore
    ) + _duplicate_findings([p.payment_id for p in bundle.payments])
    return (None if findings else bundle), findings


def _text(el: etree._Element, path: str) -> str:
    text = text_at(el, path)
    assert text is not None  # the schema has required it
    return text


def _completeness(tx: etree._Element) -> Account | None:
    """The recipient's account; the indicator must say complete exactly when there is one."""
    kids = children(tx)
    account = read_account(kids.get(_S + "CdtrAcct"))
    return _agreeing(kids[_S + "IncompletePaymentIndicator"], account)  # schema: required


def _agreeing(indicator: etree._Element, account: Account | None) -> Account | None:
    """``account``, if the indicator agrees with it (an incomplete payment has none)."""
    if (indicator.text == "0") != (account is not None):
        raise _Unreadable(indicator, "1 without CdtrAcct (incomplete), 0 with it (complete)")
    return account


#: What decoding reads of the payments, with the payment element itself: one walk of the
#: payments block (:func:`_decode_payments`) yields them in document order, each payment's
#: element before its values. Within a payment the schema puts each name in one place
#: (``Id``: the creditor's organisation number comes before the account's ``Id``, which holds
#: no text; ``Ustrd`` only under ``RmtInf``, ``Prtry`` only under ``Purp``).
_PAYMENT = _S + "CdtTrfTxInf"
_NOTE = _S + "Ustrd"
_READ = (
    _PAYMENT, _NOTE,
    *(_S + name for name in (
        "EndToEndId", "InstdAmt", "IncompletePaymentIndicator", "Nm", "PstlAdr", "SclSctyNb",
        "Id", "Issr", "BBAN", "Prtry",
    )),
)  # fmt: skip


def _decode_payments(block: etree._Element) -> tuple[PaymentOrder, ...]:
    """The payments in ``block`` (the ``PmtInf``, or one ``CdtTrfTxInf``), in one walk that
    wraps only the elements read: the first of each name in a payment, and its texts.
    Wrapping each element as a Python object is most of the cost: a walk of each payment's
    every element took 1.4 times as long."""
    payments: list[PaymentOrder] = []
    first: dict[object, etree._Element] | None = None  # None: before the first payment
    notes: list[str] = []
    for el in block.iter(*_READ):
        tag = el.tag
        if tag == _PAYMENT:
            if first is not None:
                payments.append(_payment_order(first, notes))
            first, notes = {}, []
        elif first is None:
            continue  # the debtor's account, before the payments
        elif tag == _NOTE:
            notes.append(el.text or "")
        elif tag not in first:
            first[tag] = el
    if first is not None:
        payments.append(_payment_order(first, notes))
    return tuple(payments)


def _decode_payment(tx: etree._Element) -> PaymentOrder:
    """One ``CdtTrfTxInf``'s payment."""
    (payment,) = _decode_payments(tx)
    return payment


def _payment_order(first: dict[object, etree._Element], notes: list[str]) -> PaymentOrder:
    address = first.get(_S + "PstlAdr")
    benefit = first.get(_S + "Prtry")
    name = first.get(_S + "Nm")
    return PaymentOrder(
        payment_id=first[_S + "EndToEndId"].text or "",
        amount_ore=parse_amount(first[_S + "InstdAmt"].text or ""),
        recipient=_recipient(first),
        account=_account_of(first),
        name=None if name is None else name.text or "",
        address=None if address is None else _address(address),
        notification=tuple(notes),
        benefit_kind=None if benefit is None else benefit.text or "",
    )


def _recipient(first: dict[object, etree._Element]) -> RecipientId:
    cpr = first.get(_S + "SclSctyNb")
    if cpr is not None:
        return RecipientId(RecipientKind.CPR, cpr.text or "")
    number, issuer = first[_S + "Id"], first[_S + "Issr"]  # the schema has required them
    return RecipientId(KIND_OF_ISSUER[issuer.text or ""], number.text or "")


def _account_of(first: dict[object, etree._Element]) -> Account | None:
    """The creditor's account (:func:`_completeness` for a payment walked once)."""
    bban = first.get(_S + "BBAN")
    account = None if bban is None else Account.from_bban(bban.text or "")
    return _agreeing(first[_S + "IncompletePaymentIndicator"], account)


def _address(address: etree._Element) -> Address:
    return Address(
        tuple(line.text or "" for line in address.iterchildren(_S + "AdrLine")),
        _text(address, _S + "PstCd"),
        _text(address, _S + "TwnNm"),
        text_at(address, _S + "Ctry"),
    )


def _decode(root: etree._Element) -> PaymentBundle:
    header = _child(root, _N + "GrpHdr")
    info = _child(root, _N + "PmtInf")
    initiating = f"{_S}InitgPty/{_S}OrgId"
    debtor = read_account(info.find(_S + "DbtrAcct"))
    assert debtor is not None
    return PaymentBundle(
        bundle_id=_text(header, _S + "GrpId"),
        created_at=_datetime(_child(header, _S + "CreDtTm")),
        authority_cvr=_text(header, f"{initiating}/{_S}PrtryId/{_S}Id"),
        agreement_number=_text(header, f"{initiating}/{_S}BkPtyId"),
        payment_information_id=_text(info, _S + "PmtInfId"),
        disposition_date=_date(_child(info, _S + "ReqdExctnDt")),
        debtor_account=debtor,
        payments=_decode_payments(info),
    )


class _Unreadable(ValueError):
    """A schema-valid value the codec cannot represent (e.g. a date with a time zone)."""

    def __init__(self, element: etree._Element, expected: str) -> None:
        super().__init__(expected)
        self.element = element
        self.expected = expected

    def finding(self) -> Finding:
        field = etree.QName(self.element).localname
        return value_finding(
            f"{CODE}.value.unreadable",
            self.element,
            f"{field}: the value cannot be read",
            expected=self.expected,
            found=self.element.text,
        )


def _child(el: etree._Element, path: str) -> etree._Element:
    child = el.find(path)
    assert child is not None  # the schema has required it
    return child


def _datetime(el: etree._Element) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(el.text or "")
    except ValueError:
        raise _Unreadable(el, "a date and time like 2026-11-23T10:00:00+01:00") from None
    # xs:dateTime allows a time without zone; we read it as UTC rather than guess local time.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _date(el: etree._Element) -> dt.date:
    try:
        return dt.date.fromisoformat(el.text or "")
    except ValueError:
        raise _Unreadable(el, "a date without time zone, like 2026-12-01") from None


def _header_findings(root: etree._Element, count: int, control_sum_ore: int) -> list[Finding]:
    findings = []
    count_el = _child(root, f"{_N}GrpHdr/{_S}NbOfTxs")
    sum_el = _child(root, f"{_N}GrpHdr/{_S}CtrlSum")
    stated_count = int(count_el.text or "0")
    if stated_count != count:
        findings.append(
            Finding(
                f"{CODE}.header.count",
                Severity.ERROR,
                "NbOfTxs does not match the payments in the bundle",
                line=source_line(count_el),
                field="NbOfTxs",
                expected=str(count),
                found=str(stated_count),
                path=element_path(count_el),
            )
        )
    stated_sum = parse_amount(sum_el.text or "0")
    if stated_sum != control_sum_ore:
        findings.append(
            Finding(
                f"{CODE}.header.control_sum",
                Severity.ERROR,
                "CtrlSum does not match the sum of the payments' amounts",
                line=source_line(sum_el),
                field="CtrlSum",
                expected=format_amount(control_sum_ore),
                found=format_amount(stated_sum),
                path=element_path(sum_el),
            )
        )
    return findings


def _duplicate_findings(payment_ids: list[str]) -> list[Finding]:
    if len(set(payment_ids)) == len(payment_ids):
        return []
    findings = []
    for payment_id, n in Counter(payment_ids).items():
        if n > 1:
            findings.append(
                Finding(
                    f"{CODE}.payment.duplicate_id",
                    Severity.ERROR,
                    f"payment id {payment_id!r} occurs {n} times in the bundle",
                    field="EndToEndId",
                    expected="a payment id unique in the bundle",
                    found=payment_id,
                )
            )
    return findings


def _identifier_problem(recipient: RecipientId, today: dt.date) -> str | None:
    if recipient.kind is RecipientKind.CPR:
        return cpr_problem(recipient.number, today)
    if recipient.kind is RecipientKind.PNUMBER:
        return pnumber_problem(recipient.number)
    return cvr_problem(recipient.number)


_ID_PATH = {
    RecipientKind.CPR: "PrvtId/SclSctyNb",
    RecipientKind.CVR: "OrgId/PrtryId/Id",
    RecipientKind.SE: "OrgId/PrtryId/Id",
    RecipientKind.PNUMBER: "OrgId/PrtryId/Id",
}


def payment_findings(payments: Iterable[PaymentOrder], today: dt.date) -> dict[str, list[Finding]]:
    """The rule findings per payment id (identifier checks the schema cannot make) as on
    ``today``.

    NemKonto rejects such a payment on its own in Retursvar 2, not the whole bundle, so these
    are kept apart from :func:`validate_bundle`.
    """
    out: dict[str, list[Finding]] = {}
    for index, p in enumerate(payments, start=1):
        problem = _identifier_problem(p.recipient, today)
        if problem is not None:
            out.setdefault(p.payment_id, []).append(
                Finding(
                    f"{CODE}.recipient.{p.recipient.kind.value.lower()}",
                    Severity.ERROR,
                    f"payment {p.payment_id!r}: {problem}",
                    field=p.recipient.kind.value,
                    path=f"/{ROOT}/PmtInf/CdtTrfTxInf[{index}]/Cdtr/{_ID_PATH[p.recipient.kind]}",
                )
            )
    return out
