"""Test tokens and calls for OIO IDWS: a holder-of-key SAML assertion signed by the test STS,
and a SOAP 1.1 envelope signed by the token's holder, as a KOMBIT service's caller signs it
(the certificates are made at test time: :mod:`tests.pki`)."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from tests.pki import identity
from toekgw.formats.kombit import idws, saml, wsse

__all__ = ["signed_soap11", "sts_assertion"]

SOAP11 = wsse.NS["soap11"]


def sts_assertion(
    holder: str,
    now: dt.datetime,
    *,
    issuer: str = "https://sts.test",
    audience: str = "http://entityid.test/service",
    cvr: str = "29189846",
    hours: int = 8,
) -> bytes:
    """The assertion the test STS (``identity("sts")``) issues to ``holder``'s certificate,
    valid from a minute before ``now`` for ``hours``."""
    return saml.build_assertion(
        issuer=issuer,
        audience=audience,
        cvr=cvr,
        holder=identity(holder).certificate,
        not_before=now - dt.timedelta(minutes=1),
        not_on_or_after=now + dt.timedelta(hours=hours),
        key=identity("sts").key,
        certificate=identity("sts").certificate,
    )


def signed_soap11(
    child: etree._Element, assertion: bytes, holder: str, *, created: dt.datetime
) -> etree._Element:
    """A SOAP 1.1 envelope with ``child`` in its body and ``assertion`` in its
    ``wsse:Security``, signed by ``holder`` (:func:`toekgw.formats.kombit.idws.sign_request`),
    as a receiver parses it."""
    envelope = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soap": SOAP11})
    etree.SubElement(envelope, f"{{{SOAP11}}}Header")
    etree.SubElement(envelope, f"{{{SOAP11}}}Body").append(child)
    key, certificate = identity(holder).key, identity(holder).certificate
    idws.sign_request(envelope, etree.fromstring(assertion), key, certificate, created=created)
    return etree.fromstring(etree.tostring(envelope))
