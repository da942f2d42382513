"""WS-Security 1.0 message signatures (OASIS WSS X.509 token profile) as KOMBIT uses them.

A signed request carries, in ``soap:Header/wsse:Security``, a ``wsu:Timestamp``, the signer's
certificate as a ``wsse:BinarySecurityToken`` and one detached XML-DSig ``ds:Signature``
(RSA-SHA256, SHA-256 digests, exclusive c14n) whose references name, by ``wsu:Id``, every part
the signer vouches for (the timestamp, the body, the WS-Addressing headers, the token). The
signature's ``KeyInfo`` points at the token with a ``wsse:SecurityTokenReference``. Signing
is ``signxml``'s, verifying :mod:`.dsig`'s (strictly this one shape, without re-parsing the
envelope per reference); what this module adds is the WS-Security framing and the checks a
receiver must make beyond a valid signature: that the parts it relies on are the very elements
the signed references cover (a valid signature over other parts - signature wrapping - is
refused).

A call with a token (OIO IDWS, as SF1490's policy asks) carries the SAML holder-of-key
assertion in ``wsse:Security`` instead of the certificate (:func:`add_assertion_security`), is
signed by the assertion's holder with a ``KeyInfo`` naming the assertion by its ID
(:func:`sign_with_assertion`), and is verified with the holder's certificate from the
assertion (:func:`verify_with_holder`: the message's own signature, not the assertion's).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import uuid
from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration

from toekgw.formats.kombit import dsig

__all__ = [
    "NS",
    "SIGNATURE_CONFIG",
    "WSU_ID",
    "SignatureRefused",
    "add_assertion_security",
    "add_security",
    "certificate_of",
    "sign_parts",
    "sign_with_assertion",
    "verify_parts",
    "verify_with_holder",
    "wsu_id",
]

NS = {
    "soap12": "http://www.w3.org/2003/05/soap-envelope",
    "soap11": "http://schemas.xmlsoap.org/soap/envelope/",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}
WSU_ID = f"{{{NS['wsu']}}}Id"
# What a verifier accepts: RSA-SHA256 over SHA-256 digests, nothing weaker.
SIGNATURE_CONFIG = SignatureConfiguration(
    require_x509=False,
    signature_methods=frozenset({SignatureMethod.RSA_SHA256}),
    digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
)
_X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
_SAMLID = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLID"
_SAML2_TOKEN = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0"  # noqa: S105
_WSSE11 = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
_BASE64 = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)


class SignatureRefused(ValueError):
    """The message's signature is missing, invalid, or does not cover what it must."""


def wsu_id(element: etree._Element, prefix: str) -> str:
    """The ``wsu:Id`` of ``element``, given a fresh one if it has none."""
    value = element.get(WSU_ID)
    if value is None:
        value = f"{prefix}-{uuid.uuid4()}"
        element.set(WSU_ID, value)
    return value


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def add_security(
    header: etree._Element,
    certificate: x509.Certificate,
    *,
    created: dt.datetime,
    lifetime: dt.timedelta = dt.timedelta(minutes=5),
) -> etree._Element:
    """Add ``wsse:Security`` with a timestamp and the certificate token to ``header``."""
    security = etree.SubElement(header, f"{{{NS['wsse']}}}Security", nsmap={"wsse": NS["wsse"]})
    _timestamp(security, created, lifetime)
    token = etree.SubElement(security, f"{{{NS['wsse']}}}BinarySecurityToken")
    token.set("ValueType", _X509V3)
    token.set("EncodingType", _BASE64)
    wsu_id(token, "X509")
    token.text = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()
    return security


def _timestamp(security: etree._Element, created: dt.datetime, lifetime: dt.timedelta) -> None:
    stamp = etree.SubElement(security, f"{{{NS['wsu']}}}Timestamp", nsmap={"wsu": NS["wsu"]})
    wsu_id(stamp, "TS")
    etree.SubElement(stamp, f"{{{NS['wsu']}}}Created").text = _stamp(created)
    etree.SubElement(stamp, f"{{{NS['wsu']}}}Expires").text = _stamp(created + lifetime)


def add_assertion_security(
    header: etree._Element,
    assertion: etree._Element,
    *,
    created: dt.datetime,
    lifetime: dt.timedelta = dt.timedelta(minutes=5),
) -> etree._Element:
    """Add ``wsse:Security`` with a timestamp and a copy of the holder-of-key ``assertion``
    (OIO IDWS: the token the caller got from the STS) to ``header``."""
    security = etree.SubElement(header, f"{{{NS['wsse']}}}Security", nsmap={"wsse": NS["wsse"]})
    _timestamp(security, created, lifetime)
    security.append(copy.deepcopy(assertion))
    return security


