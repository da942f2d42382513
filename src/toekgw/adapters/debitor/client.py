"""The SF1590_B client: B_01 ``DebitorRegistreringAfsend`` and B_03 ``DebitorIndbetalingAfsend``.

A ``zeep`` client over the bundled WSDL (``xsd/oir/SF1590_B.wsdl``; never fetched), bound to
the configured endpoints. Each call carries the Liberty framework header, the transaction id,
WS-Addressing and, in ``wsse:Security``, the SAML token for the service and the municipality
(from :class:`~toekgw.adapters.kombit.TokenClient`; a token the counterpart refuses is fetched
again once) with a signature by the gateway's key, the token's holder, over the timestamp, the
body, the addressing and framework headers and the token
(:class:`~toekgw.adapters.kombit.signing.HolderSigning`, as SF1490 does).

What can go wrong, and what the caller gets:

- a transport fault (no connection, a timeout, an HTTP error without a SOAP fault) is retried
  with exponential backoff (``tenacity``), ``attempts`` times in all; then
  :class:`DebitorUnavailable`. The message is the same each time (its ``BeskedId`` is the
  idempotency key), so a call that reached the debtor system before its answer was lost is
  not applied twice;
- a SOAP fault about the message (``Client``, SOAP 1.2 ``Sender``, or a code of the service's
  own) is the debtor system's answer: :class:`DebitorRejected` with the fault's code and text
  and the ``ErrorList``, never retried (a WS-Security fault about the token is the exception:
  that is a refused token, fetched again once);
- a ``Server`` fault (SOAP 1.2 ``Receiver``) says the debtor system could not process the
  message *now*, "for reasons not directly attributable to the contents of the message" (SOAP
  1.1, 4.4.1: it may succeed later): it is retried as a transport fault, and then
  :class:`DebitorUnavailable` leaves the call claimed for the next run, never a refusal.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import requests
import zeep
import zeep.exceptions
from lxml import etree
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential
from zeep.transports import Transport

from toekgw.adapters.kombit import Credentials, TokenRejected
from toekgw.adapters.kombit.signing import HolderSigning
from toekgw.formats.debitor.registrering import (
    ENTITY_IDS,
    NS,
    WSDL,
    IndbetalingBesked,
    NedskrivFordring,
    Operation,
    OpretDebitorkonto,
    OpretFordring,
    Registrering,
    kroner,
)
from toekgw.gateway.errors import GatewayError
from toekgw.gateway.tokens import Clock, utc_now
from toekgw.xsd import schema_path

__all__ = [
    "B01",
    "B03",
    "DebitorClient",
    "DebitorError",
    "DebitorRejected",
    "DebitorUnavailable",
    "Endpoints",
    "TokenSource",
]

R = TypeVar("R")
_WSDL_NS = "urn:toekgw:oir:debitorregistrering:wsdl:1"
_SBF = "urn:liberty:sb:2006-08"
_REQUEST_HEADER = "http://kombit.dk/xml/schemas/RequestHeader/1/"
#: WS-Security fault codes that mean "the token": fetch a fresh one and try once more.
_TOKEN_FAULTS = frozenset(
    {"InvalidSecurityToken", "FailedAuthentication", "SecurityTokenUnavailable"}
)


@dataclasses.dataclass(frozen=True, slots=True)
class Service:
    """One SF1590_B service: its binding in the WSDL and its entity id (AppliesTo)."""

    name: str
    binding: str
    entity_id: str


B01 = Service(
    "DebitorRegistreringAfsend",
    f"{{{_WSDL_NS}}}DebitorRegistreringAfsendBinding",
    ENTITY_IDS["DebitorRegistreringAfsend"],
)
B03 = Service(
    "DebitorIndbetalingAfsend",
    f"{{{_WSDL_NS}}}DebitorIndbetalingAfsendBinding",
    ENTITY_IDS["DebitorIndbetalingAfsend"],
)


class DebitorError(GatewayError):
    """Base of the SF1590_B client's errors."""


