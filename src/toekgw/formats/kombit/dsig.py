"""Checking a WS-Security message signature: a detached XML-DSig over parts of its envelope.

Every signed SOAP call KOMBIT's services and TØK exchange is signed one narrow way
(:mod:`toekgw.formats.kombit.wsse`, as WSS4J and the captured Serviceplatformen request do):
one ``ds:Signature`` in ``wsse:Security``; ``SignedInfo`` canonicalised by exclusive c14n 1.0
and signed RSA-SHA256; each ``Reference`` names an element of the same envelope by ``#id``, is
transformed by exclusive c14n alone and digested with SHA-256. :func:`verify_detached` accepts
exactly that shape and refuses everything else - another algorithm or transform, a reference
that is external, an XPointer, names no element or more than one (signature wrapping) - then
checks the signer's certificate is valid ``now``, the signature value over ``SignedInfo`` with
the certificate's key, and each reference's digest. The references it trusts are read back
from the canonical ``SignedInfo`` that verified, never from the tree.

It canonicalises each part where it stands (lxml: a subtree with the namespaces in scope, the
same bytes as a detached copy under exclusive c14n) instead of re-parsing the whole envelope
for every reference as a general verifier (``signxml``) does: that copying was most of the
callback service's time per message (docs/performance-log.md). ``signxml`` still makes the
signatures and verifies the enveloped ones (SAML assertions, :mod:`.saml`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from toekgw.formats.xmlcheck import safe_parser

__all__ = ["EXC_C14N", "RSA_SHA256", "SHA256", "BadSignature", "verify_detached"]

DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
_D = f"{{{DS}}}"
_PREFIXES = f"{{{EXC_C14N}}}InclusiveNamespaces"
# What names an element to a reference: an Id, ID or id attribute in any namespace (wsu:Id,
# SAML's ID), as signxml resolves them.
_ID_NAMES = frozenset({"Id", "ID", "id"})
_WITH_ID = etree.XPath("//*[@*[local-name()='Id' or local-name()='ID' or local-name()='id']]")


class BadSignature(ValueError):
    """The signature is not of the accepted shape, or does not verify (the message says how)."""


def verify_detached(
    signature: etree._Element, certificate: x509.Certificate, *, now: dt.datetime
) -> list[etree._Element]:
    """Verify ``signature`` (a ``ds:Signature`` in its envelope) as made by ``certificate``'s
    key; the elements its references cover, in order."""
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise BadSignature("the signer's certificate is not valid now")
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise BadSignature("the signer's key is not an RSA key")
    signed_info = _one(signature, "SignedInfo")
    _expect(_one(signed_info, "SignatureMethod"), RSA_SHA256)
    canonical = _c14n(signed_info, _one(signed_info, "CanonicalizationMethod"))
    try:
        key.verify(
            _base64(_one(signature, "SignatureValue")),
            canonical,
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature:
        raise BadSignature("the signature value does not verify with the signer's key") from None
    verified = etree.fromstring(canonical, safe_parser())
    references = verified.findall(f"{_D}Reference")
    if not references:
        raise BadSignature("the signature has no references")
    ids = _ids(signature.getroottree().getroot())
    return [_check_reference(ids, reference) for reference in references]


def _ids(root: etree._Element) -> dict[str, list[etree._Element]]:
    """Every id in the document and the elements it names (one pass, not one per reference)."""
    named: dict[str, list[etree._Element]] = {}
    found = _WITH_ID(root)
    assert isinstance(found, list)
    for element in found:
        assert isinstance(element, etree._Element)
        values = {v for k, v in element.attrib.items() if str(k).rpartition("}")[2] in _ID_NAMES}
        for value in values:
            named.setdefault(str(value), []).append(element)
    return named


def _check_reference(
    ids: dict[str, list[etree._Element]], reference: etree._Element
) -> etree._Element:
    uri = reference.get("URI") or ""
    if not uri.startswith("#") or uri.startswith("#xpointer("):
        raise BadSignature(f"reference {uri!r} is not to an element of the message by its id")
    found = ids.get(uri[1:], [])
    if len(found) != 1:
        raise BadSignature(f"reference {uri} names {len(found)} elements, not one")
    transforms = reference.findall(f"{_D}Transforms/{_D}Transform")
    if len(transforms) != 1:
        raise BadSignature(f"reference {uri} must be transformed by exclusive c14n alone")
    _expect(_one(reference, "DigestMethod"), SHA256)
    part = found[0]
    digest = hashlib.sha256(_c14n(part, transforms[0])).digest()
    if not hmac.compare_digest(digest, _base64(_one(reference, "DigestValue"))):
        raise BadSignature(f"the digest of {uri} does not match: the part was altered")
    return part


def _c14n(element: etree._Element, method: etree._Element) -> bytes:
    """Exclusive c14n of ``element`` as ``method`` (a CanonicalizationMethod or Transform)
    says, with its ``InclusiveNamespaces`` prefix list."""
    _expect(method, EXC_C14N)
    if len(method) > 1 or (len(method) == 1 and method[0].tag != _PREFIXES):
        raise BadSignature("an exclusive c14n with parameters other than InclusiveNamespaces")
    prefixes = (method[0].get("PrefixList") or "").split() if len(method) else None
    return etree.tostring(
        element,
        method="c14n",
        exclusive=True,
        with_comments=False,
        inclusive_ns_prefixes=prefixes,
    )


def _one(parent: etree._Element, name: str) -> etree._Element:
    found = parent.findall(_D + name)
    if len(found) != 1:
        raise BadSignature(f"the signature needs exactly one {name}, has {len(found)}")
    return found[0]


def _expect(element: etree._Element, algorithm: str) -> None:
    if element.get("Algorithm") != algorithm:
        raise BadSignature(
            f"{etree.QName(element).localname} {element.get('Algorithm')!r} is not accepted"
        )


def _base64(element: etree._Element) -> bytes:
    try:
        return base64.b64decode("".join((element.text or "").split()), validate=True)
    except ValueError:  # binascii.Error, and a text not in ASCII ("string argument should ...")
        raise BadSignature(f"{etree.QName(element).localname} is not base64") from None
