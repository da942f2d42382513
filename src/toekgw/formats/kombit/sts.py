"""SF1514: the OIO WS-Trust 1.3 request for a security token and the STS's answer.

The request (confirmed from public clients) is a SOAP 1.2 ``RequestSecurityToken`` for a
SAML 2.0 token (``TokenType``) with a public key (``KeyType`` PublicKey, ``UseKey`` = the
caller's certificate), ``AppliesTo`` = the target service's entity id and a ``Claims`` element
(authclaims dialect) with the municipality's CVR, sent with WS-Addressing headers and signed
(:mod:`toekgw.formats.kombit.wsse`: timestamp, body, addressing headers and the certificate
token). The answer is a ``RequestSecurityTokenResponseCollection`` with the token's
``Lifetime`` and the assertion in ``RequestedSecurityToken``; a refusal is a SOAP fault.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from toekgw.formats.findings import mask_cpr_in_text
from toekgw.formats.kombit import wsse
from toekgw.formats.kombit.saml import SAML, TokenRefused, parse_time
from toekgw.formats.xmlcheck import without_comments

__all__ = [
    "ACTION_ISSUE",
    "CVR_CLAIM",
    "IssuedToken",
    "StsFault",
    "TokenRequest",
    "build_fault",
    "build_request",
    "build_response",
    "read_request",
    "read_response",
]

TRUST = "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
WSP = "http://schemas.xmlsoap.org/ws/2004/09/policy"
AUTH = "http://docs.oasis-open.org/wsfed/authorization/200706"
ACTION_ISSUE = f"{TRUST}/RST/Issue"
ACTION_FINAL = f"{TRUST}/RSTRC/IssueFinal"
CVR_CLAIM = "dk:gov:saml:attribute:CvrNumberIdentifier"
TOKEN_TYPE = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0"  # noqa: S105 (a URI)
_S, _A, _T = (f"{{{wsse.NS['soap12']}}}", f"{{{wsse.NS['wsa']}}}", f"{{{TRUST}}}")
_ANONYMOUS = "http://www.w3.org/2005/08/addressing/anonymous"


class StsFault(TokenRefused):
    """The STS refused the request (``code`` is its fault subcode, e.g. FailedAuthentication)."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code, self.text = code, mask_cpr_in_text(text)


@dataclasses.dataclass(frozen=True, slots=True)
class TokenRequest:
    """What a verified request asks for (read by the STS)."""

    message_id: str
    applies_to: str
    cvr: str
    certificate: x509.Certificate
    created: dt.datetime
    expires: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class IssuedToken:
    """An answer: the assertion (XML bytes, sent on as is) and its lifetime."""

    assertion: bytes
    created: dt.datetime
    expires: dt.datetime


