"""NKSPayment: build, validate and parse a payment bundle (schema ``nemkonto/NKSPayment.xsd``).

The builder writes the XML text directly (escaping every value) and then parses and validates
those exact bytes with lxml: what is validated is byte for byte what is sent, and this is
faster than building an lxml tree element by element. Each payment's fragment can be built on
its own (:func:`payment_fragment`), so a chunker can measure exact sizes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

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
from toekgw.formats.xmlcheck import (
    DEFAULT_MAX_FINDINGS,
    element_path,
    load_schema,
    parse_safely,
    schema_findings,
    source_line,
)

__all__ = [
    "NAMESPACE",
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

SCHEMA = "nemkonto/NKSPayment.xsd"
NAMESPACE = "urn:toek-gateway:nemkonto:NKSPayment:1"
CODE = "nemkonto.bundle"
_N = f"{{{NAMESPACE}}}"


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


def _x(text: str) -> str:
    # Text content only (we write no attributes but xmlns). \r would be normalised away by
    # any XML parser, so it is written as a character reference.
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _account(tag: str, account: Account) -> str:
    return (
        f"<{tag}><RegistrationNumber>{_x(account.registration)}</RegistrationNumber>"
        f"<AccountNumber>{_x(account.number)}</AccountNumber></{tag}>"
    )


def payment_fragment(p: PaymentOrder) -> str:
    """The ``PaymentTransaction`` element of one payment, as XML text."""
    parts = [
        "<PaymentTransaction><PaymentId>",
        _x(p.payment_id),
        "</PaymentId><Amount>",
        format_amount(p.amount_ore),
        "</Amount><Recipient><",
        p.recipient.kind.value,
        ">",
        _x(p.recipient.number),
        "</",
        p.recipient.kind.value,
        "></Recipient>",
    ]
    if p.account is not None:
        parts.append(_account("RecipientAccount", p.account))
    if p.name is not None:
        parts += ("<RecipientName>", _x(p.name), "</RecipientName>")
    if p.address is not None:
        a = p.address
        parts.append("<RecipientAddress>")
        parts.extend(f"<AddressLine>{_x(line)}</AddressLine>" for line in a.lines)
        parts += ("<PostCode>", _x(a.post_code), "</PostCode><City>", _x(a.city), "</City>")
        if a.country is not None:
            parts += ("<CountryCode>", _x(a.country), "</CountryCode>")
        parts.append("</RecipientAddress>")
    parts.extend(f"<NotificationText>{_x(t)}</NotificationText>" for t in p.notification)
    if p.benefit_kind is not None:
        parts += ("<BenefitKind>", _x(p.benefit_kind), "</BenefitKind>")
    parts.append("</PaymentTransaction>\n")
    return "".join(parts)


def _head(b: PaymentBundle, count: int, control_sum_ore: int) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<NKSPayment xmlns="{NAMESPACE}">\n'
        f"<GroupHeader><BundleId>{_x(b.bundle_id)}</BundleId>"
        f"<CreationDateTime>{b.created_at.isoformat()}</CreationDateTime>"
        f"<NumberOfPayments>{count}</NumberOfPayments>"
        f"<ControlSum>{format_amount(control_sum_ore)}</ControlSum>"
        f"<InitiatingAuthority><CVR>{_x(b.authority_cvr)}</CVR>"
        f"<AgreementNumber>{_x(b.agreement_number)}</AgreementNumber></InitiatingAuthority>"
        "</GroupHeader>\n<PaymentInformation>"
        f"<PaymentInformationId>{_x(b.payment_information_id)}</PaymentInformationId>"
        f"<DispositionDate>{b.disposition_date.isoformat()}</DispositionDate>"
        f"{_account('DebtorAccount', b.debtor_account)}\n"
    )


_TAIL = "</PaymentInformation>\n</NKSPayment>\n"


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
    """The NKSPayment document of ``bundle``; validated against the schema unless told not to.

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
    """Every finding of an NKSPayment document (empty when it is valid): syntax, schema,
    header count and control sum, duplicate payment ids. Decodes nothing."""
    root, findings = parse_safely(data, CODE)
    if root is None:
        return findings
    findings = schema_findings(load_schema(SCHEMA), root, CODE, max_findings=max_findings)
    if findings:
        return findings
    ids = [
        el.text or ""
        for el in root.iterfind(f"{_N}PaymentInformation/{_N}PaymentTransaction/{_N}PaymentId")
    ]
    amounts = root.iterfind(f"{_N}PaymentInformation/{_N}PaymentTransaction/{_N}Amount")
    total = sum(parse_amount(el.text or "") for el in amounts)
    try:
        _datetime(_child(_child(root, "GroupHeader"), "CreationDateTime"))
        _date(_child(_child(root, "PaymentInformation"), "DispositionDate"))
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


