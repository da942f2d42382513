"""SF1590_B's message signature (OIO IDWS): the gateway signs B_01/B_03 as its token's
holder, the debtor simulator verifies it and refuses a missing, forged or altered one with a
SOAP fault, which the gateway turns into a finding; the signature codec's own checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from tests.debitor_rig import CVR, Rig, claim, debtor_rig
from tests.idws_tokens import signed_soap11, sts_assertion
from tests.pki import identity
from toekgw.adapters.debitor.claims import fordring_id
from toekgw.formats.debitor.registrering import NS
from toekgw.formats.kombit import idws, saml, wsse
from toekgw.gateway.journal import open_journal

DS = "{http://www.w3.org/2000/09/xmldsig#}"
NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def rig(tmp_path: Path):  # type: ignore[no-untyped-def]
    with debtor_rig(tmp_path) as made:
        yield made


class Tampering(requests.Session):
    """Changes each request body on its way out (after the client signed it) and keeps it."""

    def __init__(self, change: Callable[[etree._Element], None]) -> None:
        super().__init__()
        self.change = change
        self.sent: list[bytes] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        envelope = etree.fromstring(request.body if isinstance(request.body, bytes) else b"")
        self.change(envelope)
        body = bytes(etree.tostring(envelope))
        request.body = body
        request.headers["Content-Length"] = str(len(body))
        self.sent.append(body)
        return super().send(request, **kwargs)


def _unsign(envelope: etree._Element) -> None:
    signature = envelope.find(f".//{{{wsse.NS['wsse']}}}Security/{DS}Signature")
    assert signature is not None and signature.getparent() is not None
    signature.getparent().remove(signature)  # type: ignore[union-attr]


def _alter_amount(envelope: etree._Element) -> None:
    amount = envelope.find(f".//{{{NS}}}Beloeb")
    assert amount is not None
    amount.text = "1.00"


def _alter_framework(envelope: etree._Element) -> None:
    framework = envelope.find(".//{urn:liberty:sb:2006-08}Framework")
    assert framework is not None
    framework.set("profile", "urn:liberty:sb:profile:other")


def test_a_signed_call_covers_the_body_timestamp_token_and_headers(rig: Rig) -> None:
    rig.send_tok(claim("C-S1"))
    session = Tampering(lambda _: None)
    journal = open_journal(rig.journal_path)
    try:
        assert rig.sender(journal, session=session).run().sent == 1
    finally:
        journal.close()
    assert rig.system.applied == 1
    envelope = etree.fromstring(session.sent[0])
    holder = idws.verify_request(
        envelope, now=dt.datetime.now(dt.UTC), read_token=saml.holder_certificate
    )
    assert holder == identity("toek-gateway").certificate
    signed = {
        etree.QName(element).localname
        for reference in envelope.iterfind(f".//{DS}SignedInfo/{DS}Reference")
        for element in envelope.iter()
        if element.get(wsse.WSU_ID, element.get("ID")) == reference.get("URI", "")[1:]
    }
    assert signed == {
        "Timestamp", "Body", "Assertion", "Framework", "Action", "MessageID", "To", "ReplyTo"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("signer", "change", "why"),
    [
        ("toek-gateway", _unsign, "not signed"),
        ("toek-gateway", _alter_amount, "does not verify"),
        ("toek-gateway", _alter_framework, "does not verify"),
        ("forger", lambda _: None, "does not verify"),  # signed, but not by the token's holder
    ],
    ids=["unsigned", "altered body", "altered header", "another key"],
)
def test_the_simulator_refuses_a_bad_signature_and_the_gateway_records_a_finding(
    rig: Rig, signer: str, change: Callable[[etree._Element], None], why: str
) -> None:
    rig.send_tok(claim("C-S2"))
    journal = open_journal(rig.journal_path)
    try:
        result = rig.sender(journal, session=Tampering(change), signer=signer).run()
        assert (result.sent, result.rejected) == (0, 1)
        (error,) = journal.errors()
        assert error.findings[0].code == "debitor.fault.FailedCheck"
        assert why in error.findings[0].message
        (call,) = journal.transmissions(counterpart="debitor", kind="debitor-afsend")
        assert call.state == "rejected"
    finally:
        journal.close()
    assert rig.system.applied == 0 and rig.system.claim(CVR, fordring_id("KP", "C-S2")) is None


def _signed(created: dt.datetime = NOW) -> etree._Element:
    besked = etree.Element("{urn:test}Besked")
    besked.text = "1"
    assertion = sts_assertion("toek-gateway", NOW, cvr=CVR)
    return signed_soap11(besked, assertion, "toek-gateway", created=created)


def _trusting(assertion: etree._Element) -> saml.AssertionInfo:
    return saml.read_assertion(
        assertion,
        trusted=[identity("sts").certificate],
        issuer="https://sts.test",
        audience="http://entityid.test/service",
        now=NOW,
    )


def test_verify_request_accepts_a_holder_signed_request_and_reads_its_token() -> None:
    assert idws.verify_request(_signed(), now=NOW, read_token=_trusting).cvr == CVR


def test_verify_request_refuses_each_fault_with_its_own_exception() -> None:
    expired = _signed(NOW - dt.timedelta(minutes=6))
    with pytest.raises(idws.MessageExpired):
        idws.verify_request(expired, now=NOW, read_token=_trusting)
    ahead = _signed(NOW + idws.CLOCK_SKEW + dt.timedelta(seconds=1))  # dated in the future
    with pytest.raises(idws.MessageExpired, match="ahead of this clock"):
        idws.verify_request(ahead, now=NOW, read_token=_trusting)
    skewed = _signed(NOW + idws.CLOCK_SKEW)  # a sender's clock that far ahead is still taken
    assert idws.verify_request(skewed, now=NOW, read_token=_trusting).cvr == CVR
    bare = _signed()
    security = bare.find(f".//{{{wsse.NS['wsse']}}}Security")
    assert security is not None
    security.remove(security[1])  # the assertion
    with pytest.raises(idws.NoSecurity):
        idws.verify_request(bare, now=NOW, read_token=_trusting)
    wrapped = _signed()
    body = wrapped.find(f"{{{wsse.NS['soap11']}}}Body")
    assert body is not None
    body[0].text = "2"
    with pytest.raises(wsse.SignatureRefused, match="does not verify"):
        idws.verify_request(wrapped, now=NOW, read_token=_trusting)
    untrusted = _signed()
    with pytest.raises(saml.TokenRefused, match="trusted issuer"):
        idws.verify_request(
            untrusted,
            now=NOW,
            read_token=lambda a: saml.read_assertion(
                a, trusted=[identity("forger").certificate], issuer="https://sts.test",
                audience="http://entityid.test/service", now=NOW,
            ),
        )  # fmt: skip
