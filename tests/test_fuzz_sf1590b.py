"""Fuzzing the SF1590_B messages the debtor system (its simulator) reads: B_01
``DebitorRegistreringAfsend_I`` (:func:`read_registrering`) and B_03
``DebitorIndbetalingAfsend_I`` (:func:`read_indbetaling`).

Each raises only :class:`BadMessage`, with no CPR number in clear; a comment inside a value
(legal XML: the schema and a signature read the value whole) is read whole. One level up the
simulator answers a refused message with a SOAP fault, never a traceback.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import MutableMapping
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from lxml import etree

from tests.fuzzkit import FUZZ, PLANTED_CPR, assert_masked, refuses_only, xml_mutations
from tests.idws_tokens import signed_soap11, sts_assertion
from tests.pki import VALID_FROM, identity
from toekgw.formats.debitor.registrering import (
    NS,
    BadMessage,
    read_indbetaling,
    read_registrering,
)
from toekgw.formats.xmlcheck import safe_parser
from toekgw.simulators.debitor.app import (
    INDBETALING_PATH,
    REGISTRERING_PATH,
    DebitorSimulator,
    Signer,
)
from toekgw.simulators.debitor.system import DebtorSystem

NOW = VALID_FROM + dt.timedelta(days=1, hours=10)
B01 = f"""<r:DebitorRegistreringAfsend_I xmlns:r="{NS}">
<r:BeskedId>0f6a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b</r:BeskedId>
<r:MyndighedCVR>29189846</r:MyndighedCVR>
<r:Operation><r:OpretDebitorkonto><r:DebitorkontoId>D-1</r:DebitorkontoId>
  <r:Part><r:PartType>CPR</r:PartType><r:PartNummer>{PLANTED_CPR}</r:PartNummer></r:Part>
</r:OpretDebitorkonto></r:Operation>
<r:Operation><r:OpretFordring><r:FordringId>F-1</r:FordringId>
  <r:DebitorkontoId>D-1</r:DebitorkontoId><r:FordringType>KONT</r:FordringType>
  <r:Beloeb>1234.50</r:Beloeb><r:PeriodeFra>2026-11-01</r:PeriodeFra>
  <r:PeriodeTil>2026-11-30</r:PeriodeTil><r:StiftelsesDato>2026-12-01</r:StiftelsesDato>
  <r:ForfaldsDato>2026-12-15</r:ForfaldsDato><r:Aktiv>true</r:Aktiv>
  <r:Delfordring><r:DelfordringId>F-1.1</r:DelfordringId><r:FordringType>KONT</r:FordringType>
    <r:Beloeb>1234.50</r:Beloeb></r:Delfordring>
</r:OpretFordring></r:Operation>
<r:Operation><r:NedskrivFordring><r:FordringId>F-1</r:FordringId><r:Beloeb>34.50</r:Beloeb>
  <r:VirkningsDato>2026-12-04</r:VirkningsDato><r:Aarsag>fejl</r:Aarsag>
</r:NedskrivFordring></r:Operation>
<r:Operation><r:RetFordringTilstand><r:FordringId>F-1</r:FordringId>
  <r:Tilstand>FRIGIVET</r:Tilstand></r:RetFordringTilstand></r:Operation>
</r:DebitorRegistreringAfsend_I>""".encode()
B03 = f"""<r:DebitorIndbetalingAfsend_I xmlns:r="{NS}">
<r:BeskedId>1f6a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b</r:BeskedId>
<r:MyndighedCVR>29189846</r:MyndighedCVR>
<r:Indbetaling><r:IndbetalingId>I-1</r:IndbetalingId><r:FordringId>F-1</r:FordringId>
  <r:Beloeb>100.00</r:Beloeb><r:IndbetalingsDato>2026-12-04</r:IndbetalingsDato></r:Indbetaling>
<r:Indbetaling><r:IndbetalingId>I-2</r:IndbetalingId><r:FordringId>F-1</r:FordringId>
  <r:Beloeb>0.01</r:Beloeb><r:IndbetalingsDato>2026-12-05</r:IndbetalingsDato>
  <r:TilbagefoererIndbetalingId>I-1</r:TilbagefoererIndbetalingId></r:Indbetaling>
</r:DebitorIndbetalingAfsend_I>""".encode()
READERS = {B01: read_registrering, B03: read_indbetaling}


def _read(data: bytes) -> Any:
    """The message read as the simulator reads a body's child (comments kept: the worst)."""
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError:
        return None  # the simulator's fault for a body that is not XML
    reader = read_registrering if etree.QName(root).localname.startswith("DebitorReg") else None
    return (reader or read_indbetaling)(root)


@st.composite
def commented(draw: Any, data: bytes) -> bytes:
    """A comment (or processing instruction) inside one element: before its first child or
    splitting its value."""
    root = etree.fromstring(data)
    element = draw(st.sampled_from([e for e in root.iter() if isinstance(e.tag, str)]))
    text = element.text or ""
    at = draw(st.integers(0, len(text)))
    inserted = etree.Comment("x") if draw(st.booleans()) else etree.ProcessingInstruction("p")
    element.text = text[:at]
    element.insert(0, inserted)
    inserted.tail = text[at:]
    return bytes(etree.tostring(root))


@FUZZ
@given(st.sampled_from([B01, B03]).flatmap(xml_mutations))
def test_a_damaged_message_is_bad_message(data: bytes) -> None:
    refuses_only(lambda: _read(data), BadMessage)


