"""SF1514 request and answer, and SAML assertions: signed, read, and refused when wrong."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree

from tests.pki import identity
from toekgw.formats.kombit import saml, sts
from toekgw.formats.xmlcheck import safe_parser

NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
ENTITY = "http://entityid.kombit.dk/service/debitorregistreringafsend/1"
STS_URL = "https://sts.example/runtime/services/kombittrust/14/certificatemixed"


def _request(now: dt.datetime = NOW) -> etree._Element:
    me = identity("toek-gateway")
    data = sts.build_request(
        sts_url=STS_URL,
        applies_to=ENTITY,
        cvr="29189846",
        key=me.key,
        certificate=me.certificate,
        now=now,
    )
    return etree.fromstring(data, safe_parser())


def test_a_signed_request_reads_back() -> None:
    request = sts.read_request(_request(), now=NOW + dt.timedelta(seconds=5))
    assert (request.applies_to, request.cvr) == (ENTITY, "29189846")
    assert request.certificate == identity("toek-gateway").certificate


def test_the_request_has_the_public_shape() -> None:
    root = _request()
    ns = {
        "s": "http://www.w3.org/2003/05/soap-envelope",
        "t": sts.TRUST,
        "a": "http://www.w3.org/2005/08/addressing",
        "ds": "http://www.w3.org/2000/09/xmldsig#",
    }
    assert root.xpath("string(s:Header/a:Action)", namespaces=ns) == sts.ACTION_ISSUE
    rst = root.find("s:Body/t:RequestSecurityToken", ns)
    assert rst is not None
    assert rst.findtext("t:KeyType", namespaces=ns).endswith("/PublicKey")
    assert rst.findtext("t:TokenType", namespaces=ns).endswith("#SAMLV2.0")
    signed = root.xpath("//ds:SignedInfo/ds:Reference/@URI", namespaces=ns)
    assert len(signed) == 7  # timestamp, body, To, ReplyTo, MessageID, Action, the token
    methods = root.xpath("//ds:SignatureMethod/@Algorithm", namespaces=ns)
    assert methods == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]


def test_a_tampered_body_is_refused() -> None:
    root = _request()
    value = root.find(".//{http://docs.oasis-open.org/wsfed/authorization/200706}Value")
    assert value is not None
    value.text = "11111111"
    with pytest.raises(sts.StsFault) as caught:
        sts.read_request(root, now=NOW)
    assert caught.value.code == "FailedAuthentication"


def test_a_signature_by_another_key_is_refused() -> None:
    root = _request()
    other = identity("intruder").certificate
    token = root.find(f".//{{{sts.wsse.NS['wsse']}}}BinarySecurityToken")
    assert token is not None
    token.text = base64.b64encode(other.public_bytes(serialization.Encoding.DER)).decode()
    with pytest.raises(sts.StsFault, match="FailedAuthentication"):
        sts.read_request(root, now=NOW)


def test_the_message_id_the_answer_echoes_is_one_and_signed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The answer's RelatesTo echoes the request's MessageID: one put in front of the signed
    one was echoed instead, and a request whose only MessageID was not signed was taken."""
    header_ns = "{http://www.w3.org/2005/08/addressing}"
    root = _request()
    signed = root.find(f".//{header_ns}MessageID")
    assert signed is not None
    extra = etree.Element(f"{header_ns}MessageID")
    extra.text = "urn:uuid:00000000-0000-0000-0000-000000000000"
    signed.addprevious(extra)
    with pytest.raises(sts.StsFault) as caught:
        sts.read_request(root, now=NOW)
    assert caught.value.code == "InvalidRequest" and "2 MessageID headers" in str(caught.value)

    sign_parts = sts.wsse.sign_parts
    monkeypatch.setattr(
        sts.wsse,
        "sign_parts",
        lambda envelope, parts, *a, **k: sign_parts(
            envelope, [p for p in parts if p.tag != f"{header_ns}MessageID"], *a, **k
        ),
    )
    with pytest.raises(sts.StsFault) as caught:  # signed, but not its MessageID
        sts.read_request(_request(), now=NOW)
    assert caught.value.code == "FailedAuthentication"


def test_an_expired_request_is_refused() -> None:
    with pytest.raises(sts.StsFault) as caught:
        sts.read_request(_request(), now=NOW + dt.timedelta(minutes=6))
    assert caught.value.code == "MessageExpired"


def _assertion(audience: str = ENTITY, signer: str = "sts") -> etree._Element:
    data = saml.build_assertion(
        issuer="https://sts.example",
        audience=audience,
        cvr="29189846",
        holder=identity("toek-gateway").certificate,
        not_before=NOW,
        not_on_or_after=NOW + dt.timedelta(hours=8),
        key=identity(signer).key,
        certificate=identity(signer).certificate,
    )
    return etree.fromstring(data, safe_parser())


def _read(assertion: etree._Element, now: dt.datetime = NOW) -> saml.AssertionInfo:
    return saml.read_assertion(
        assertion,
        trusted=[identity("sts").certificate],
        issuer="https://sts.example",
        audience=ENTITY,
        now=now,
    )


def test_an_assertion_reads_back_and_answers_round_trip() -> None:
    info = _read(_assertion())
    assert (info.cvr, info.audience) == ("29189846", ENTITY)
    answer = sts.build_response(
        etree.tostring(_assertion()),
        relates_to="urn:uuid:1",
        created=NOW,
        expires=NOW + dt.timedelta(hours=8),
    )
    issued = sts.read_response(etree.fromstring(answer, safe_parser()))
    assert issued.expires == NOW + dt.timedelta(hours=8)
    assert _read(etree.fromstring(issued.assertion, safe_parser())).cvr == "29189846"


def test_assertion_refusals() -> None:
    with pytest.raises(saml.WrongAudience):
        _read(_assertion(audience="http://other"))
    with pytest.raises(saml.TokenExpired):
        _read(_assertion(), now=NOW + dt.timedelta(hours=8))
    with pytest.raises(saml.TokenRefused, match="trusted"):
        _read(_assertion(signer="forger"))
    forged = _assertion()  # signed by the trusted STS, then its CVR changed
    values = list(forged.iter(f"{{{saml.SAML}}}AttributeValue"))
    values[-1].text = "11111111"
    with pytest.raises(saml.TokenRefused, match="trusted"):
        _read(forged)


def test_a_fault_reads_as_the_sts_refusal() -> None:
    data = sts.build_fault("FailedAuthentication", "unknown CVR")
    with pytest.raises(sts.StsFault) as caught:
        sts.read_response(etree.fromstring(data, safe_parser()))
    assert (caught.value.code, caught.value.text) == ("FailedAuthentication", "unknown CVR")