def build_request(
    *,
    sts_url: str,
    applies_to: str,
    cvr: str,
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
    now: dt.datetime,
) -> bytes:
    """The signed RequestSecurityToken envelope."""
    envelope = etree.Element(
        _S + "Envelope", nsmap={"s": wsse.NS["soap12"], "a": wsse.NS["wsa"], "u": wsse.NS["wsu"]}
    )
    header = etree.SubElement(envelope, _S + "Header")
    action = etree.SubElement(header, _A + "Action")
    action.text = ACTION_ISSUE
    message_id = etree.SubElement(header, _A + "MessageID")
    message_id.text = f"urn:uuid:{uuid.uuid4()}"
    reply_to = etree.SubElement(header, _A + "ReplyTo")
    etree.SubElement(reply_to, _A + "Address").text = _ANONYMOUS
    to = etree.SubElement(header, _A + "To")
    to.text = sts_url
    security = wsse.add_security(header, certificate, created=now)
    body = etree.SubElement(envelope, _S + "Body")
    rst = etree.SubElement(body, _T + "RequestSecurityToken", nsmap={"trust": TRUST})
    etree.SubElement(rst, _T + "TokenType").text = TOKEN_TYPE
    etree.SubElement(rst, _T + "RequestType").text = f"{TRUST}/Issue"
    applies = etree.SubElement(rst, f"{{{WSP}}}AppliesTo", nsmap={"wsp": WSP})
    reference = etree.SubElement(applies, _A + "EndpointReference")
    etree.SubElement(reference, _A + "Address").text = applies_to
    claims = etree.SubElement(rst, _T + "Claims", nsmap={"auth": AUTH})
    claims.set("Dialect", f"{AUTH}/authclaims")
    claim = etree.SubElement(claims, f"{{{AUTH}}}ClaimType", Uri=CVR_CLAIM)
    etree.SubElement(claim, f"{{{AUTH}}}Value").text = cvr
    etree.SubElement(rst, _T + "KeyType").text = f"{TRUST}/PublicKey"
    use_key = etree.SubElement(rst, _T + "UseKey")
    token = etree.SubElement(use_key, f"{{{wsse.NS['wsse']}}}BinarySecurityToken")
    der = certificate.public_bytes(serialization.Encoding.DER)
    token.text = base64.b64encode(der).decode()
    bst = security.find(f"{{{wsse.NS['wsse']}}}BinarySecurityToken")
    stamp = security.find(f"{{{wsse.NS['wsu']}}}Timestamp")
    assert bst is not None and stamp is not None
    wsse.sign_parts(
        envelope, [stamp, body, to, reply_to, message_id, action, bst], key, certificate
    )
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def read_request(envelope: etree._Element, *, now: dt.datetime) -> TokenRequest:
    """Verify a request as the STS does: signature over timestamp, body and the
    ``MessageID`` the answer relates to (at most one), timestamp valid, the certificate in
    UseKey the signer's. Raises :class:`StsFault`.

    The values are read from a copy without comments: a comment inside a signed value
    (``<a:Address>h<!---->ttp://...</a:Address>``) leaves the signature valid (exclusive c14n
    without comments) while ``findtext`` gives only the part before it."""
    try:
        envelope = without_comments(envelope)
    except etree.XMLSyntaxError as exc:  # beyond the safe parser's limits
        raise StsFault("InvalidRequest", f"the request cannot be read: {exc}") from None
    body = envelope.find(_S + "Body")
    stamp = envelope.find(f".//{{{wsse.NS['wsu']}}}Timestamp")
    if body is None or stamp is None:
        raise StsFault("InvalidRequest", "the request has no body or no timestamp")
    # What the answer's RelatesTo echoes: one, and signed (a second one put in front of the
    # signed one would otherwise be echoed instead).
    message_ids = envelope.findall(f"{_S}Header/{_A}MessageID")
    if len(message_ids) > 1:
        raise StsFault("InvalidRequest", f"{len(message_ids)} MessageID headers, not one")
    try:
        certificate = wsse.verify_parts(envelope, [stamp, body, *message_ids], now=now)
    except wsse.SignatureRefused as exc:
        raise StsFault("FailedAuthentication", str(exc)) from exc
    try:
        created = parse_time(stamp.findtext(f"{{{wsse.NS['wsu']}}}Created"))
        expires = parse_time(stamp.findtext(f"{{{wsse.NS['wsu']}}}Expires"))
    except TokenRefused as exc:
        raise StsFault("InvalidRequest", f"the timestamp: {exc}") from exc
    if not (created <= now + dt.timedelta(minutes=5) and now < expires):
        raise StsFault("MessageExpired", f"the request is valid {created} to {expires}")
    rst = body.find(_T + "RequestSecurityToken")
    if rst is None:
        raise StsFault("InvalidRequest", "the body is not a RequestSecurityToken")
    applies_to = rst.findtext(f"{{{WSP}}}AppliesTo/{_A}EndpointReference/{_A}Address")
    cvr = next(
        (
            (c.findtext(f"{{{AUTH}}}Value") or "").strip()
            for c in rst.iterfind(f"{_T}Claims/{{{AUTH}}}ClaimType")
            if c.get("Uri") == CVR_CLAIM
        ),
        "",
    )
    if not applies_to or not cvr:
        raise StsFault("InvalidRequest", "AppliesTo and a CVR claim are required")
    use_key = rst.findtext(f"{_T}UseKey/{{{wsse.NS['wsse']}}}BinarySecurityToken")
    signer_der = certificate.public_bytes(serialization.Encoding.DER)
    if not use_key or _base64(use_key) != signer_der:
        raise StsFault("InvalidRequest", "UseKey is not the signer's certificate")
    message_id = (message_ids[0].text or "") if message_ids else ""
    return TokenRequest(message_id, applies_to.strip(), cvr, certificate, created, expires)


