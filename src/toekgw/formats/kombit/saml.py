"""SAML 2.0 holder-of-key assertions as KOMBIT's security token service (SF1514) issues them.

An assertion names its issuer, the service it is for (``Audience``: the service's entity
id), its validity (``Conditions/@NotBefore``, ``@NotOnOrAfter``), the holder's certificate
(``SubjectConfirmation`` method holder-of-key) and attributes: the municipality's CVR
(``dk:gov:saml:attribute:CvrNumberIdentifier``), ``AssuranceLevel`` 3 and ``SpecVer``
DK-SAML-2.0 (confirmed from public clients and samples; the privileges attribute is left
out: ours). It is signed (enveloped XML-DSig, RSA-SHA256) by the STS.

:func:`read_assertion` is what a receiver (TØK's callback service) runs on a caller's token:
signature by a trusted issuer certificate, issuer, audience and validity, each a precise
exception.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidInput, InvalidSignature, SignXMLException
from signxml.signer import XMLSigner
from signxml.verifier import VerifyResult, XMLVerifier

from toekgw.formats.dates import XS_DATETIME, xs_datetime
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.formats.kombit.wsse import SIGNATURE_CONFIG

__all__ = [
    "CVR_ATTRIBUTE",
    "SAML",
    "AssertionInfo",
    "TokenExpired",
    "TokenRefused",
    "WrongAudience",
    "build_assertion",
    "holder_certificate",
    "parse_time",
    "read_assertion",
]

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
_DS = "http://www.w3.org/2000/09/xmldsig#"
CVR_ATTRIBUTE = "dk:gov:saml:attribute:CvrNumberIdentifier"
_HOK = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"


class TokenRefused(ValueError):
    """The token is not one this receiver accepts (the message says which check failed; a
    CPR number a value quoted in it carried is masked)."""

    def __init__(self, message: str) -> None:
        super().__init__(mask_cpr_in_text(message))


class TokenExpired(TokenRefused):
    """The token is outside its validity (before NotBefore or at/after NotOnOrAfter)."""


class WrongAudience(TokenRefused):
    """The token was issued for another service."""


@dataclasses.dataclass(frozen=True, slots=True)
class AssertionInfo:
    assertion_id: str
    issuer: str
    audience: str
    cvr: str
    not_before: dt.datetime
    not_on_or_after: dt.datetime


def _time(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> dt.datetime:
    """An ``xs:dateTime`` in UTC (``Z`` or an offset, fractions and ``24:00:00`` allowed;
    without a zone: UTC). :class:`TokenRefused` for anything else, and for a time Python's
    datetimes cannot hold in UTC (a year outside 0001-9999 there)."""
    if not text:
        raise TokenRefused("a validity time is missing")
    try:
        value = xs_datetime(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise TokenRefused(f"{text.strip()!r} is not {XS_DATETIME} (in UTC)") from None


def build_assertion(
    *,
    issuer: str,
    audience: str,
    cvr: str,
    holder: x509.Certificate,
    not_before: dt.datetime,
    not_on_or_after: dt.datetime,
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
) -> bytes:
    """A signed holder-of-key assertion (what the STS simulator issues)."""
    s = f"{{{SAML}}}"
    root = etree.Element(s + "Assertion", nsmap={"saml": SAML})
    root.set("ID", f"_{uuid.uuid4()}")
    root.set("IssueInstant", _time(not_before))
    root.set("Version", "2.0")
    etree.SubElement(root, s + "Issuer").text = issuer
    etree.SubElement(root, f"{{{_DS}}}Signature", nsmap={"ds": _DS}).set("Id", "placeholder")
    subject = etree.SubElement(root, s + "Subject")
    name = etree.SubElement(subject, s + "NameID")
    name.set("Format", "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName")
    name.text = holder.subject.rfc4514_string()
    confirmation = etree.SubElement(subject, s + "SubjectConfirmation", Method=_HOK)
    data = etree.SubElement(confirmation, s + "SubjectConfirmationData")
    x509data = etree.SubElement(etree.SubElement(data, f"{{{_DS}}}KeyInfo"), f"{{{_DS}}}X509Data")
    der = holder.public_bytes(serialization.Encoding.DER)
    etree.SubElement(x509data, f"{{{_DS}}}X509Certificate").text = base64.b64encode(der).decode()
    conditions = etree.SubElement(root, s + "Conditions")
    conditions.set("NotBefore", _time(not_before))
    conditions.set("NotOnOrAfter", _time(not_on_or_after))
    restriction = etree.SubElement(conditions, s + "AudienceRestriction")
    etree.SubElement(restriction, s + "Audience").text = audience
    statement = etree.SubElement(root, s + "AttributeStatement")
    for attribute, value in (
        ("dk:gov:saml:attribute:AssuranceLevel", "3"),
        ("dk:gov:saml:attribute:SpecVer", "DK-SAML-2.0"),
        (CVR_ATTRIBUTE, cvr),
    ):
        element = etree.SubElement(statement, s + "Attribute", Name=attribute)
        etree.SubElement(element, s + "AttributeValue").text = value
    signer = XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        # Exclusive c14n: the assertion travels inside other envelopes.
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    signed = signer.sign(root, key=key, cert=pem, reference_uri=root.get("ID"))
    return bytes(etree.tostring(signed))


def read_assertion(
    assertion: etree._Element,
    *,
    trusted: Sequence[x509.Certificate],
    issuer: str,
    audience: str,
    now: dt.datetime,
) -> AssertionInfo:
    """Check ``assertion`` as a receiver must and return what it says."""
    if etree.QName(assertion).text != f"{{{SAML}}}Assertion":
        raise TokenRefused("the token is not a SAML 2.0 assertion")
    signed = _verified(assertion, trusted)
    info = _info(signed)
    if info.issuer != issuer:
        raise TokenRefused(f"the token was issued by {info.issuer!r}, not the trusted issuer")
    if info.audience != audience:
        raise WrongAudience(f"the token is for {info.audience!r}, not this service")
    if not info.not_before <= now < info.not_on_or_after:
        raise TokenExpired(f"the token is valid {info.not_before} to {info.not_on_or_after}")
    return info


def holder_certificate(assertion: etree._Element) -> x509.Certificate:
    """The holder-of-key certificate the assertion names (``SubjectConfirmationData``)."""
    s, d = f"{{{SAML}}}", f"{{{_DS}}}"
    text = assertion.findtext(
        f"{s}Subject/{s}SubjectConfirmation/{s}SubjectConfirmationData/{d}KeyInfo"
        f"/{d}X509Data/{d}X509Certificate"
    )
    try:
        return x509.load_der_x509_certificate(base64.b64decode(text or "", validate=True))
    except ValueError as exc:
        raise TokenRefused("the token names no holder-of-key certificate") from exc


def _verified(assertion: etree._Element, trusted: Sequence[x509.Certificate]) -> etree._Element:
    if assertion.find(f"{{{_DS}}}Signature") is None:
        raise TokenRefused("the token is not signed")
    for certificate in trusted:
        pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        try:
            result = XMLVerifier().verify(assertion, x509_cert=pem, expect_config=SIGNATURE_CONFIG)
        except (InvalidSignature, InvalidInput):
            continue
        except (SignXMLException, etree.LxmlError, ValueError, TypeError) as exc:
            # Not the shape of a signature at all (signxml's schema check of it, lxml's c14n,
            # text that is not base64, an empty SignatureValue: signxml's TypeError): the
            # same for every certificate.
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise TokenRefused(f"the token's signature is not well-formed: {reason}") from None
        signed = result.signed_xml if isinstance(result, VerifyResult) else None
        if signed is None or signed.get("ID") != assertion.get("ID"):
            raise TokenRefused("the signature does not cover the whole assertion")
        return signed
    raise TokenRefused("the token's signature is not by a trusted issuer certificate")


def _info(assertion: etree._Element) -> AssertionInfo:
    s = f"{{{SAML}}}"
    conditions = assertion.find(s + "Conditions")
    audience = assertion.findtext(f"{s}Conditions/{s}AudienceRestriction/{s}Audience")
    cvr = next(
        (
            (a.findtext(s + "AttributeValue") or "").strip()
            for a in assertion.iterfind(f"{s}AttributeStatement/{s}Attribute")
            if a.get("Name") == CVR_ATTRIBUTE
        ),
        "",
    )
    if conditions is None or not audience or not cvr:
        raise TokenRefused("the token lacks its conditions, audience or CVR")
    return AssertionInfo(
        assertion_id=assertion.get("ID") or "",
        issuer=(assertion.findtext(s + "Issuer") or "").strip(),
        audience=audience.strip(),
        cvr=cvr,
        not_before=parse_time(conditions.get("NotBefore")),
        not_on_or_after=parse_time(conditions.get("NotOnOrAfter")),
    )
