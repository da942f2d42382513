"""A request to stop payments already sent to NemKonto (``NKSStop``), before their disposition
date.

NemKonto stops payments on request ("Stands betalinger", confirmed) and answers with Retursvar 5:
``TxSts`` RJCT for a payment stopped (public-impl), or - ours - ``TxSts`` ACPT with ``StsRsn``
``FORSENT`` when the request came too late (the disposition date has come, or the bank has the
money) and the payment goes ahead (:data:`~toekgw.formats.nemkonto.answer.STATUS`). The request's
own document is not public: ``xsd/nemkonto/NKS_NKSStop.xsd`` is ours, the one place its layout
lives, so the official one replaces it.

A request names one bundle (``GrpId``), its disposition date and the payments to stop, each by
``EndToEndId`` and amount; its ``StopId`` is stable, so a request sent twice is recognised.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from lxml import etree

from toekgw.formats.findings import Finding, Severity
from toekgw.formats.nemkonto.errors import NemKontoFormatError
from toekgw.formats.nemkonto.swift import (
    EBMS,
    NKS,
    SWIFT,
    element,
    escape,
    format_amount,
    parse_amount,
)
from toekgw.formats.xmlcheck import (
    load_schema,
    parse_safely,
    schema_findings,
    value_finding,
)

__all__ = ["SCHEMA", "StopRequest", "build_stop", "is_stop", "read_stop"]

CODE = "nemkonto.stop"
_T = TypeVar("_T")
SCHEMA = "nemkonto/NKS_NKSStop.xsd"
ROOT = "NKSStop"
_N = f"{{{NKS}}}"


@dataclass(frozen=True, slots=True)
class StopRequest:
    """Stop ``payments`` (payment id -> amount in øre) of bundle ``bundle_id``."""

    stop_id: str
    created_at: dt.datetime
    authority_cvr: str
    agreement_number: str
    bundle_id: str
    disposition_date: dt.date
    payments: tuple[tuple[str, int], ...]
    reason: str


def build_stop(request: StopRequest, *, sender: str = "NemKonto-kunde") -> bytes:
    """The ``NKSStop`` document; raises :class:`NemKontoFormatError` unless it is valid."""
    sid = escape(request.stop_id)
    at = request.created_at.isoformat()
    payments = "".join(
        f"<nks:Pmt>{element('nks', 'EndToEndId', pid)}"
        f'<nks:InstdAmt Ccy="DKK">{format_amount(amount)}</nks:InstdAmt></nks:Pmt>'
        for pid, amount in request.payments
    )
    text = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<nks:{ROOT} xmlns:nks="{NKS}" '
        f'xmlns:ebms="{EBMS}" xmlns:swift="{SWIFT}">\n'
        f'<nks:MessageHeader ebms:id="{sid}" ebms:version="2.0">'
        f"<ebms:From><ebms:PartyId>{escape(sender)}</ebms:PartyId></ebms:From>"
        "<ebms:To><ebms:PartyId>NemKonto</ebms:PartyId></ebms:To><ebms:Action>STOP</ebms:Action>"
        f"<ebms:MessageData><ebms:MessageId>{sid}</ebms:MessageId><ebms:Timestamp>{at}"
        f"</ebms:Timestamp>{element('ebms', 'RefToMessageId', request.bundle_id)}"
        "</ebms:MessageData></nks:MessageHeader>\n"
        f"{element('nks', 'StopId', request.stop_id)}{element('nks', 'CreDtTm', at)}"
        f"<nks:InitgPty>{element('nks', 'CVR', request.authority_cvr)}"
        f"{element('nks', 'AgreementNumber', request.agreement_number)}</nks:InitgPty>"
        f"{element('nks', 'GrpId', request.bundle_id)}"
        f"{element('nks', 'ReqdExctnDt', request.disposition_date.isoformat())}\n"
        f"{payments}\n{element('nks', 'Rsn', request.reason)}\n</nks:{ROOT}>\n"
    )
    data = text.encode("utf-8")
    root, findings = parse_safely(data, CODE)
    if root is not None:
        findings = schema_findings(load_schema(SCHEMA), root, CODE)
    if findings:
        raise NemKontoFormatError("the stop request is not valid", findings)
    return data


def is_stop(data: bytes) -> bool:
    """Whether ``data`` looks like a stop request (its root element), without parsing it all."""
    head = data[:1024]
    return b":NKSStop " in head or b"<NKSStop " in head


def read_stop(data: bytes) -> tuple[StopRequest | None, list[Finding]]:
    """Parse, validate and decode: the request (``None`` on any error) and the findings."""
    root, findings = parse_safely(data, CODE)
    if root is None:
        return None, findings
    if root.tag != _N + ROOT:
        found = etree.QName(root).localname if isinstance(root.tag, str) else None
        expected = f"nks:{ROOT}"
        return None, [
            Finding(f"{CODE}.root", Severity.ERROR, "not a stop request", line=1,
                    expected=expected, found=found)
        ]  # fmt: skip
    findings = schema_findings(load_schema(SCHEMA), root, CODE)
    if findings:
        return None, findings
    party = root.find(_N + "InitgPty")
    assert party is not None  # the schema requires what is read below

    def text(el: etree._Element, tag: str) -> str:
        found = el.find(_N + tag)
        assert found is not None
        return found.text or ""

    try:
        created = _value(root, "CreDtTm", dt.datetime.fromisoformat, _DATETIME)
        disposition_date = _value(root, "ReqdExctnDt", dt.date.fromisoformat, _DATE)
    except _Unreadable as exc:
        return None, [exc.finding]
    return StopRequest(
        stop_id=text(root, "StopId"),
        created_at=created if created.tzinfo else created.replace(tzinfo=dt.UTC),
        authority_cvr=text(party, "CVR"),
        agreement_number=text(party, "AgreementNumber"),
        bundle_id=text(root, "GrpId"),
        disposition_date=disposition_date,
        payments=tuple(
            (text(p, "EndToEndId"), parse_amount(text(p, "InstdAmt")))
            for p in root.iterfind(_N + "Pmt")
        ),
        reason=text(root, "Rsn"),
    ), []


# What the bundle reads too (:mod:`toekgw.formats.nemkonto.bundle`): a date without a zone.
_DATETIME = "a date and time like 2026-11-23T10:00:00+01:00"
_DATE = "a date without time zone, like 2026-12-01"


class _Unreadable(Exception):
    """A schema-valid value the codec cannot represent (a date with a time zone, a year after
    9999)."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def _value(root: etree._Element, tag: str, read: Callable[[str], _T], expected: str) -> _T:
    element = root.find(_N + tag)
    assert element is not None  # the schema requires it
    try:
        return read(element.text or "")
    except ValueError:
        raise _Unreadable(
            value_finding(
                f"{CODE}.value.unreadable",
                element,
                f"{tag}: the value cannot be read",
                expected=expected,
                found=element.text,
            )
        ) from None
