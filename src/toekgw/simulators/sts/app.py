"""The STS simulator: issues SAML tokens and exchanges them for access tokens, like KOMBIT's.

It refuses what the real STS refuses: a request whose signature does not verify or covers
too little, a certificate not registered with it (the administration module's list), a
municipality (CVR) or service it has no agreement for, a request whose timestamp has
expired. Tokens live ``saml_lifetime`` (8 hours, as the public STS issues) and access tokens
``access_lifetime`` (3600 s); the clock is injected, so tests move time. It counts what it
issued (``issued``, ``exchanged``) for tests and ``toekgw simulate sts`` to report.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import secrets
import threading
import urllib.parse
from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from toekgw.formats.kombit import saml, sts
from toekgw.formats.xmlcheck import safe_parser
from toekgw.gateway.httpserver import BodyTooLarge, read_body

__all__ = ["EXCHANGE_PATH", "STS_PATH", "StsSimulator"]

STS_PATH = "/runtime/services/kombittrust/14/certificatemixed"
EXCHANGE_PATH = "/service/AccessTokenService_1/token"
MAX_REQUEST = 256 * 1024
_SOAP12 = "application/soap+xml; charset=utf-8"


@dataclasses.dataclass
class StsSimulator:
    """``trusted``: the client certificates registered; ``cvrs``: municipalities with an
    agreement; ``services``: the entity ids it issues for (``None``: any)."""

    identity_key: rsa.RSAPrivateKey
    identity_certificate: x509.Certificate
    trusted: list[x509.Certificate]
    cvrs: frozenset[str]
    services: frozenset[str] | None = None
    issuer: str = "https://sts.simulator.toekgw.local"
    saml_lifetime: dt.timedelta = dt.timedelta(hours=8)
    access_lifetime: dt.timedelta = dt.timedelta(seconds=3600)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    issued: int = 0
    exchanged: int = 0
    refused: int = 0
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(STS_PATH, self._issue, methods=["POST"]),
                Route(EXCHANGE_PATH, self._exchange, methods=["POST"]),
            ]
        )

    async def _issue(self, request: Request) -> Response:
        try:
            body = await read_body(request.receive, MAX_REQUEST)
            envelope = etree.fromstring(body, safe_parser())
            asked = sts.read_request(envelope, now=self.clock())
            self._check(asked)
        except sts.StsFault as exc:
            return self._fault(exc.code, exc.text)
        except (etree.XMLSyntaxError, BodyTooLarge, saml.TokenRefused) as exc:
            return self._fault("InvalidRequest", str(exc))
        now = self.clock()
        assertion = saml.build_assertion(
            issuer=self.issuer,
            audience=asked.applies_to,
            cvr=asked.cvr,
            holder=asked.certificate,
            not_before=now,
            not_on_or_after=now + self.saml_lifetime,
            key=self.identity_key,
            certificate=self.identity_certificate,
        )
        with self._lock:
            self.issued += 1
        answer = sts.build_response(
            assertion, relates_to=asked.message_id, created=now, expires=now + self.saml_lifetime
        )
        return Response(answer, media_type=_SOAP12)

    def _check(self, asked: sts.TokenRequest) -> None:
        if asked.certificate not in self.trusted:
            raise sts.StsFault("FailedAuthentication", "the certificate is not registered")
        if asked.cvr not in self.cvrs:
            raise sts.StsFault("InvalidRequest", f"no service agreement for CVR {asked.cvr}")
        if self.services is not None and asked.applies_to not in self.services:
            raise sts.StsFault("InvalidRequest", f"unknown service {asked.applies_to}")

    def _fault(self, code: str, text: str) -> Response:
        with self._lock:
            self.refused += 1
        return Response(sts.build_fault(code, text), status_code=500, media_type=_SOAP12)

    async def _exchange(self, request: Request) -> Response:
        try:
            body = await read_body(request.receive, MAX_REQUEST)
            form = urllib.parse.parse_qs(body.decode("ascii"), strict_parsing=True)
            token = base64.b64decode(form["saml-token"][0], validate=True)
            assertion = etree.fromstring(token, safe_parser())
            info = saml.read_assertion(
                assertion,
                trusted=[self.identity_certificate],
                issuer=self.issuer,
                audience=saml_audience(assertion),
                now=self.clock(),
            )
        except (ValueError, KeyError, UnicodeDecodeError, etree.XMLSyntaxError) as exc:
            with self._lock:
                self.refused += 1
            return JSONResponse({"error": "invalid_grant", "detail": str(exc)}, status_code=400)
        with self._lock:
            self.exchanged += 1
        return JSONResponse(
            {
                "token_type": "Holder-of-key",
                "access_token": f"{info.cvr}.{secrets.token_urlsafe(24)}",
                "expires_in": int(self.access_lifetime.total_seconds()),
            }
        )


def saml_audience(assertion: etree._Element) -> str:
    """The audience the assertion names (the exchange serves every service)."""
    ns = f"{{{saml.SAML}}}"
    return (
        assertion.findtext(f"{ns}Conditions/{ns}AudienceRestriction/{ns}Audience") or ""
    ).strip()
