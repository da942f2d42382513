"""Fuzzing the KOMBIT security readers: SAML assertions (:func:`saml.read_assertion`), SF1514's
request and answer (:func:`sts.read_request`, :func:`sts.read_response`), WS-Security's
signature (:func:`wsse.verify_parts`, :func:`dsig.verify_detached`) and OIO IDWS requests
(:func:`idws.verify_request`, as TØK's callback service runs it).

Each raises only its documented exceptions (``TokenRefused`` and its kinds, ``StsFault``,
``SignatureRefused``, ``BadSignature``), with no CPR number in clear. And the security property:
a mutated signed document that still verifies says what the original said - a second body or
assertion, an id moved to another element, a comment inside a signed value, whitespace in a
signed part change nothing that is read, or are refused (signature wrapping) - and a token or
message outside its validity is refused.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import event, example, given
from hypothesis import strategies as st
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

from tests.fuzzkit import FUZZ, ODD_DATETIMES, PLANTED_CPR, refuses_only, xml_mutations
from tests.pki import VALID_FROM, identity
from toekgw.formats.debitor.daekning import (
    BadRequest,
    DaekningBesked,
    Registrering,
    build_request,
    read_request,
)
from toekgw.formats.kombit import dsig, idws, saml, sts, wsse
from toekgw.formats.xmlcheck import safe_parser

# The test certificates are valid from VALID_FROM to 30 days after they were made.
NOW = VALID_FROM + dt.timedelta(days=1, hours=10)
ISSUER = "https://sts.test"
AUDIENCE = "http://entityid.test/service"
CVR = "29189846"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
_S = f"{{{saml.SAML}}}"


def _assertion(**changes: Any) -> bytes:
    values: dict[str, Any] = {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "cvr": CVR,
        "holder": identity("debtor-system").certificate,
        "not_before": NOW - dt.timedelta(minutes=1),
        "not_on_or_after": NOW + dt.timedelta(hours=8),
        "key": identity("sts").key,
        "certificate": identity("sts").certificate,
    }
    return saml.build_assertion(**{**values, **changes})


ASSERTION = _assertion()
# The debtor system's call to TØK's callback (OIO IDWS: a SOAP 1.1 envelope with the token and
# the holder's signature over the timestamp, the body and the token).
MESSAGE = DaekningBesked(
    "0f6a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b",
    CVR,
    (Registrering("1f6a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b", f"F-{PLANTED_CPR}", "DAEKNING",
                  12_345, dt.date(2026, 12, 1)),),
)  # fmt: skip
IDWS = build_request(
    MESSAGE, ASSERTION, identity("debtor-system").key, identity("debtor-system").certificate,
    created=NOW,
)  # fmt: skip
STS_REQUEST = sts.build_request(
    sts_url="https://sts.test/service",
    applies_to=AUDIENCE,
    cvr=CVR,
    key=identity("toek-gateway").key,
    certificate=identity("toek-gateway").certificate,
    now=NOW,
)
STS_RESPONSE = sts.build_response(
    ASSERTION, relates_to="urn:uuid:1", created=NOW, expires=NOW + dt.timedelta(hours=8)
)


def _tree(data: bytes) -> etree._Element | None:
    """``data`` parsed as the services parse it; ``None`` where that refuses it (their fault)."""
    try:
        return etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError:
        return None


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


# -- signature wrapping ---------------------------------------------------------------------


def _with_id(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str) and _id_names(e)]


def _id_names(element: etree._Element) -> list[str]:
    return [str(k) for k in element.attrib if str(k).rpartition("}")[2] in ("Id", "ID", "id")]


def _altered(element: etree._Element, draw: Any) -> etree._Element:
    """A copy of ``element`` with one of its texts changed (the forger's version)."""
    forged = copy.deepcopy(element)
    texts = [e for e in forged.iter() if isinstance(e.tag, str) and (e.text or "").strip()]
    if texts:
        target = draw(st.sampled_from(texts))
        target.text = draw(st.sampled_from(["11111111", PLANTED_CPR, "https://evil.test", "1"]))
    else:
        forged.set("forged", "1")
    return forged


@st.composite
def wrapped(draw: Any, data: bytes) -> bytes:
    """The signature-wrapping shapes: an altered copy of a signed element (same id or none)
    placed before it, after it, inside it or in the header; an id moved to another element; a
    comment splitting a signed value; whitespace added inside a signed part."""
    root = etree.fromstring(data, safe_parser())
    signed = _with_id(root)
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    op = draw(st.sampled_from(["copy", "copy", "move-id", "comment", "space", "resignature"]))
    if op == "copy" and signed:
        original = draw(st.sampled_from(signed))
        forged = _altered(original, draw)
        if draw(st.booleans()):
            for name in _id_names(forged):
                del forged.attrib[name]
        where = draw(st.sampled_from(["before", "after", "inside", "first", "swap"]))
        parent = original.getparent()
        if where == "swap" and parent is not None:
            # The forged copy where the original was; the original kept elsewhere.
            parent.replace(original, forged)
            root[0].append(original)
        elif where == "inside":
            original.append(forged)
        elif where == "first" or parent is None:
            root[0].insert(0, forged)
        else:
            parent.insert(parent.index(original) + (where == "after"), forged)
    elif op == "move-id" and signed:
        source = draw(st.sampled_from(signed))
        target = draw(st.sampled_from(elements))
        name = draw(st.sampled_from(_id_names(source)))
        target.set(name, str(source.get(name)))
        if draw(st.booleans()):
            del source.attrib[name]
    elif op in ("comment", "space"):
        texts = [e for e in elements if (e.text or "").strip()]
        target = draw(st.sampled_from(texts))
        text = target.text or ""
        at = draw(st.integers(0, len(text)))
        if op == "comment":
            comment = etree.Comment("x")
            target.text = text[:at]
            target.insert(0, comment)
            comment.tail = text[at:]
        else:
            target.text = text[:at] + draw(st.sampled_from([" ", "\n", "\t", "\r\n  "])) + text[at:]
    else:  # a second ds:Signature (the first one's copy, altered) in front of the first
        signatures = [e for e in elements if e.tag == DS + "Signature"]
        if signatures:
            first = draw(st.sampled_from(signatures))
            parent = first.getparent()
            assert parent is not None
            parent.insert(parent.index(first), _altered(first, draw))
    return bytes(etree.tostring(root))


def signed_mutations(data: bytes) -> st.SearchStrategy[bytes]:
    return st.one_of(xml_mutations(data), wrapped(data), wrapped(data))


# -- SAML assertions ------------------------------------------------------------------------


def _read_assertion(assertion: etree._Element, now: dt.datetime = NOW) -> saml.AssertionInfo:
    return saml.read_assertion(
        assertion, trusted=[identity("sts").certificate], issuer=ISSUER, audience=AUDIENCE, now=now
    )


ASSERTION_INFO = _read_assertion(etree.fromstring(ASSERTION))
TIMES = st.sampled_from(
    [NOW, NOW - dt.timedelta(minutes=2), NOW + dt.timedelta(hours=8), NOW + dt.timedelta(hours=7)]
)


@FUZZ
@given(signed_mutations(ASSERTION), TIMES)
def test_a_mutated_assertion_is_refused_or_says_what_was_signed(
    data: bytes, now: dt.datetime
) -> None:
    root = _tree(data)
    if root is None:
        return
    info, error = refuses_only(lambda: _read_assertion(root, now), saml.TokenRefused)
    event(type(error).__name__ if error else "accepted")
    if info is not None:
        assert info == ASSERTION_INFO
        assert info.not_before <= now < info.not_on_or_after


@pytest.mark.parametrize(
    ("now", "valid"),
    [
        (NOW - dt.timedelta(minutes=1, seconds=1), False),
        (NOW - dt.timedelta(minutes=1), True),
        (NOW + dt.timedelta(hours=8) - dt.timedelta(seconds=1), True),
        (NOW + dt.timedelta(hours=8), False),
    ],
)
def test_an_assertion_is_refused_outside_its_validity(now: dt.datetime, valid: bool) -> None:
    assertion = etree.fromstring(ASSERTION)
    if valid:
        assert _read_assertion(assertion, now) == ASSERTION_INFO
    else:
        with pytest.raises(saml.TokenExpired):
            _read_assertion(assertion, now)


def _resigned(change: Any) -> etree._Element:
    """The assertion changed by ``change`` and signed again by the trusted STS (an issuer
    that means what it wrote: only the reader's own checks are left)."""
    root = etree.fromstring(ASSERTION)
    signature = root.find(DS + "Signature")
    assert signature is not None
    placeholder = etree.Element(DS + "Signature", nsmap={"ds": DS[1:-1]})
    placeholder.set("Id", "placeholder")
    root.replace(signature, placeholder)
    change(root)
    signer = XMLSigner(
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    pem = identity("sts").certificate.public_bytes(serialization.Encoding.PEM).decode()
    signed = signer.sign(root, key=identity("sts").key, cert=pem, reference_uri=root.get("ID"))
    return etree.fromstring(etree.tostring(signed))


def _condition(name: str, value: str) -> Any:
    def change(root: etree._Element) -> None:
        conditions = root.find(_S + "Conditions")
        assert conditions is not None
        conditions.set(name, value)

    return change


@pytest.mark.parametrize("name", ["NotBefore", "NotOnOrAfter"])
@pytest.mark.parametrize("value", [*ODD_DATETIMES, "", PLANTED_CPR])
def test_a_signed_validity_time_python_cannot_hold_is_token_refused(name: str, value: str) -> None:
    # "0001-01-01T00:00:00+14:00" was OverflowError out of read_assertion ("date value out of
    # range", converting it to UTC): the callback service's Server fault and a traceback.
    assertion = _resigned(_condition(name, value))
    info, _ = refuses_only(lambda: _read_assertion(assertion), saml.TokenRefused)
    assert info is None or (info.not_before <= NOW < info.not_on_or_after)


def test_the_end_of_a_day_is_the_next_days_midnight() -> None:
    assertion = _resigned(_condition("NotOnOrAfter", f"{NOW.date()}T24:00:00Z"))
    info = _read_assertion(assertion)
    assert info.not_on_or_after == dt.datetime.combine(
        NOW.date() + dt.timedelta(days=1), dt.time(), dt.UTC
    )


# -- OIO IDWS: the callback service's request -----------------------------------------------


def _read_token(assertion: etree._Element) -> saml.AssertionInfo:
    return _read_assertion(assertion)


def _verify_idws(data: bytes, now: dt.datetime = NOW) -> tuple[DaekningBesked, Any]:
    """What the callback service does with a request (adapters/debitor/callback.py)."""
    envelope, message = read_request(data)
    return message, idws.verify_request(envelope, now=now, read_token=_read_token)


IDWS_TIMES = st.sampled_from(
    [NOW, NOW + dt.timedelta(minutes=4), NOW + dt.timedelta(minutes=5), NOW + dt.timedelta(hours=9)]
)


@FUZZ
@given(signed_mutations(IDWS), IDWS_TIMES)
@example(IDWS, NOW + dt.timedelta(minutes=5))  # the timestamp's Expires: refused
def test_a_mutated_idws_request_is_refused_or_reads_what_was_signed(
    data: bytes, now: dt.datetime
) -> None:
    result, error = refuses_only(
        lambda: _verify_idws(data, now), BadRequest, saml.TokenRefused, wsse.SignatureRefused
    )
    event(type(error).__name__ if error else "accepted")
    if result is not None:
        message, info = result
        assert message == MESSAGE and info == ASSERTION_INFO
        assert now < NOW + dt.timedelta(minutes=5)


def test_a_signature_value_not_in_ascii_is_signature_refused() -> None:
    # Was ValueError ("string argument should contain only ASCII characters") out of
    # dsig._base64, past wsse's and the callback service's handlers: a Server fault.
    root = etree.fromstring(IDWS)
    value = root.find(f".//{{{wsse.NS['wsse']}}}Security/{DS}Signature/{DS}SignatureValue")
    assert value is not None
    value.text = "æøå" + (value.text or "")
    with pytest.raises(wsse.SignatureRefused, match="SignatureValue is not base64"):
        idws.verify_request(root, now=NOW, read_token=_read_token)


# -- WS-Security and XML-DSig directly -----------------------------------------------------


def _signature(root: etree._Element) -> etree._Element | None:
    return root.find(f"./*/{{{wsse.NS['wsse']}}}Security/{DS}Signature")


def _key(part: etree._Element) -> str:
    return "".join(str(part.get(name)) for name in _id_names(part))


HOLDER = identity("debtor-system").certificate


@FUZZ
@given(st.sampled_from([IDWS, STS_REQUEST]).flatmap(
    lambda seed: st.tuples(st.just(seed), signed_mutations(seed))
))  # fmt: skip
def test_a_mutated_detached_signature_is_refused_or_covers_the_signed_parts(
    seed_and_data: tuple[bytes, bytes],
) -> None:
    seed, data = seed_and_data
    root = _tree(data)
    signature = None if root is None else _signature(root)
    if root is None or signature is None:
        return
    certificate = HOLDER if seed is IDWS else identity("toek-gateway").certificate
    parts, error = refuses_only(
        lambda: dsig.verify_detached(signature, certificate, now=NOW), dsig.BadSignature
    )
    event(str(error).split(":")[0][:40] if error else "accepted")
    for part in parts or ():
        assert _c14n(part) == _SEED_PARTS[seed][_key(part)]
    refuses_only(lambda: wsse.verify_parts(root, [], now=NOW), wsse.SignatureRefused)


def _seed_parts(seed: bytes, certificate: Any) -> dict[str, bytes]:
    root = etree.fromstring(seed)
    signature = _signature(root)
    assert signature is not None
    return {_key(p): _c14n(p) for p in dsig.verify_detached(signature, certificate, now=NOW)}


_SEED_PARTS = {
    IDWS: _seed_parts(IDWS, HOLDER),
    STS_REQUEST: _seed_parts(STS_REQUEST, identity("toek-gateway").certificate),
}


# -- SF1514 ---------------------------------------------------------------------------------

STS_ASKED = sts.read_request(etree.fromstring(STS_REQUEST), now=NOW)


@FUZZ
@given(signed_mutations(STS_REQUEST), IDWS_TIMES)
def test_a_mutated_token_request_is_a_fault_or_asks_what_was_signed(
    data: bytes, now: dt.datetime
) -> None:
    root = _tree(data)
    if root is None:
        return
    asked, error = refuses_only(lambda: sts.read_request(root, now=now), sts.StsFault)
    event(error.code if isinstance(error, sts.StsFault) else "accepted")
    if asked is not None:
        assert (asked.applies_to, asked.cvr, asked.certificate) == (
            STS_ASKED.applies_to, STS_ASKED.cvr, STS_ASKED.certificate
        )  # fmt: skip
        assert (asked.created, asked.expires) == (STS_ASKED.created, STS_ASKED.expires)
        assert now < asked.expires


@FUZZ
@given(xml_mutations(STS_RESPONSE) | xml_mutations(sts.build_fault("FailedAuthentication", "x")))
def test_a_damaged_sts_answer_is_refused(data: bytes) -> None:
    root = _tree(data)
    if root is not None:
        refuses_only(lambda: sts.read_response(root), saml.TokenRefused)


def test_a_comment_in_a_signed_value_of_a_token_request_is_read_whole() -> None:
    # The signature holds (exclusive c14n without comments); sts.read_request read the address
    # before the comment: a token asked for "h".
    data = STS_REQUEST.replace(f">{AUDIENCE}<".encode(), f">h<!---->{AUDIENCE[1:]}<".encode())
    root = etree.fromstring(data, safe_parser())
    assert sts.read_request(root, now=NOW).applies_to == AUDIENCE


def test_a_comment_in_the_timestamps_expiry_is_read_whole() -> None:
    # idws.verify_request read Expires before the comment: "2020-01-02T10:0", not a time.
    root = etree.fromstring(IDWS, safe_parser())
    expires = root.find(f".//{{{wsse.NS['wsu']}}}Expires")
    assert expires is not None and expires.text
    comment = etree.Comment("x")
    comment.tail, expires.text = expires.text[15:], expires.text[:15]
    expires.insert(0, comment)
    assert idws.verify_request(root, now=NOW, read_token=_read_token) == ASSERTION_INFO


# -- one level up: TØK's callback service and the STS client ---------------------------------


def _with_signed_info_removed(data: bytes) -> bytes:
    root = etree.fromstring(data)
    signed_info = root.find(f".//{_S}Assertion/{DS}Signature/{DS}SignedInfo")
    assert signed_info is not None
    signed_info.getparent().remove(signed_info)  # type: ignore[union-attr]
    return bytes(etree.tostring(root))


def _with_token(assertion: etree._Element) -> bytes:
    holder = identity("debtor-system")
    token = etree.tostring(assertion)
    return build_request(MESSAGE, token, holder.key, holder.certificate, created=NOW)


_VALUE = b"<ds:SignatureValue>"
_FIRST, _LAST = IDWS.index(_VALUE) + len(_VALUE), IDWS.rindex(_VALUE) + len(_VALUE)
CALLBACK_REFUSALS = {
    "a token signature value not in ASCII": IDWS[:_FIRST] + "æ".encode() + IDWS[_FIRST:],
    "a message signature value not in ASCII": IDWS[:_LAST] + "æ".encode() + IDWS[_LAST:],
    "a token signature without SignedInfo": _with_signed_info_removed(IDWS),
    "a token valid to a time UTC cannot hold": _with_token(
        _resigned(_condition("NotOnOrAfter", "9999-12-31T23:59:59-14:00"))
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CALLBACK_REFUSALS))
def test_the_callback_service_answers_a_client_fault(tmp_path: Any, name: str) -> None:
    # Each was an exception past the service's handlers (ValueError, lxml's DocumentInvalid,
    # OverflowError): a soap:Server "internal error" and a traceback in the log.
    from tests.test_fuzz_sf1590b import Client
    from toekgw.adapters.debitor.callback import CALLBACK_PATH, CallbackService, CallbackSettings

    settings = CallbackSettings([identity("sts").certificate], ISSUER, AUDIENCE)
    app = CallbackService(tmp_path / "journal.sqlite", settings, clock=lambda: NOW)
    try:
        answer = Client(app).post(CALLBACK_PATH, content=CALLBACK_REFUSALS[name])
    finally:
        app.close()
    assert answer.status_code == 500
    assert b"soap:Client" in answer.content and b"internal error" not in answer.content


class _Answering:
    """A requests session whose every POST answers ``content`` with HTTP 200."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def post(self, url: str, **kwargs: Any) -> Any:
        import io
        import types

        raw = types.SimpleNamespace(read=lambda n, decode_content: io.BytesIO(self.content).read(n))
        return types.SimpleNamespace(raw=raw, status_code=200)


@FUZZ
@given(xml_mutations(STS_RESPONSE))
@example(
    STS_RESPONSE.replace(f">{NOW:%Y-%m-%dT%H:%M:%S}Z<".encode(), b">0001-01-01T00:00:00+14:00<")
)
def test_the_token_client_turns_an_unusable_sts_answer_into_a_token_error(data: bytes) -> None:
    # The example was OverflowError out of `toekgw token get` (a traceback, not one line).
    from toekgw.adapters.kombit import Credentials
    from toekgw.adapters.kombit.settings import KombitSettings
    from toekgw.adapters.kombit.tokens import TokenClient, TokenError

    me = identity("toek-gateway")
    client = TokenClient(
        KombitSettings(sts_url="https://sts.test/service"),
        Credentials(me.certificate, me.key),
        clock=lambda: NOW,
        session=_Answering(data),  # type: ignore[arg-type]
    )
    refuses_only(lambda: client.saml_token(AUDIENCE, CVR), TokenError)
