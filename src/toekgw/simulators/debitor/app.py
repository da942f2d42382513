"""The debtor system behind SF1590_B over HTTP(S): B_01 and B_03 in, TØK's callback out.

``POST /service/OIR/DebitorRegistreringAfsend/1`` and ``.../DebitorIndbetalingAfsend/1`` take
a SOAP 1.1 envelope with a SAML token in ``wsse:Security`` (verified against ``trusted_sts``
when given) and a message valid against the schema, signed by the token's holder over the
timestamp, the body and the token (:func:`toekgw.formats.kombit.idws.verify_request`: a
missing, forged or altered signature is a fault with the error ``FailedCheck``, WS-Security's
code for it, and nothing is applied); the answer is ``StatusKode`` 20 or a SOAP fault with
Serviceplatformen's ``ErrorList``. ``GET /report`` is the debtor system's balance
report (:mod:`toekgw.formats.debitor.saldo`).

The simulator calls TØK's callback (``DaekningAfskrivningRegistreringAfsend``) with the
coverings its B_03 payments make and with whatever a script says (:meth:`callback`,
:class:`ScriptStep`), under a token it issues itself and a message signature as that token's
holder (its ``signer``: configure its certificate as a trusted STS of the callback service).

Faults, each for the next N calls (:class:`Faults`): ``timeouts`` (the message is applied,
the answer comes after ``delay`` seconds: too late for the caller, who sends it again),
``soap_faults`` (a ``soap:Server`` fault, nothing applied), ``duplicate_callbacks`` (every
callback delivered twice) and ``unknown_claim_callbacks`` (a callback about a claim that does
not exist).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from toekgw.formats.debitor.daekning import DaekningBesked, build_fault, build_request
from toekgw.formats.debitor.daekning import Registrering as Daekning
from toekgw.formats.debitor.registrering import (
    ENTITY_IDS,
    NS,
    BadMessage,
    read_indbetaling,
    read_registrering,
)
from toekgw.formats.debitor.saldo import Saldo, write_saldo
from toekgw.formats.kombit import idws, saml, wsse
from toekgw.formats.xmlcheck import safe_parser
from toekgw.gateway.danish_time import danish_date
from toekgw.gateway.httpserver import BodyTooLarge, read_body
from toekgw.simulators.debitor.system import DebtorSystem, Refusal

__all__ = [
    "INDBETALING_PATH",
    "REGISTRERING_PATH",
    "DebitorSimulator",
    "Faults",
    "ScriptStep",
    "Signer",
]

REGISTRERING_PATH = "/service/OIR/DebitorRegistreringAfsend/1"
INDBETALING_PATH = "/service/OIR/DebitorIndbetalingAfsend/1"
CALLBACK_AUDIENCE = "http://entityid.kombit.dk/service/daekningafskrivningregistreringafsend/1"
MAX_REQUEST = 1024 * 1024
_SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


@dataclasses.dataclass
class Faults:
    timeouts: int = 0
    delay: float = 5.0
    soap_faults: int = 0
    duplicate_callbacks: bool = False
    unknown_claim_callbacks: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class ScriptStep:
    """A covering, write-off or reversal the debtor system books on ``fordring`` (``*``:
    every claim) and tells TØK; ``beloeb_ore`` ``None``: the whole remaining debt."""

    fordring: str
    type: str = "DAEKNING"
    beloeb_ore: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Signer:
    """Who signs the callback's token: the simulator acting as the STS TØK trusts."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    issuer: str = "https://sts.simulator.toekgw.local"
    audience: str = CALLBACK_AUDIENCE