@FUZZ
@given(st.sampled_from([B01, B03]).flatmap(lambda seed: st.tuples(st.just(seed), commented(seed))))
@example((B01, B01.replace(b"<r:Beloeb>1234.50", b"<r:Beloeb>12<!---->34.50", 1)))
@example((B01, B01.replace(b"<r:Operation><r:OpretF", b"<r:Operation><!----><r:OpretF", 1)))
def test_a_comment_changes_nothing_read(seed_and_data: tuple[bytes, bytes]) -> None:
    # A comment in a value was read as the part before it (Beloeb 12<!---->34.50: 12 kroner,
    # where the schema and the signature read 1234.50); one before an operation was a
    # ValueError out of read_registrering (etree.QName of a comment).
    seed, data = seed_and_data
    assert _read(data) == READERS[seed](etree.fromstring(seed))


@pytest.mark.parametrize(
    ("old", "new", "read"),
    [
        (b">2026-12-04</r:Virk", b">2026-12-04Z</r:Virk", dt.date(2026, 12, 4)),
        (b">2026-12-04</r:Virk", b">2026-12-04+01:00</r:Virk", dt.date(2026, 12, 4)),
        (b">2026-12-04</r:Virk", b">12026-12-04</r:Virk", None),
        (b">2026-12-04</r:Virk", b">-2026-12-04</r:Virk", None),
    ],
)
def test_a_schema_valid_date_is_read_or_bad_message(old: bytes, new: bytes, read: Any) -> None:
    # Each was ValueError ("Invalid isoformat string") out of read_registrering.
    data = B01.replace(old, new)
    if read is None:
        with pytest.raises(BadMessage, match=r"NedskrivFordring/VirkningsDato '.*': expected"):
            _read(data)
    else:
        assert _read(data).operationer[2].virknings_dato == read


def test_a_schema_refusal_masks_a_cpr_number_it_quotes() -> None:
    data = B01.replace(f">{PLANTED_CPR}<".encode(), f">{PLANTED_CPR}9<".encode())
    with pytest.raises(BadMessage) as info:
        _read(data)
    assert "010170" in str(info.value) and "****" in str(info.value)
    assert_masked(info.value)


def test_a_schema_refusal_names_the_element_not_the_copys_line() -> None:
    # The schema checks a detached copy: its line was named as if the request's.
    data = B01.replace(b"<r:Beloeb>34.50<", b"<r:Beloeb>-34.50<")
    with pytest.raises(BadMessage) as info:
        _read(data)
    path = "/r:DebitorRegistreringAfsend_I/r:Operation[3]/r:NedskrivFordring/r:Beloeb"
    assert f"invalid against oir/DebitorRegistrering.xsd: {path}: Element" in str(info.value)
    assert "line " not in str(info.value)


# -- one level up: the debtor system's simulator --------------------------------------------


def _signed(message: bytes) -> bytes:
    assertion = sts_assertion("toek-gateway", NOW, issuer="https://sts.simulator.toekgw.local")
    envelope = signed_soap11(etree.fromstring(message), assertion, "toek-gateway", created=NOW)
    return bytes(etree.tostring(envelope))


@pytest.fixture
def simulator() -> DebitorSimulator:
    sts = identity("sts")
    return DebitorSimulator(
        DebtorSystem(), signer=Signer(sts.key, sts.certificate), clock=lambda: NOW
    )


@dataclasses.dataclass
class Answer:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class Client:
    """Calls an ASGI application (the simulator's) in process: what it does not handle (a
    traceback, Starlette's 500) is raised here."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def post(self, path: str, *, content: bytes) -> Answer:
        return asyncio.run(self._post(path, content))

    async def _post(self, path: str, content: bytes) -> Answer:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
            "root_path": "", "headers": [(b"content-type", b"text/xml")],
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        }  # fmt: skip
        messages = [{"type": "http.request", "body": content, "more_body": False}]
        sent: list[MutableMapping[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        status = next(m["status"] for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return Answer(status, body)


@pytest.fixture
def client(simulator: DebitorSimulator) -> Client:
    return Client(simulator.app())


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (REGISTRERING_PATH, B01.replace(b">2026-12-04</r:Virk", b">12026-12-04</r:Virk")),
        (REGISTRERING_PATH, B01.replace(f">{PLANTED_CPR}<".encode(), b">1234<")),
        (INDBETALING_PATH, B03.replace(b">2026-12-05<", b">-2026-12-05<")),
        (INDBETALING_PATH, B01),
    ],
)
def test_the_simulator_answers_a_refused_message_with_a_fault(
    client: Client, path: str, message: bytes
) -> None:
    answer = client.post(path, content=_signed(message))
    assert answer.status_code == 500
    assert b"soap:Client" in answer.content and b"DEB-400" in answer.content
    assert_masked(answer.text)


def test_the_simulator_books_a_signed_amount_with_a_comment_whole(
    client: Client, simulator: DebitorSimulator
) -> None:
    # The comment leaves the holder's signature valid (exclusive c14n without comments) and the
    # schema reads 1234.50; the simulator booked 12 kroner.
    signed = _signed(B01).replace(b">1234.50</r:Beloeb><r:P", b">12<!---->34.50</r:Beloeb><r:P")
    answer = client.post(REGISTRERING_PATH, content=signed)
    assert answer.status_code == 200, answer.text
    claim = simulator.system.claim("29189846", "F-1")
    assert claim is not None and claim.original_ore == 123_450
