"""The strict WS-Security signature verifier (formats/kombit/dsig.py): it accepts what
``signxml`` signs and verifies alike, and refuses every other shape, a wrapped or altered part,
another key and an invalid certificate - each re-signed properly where the point is that only
the shape check can catch it."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree
from signxml.verifier import XMLVerifier

from tests.idws_tokens import signed_soap11, sts_assertion
from tests.pki import identity
from toekgw.formats.kombit import dsig, wsse

DS = "{http://www.w3.org/2000/09/xmldsig#}"
SOAP = wsse.NS["soap11"]
HOLDER = "dsig-holder"


def _signed() -> etree._Element:
    now = dt.datetime.now(dt.UTC)
    assertion = sts_assertion(HOLDER, now, audience="urn:test", hours=1)
    besked = etree.Element("{urn:test}Besked", nsmap={"t": "urn:test"})
    besked.text = "1"
    return signed_soap11(besked, assertion, HOLDER, created=now)


def _signature(envelope: etree._Element) -> etree._Element:
    found = envelope.find(f"{{{SOAP}}}Header/{{{wsse.NS['wsse']}}}Security/{DS}Signature")
    assert found is not None
    return found


def _verify(envelope: etree._Element) -> list[etree._Element]:
    return dsig.verify_detached(
        _signature(envelope), identity(HOLDER).certificate, now=dt.datetime.now(dt.UTC)
    )


def _resign(envelope: etree._Element, change: Callable[[etree._Element], None]) -> None:
    """Change SignedInfo, then sign it again with the holder's key (a signer who means it)."""
    signature = _signature(envelope)
    signed_info = signature.find(f"{DS}SignedInfo")
    assert signed_info is not None
    change(signed_info)
    canonical = etree.tostring(signed_info, method="c14n", exclusive=True, with_comments=False)
    value = identity(HOLDER).key.sign(canonical, padding.PKCS1v15(), hashes.SHA256())
    signature_value = signature.find(f"{DS}SignatureValue")
    assert signature_value is not None
    signature_value.text = base64.b64encode(value).decode()


def test_it_accepts_what_signxml_accepts_and_returns_the_covered_parts() -> None:
    envelope = _signed()
    covered = _verify(envelope)
    assert [etree.QName(part).localname for part in covered] == ["Timestamp", "Body", "Assertion"]
    body = envelope.find(f"{{{SOAP}}}Body")
    assert any(part is body for part in covered)
    security = f"./{{{SOAP}}}Header/{{{wsse.NS['wsse']}}}Security/"
    config = dataclasses.replace(wsse.SIGNATURE_CONFIG, location=security, expect_references=3)
    results = XMLVerifier().verify(
        envelope, x509_cert=identity(HOLDER).certificate, expect_config=config
    )
    assert isinstance(results, list) and len(results) == 3
    resigned = _signed()
    _resign(resigned, lambda signed_info: None)  # our own signing of SignedInfo agrees too
    assert len(_verify(resigned)) == 3


def _alter_body(envelope: etree._Element) -> None:
    found = envelope.find(f"{{{SOAP}}}Body/{{urn:test}}Besked")
    assert found is not None
    found.text = "2"


def _wrap_body(envelope: etree._Element) -> None:
    """The signed body moved into the header and an unsigned one with the same id in place."""
    body = envelope.find(f"{{{SOAP}}}Body")
    header = envelope.find(f"{{{SOAP}}}Header")
    assert body is not None and header is not None
    header.append(etree.fromstring(etree.tostring(body)))
    _alter_body(envelope)


def _other_key(envelope: etree._Element) -> None:
    signature_value = _signature(envelope).find(f"{DS}SignatureValue")
    assert signature_value is not None
    raw = identity("forger").key.sign(b"x", padding.PKCS1v15(), hashes.SHA256())
    signature_value.text = base64.b64encode(raw).decode()


def _references(signed_info: etree._Element) -> list[etree._Element]:
    return signed_info.findall(f"{DS}Reference")


