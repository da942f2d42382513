"""The benefit index simulator: ``YdelseIndeksService_6.importer`` over real HTTP(S).

It checks what KOMBIT's index checks, in order, and answers a SOAP 1.2 fault for the first
thing wrong (nothing is taken then):

1. the body is at most 1 MiB, parses safely (no DTD, no entities) as a SOAP 1.2 envelope;
2. ``wsse:Security`` holds an assertion signed by a trusted STS, issued by ``issuer`` for this
   service (``audience``), valid now (``InvalidSecurityToken``; ``MessageExpired`` when the
   token or the message's timestamp has expired), and the message is signed by the
   assertion's holder over the body, the timestamp and the assertion
   (``FailedAuthentication``);
3. the body is an ``ImporterYdelseIndeksInput`` valid against KOMBIT's schema
   (``InvalidInput``, naming the place), every effectuation for the token's CVR
   (``AuthorizationFailed``).

Then each effectuation is taken into the ledger once per object UUID (a repeat is counted,
not taken again) and the answer is ``StandardRetur/StatusKode`` 20. Faults on a script
(:class:`IndexFaults`): answer the first N calls late (after the caller's timeout; the
report is still taken, as a real server finishing its work does), refuse given payment keys
with a SOAP fault, lose the answer to the first N calls after taking them (HTTP 503: the
caller must send again, and the repeat must not count twice).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from toekgw.formats.kombit import idws, saml, wsse
from toekgw.formats.xmlcheck import load_schema, safe_parser, schema_findings
from toekgw.formats.ydelsesindeks import (
    NS,
    OPERATIONS_XSD,
    SERVICE_ENTITY_ID,
    Effektuering,
    IndexAnswer,
    NotAnImport,
    build_answer,
    build_fault,
    read_import,
)
from toekgw.gateway.httpserver import BodyTooLarge, read_body
from toekgw.simulators.ydelsesindeks.ledger import IndexLedger

__all__ = ["INDEX_PATH", "IndexFaults", "IndexSimulator"]

INDEX_PATH = "/ydelseindeks/6"
MAX_REQUEST = 1024 * 1024
_SOAP12 = "application/soap+xml; charset=utf-8"


class _Refused(Exception):
    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


@dataclasses.dataclass
class IndexFaults:
    late: int = 0  # answer the first N calls after ``late_seconds`` (and take them)
    late_seconds: float = 5.0
    refuse_keys: frozenset[str] = frozenset()  # payment keys answered with a SOAP fault
    lose_answers: int = 0  # take the first N calls, then answer HTTP 503 (answer lost)


@dataclasses.dataclass
class IndexSimulator:
    ledger_path: Path
    trusted_sts: list[x509.Certificate]
    issuer: str
    audience: str = SERVICE_ENTITY_ID
    faults: IndexFaults = dataclasses.field(default_factory=IndexFaults)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    calls: int = 0
    taken: int = 0
    repeats: int = 0
    refused: int = 0
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.ledger = IndexLedger(self.ledger_path)

    def app(self) -> Starlette:
        return Starlette(routes=[Route(INDEX_PATH, self._import, methods=["POST"])])

    async def _import(self, request: Request) -> Response:
        with self._lock:
            self.calls += 1
            call = self.calls
        try:
            body = await read_body(request.receive, MAX_REQUEST)
            if call <= self.faults.late:  # read, then slow: the caller gives up, we go on
                await asyncio.sleep(self.faults.late_seconds)
            transaction, effektueringer = self._check(body)
        except _Refused as exc:
            with self._lock:
                self.refused += 1
            return Response(build_fault(exc.code, exc.text), 500, media_type=_SOAP12)
        except BodyTooLarge as exc:
            return Response(build_fault("InvalidInput", str(exc)), 413, media_type=_SOAP12)
        for e in effektueringer:
            new = self.ledger.take(e)
            with self._lock:
                self.taken += new
                self.repeats += not new
        if call <= self.faults.lose_answers:
            return PlainTextResponse("the answer was lost", status_code=503)
        answer = build_answer(transaction, IndexAnswer(20, "OK"))
        return Response(answer, media_type=_SOAP12)

    def _check(self, body: bytes) -> tuple[str | None, list[Effektuering]]:
        try:
            # Comments dropped: the values read are those the schema and the signature saw.
            envelope = etree.fromstring(body, safe_parser(keep_comments=False))
        except etree.XMLSyntaxError as exc:
            raise _Refused("InvalidInput", f"not XML: {exc}") from exc
        soap = f"{{{NS['soap12']}}}"
        body_element = envelope.find(soap + "Body")
        if envelope.tag != soap + "Envelope" or body_element is None or not len(body_element):
            raise _Refused("InvalidInput", "not a SOAP 1.2 envelope with a body")
        cvr = self._token(envelope)
        request = body_element[0]
        findings = schema_findings(load_schema(OPERATIONS_XSD), request, "ydelsesindeks")
        if findings:
            first = findings[0]
            expected = f" (expected {first.expected})" if first.expected else ""
            raise _Refused("InvalidInput", f"{first.where()}: {first.message}{expected}")
        try:
            effektueringer = read_import(request)
        except NotAnImport as exc:
            raise _Refused("InvalidInput", str(exc)) from exc
        for e in effektueringer:
            if e.municipality_cvr != cvr:
                raise _Refused(
                    "AuthorizationFailed", f"{e.key}: the token is for CVR {cvr}, not this one"
                )
            if e.key in self.faults.refuse_keys:
                raise _Refused("InvalidInput", f"{e.key}: refused on the simulator's script")
        transaction = envelope.findtext(
            f"{soap}Header/hdr:RequestHeader/hdr:TransactionUUID", namespaces=NS
        )
        return transaction, list(effektueringer)

    def _token(self, envelope: etree._Element) -> str:
        """The CVR the caller's token is for, after every check of the token and signature."""

        def read(assertion: etree._Element) -> saml.AssertionInfo:
            return saml.read_assertion(
                assertion,
                trusted=self.trusted_sts,
                issuer=self.issuer,
                audience=self.audience,
                now=self.clock(),
            )

        try:
            return idws.verify_request(envelope, now=self.clock(), read_token=read).cvr
        except (idws.MessageExpired, saml.TokenExpired) as exc:
            raise _Refused("MessageExpired", str(exc)) from exc
        except wsse.SignatureRefused as exc:
            raise _Refused("FailedAuthentication", str(exc)) from exc
        except saml.TokenRefused as exc:
            raise _Refused("InvalidSecurityToken", str(exc)) from exc