class DebitorUnavailable(DebitorError):
    """The debtor system could not be reached (after the retries): try again later, with the
    same message."""


class DebitorRejected(DebitorError):
    """The debtor system answered with a SOAP fault: a business answer, not retried."""

    exit_code = 1

    def __init__(self, code: str, text: str, errors: list[tuple[str, str]]) -> None:
        self.code, self.text, self.errors = code, text, errors
        listed = "; ".join(f"{c}: {t}" for c, t in errors)
        super().__init__(f"SOAP fault {code}: {text}" + (f" ({listed})" if listed else ""))


class TokenSource(Protocol):
    def call_with_token(self, service: str, cvr: str, call: Callable[[bytes], R]) -> R: ...


@dataclasses.dataclass(frozen=True, slots=True)
class Endpoints:
    registrering: str
    indbetaling: str
    ca: str | None = None  # verify the endpoints' TLS with this CA (default: system store)
    timeout_seconds: float = 30
    attempts: int = 4
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 30.0


class DebitorClient:
    """Calls SF1590_B, signing as the holder of ``tokens``' tokens with ``credentials`` (the
    certificate the STS knows); ``sleep`` is injected so tests wait for nothing."""

    def __init__(
        self,
        endpoints: Endpoints,
        tokens: TokenSource,
        credentials: Credentials,
        *,
        clock: Clock = utc_now,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoints = endpoints
        self.tokens = tokens
        self.sleep = sleep
        http = session or requests.Session()
        http.verify = endpoints.ca or True
        transport = Transport(  # type: ignore[no-untyped-call]
            session=http,
            timeout=endpoints.timeout_seconds,
            operation_timeout=endpoints.timeout_seconds,
        )
        settings = zeep.Settings(strict=True, xml_huge_tree=False, forbid_dtd=True)
        wsdl = str(schema_path(WSDL))
        self._signing = HolderSigning(credentials, clock)
        self._client = zeep.Client(  # type: ignore[no-untyped-call]
            wsdl, transport=transport, settings=settings, plugins=[self._signing]
        )
        self._registrering: Any = self._client.create_service(  # type: ignore[no-untyped-call]
            B01.binding, endpoints.registrering
        )
        self._indbetaling: Any = self._client.create_service(  # type: ignore[no-untyped-call]
            B03.binding, endpoints.indbetaling
        )
        self.attempts_made = 0  # HTTP calls made (for tests and status)

    def registrer(self, message: Registrering) -> int:
        """Send a B_01 message; the debtor system's ``StatusKode`` (20: taken)."""
        body = {
            "BeskedId": message.besked_id,
            "MyndighedCVR": message.cvr,
            "Operation": [_operation(op) for op in message.operationer],
        }
        return self._call(B01, message.cvr, self._registrering.DebitorRegistreringAfsend, body)

    def indbetal(self, message: IndbetalingBesked) -> int:
        """Send a B_03 message; the debtor system's ``StatusKode`` (20: taken)."""
        body = {
            "BeskedId": message.besked_id,
            "MyndighedCVR": message.cvr,
            "Indbetaling": [
                {
                    "IndbetalingId": i.indbetaling_id,
                    "FordringId": i.fordring_id,
                    "Beloeb": kroner(i.beloeb_ore),
                    "IndbetalingsDato": i.dato,
                    "TilbagefoererIndbetalingId": i.tilbagefoerer,
                }
                for i in message.indbetalinger
            ],
        }
        return self._call(B03, message.cvr, self._indbetaling.DebitorIndbetalingAfsend, body)

    def _call(
        self, service: Service, cvr: str, operation: Callable[..., Any], body: dict[str, Any]
    ) -> int:
        def attempt(assertion: bytes) -> int:
            self.attempts_made += 1
            self._signing.use(assertion)
            try:
                answer = operation(_soapheaders=_headers(), **body)
            except zeep.exceptions.Fault as fault:
                raise _fault(fault) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise DebitorUnavailable(f"cannot reach {service.name}: {exc}") from exc
            except zeep.exceptions.TransportError as exc:
                raise DebitorUnavailable(
                    f"{service.name} answered HTTP {exc.status_code} without a SOAP answer"
                ) from exc
            return int(answer["StatusKode"])

        retrying = Retrying(
            retry=retry_if_exception_type(DebitorUnavailable),
            stop=stop_after_attempt(self.endpoints.attempts),
            wait=wait_exponential(
                multiplier=self.endpoints.backoff_seconds, max=self.endpoints.backoff_max_seconds
            ),
            sleep=self.sleep,
            reraise=True,
        )
        status: int = retrying(self.tokens.call_with_token, service.entity_id, cvr, attempt)
        return status


def _operation(op: Operation) -> dict[str, Any]:
    if isinstance(op, OpretDebitorkonto):
        part = {"PartType": op.part.kind, "PartNummer": op.part.number}
        return {"OpretDebitorkonto": {"DebitorkontoId": op.debitorkonto_id, "Part": part}}
    if isinstance(op, OpretFordring):
        return {
            "OpretFordring": {
                "FordringId": op.fordring_id,
                "DebitorkontoId": op.debitorkonto_id,
                "FordringType": op.fordring_type,
                "Beloeb": kroner(op.beloeb_ore),
                "PeriodeFra": op.periode_fra,
                "PeriodeTil": op.periode_til,
                "StiftelsesDato": op.stiftelses_dato,
                "ForfaldsDato": op.forfalds_dato,
                "Aktiv": op.aktiv,
                "Delfordring": [
                    {
                        "DelfordringId": d.delfordring_id,
                        "FordringType": d.fordring_type,
                        "Beloeb": kroner(d.beloeb_ore),
                    }
                    for d in op.delfordringer
                ],
                "ErstatterFordringId": op.erstatter,
            }
        }
    if isinstance(op, NedskrivFordring):
        return {
            "NedskrivFordring": {
                "FordringId": op.fordring_id,
                "Beloeb": kroner(op.beloeb_ore),
                "VirkningsDato": op.virknings_dato,
                "Aarsag": op.aarsag,
            }
        }
    return {"RetFordringTilstand": {"FordringId": op.fordring_id, "Tilstand": op.tilstand}}


def _headers() -> list[etree._Element]:
    """Liberty framework and the transaction id (the signing plugin adds the rest)."""
    framework = etree.Element(f"{{{_SBF}}}Framework", nsmap={"sbf": _SBF})
    framework.set("version", "2.0")
    framework.set("profile", "urn:liberty:sb:profile:basic")
    request = etree.Element(f"{{{_REQUEST_HEADER}}}RequestHeader", nsmap={"rh": _REQUEST_HEADER})
    etree.SubElement(request, f"{{{_REQUEST_HEADER}}}TransactionUUID").text = str(uuid.uuid4())
    return [framework, request]


def _fault(fault: zeep.exceptions.Fault) -> Exception:
    code = str(fault.code or "")
    local = code.rsplit(":", 1)[-1].rsplit("}", 1)[-1]  # soap:Server, {ns}Receiver
    text = str(fault.message or "")
    if local in _TOKEN_FAULTS:
        return TokenRejected(f"the debtor system refused the token: {text}")
    errors = _error_list(fault)
    if local in _NOT_NOW:
        listed = "; ".join(f"{c}: {t}" for c, t in errors)
        return DebitorUnavailable(
            f"the debtor system could not process the call now (SOAP fault {code}: {text}"
            + (f"; {listed}" if listed else "")
            + ")"
        )
    return DebitorRejected(code, text, errors)


#: SOAP 1.1's ``Server`` and SOAP 1.2's ``Receiver`` fault codes: not the message's fault.
_NOT_NOW = frozenset({"Server", "Receiver"})


def _error_list(fault: zeep.exceptions.Fault) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if fault.detail is not None:
        for error in fault.detail.iter(f"{{{NS}}}Error"):
            errors.append(
                (
                    error.findtext(f"{{{NS}}}ErrorCode") or "",
                    error.findtext(f"{{{NS}}}ErrorText") or "",
                )
            )
    return errors