def _set(path: str, attribute: str, value: str) -> Callable[[etree._Element], None]:
    def change(signed_info: etree._Element) -> None:
        found = signed_info.find(path)
        assert found is not None
        found.set(attribute, value)

    return change


def _extra_transform(signed_info: etree._Element) -> None:
    transforms = _references(signed_info)[0].find(f"{DS}Transforms")
    assert transforms is not None
    etree.SubElement(transforms, f"{DS}Transform", Algorithm=dsig.EXC_C14N)


def _no_references(signed_info: etree._Element) -> None:
    for reference in _references(signed_info):
        signed_info.remove(reference)


def _in_signed_info(change: Callable[[etree._Element], None]) -> Callable[[etree._Element], None]:
    def changed(envelope: etree._Element) -> None:
        signed_info = _signature(envelope).find(f"{DS}SignedInfo")
        assert signed_info is not None
        change(signed_info)

    return changed


REFUSED: dict[str, tuple[Callable[[etree._Element], None], str]] = {
    "altered body": (_alter_body, "digest of"),
    "wrapped body": (_wrap_body, "names 2 elements"),
    "another key": (_other_key, "does not verify with the signer's key"),
    "sha-1 signature": (
        _in_signed_info(_set(f"{DS}SignatureMethod", "Algorithm",
                             "http://www.w3.org/2000/09/xmldsig#rsa-sha1")),
        "SignatureMethod",
    ),
    "inclusive c14n": (
        _in_signed_info(_set(f"{DS}CanonicalizationMethod", "Algorithm",
                             "http://www.w3.org/TR/2001/REC-xml-c14n-20010315")),
        "CanonicalizationMethod",
    ),
}  # fmt: skip
RESIGNED: dict[str, tuple[Callable[[etree._Element], None], str]] = {
    "external reference": (_set(f"{DS}Reference", "URI", "http://evil/x"), "not to an element"),
    "xpointer reference": (_set(f"{DS}Reference", "URI", "#xpointer(/)"), "not to an element"),
    "unknown id": (_set(f"{DS}Reference", "URI", "#nowhere"), "names 0 elements"),
    "sha-512 digest": (
        _set(f"{DS}Reference/{DS}DigestMethod", "Algorithm", "http://www.w3.org/2001/04/xmlenc#sha512"),
        "DigestMethod",
    ),
    "enveloped transform": (
        _set(f"{DS}Reference/{DS}Transforms/{DS}Transform", "Algorithm",
             "http://www.w3.org/2000/09/xmldsig#enveloped-signature"),
        "Transform",
    ),
    "two transforms": (_extra_transform, "exclusive c14n alone"),
    "no references": (_no_references, "no references"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_tampered_message_is_refused(name: str) -> None:
    change, why = REFUSED[name]
    envelope = _signed()
    change(envelope)
    with pytest.raises(dsig.BadSignature, match=why):
        _verify(envelope)


@pytest.mark.parametrize("name", sorted(RESIGNED))
def test_a_validly_signed_but_unaccepted_shape_is_refused(name: str) -> None:
    change, why = RESIGNED[name]
    envelope = _signed()
    _resign(envelope, change)
    with pytest.raises(dsig.BadSignature, match=why):
        _verify(envelope)


def test_a_certificate_outside_its_validity_is_refused() -> None:
    envelope = _signed()
    later = identity(HOLDER).certificate.not_valid_after_utc + dt.timedelta(seconds=1)
    with pytest.raises(dsig.BadSignature, match="not valid now"):
        dsig.verify_detached(_signature(envelope), identity(HOLDER).certificate, now=later)


def test_a_comment_in_a_signed_part_does_not_change_its_digest() -> None:
    """Exclusive c14n without comments, as the signer made it (and as signxml reads it)."""
    envelope = _signed()
    besked = envelope.find(f"{{{SOAP}}}Body/{{urn:test}}Besked")
    assert besked is not None
    besked.append(etree.Comment("a note"))
    assert len(_verify(envelope)) == 3
