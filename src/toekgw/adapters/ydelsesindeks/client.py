"""The SOAP client of SF1490's benefit index: zeep over KOMBIT's bundled WSDL.

The WSDL and schemas are read from the package (``xsd/ydelsesindeks/``), never from the
network. Each call carries, in SOAP 1.2 headers, the WSDL's ``RequestHeader/TransactionUUID``,
WS-Addressing (``Action``, ``MessageID``, ``To``, ``ReplyTo``: the index's policy requires
them) and ``wsse:Security`` with a timestamp, the SF1514 holder-of-key assertion and a
signature by the gateway's key over the body, the timestamp, the addressing headers and the
assertion (OIO IDWS, as the WSDL's policy asks:
:class:`~toekgw.adapters.kombit.signing.HolderSigning`).

What can happen to a call, each its own exception:

- :class:`IndexUnavailable`: no answer (network, TLS, timeout, HTTP error without a SOAP
  answer, an answer that is not XML): the call may be tried again;
- :class:`~toekgw.adapters.kombit.tokens.TokenRejected`: a fault about the token (expired,
  refused): the token client fetches a fresh one and tries once more;
- :class:`IndexRefused`: the index refused the report (a SOAP fault about the message, or a
  ``StatusKode`` other than 20): never retried, a finding on the error list. A ``Receiver``
  fault (SOAP 1.1 ``Server``) is the index unable to process it *now* (SOAP 1.2, 5.4.6: "the
  message could not be processed for reasons attributable to the processing of the message
  rather than to the contents of the message itself"): :class:`IndexUnavailable`, tried again.
"""

from __future__ import annotations

import uuid
from typing import Any

import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport

import toekgw.xsd
from toekgw.adapters.kombit.settings import Credentials
from toekgw.adapters.kombit.signing import HolderSigning
from toekgw.adapters.kombit.tokens import TokenRejected
from toekgw.adapters.ydelsesindeks.settings import YdelsesindeksSettings
from toekgw.formats.ydelsesindeks import (
    WSDL,
    Effektuering,
    IndexAnswer,
    read_answer,
    to_zeep,
)
from toekgw.gateway.errors import GatewayError
from toekgw.gateway.tokens import Clock, utc_now

__all__ = ["IndexClient", "IndexRefused", "IndexUnavailable", "YdelsesindeksError"]

_BINDING = "{http://stoettesystemerne.dk/ydelsesindeks}YdelseIndeks"
# Fault subcodes that speak of the token, not the report (WS-Security 1.0, WS-Trust).
_TOKEN_FAULTS = frozenset(
    {"FailedAuthentication", "InvalidSecurityToken", "MessageExpired", "SecurityTokenUnavailable"}
)


class YdelsesindeksError(GatewayError):
    """A report to the benefit index did not go through."""


class IndexUnavailable(YdelsesindeksError):
    """The index could not be reached or did not answer (try again later)."""


class IndexRefused(YdelsesindeksError):
    """The index refused the report: ``code`` and ``text`` are its own."""

    def __init__(self, code: str, text: str) -> None:
        self.code, self.text = code, text
        super().__init__(f"the benefit index refused the report: {code}: {text}")


class IndexClient:
    """Reports effectuations to the benefit index; one per process (zeep parses the WSDL once)."""

    def __init__(
        self,
        settings: YdelsesindeksSettings,
        credentials: Credentials,
        *,
        clock: Clock = utc_now,
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        http = session or requests.Session()
        http.verify = str(settings.ca) if settings.ca else True
        transport = Transport(  # type: ignore[no-untyped-call]
            session=http,
            timeout=settings.timeout_seconds,
            operation_timeout=settings.timeout_seconds,
        )
        self._security = HolderSigning(credentials, clock)
        self._zeep = zeep.Client(  # type: ignore[no-untyped-call]
            str(toekgw.xsd.schema_path(WSDL)),
            transport=transport,
            plugins=[self._security],
            settings=zeep.Settings(forbid_dtd=True, forbid_entities=True, strict=True),
        )
        self._service = self._zeep.create_service(_BINDING, settings.url)  # type: ignore[no-untyped-call]
        self.clock = clock

    def report(self, effektuering: Effektuering, assertion: bytes) -> IndexAnswer:
        """Send one effectuation with ``assertion`` as the token; the index's answer."""
        self._security.use(assertion)
        transaction = str(uuid.uuid4())
        try:
            result = self._service.importer(
                _value_1=[to_zeep(effektuering, registered=self.clock().replace(tzinfo=None))],
                _soapheaders={"header": {"TransactionUUID": transaction}},
            )
        except zeep.exceptions.Fault as fault:
            raise _refusal(fault) from fault
        except (requests.RequestException, zeep.exceptions.TransportError) as exc:
            raise IndexUnavailable(f"cannot reach the benefit index: {_short(exc)}") from exc
        except (etree.XMLSyntaxError, zeep.exceptions.XMLSyntaxError) as exc:
            raise IndexUnavailable(f"the benefit index answered no SOAP: {exc}") from exc
        answer = _standard_retur(result)
        if not answer.ok:
            raise IndexRefused(str(answer.status), answer.text)
        return answer


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _refusal(fault: zeep.exceptions.Fault) -> Exception:
    subcodes = [etree.QName(str(c)).localname for c in (fault.subcodes or [])]
    code = ":".join(subcodes) or str(fault.code or "Fault")
    text = str(fault.message or "")
    if _TOKEN_FAULTS & {c.split(":")[-1] for c in subcodes}:
        return TokenRejected(f"the benefit index refused the token: {code}: {text}")
    if str(fault.code or "").rsplit(":", 1)[-1].rsplit("}", 1)[-1] in ("Receiver", "Server"):
        return IndexUnavailable(f"the benefit index could not process the report now: {text}")
    return IndexRefused(code, text)


def _standard_retur(result: Any) -> IndexAnswer:
    """``ImporterYdelseIndeksOutput``'s first ``StandardRetur`` (zeep's answer has the header
    and the body, a ``MultipleOutputType``: ``StandardRetur`` or ``UnikRetur`` entries)."""
    body = getattr(result, "body", result)
    for name in ("StandardRetur", "UnikRetur"):
        entries = getattr(body, name, None) or []
        if entries:
            return read_answer(entries[0]["StatusKode"], entries[0]["FejlbeskedTekst"])
    raise IndexUnavailable("the benefit index answered without a StandardRetur")
