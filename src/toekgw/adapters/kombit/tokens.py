"""The SF1514/SF1516 token client: SAML tokens per (service, CVR) and REST access tokens.

``saml_token(service, cvr)`` asks the STS (a signed OIO WS-Trust request, see
:mod:`toekgw.formats.kombit.sts`) for a holder-of-key assertion and caches it until its own
expiry minus ``margin_seconds`` (what the token says - the public STS issues 8 hours; nothing
is assumed). ``access_token`` exchanges that assertion for a REST access token (SF1516) and
caches it until ``expires_in`` minus ``exchange_margin_seconds``. Concurrent callers share
one fetch. ``call_with_token`` runs a call with a token and, when the counterpart refuses the
token (:class:`TokenRejected`), drops it and tries once more with a fresh one; a second
refusal is a clear error.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import requests
from cryptography.hazmat.primitives import serialization
from lxml import etree

from toekgw.adapters.kombit.settings import Credentials, KombitSettings
from toekgw.formats.kombit import sts
from toekgw.formats.kombit.saml import TokenRefused
from toekgw.formats.xmlcheck import safe_parser
from toekgw.gateway.errors import GatewayError
from toekgw.gateway.metrics import Figure
from toekgw.gateway.tokens import Clock, Expiring, TokenCache, utc_now

__all__ = ["StsUnavailable", "TokenClient", "TokenError", "TokenRejected"]

R = TypeVar("R")
_SOAP12 = "application/soap+xml; charset=utf-8"
MAX_ANSWER = 1024 * 1024


class TokenError(GatewayError):
    """No token could be had: the STS refused (its reason in the message) or answered nonsense."""


class StsUnavailable(TokenError):
    """The STS or the token exchange could not be reached (network, TLS, timeout, 5xx)."""


class TokenRejected(GatewayError):
    """Raised by a call given to :meth:`TokenClient.call_with_token` when the counterpart
    refuses the token (expired, revoked): the client fetches a fresh one and retries once."""


class TokenClient:
    """Tokens for the gateway's certificate; one per process, shared by its threads."""

    def __init__(
        self,
        settings: KombitSettings,
        credentials: Credentials,
        *,
        clock: Clock = utc_now,
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        self.credentials = credentials
        self.clock = clock
        self._http = session or requests.Session()
        self._saml: TokenCache[bytes] = TokenCache(
            margin=dt.timedelta(seconds=settings.margin_seconds), clock=clock
        )
        self._access: TokenCache[str] = TokenCache(
            margin=dt.timedelta(seconds=settings.exchange_margin_seconds), clock=clock
        )
        self.fetches = 0  # STS requests made (for operators' status and tests)

    def saml_token(self, service: str, cvr: str) -> Expiring[bytes]:
        return self._saml.get((service, cvr), lambda: self._fetch_saml(service, cvr))

    def access_token(self, service: str, cvr: str) -> Expiring[str]:
        return self._access.get((service, cvr), lambda: self._exchange(service, cvr))

    def figures(self) -> list[Figure]:
        """``kombit_token_remaining_seconds{token, service, cvr}``: how long each cached token
        has left (negative: expired, fetched again at its next use), for ``/metrics``."""
        now = self.clock()
        return [
            Figure(
                "kombit_token_remaining_seconds",
                "Seconds left of a cached KOMBIT token (SF1514 saml, SF1516 access).",
                (expires - now).total_seconds(),
                {"token": token, "service": str(key[0]), "cvr": str(key[1])},
            )
            for token, cache in (("saml", self._saml), ("access", self._access))
            for key, expires in cache.expiries().items()
            if isinstance(key, tuple)
        ]

    def call_with_token(self, service: str, cvr: str, call: Callable[[bytes], R]) -> R:
        """``call(assertion)``; on :class:`TokenRejected` once more with a fresh token."""
        try:
            return call(self.saml_token(service, cvr).value)
        except TokenRejected:
            self._saml.invalidate((service, cvr))
            self._access.invalidate((service, cvr))
        try:
            return call(self.saml_token(service, cvr).value)
        except TokenRejected as exc:
            raise TokenError(
                f"{service} refused a fresh token for CVR {cvr} as well: {exc}",
                hint="check the service agreement in KOMBIT's administration module",
            ) from exc

    def _fetch_saml(self, service: str, cvr: str) -> Expiring[bytes]:
        request = sts.build_request(
            sts_url=self.settings.sts_url,
            applies_to=service,
            cvr=cvr,
            key=self.credentials.key,
            certificate=self.credentials.certificate,
            now=self.clock(),
        )
        self.fetches += 1
        answer = self._post(
            self.settings.sts_url,
            data=request,
            headers={"Content-Type": f'{_SOAP12}; action="{sts.ACTION_ISSUE}"'},
            accept_status=(200, 400, 500),
        )
        try:
            issued = sts.read_response(etree.fromstring(answer, safe_parser()))
        except sts.StsFault as exc:
            raise TokenError(f"the STS refused a token for {service}, CVR {cvr}: {exc}") from exc
        except (TokenRefused, etree.XMLSyntaxError) as exc:
            # Not the STS's own answer (a proxy's error page, a broken response): retry later.
            raise StsUnavailable(f"the STS answered something unusable: {exc}") from exc
        return Expiring(issued.assertion, issued.expires)

    def _exchange(self, service: str, cvr: str) -> Expiring[str]:
        assertion = self.saml_token(service, cvr).value
        now = self.clock()
        with self._client_files() as cert:
            answer = self._post(
                self.settings.exchange_url,
                data={"saml-token": base64.b64encode(assertion).decode()},
                cert=cert,
            )
        try:
            body = json.loads(answer)
            token, lifetime = str(body["access_token"]), int(body["expires_in"])
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenError(f"the token exchange answered something unusable: {exc}") from exc
        return Expiring(token, now + dt.timedelta(seconds=lifetime))

    def _post(
        self,
        url: str,
        *,
        accept_status: tuple[int, ...] = (200,),
        **kwargs: object,
    ) -> bytes:
        verify: str | bool = str(self.settings.sts_ca) if self.settings.sts_ca else True
        try:
            response = self._http.post(
                url,
                timeout=self.settings.timeout_seconds,
                verify=verify,
                stream=True,
                **kwargs,  # type: ignore[arg-type]
            )
            body = response.raw.read(MAX_ANSWER + 1, decode_content=True)
        except requests.RequestException as exc:
            raise StsUnavailable(f"cannot reach {url}: {exc}") from exc
        except OSError as exc:  # requests' own check of the client certificate files
            raise TokenError(f"cannot call {url}: {exc}") from exc
        if len(body) > MAX_ANSWER:
            raise TokenError(f"{url} answered more than {MAX_ANSWER} bytes")
        if response.status_code not in accept_status:
            raise (StsUnavailable if response.status_code >= 500 else TokenError)(
                f"{url} answered HTTP {response.status_code}"
            )
        return bytes(body)

    @contextlib.contextmanager
    def _client_files(self) -> Iterator[tuple[str, str]]:
        """The certificate and key as files for mutual TLS (requests takes paths): the
        configured PEM files, or private temporary copies of a PKCS#12's contents."""
        if self.settings.certificate and self.settings.key:
            yield str(self.settings.certificate), str(self.settings.key)
            return
        with tempfile.TemporaryDirectory(prefix="toekgw-tls-") as tmp:
            cert, key = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
            cert.write_bytes(self.credentials.certificate.public_bytes(serialization.Encoding.PEM))
            key.touch(mode=0o600)
            key.write_bytes(
                self.credentials.key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            yield str(cert), str(key)
