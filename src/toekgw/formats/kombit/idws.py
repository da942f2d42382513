"""OIO IDWS requests: a SOAP call signed by the holder of its SAML token.

A KOMBIT service called with a token (SF1490, SF1590_B both ways; the captured, signed
Serviceplatformen request in KOMBIT's public samples shows the shape) carries in
``wsse:Security`` a ``wsu:Timestamp``, the whole holder-of-key assertion from SF1514 and a
signature by the assertion's holder over the timestamp, the body, the headers the caller
vouches for (WS-Addressing, the Liberty framework) and the assertion. The assertion proves who
the caller is (signed by the STS); the message's signature proves the caller holds the key the
assertion names and that nothing in the signed parts changed on the way.

:func:`sign_request` signs an envelope as a caller; :func:`verify_request` makes every check a
receiver must, in this order, each with its own exception:

- :class:`NoSecurity`: no assertion or no timestamp in ``wsse:Security``;
- :class:`MessageExpired`: the timestamp's ``Expires`` has passed, its ``Created`` is more
  than :data:`CLOCK_SKEW` ahead of the receiver's clock (a message dated in the future is
  not one that was just sent), or either cannot be read;
- whatever the receiver's ``read_token`` raises for the assertion (``saml.TokenRefused``,
  ``saml.TokenExpired``: the receiver decides whom it trusts, and may cache);
- :class:`~toekgw.formats.kombit.wsse.SignatureRefused`: the message is not signed, the
  signature is not the holder's, does not verify (a part was altered), or leaves the body,
  the timestamp or the assertion out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from toekgw.formats.kombit import saml, wsse

__all__ = ["CLOCK_SKEW", "MessageExpired", "NoSecurity", "sign_request", "verify_request"]

#: How far a sender's clock may be ahead of the receiver's: a timestamp created later than
#: this after now is refused (the STS allows the same, :mod:`toekgw.formats.kombit.sts`).
CLOCK_SKEW = dt.timedelta(minutes=5)

T = TypeVar("T")
_STAMP = f"{{{wsse.NS['wsu']}}}Timestamp"
_ASSERTION = f"{{{saml.SAML}}}Assertion"


class NoSecurity(saml.TokenRefused):
    """``wsse:Security`` lacks the token or the timestamp."""


class MessageExpired(saml.TokenRefused):
    """The message's timestamp has expired or is dated in the future (or is not a time)."""


def _parts(envelope: etree._Element) -> tuple[etree._Element, etree._Element]:
    namespace = etree.QName(envelope).namespace
    header = envelope.find(f"{{{namespace}}}Header")
    body = envelope.find(f"{{{namespace}}}Body")
    if body is None:
        raise NoSecurity("the envelope has no SOAP body")
    if header is None:
        raise NoSecurity("no token and timestamp in wsse:Security (no SOAP header)")
    return header, body


def sign_request(
    envelope: etree._Element,
    assertion: etree._Element,
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
    *,
    created: dt.datetime,
    headers: Iterable[etree._Element] = (),
) -> None:
    """Add ``wsse:Security`` (timestamp, ``assertion``) to ``envelope``'s header and sign the
    timestamp, the body, ``headers`` and the assertion with the holder's ``key``."""
    header, body = _parts(envelope)
    security = wsse.add_assertion_security(header, assertion, created=created)
    stamp = security.find(_STAMP)
    assert stamp is not None
    wsse.sign_with_assertion(envelope, [stamp, body, *headers], key, certificate)


def verify_request(
    envelope: etree._Element,
    *,
    now: dt.datetime,
    read_token: Callable[[etree._Element], T],
) -> T:
    """Check a signed request as its receiver; what ``read_token`` made of the assertion."""
    _, body = _parts(envelope)
    security = envelope.find(f".//{{{wsse.NS['wsse']}}}Security")
    assertion = None if security is None else security.find(_ASSERTION)
    stamp = None if security is None else security.find(_STAMP)
    if assertion is None or stamp is None:
        raise NoSecurity("no token and timestamp in wsse:Security")
    expires, created = _stamp_time(stamp, "Expires"), _stamp_time(stamp, "Created")
    try:
        expired = saml.parse_time(expires) <= now
        ahead = created is not None and saml.parse_time(created) > now + CLOCK_SKEW
    except saml.TokenRefused as exc:
        raise MessageExpired(f"the timestamp: {exc}") from exc
    if expired:
        raise MessageExpired(f"the message expired at {expires}")
    if ahead:
        raise MessageExpired(
            f"the message is dated {created}, more than {CLOCK_SKEW} ahead of this clock"
        )
    token = read_token(assertion)
    wsse.verify_with_holder(envelope, saml.holder_certificate(assertion), [body, stamp], now=now)
    return token


def _stamp_time(stamp: etree._Element, name: str) -> str | None:
    """All the text of the timestamp's ``name`` (a comment inside it leaves the signature
    valid, and ``findtext`` would give only the part before the comment); None if absent."""
    element = stamp.find(f"{{{wsse.NS['wsu']}}}{name}")
    return None if element is None else "".join(str(t) for t in element.itertext())