class DebitorSimulator:
    def __init__(
        self,
        system: DebtorSystem,
        *,
        signer: Signer,
        callback_url: str | None = None,
        callback_ca: Path | None = None,
        trusted_sts: Sequence[x509.Certificate] = (),
        sts_issuer: str = "https://sts.simulator.toekgw.local",
        faults: Faults | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.system = system
        self.signer = signer
        self.callback_url = callback_url
        self.callback_ca = callback_ca
        self.trusted_sts = list(trusted_sts)
        self.sts_issuer = sts_issuer
        self.faults = faults or Faults()
        self.clock = clock
        self.callbacks_sent = 0
        self.callback_answers: list[int] = []
        self._lock = threading.Lock()
        self._done: set[tuple[int, str]] = set()

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(REGISTRERING_PATH, self._registrering, methods=["POST"]),
                Route(INDBETALING_PATH, self._indbetaling, methods=["POST"]),
                Route("/report", self._report, methods=["GET"]),
            ]
        )

    async def _registrering(self, request: Request) -> Response:
        return await self._serve(request, "DebitorRegistreringAfsend")

    async def _indbetaling(self, request: Request) -> Response:
        return await self._serve(request, "DebitorIndbetalingAfsend")

    async def _serve(self, request: Request, operation: str) -> Response:
        try:
            body = await read_body(request.receive, MAX_REQUEST)
            message = self._message(body, ENTITY_IDS[operation])
        except wsse.SignatureRefused as exc:
            return _fault("Client", "the message signature is refused", [("FailedCheck", str(exc))])
        except (BadMessage, BodyTooLarge, etree.XMLSyntaxError, saml.TokenRefused) as exc:
            return _fault("Client", "refused", [("DEB-400", str(exc))])
        if self._take("soap_faults"):
            return _fault("Server", "the debtor system is unavailable", [("DEB-500", "try later")])
        besked_id = message.findtext(f"{{{NS}}}BeskedId") or ""
        try:
            if operation == "DebitorRegistreringAfsend":
                self.system.registrer(read_registrering(message))
                coverings: list[Daekning] = []
            else:
                incoming = read_indbetaling(message)
                coverings = self.system.indbetal(incoming)
        except BadMessage as exc:
            return _fault("Client", "refused", [("DEB-400", str(exc))])
        except Refusal as refusal:
            return _fault("Client", "refused", [(refusal.code, refusal.text)])
        if coverings:
            cvr = message.findtext(f"{{{NS}}}MyndighedCVR") or ""
            threading.Thread(target=self.callback, args=(cvr, coverings), daemon=True).start()
        if self._take("timeouts"):
            await asyncio.sleep(self.faults.delay)
        return Response(_answer(operation, besked_id), media_type="text/xml; charset=utf-8")

    def _message(self, body: bytes, audience: str) -> etree._Element:
        # Comments dropped: the values read are those the schema and the signature saw.
        root = etree.fromstring(body, safe_parser(keep_comments=False))
        if root.tag != f"{{{_SOAP11}}}Envelope":
            raise BadMessage("not a SOAP 1.1 envelope")

        def read(assertion: etree._Element) -> None:
            if self.trusted_sts:
                saml.read_assertion(
                    assertion,
                    trusted=self.trusted_sts,
                    issuer=self.sts_issuer,
                    audience=audience,
                    now=self.clock(),
                )

        idws.verify_request(root, now=self.clock(), read_token=read)
        payload = root.find(f"{{{_SOAP11}}}Body")
        if payload is None or len(payload) != 1:
            raise BadMessage("the body holds not exactly one message")
        return payload[0]

    async def _report(self, request: Request) -> Response:
        saldi = [Saldo(c.cvr, c.fordring_id, c.remaining_ore) for c in self.system.claims()]
        return PlainTextResponse(write_saldo(saldi), media_type="text/csv; charset=utf-8")

    def _take(self, fault: str) -> bool:
        with self._lock:
            left = getattr(self.faults, fault)
            if left <= 0:
                return False
            setattr(self.faults, fault, left - 1)
            return True

    # --- calling TØK -------------------------------------------------------------------

    def run_script(self, steps: Sequence[ScriptStep]) -> int:
        """Book each step on every claim it names that it has not booked yet, and call TØK;
        how many registrations were told."""
        told = 0
        for number, step in enumerate(steps):
            for claim in self.system.claims():
                if step.fordring not in ("*", claim.fordring_id):
                    continue
                if (number, f"{claim.cvr}:{claim.fordring_id}") in self._done:
                    continue
                amount = step.beloeb_ore if step.beloeb_ore is not None else claim.remaining_ore
                today = danish_date(self.clock())
                made = Daekning("", claim.fordring_id, step.type, amount, today)
                if amount <= 0 or not self.system.register(claim.cvr, made):
                    continue
                self._done.add((number, f"{claim.cvr}:{claim.fordring_id}"))
                self.callback(claim.cvr, [made])
                told += 1
        return told

    def callback(self, cvr: str, registreringer: Sequence[Daekning]) -> int:
        """Tell TØK (its HTTP status; 0 when no callback is configured or it is unreachable)."""
        if self.callback_url is None:
            return 0
        rows = [dataclasses.replace(r, registrering_id=str(uuid.uuid4())) for r in registreringer]
        if self._take("unknown_claim_callbacks"):
            rows.append(Daekning(str(uuid.uuid4()), f"UKENDT-{uuid.uuid4().hex[:8]}", "DAEKNING",
                                 100, danish_date(self.clock())))  # fmt: skip
        message = DaekningBesked(str(uuid.uuid4()), cvr, tuple(rows))
        body = build_request(
            message,
            self._token(cvr),
            self.signer.key,
            self.signer.certificate,
            created=self.clock(),
        )
        status = self._post(body)
        if self.faults.duplicate_callbacks:
            status = self._post(body)
        return status

    def _token(self, cvr: str) -> bytes:
        now = self.clock()
        return saml.build_assertion(
            issuer=self.signer.issuer,
            audience=self.signer.audience,
            cvr=cvr,
            holder=self.signer.certificate,
            not_before=now - dt.timedelta(minutes=1),
            not_on_or_after=now + dt.timedelta(hours=1),
            key=self.signer.key,
            certificate=self.signer.certificate,
        )

    def _post(self, body: bytes) -> int:
        assert self.callback_url is not None
        try:
            answer = requests.post(
                self.callback_url,
                data=body,
                timeout=30,
                verify=str(self.callback_ca) if self.callback_ca else True,
                headers={"Content-Type": "text/xml; charset=utf-8"},
            )
        except requests.RequestException:
            status = 0
        else:
            status = answer.status_code
        with self._lock:
            self.callbacks_sent += 1
            self.callback_answers.append(status)
        return status


def _answer(operation: str, besked_id: str) -> bytes:
    envelope = etree.Element(f"{{{_SOAP11}}}Envelope", nsmap={"soap": _SOAP11})
    body = etree.SubElement(envelope, f"{{{_SOAP11}}}Body")
    answer = etree.SubElement(body, f"{{{NS}}}{operation}_O", nsmap={"r": NS})
    etree.SubElement(answer, f"{{{NS}}}BeskedId").text = besked_id
    etree.SubElement(answer, f"{{{NS}}}StatusKode").text = "20"
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def _fault(code: str, text: str, errors: list[tuple[str, str]]) -> Response:
    body = build_fault(code, text, errors=errors, namespace=NS)
    return Response(body, status_code=500, media_type="text/xml; charset=utf-8")