def _base64(text: str) -> bytes | None:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except ValueError:  # binascii.Error, or a text not in ASCII
        return None


def build_response(
    assertion: bytes, *, relates_to: str, created: dt.datetime, expires: dt.datetime
) -> bytes:
    """The STS's answer carrying ``assertion`` (an already signed ``saml:Assertion``)."""
    envelope = etree.Element(_S + "Envelope", nsmap={"s": wsse.NS["soap12"], "a": wsse.NS["wsa"]})
    header = etree.SubElement(envelope, _S + "Header")
    etree.SubElement(header, _A + "Action").text = ACTION_FINAL
    etree.SubElement(header, _A + "RelatesTo").text = relates_to
    body = etree.SubElement(envelope, _S + "Body")
    collection = etree.SubElement(
        body, _T + "RequestSecurityTokenResponseCollection", nsmap={"trust": TRUST}
    )
    response = etree.SubElement(collection, _T + "RequestSecurityTokenResponse")
    etree.SubElement(response, _T + "TokenType").text = TOKEN_TYPE
    lifetime = etree.SubElement(response, _T + "Lifetime")
    for name, when in (("Created", created), ("Expires", expires)):
        stamp = etree.SubElement(lifetime, f"{{{wsse.NS['wsu']}}}{name}")
        stamp.text = when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    requested = etree.SubElement(response, _T + "RequestedSecurityToken")
    requested.append(etree.fromstring(assertion))
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def build_fault(code: str, text: str) -> bytes:
    """A SOAP 1.2 fault with a WS-Trust subcode (``FailedAuthentication``, ...)."""
    envelope = etree.Element(_S + "Envelope", nsmap={"s": wsse.NS["soap12"], "trust": TRUST})
    fault = etree.SubElement(etree.SubElement(envelope, _S + "Body"), _S + "Fault")
    fault_code = etree.SubElement(fault, _S + "Code")
    etree.SubElement(fault_code, _S + "Value").text = "s:Sender"
    etree.SubElement(
        etree.SubElement(fault_code, _S + "Subcode"), _S + "Value"
    ).text = f"trust:{code}"
    reason = etree.SubElement(etree.SubElement(fault, _S + "Reason"), _S + "Text")
    reason.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    reason.text = text
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def read_response(envelope: etree._Element) -> IssuedToken:
    """The token in an STS answer; a fault raises :class:`StsFault`."""
    fault = envelope.find(f"{_S}Body/{_S}Fault")
    if fault is not None:
        code = fault.findtext(f"{_S}Code/{_S}Subcode/{_S}Value") or "Fault"
        raise StsFault(code.split(":")[-1], fault.findtext(f"{_S}Reason/{_S}Text") or "")
    response = envelope.find(
        f"{_S}Body/{_T}RequestSecurityTokenResponseCollection/{_T}RequestSecurityTokenResponse"
    )
    if response is None:
        raise TokenRefused("the answer is not a RequestSecurityTokenResponseCollection")
    assertion = response.find(f"{_T}RequestedSecurityToken/{{{SAML}}}Assertion")
    if assertion is None:
        raise TokenRefused("the answer holds no SAML assertion")
    created = parse_time(response.findtext(f"{_T}Lifetime/{{{wsse.NS['wsu']}}}Created"))
    expires = parse_time(response.findtext(f"{_T}Lifetime/{{{wsse.NS['wsu']}}}Expires"))
    conditions = assertion.find(f"{{{SAML}}}Conditions")
    if conditions is not None and conditions.get("NotOnOrAfter"):
        expires = min(expires, parse_time(conditions.get("NotOnOrAfter")))
    return IssuedToken(bytes(etree.tostring(assertion)), created, expires)