def sign_with_assertion(
    envelope: etree._Element,
    parts: Iterable[etree._Element],
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
) -> None:
    """Sign ``parts`` (and the assertion) with the holder's key; the signature's ``KeyInfo``
    names the assertion in ``wsse:Security`` (:func:`add_assertion_security`) by its ID."""
    security = _security(envelope)
    assertion = security.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
    if assertion is None or not assertion.get("ID"):
        raise ValueError("wsse:Security holds no assertion to sign with")
    key_info = etree.Element(f"{{{NS['ds']}}}KeyInfo", nsmap={"ds": NS["ds"]})
    reference = etree.SubElement(
        key_info, f"{{{NS['wsse']}}}SecurityTokenReference", nsmap={"wsse11": _WSSE11}
    )
    reference.set(f"{{{_WSSE11}}}TokenType", _SAML2_TOKEN)
    identifier = etree.SubElement(reference, f"{{{NS['wsse']}}}KeyIdentifier")
    identifier.set("ValueType", _SAMLID)
    identifier.text = assertion.get("ID")
    _sign(envelope, [*parts, assertion], key, certificate, key_info)


def sign_parts(
    envelope: etree._Element,
    parts: Iterable[etree._Element],
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
) -> None:
    """Sign ``parts`` of ``envelope`` (each gets a ``wsu:Id``) with a detached signature
    appended to its ``wsse:Security`` header, which must exist (:func:`add_security`)."""
    token = _security(envelope).find(f"{{{NS['wsse']}}}BinarySecurityToken")
    if token is None:
        raise ValueError("wsse:Security has no BinarySecurityToken to sign with")
    key_info = etree.Element(f"{{{NS['ds']}}}KeyInfo", nsmap={"ds": NS["ds"]})
    reference = etree.SubElement(key_info, f"{{{NS['wsse']}}}SecurityTokenReference")
    ref = etree.SubElement(reference, f"{{{NS['wsse']}}}Reference")
    ref.set("URI", f"#{token.get(WSU_ID)}")
    ref.set("ValueType", _X509V3)
    _sign(envelope, parts, key, certificate, key_info)


def _sign(
    envelope: etree._Element,
    parts: Iterable[etree._Element],
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
    key_info: etree._Element,
) -> None:
    security = _security(envelope)
    uris = [f"#{_reference_id(part)}" for part in parts]
    signer = XMLSigner(
        method=SignatureConstructionMethod.detached,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    signature = signer.sign(envelope, key=key, cert=pem, reference_uri=uris, key_info=key_info)
    security.append(signature)


def _reference_id(part: etree._Element) -> str:
    """How a signature names ``part``: an assertion by its own ``ID``, others by ``wsu:Id``."""
    if etree.QName(part).localname == "Assertion" and part.get("ID"):
        return str(part.get("ID"))
    return wsu_id(part, "id")


def certificate_of(envelope: etree._Element) -> x509.Certificate:
    """The certificate in the envelope's ``wsse:BinarySecurityToken``."""
    token = _security(envelope).find(f"{{{NS['wsse']}}}BinarySecurityToken")
    if token is None or not (token.text or "").strip():
        raise SignatureRefused("no BinarySecurityToken with the signer's certificate")
    try:
        return x509.load_der_x509_certificate(base64.b64decode(token.text or "", validate=True))
    except ValueError as exc:
        raise SignatureRefused("the BinarySecurityToken is not an X.509 certificate") from exc


def verify_parts(
    envelope: etree._Element, required: Iterable[etree._Element], *, now: dt.datetime
) -> x509.Certificate:
    """Verify the envelope's signature with the certificate it carries (valid ``now``) and
    check that every element in ``required`` is covered; returns that certificate (the caller
    decides whether it trusts it)."""
    certificate = certificate_of(envelope)
    _verify(envelope, certificate, required, now)
    return certificate


def verify_with_holder(
    envelope: etree._Element,
    holder: x509.Certificate,
    required: Iterable[etree._Element],
    *,
    now: dt.datetime,
) -> None:
    """Verify the envelope's own signature (not the assertion's inside it) with the
    certificate of the assertion's holder, and check that every part in ``required`` and the
    assertion are covered (OIO IDWS: the caller proves it holds the token's key)."""
    security = _security(envelope)
    assertion = security.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
    if assertion is None:
        raise SignatureRefused("wsse:Security holds no assertion")
    _verify(envelope, holder, [*required, assertion], now)


def _verify(
    envelope: etree._Element,
    certificate: x509.Certificate,
    required: Iterable[etree._Element],
    now: dt.datetime,
) -> None:
    """The signature in ``wsse:Security`` (a child of the SOAP header; an assertion in it
    carries its own) verifies with ``certificate`` (valid ``now``: :mod:`.dsig`) and covers
    ``required``."""
    security = _security(envelope)
    parent = security.getparent()
    if (
        parent is None
        or parent.getparent() is not envelope
        or etree.QName(parent).localname != "Header"
    ):
        raise SignatureRefused("wsse:Security is not in the SOAP header")
    signature = security.find(f"{{{NS['ds']}}}Signature")
    if signature is None:
        raise SignatureRefused("the message is not signed")
    try:
        covered = dsig.verify_detached(signature, certificate, now=now)
    except dsig.BadSignature as exc:
        raise SignatureRefused(f"the signature does not verify: {exc}") from exc
    for element in required:
        if not any(part is element for part in covered):
            raise SignatureRefused(f"{etree.QName(element).localname} is not signed")


def _security(envelope: etree._Element) -> etree._Element:
    found = envelope.find(f".//{{{NS['wsse']}}}Security")
    if found is None:
        raise SignatureRefused("no wsse:Security header")
    return found