def _text(el: etree._Element, tag: str) -> str:
    child = el.find(_N + tag)
    assert child is not None  # the schema has required it
    return child.text or ""


def _opt(el: etree._Element, tag: str) -> str | None:
    child = el.find(_N + tag)
    return None if child is None else (child.text or "")


def _decode_account(el: etree._Element | None) -> Account | None:
    if el is None:
        return None
    return Account(_text(el, "RegistrationNumber"), _text(el, "AccountNumber"))


def _decode_payment(tx: etree._Element) -> PaymentOrder:
    # One pass over the children: the schema has fixed their order and cardinality.
    payment_id = amount = ""
    recipient: RecipientId | None = None
    account = address = None
    name = benefit_kind = None
    notification: list[str] = []
    for child in tx:
        tag = child.tag
        if tag == _PAYMENT_ID:
            payment_id = child.text or ""
        elif tag == _AMOUNT:
            amount = child.text or ""
        elif tag == _RECIPIENT:
            id_el = next(c for c in child if isinstance(c.tag, str))
            recipient = RecipientId(_KINDS[id_el.tag], id_el.text or "")
        elif tag == _NOTIFICATION:
            notification.append(child.text or "")
        elif tag == _NAME:
            name = child.text or ""
        elif tag == _BENEFIT_KIND:
            benefit_kind = child.text or ""
        elif tag == _RECIPIENT_ACCOUNT:
            account = _decode_account(child)
        elif tag == _ADDRESS:
            address = Address(
                tuple(line.text or "" for line in child.iterfind(_N + "AddressLine")),
                _text(child, "PostCode"),
                _text(child, "City"),
                _opt(child, "CountryCode"),
            )
    assert recipient is not None
    return PaymentOrder(
        payment_id=payment_id,
        amount_ore=parse_amount(amount),
        recipient=recipient,
        account=account,
        name=name,
        address=address,
        notification=tuple(notification),
        benefit_kind=benefit_kind,
    )


_PAYMENT_ID = _N + "PaymentId"
_AMOUNT = _N + "Amount"
_RECIPIENT = _N + "Recipient"
_RECIPIENT_ACCOUNT = _N + "RecipientAccount"
_NAME = _N + "RecipientName"
_ADDRESS = _N + "RecipientAddress"
_NOTIFICATION = _N + "NotificationText"
_BENEFIT_KIND = _N + "BenefitKind"
_KINDS = {_N + kind.value: kind for kind in RecipientKind}


def _decode(root: etree._Element) -> PaymentBundle:
    header = root.find(_N + "GroupHeader")
    info = root.find(_N + "PaymentInformation")
    assert header is not None and info is not None
    authority = header.find(_N + "InitiatingAuthority")
    assert authority is not None
    debtor = _decode_account(info.find(_N + "DebtorAccount"))
    assert debtor is not None
    return PaymentBundle(
        bundle_id=_text(header, "BundleId"),
        created_at=_datetime(_child(header, "CreationDateTime")),
        authority_cvr=_text(authority, "CVR"),
        agreement_number=_text(authority, "AgreementNumber"),
        payment_information_id=_text(info, "PaymentInformationId"),
        disposition_date=_date(_child(info, "DispositionDate")),
        debtor_account=debtor,
        payments=tuple(_decode_payment(tx) for tx in info.iterfind(_N + "PaymentTransaction")),
    )


class _Unreadable(ValueError):
    """A schema-valid value the codec cannot represent (e.g. a date with a time zone)."""

    def __init__(self, element: etree._Element, expected: str) -> None:
        super().__init__(expected)
        self.element = element
        self.expected = expected

    def finding(self) -> Finding:
        field = etree.QName(self.element).localname
        return Finding(
            f"{CODE}.value.unreadable",
            Severity.ERROR,
            f"{field}: the value cannot be read",
            line=source_line(self.element),
            field=field,
            expected=self.expected,
            found=self.element.text,
            path=element_path(self.element),
        )


def _child(el: etree._Element, tag: str) -> etree._Element:
    child = el.find(_N + tag)
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
    header = root.find(_N + "GroupHeader")
    assert header is not None
    count_el = header.find(_N + "NumberOfPayments")
    sum_el = header.find(_N + "ControlSum")
    assert count_el is not None and sum_el is not None
    stated_count = int(count_el.text or "0")
    if stated_count != count:
        findings.append(
            Finding(
                f"{CODE}.header.count",
                Severity.ERROR,
                "NumberOfPayments does not match the payments in the bundle",
                line=source_line(count_el),
                field="NumberOfPayments",
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
                "ControlSum does not match the sum of the payments' amounts",
                line=source_line(sum_el),
                field="ControlSum",
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
                    field="PaymentId",
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
                    path=(
                        "/NKSPayment/PaymentInformation/"
                        f"PaymentTransaction[{index}]/Recipient/{p.recipient.kind.value}"
                    ),
                )
            )
    return out
