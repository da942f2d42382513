"""SF1590_B's callback ``DaekningAfskrivningRegistreringAfsend``: coverings and write-offs.

The debtor system calls TØK with coverings (dækninger), write-offs (afskrivninger) and their
reversals on TØK's claims. The operation is confirmed; the schema is **ours**
(``xsd/oir/DaekningAfskrivning.xsd``, namespace ``urn:toekgw:oir:debitor:1``). The request is
a SOAP 1.1 envelope whose ``wsse:Security`` header carries the caller's SAML token (the
assertion itself, as Serviceplatformen forwards it), a timestamp and the caller's signature as
the token's holder over the timestamp, the body and the token (OIO IDWS, as every KOMBIT call
with a token: :mod:`toekgw.formats.kombit.idws`; the receiver verifies it); the answer is
``DaekningAfskrivningRegistreringAfsend_O/StatusKode`` 20 (taken) or a SOAP fault.

Amounts are kroner with two decimals in the XML and integer øre in the records.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from toekgw.formats.dates import XS_DATE, xs_date
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.formats.kombit import idws
from toekgw.formats.kombit.saml import SAML
from toekgw.formats.xmlcheck import load_schema, parse_safely, safe_parser

__all__ = [
    "NS",
    "BadRequest",
    "DaekningBesked",
    "NoToken",
    "Registrering",
    "build_fault",
    "build_ok",
    "build_request",
    "read_request",
]

NS = "urn:toekgw:oir:debitor:1"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
SCHEMA = "oir/DaekningAfskrivning.xsd"
REGISTRATION_TYPES = (
    "DAEKNING",
    "AFSKRIVNING",
    "DAEKNING_TILBAGEFOERT",
    "AFSKRIVNING_TILBAGEFOERT",
)
_S, _N = f"{{{SOAP11}}}", f"{{{NS}}}"


class BadRequest(ValueError):
    """The request is not a well-formed, valid DaekningAfskrivningRegistreringAfsend_I. Its
    text goes back in the fault and quotes values (the schema's message does), so every CPR
    number in it is masked (:func:`mask_cpr_in_text`)."""

    def __init__(self, message: str) -> None:
        super().__init__(mask_cpr_in_text(message))


class NoToken(BadRequest):
    """The request carries no SAML assertion in its wsse:Security header."""


@dataclasses.dataclass(frozen=True, slots=True)
class Registrering:
    registrering_id: str
    fordring_id: str
    type: str
    beloeb_ore: int
    dato: dt.date


@dataclasses.dataclass(frozen=True, slots=True)
class DaekningBesked:
    besked_id: str
    cvr: str
    registreringer: tuple[Registrering, ...]


def read_request(data: bytes) -> tuple[etree._Element, DaekningBesked]:
    """The envelope (its token and signature unchecked: the receiver checks them,
    :func:`toekgw.formats.kombit.idws.verify_request`) and the message."""
    root, findings = parse_safely(data, "daekning")
    if root is None:
        raise BadRequest(findings[0].message)
    if root.tag != _S + "Envelope":
        raise BadRequest("not a SOAP 1.1 envelope")
    if root.find(f"{_S}Header/{{{WSSE}}}Security/{{{SAML}}}Assertion") is None:
        raise NoToken("no SAML token in the wsse:Security header")
    body = root.find(_S + "Body")
    message = body[0] if body is not None and len(body) == 1 else None
    if message is None or message.tag != _N + "DaekningAfskrivningRegistreringAfsend_I":
        raise BadRequest("the body is not one DaekningAfskrivningRegistreringAfsend_I")
    schema = load_schema(SCHEMA)
    # Validated where it stands (lxml validates a subtree as its own document), so the
    # line is the request's own; a detached copy made every refusal say "line 1".
    if not schema.validate(message):
        log: Any = schema.error_log
        error = log.last_error
        where = f"line {error.line}, {error.path}" if error.path else f"line {error.line}"
        raise BadRequest(f"invalid against the schema: {where}: {error.message}")
    return root, _besked(message)


def _dato(registrering: etree._Element) -> dt.date:
    text = registrering.findtext(_N + "Dato") or ""
    try:
        return xs_date(text)
    except ValueError:
        raise BadRequest(f"Registrering/Dato {text.strip()!r}: expected {XS_DATE}") from None


def _besked(message: etree._Element) -> DaekningBesked:
    registreringer = tuple(
        Registrering(
            registrering_id=(r.findtext(_N + "RegistreringId") or "").lower(),
            fordring_id=r.findtext(_N + "FordringId") or "",
            type=r.findtext(_N + "Type") or "",
            beloeb_ore=int(Decimal(r.findtext(_N + "Beloeb") or "0") * 100),
            dato=_dato(r),
        )
        for r in message.iterfind(_N + "Registrering")
    )
    return DaekningBesked(
        besked_id=(message.findtext(_N + "BeskedId") or "").lower(),
        cvr=message.findtext(_N + "MyndighedCVR") or "",
        registreringer=registreringer,
    )


def build_request(
    message: DaekningBesked,
    assertion: bytes,
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
    *,
    created: dt.datetime,
) -> bytes:
    """The debtor system's call (what the simulator and the bench send), signed with the
    ``key`` of the token's holder (whose ``certificate`` the assertion names)."""
    envelope = etree.Element(_S + "Envelope", nsmap={"soap": SOAP11})
    etree.SubElement(envelope, _S + "Header")
    body = etree.SubElement(envelope, _S + "Body")
    root = etree.SubElement(body, _N + "DaekningAfskrivningRegistreringAfsend_I", nsmap={"d": NS})
    etree.SubElement(root, _N + "BeskedId").text = message.besked_id
    etree.SubElement(root, _N + "MyndighedCVR").text = message.cvr
    for r in message.registreringer:
        element = etree.SubElement(root, _N + "Registrering")
        etree.SubElement(element, _N + "RegistreringId").text = r.registrering_id
        etree.SubElement(element, _N + "FordringId").text = r.fordring_id
        etree.SubElement(element, _N + "Type").text = r.type
        kroner, ore = divmod(r.beloeb_ore, 100)
        etree.SubElement(element, _N + "Beloeb").text = f"{kroner}.{ore:02d}"
        etree.SubElement(element, _N + "Dato").text = r.dato.isoformat()
    token = etree.fromstring(assertion, safe_parser())
    idws.sign_request(envelope, token, key, certificate, created=created)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def build_ok() -> bytes:
    envelope = etree.Element(_S + "Envelope", nsmap={"soap": SOAP11})
    body = etree.SubElement(envelope, _S + "Body")
    answer = etree.SubElement(body, _N + "DaekningAfskrivningRegistreringAfsend_O", nsmap={"d": NS})
    etree.SubElement(answer, _N + "StatusKode").text = "20"
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def build_fault(
    code: str, text: str, *, errors: Sequence[tuple[str, str]] = (), namespace: str = NS
) -> bytes:
    """A SOAP 1.1 fault (``soap:Client`` or ``soap:Server``) with the Serviceplatformen-style
    detail ``ServiceplatformFault/ErrorList/Error{ErrorCode, ErrorText}`` (in ``namespace``:
    each of our schemas has its own)."""
    n = f"{{{namespace}}}"
    envelope = etree.Element(_S + "Envelope", nsmap={"soap": SOAP11})
    fault = etree.SubElement(etree.SubElement(envelope, _S + "Body"), _S + "Fault")
    etree.SubElement(fault, "faultcode").text = f"soap:{code}"
    etree.SubElement(fault, "faultstring").text = text
    if errors:
        detail = etree.SubElement(etree.SubElement(fault, "detail"), n + "ServiceplatformFault")
        error_list = etree.SubElement(detail, n + "ErrorList")
        for error_code, error_text in errors:
            error = etree.SubElement(error_list, n + "Error")
            etree.SubElement(error, n + "ErrorCode").text = error_code
            etree.SubElement(error, n + "ErrorText").text = error_text
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))
