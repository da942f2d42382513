"""TØK's SF1590_B callback service over HTTPS (uvicorn): journaled before OK, once; hostile
requests get a SOAP fault and change nothing; a SIGKILL between journal and answer."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner, Result
from lxml import etree

from tests.configs import write_config
from tests.pki import identity
from toekgw.adapters.debitor.callback import (
    CALLBACK_PATH,
    CallbackService,
    CallbackSettings,
    claim_key,
)
from toekgw.cli.main import cli
from toekgw.formats.debitor.daekning import DaekningBesked, Registrering, build_request
from toekgw.formats.kombit import saml
from toekgw.gateway.httpserver import AsgiServer, TlsFiles
from toekgw.gateway.journal import open_journal

ISSUER = "https://sts.test"
AUDIENCE = "http://entityid.kombit.dk/service/daekningafskrivningregistreringafsend/1"
CVR = "29189846"


def token(
    *, audience: str = AUDIENCE, signer: str = "sts", cvr: str = CVR, hours: float = 8
) -> bytes:
    now = dt.datetime.now(dt.UTC)
    return saml.build_assertion(
        issuer=ISSUER,
        audience=audience,
        cvr=cvr,
        holder=identity("debtor-system").certificate,
        not_before=now - dt.timedelta(minutes=1),
        not_on_or_after=now + dt.timedelta(hours=hours),
        key=identity(signer).key,
        certificate=identity(signer).certificate,
    )


def request(
    besked: DaekningBesked, assertion: bytes, *, signer: str = "debtor-system", minutes: float = 0
) -> bytes:
    """The debtor system's call, signed by ``signer`` (the token's holder is "debtor-system")
    ``minutes`` ago."""
    created = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
    holder = identity("debtor-system").certificate
    return build_request(besked, assertion, identity(signer).key, holder, created=created)


def unsigned(body: bytes) -> bytes:
    envelope = etree.fromstring(body)
    security = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}"
    signature = envelope.find(
        f".//{security}Security/{{http://www.w3.org/2000/09/xmldsig#}}Signature"
    )
    assert signature is not None
    parent = signature.getparent()
    assert parent is not None
    parent.remove(signature)
    return bytes(etree.tostring(envelope))


def message(
    *amounts: int, besked_id: str | None = None, registration_ids: list[str] | None = None
) -> DaekningBesked:
    ids = registration_ids or [str(uuid.uuid4()) for _ in amounts]
    return DaekningBesked(
        besked_id=besked_id or str(uuid.uuid4()),
        cvr=CVR,
        registreringer=tuple(
            Registrering(rid, "F-1", "DAEKNING", amount, dt.date(2026, 12, 3))
            for rid, amount in zip(ids, amounts, strict=True)
        ),
    )


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    cert, key = identity("localhost-callback").write_pem(tmp_path / "tls", "server")
    return TlsFiles(cert, key)


@pytest.fixture
def service(tmp_path: Path, tls: TlsFiles) -> Iterator[tuple[str, Path]]:
    settings = CallbackSettings(
        trusted=[identity("sts").certificate], issuer=ISSUER, audience=AUDIENCE, max_body=256 * 1024
    )
    journal = tmp_path / "journal.sqlite"
    app = CallbackService(journal, settings)
    with AsgiServer(app, tls=tls) as server:
        yield server.url.replace("127.0.0.1", "localhost") + CALLBACK_PATH, journal
    app.close()


def post(url: str, body: bytes, tls_cert: Path) -> requests.Response:
    return requests.post(
        url,
        data=body,
        timeout=20,
        verify=str(tls_cert),
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )


def items(journal_path: Path) -> list[int]:
    journal = open_journal(journal_path)
    try:
        return [i.amount_ore for i in journal.items_by_lookup("debitor", claim_key(CVR, "F-1"))]
    finally:
        journal.close()


def test_a_covering_is_journaled_then_answered_and_once_only(
    service: tuple[str, Path], tls: TlsFiles
) -> None:
    url, journal = service
    first = message(12_345, 100)
    body = request(first, token())
    answer = post(url, body, tls.certificate)
    assert answer.status_code == 200 and b"<d:StatusKode>20</d:StatusKode>" in answer.content
    assert sorted(items(journal)) == [100, 12_345]
    again = post(url, body, tls.certificate)  # re-delivered: OK again, no second effect
    assert again.status_code == 200 and sorted(items(journal)) == [100, 12_345]
    ids = [r.registrering_id for r in first.registreringer]
    overlap = message(12_345, 100, 7, registration_ids=[*ids, str(uuid.uuid4())])
    assert post(url, request(overlap, token()), tls.certificate).status_code == 200
    assert sorted(items(journal)) == [7, 100, 12_345]


def test_a_comment_inside_a_signed_amount_does_not_cut_it(
    service: tuple[str, Path], tls: TlsFiles
) -> None:
    # A comment changes neither the schema's reading nor the signature's canonical form (no
    # comments): the request stays signed. Read by .text or findtext, the amount would be
    # the part before the comment: 12 kroner journaled for a signed 123.45.
    url, journal = service
    body = request(message(12_345), token())
    commented = body.replace(b"<d:Beloeb>123.45<", b"<d:Beloeb>12<!-- a tool's note -->3.45<")
    assert commented != body
    answer = post(url, commented, tls.certificate)
    assert answer.status_code == 200, answer.text
    assert items(journal) == [12_345]


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&x;</soap:Body></soap:Envelope>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>"""


def _hostile() -> dict[str, bytes]:
    good = message(500)
    no_token = request(good, token()).replace(b"saml:Assertion", b"saml:Other")
    negative = request(good, token()).replace(b"<d:Beloeb>5.00<", b"<d:Beloeb>-5.00<")
    return {
        "xxe": XXE,
        "billion laughs": LAUGHS,
        "huge body": b"<a>" + b"x" * (300 * 1024) + b"</a>",
        "not xml": b"\x00\xff garbage",
        "missing token": no_token,
        "forged token": request(good, token(signer="forger")),
        "wrong audience": request(good, token(audience="http://other/service")),
        "expired token": request(good, token(hours=-1)),
        "token for another CVR": request(good, token(cvr="11111111")),
        "unsigned message": unsigned(request(good, token())),
        "message signed by another key": request(good, token(), signer="forger"),
        "message altered after signing": request(good, token()).replace(
            b"<d:Beloeb>5.00<", b"<d:Beloeb>6.00<"
        ),
        "expired message timestamp": request(good, token(), minutes=10),
        "invalid against the schema": negative,
    }


def test_hostile_requests_get_a_fault_and_change_nothing(
    service: tuple[str, Path], tls: TlsFiles
) -> None:
    url, journal = service
    for name, body in _hostile().items():
        answer = post(url, body, tls.certificate)
        assert answer.status_code in (413, 500), name
        assert b"<soap:Fault>" in answer.content and b"faultstring" in answer.content, name
        assert b"Traceback" not in answer.content and b"StatusKode" not in answer.content, name
    opened = open_journal(journal)
    try:
        assert opened.transmissions(counterpart="debitor") == []
    finally:
        opened.close()


def test_the_message_signature_is_checked_after_the_token(
    service: tuple[str, Path], tls: TlsFiles
) -> None:
    url, _ = service
    good = message(500)
    refused = {
        "is not signed": unsigned(request(good, token())),
        "does not verify": request(good, token(), signer="forger"),
        "expired at": request(good, token(), minutes=10),
    }
    for why, body in refused.items():
        assert why.encode() in post(url, body, tls.certificate).content, why
    assert post(url, request(good, token()), tls.certificate).status_code == 200


def _serve(config: Path, port: int, crash_at: str | None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "TOEKGW_CRASH_AT"}
    if crash_at:
        env["TOEKGW_CRASH_AT"] = crash_at
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "toekgw",
            "serve",
            "debitor",
            "--config",
            str(config),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("the callback server did not start")


def test_sigkill_between_journal_and_answer_applies_each_covering_once(
    tmp_path: Path, tls: TlsFiles
) -> None:
    from tests.servers import free_port

    sts_cert, _ = identity("sts").write_pem(tmp_path / "sts", "sts")
    config = write_config(
        tmp_path,
        f"""[debitor.callback]
certificate = "{tls.certificate}"
key = "{tls.key}"
trusted_sts = ["{sts_cert}"]
issuer = "{ISSUER}"
audience = "{AUDIENCE}"
""",
    )
    port = free_port()
    url = f"https://localhost:{port}{CALLBACK_PATH}"
    body = request(message(4_200, 800), token())
    killed = _serve(config, port, "oir.callback.after_commit")
    _wait_listening(port, killed)
    with pytest.raises(requests.ConnectionError):
        post(url, body, tls.certificate)
    assert killed.wait(timeout=60) == -signal.SIGKILL
    assert sorted(items(tmp_path / "journal.sqlite")) == [800, 4_200]  # journaled, not answered

    server = _serve(config, port, None)
    try:
        _wait_listening(port, server)
        answer = post(url, body, tls.certificate)  # the debtor system delivers again
        assert answer.status_code == 200 and b"StatusKode>20<" in answer.content
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            _out, err = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            raise AssertionError(server.communicate()) from None
    # SIGTERM is how a service is stopped: the requests in hand finish, and it exits 0.
    assert server.returncode == 0, err
    assert b"terminated" not in err and b"Traceback" not in err, err
    assert sorted(items(tmp_path / "journal.sqlite")) == [800, 4_200]


def test_many_concurrent_messages_are_each_journaled_once(
    service: tuple[str, Path], tls: TlsFiles
) -> None:
    """Group commit: concurrent messages share commits, each still answered after its own."""
    from concurrent.futures import ThreadPoolExecutor

    url, journal = service
    bodies = [request(message(100 + n), token()) for n in range(40)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda body: post(url, body, tls.certificate), bodies * 2))
    assert all(a.status_code == 200 and b"StatusKode>20<" in a.content for a in answers)
    assert sorted(items(journal)) == [100 + n for n in range(40)]


def test_a_remembered_token_is_still_refused_once_it_expires(tmp_path: Path, tls: TlsFiles) -> None:
    now = [dt.datetime.now(dt.UTC)]
    settings = CallbackSettings(
        trusted=[identity("sts").certificate], issuer=ISSUER, audience=AUDIENCE
    )
    app = CallbackService(tmp_path / "journal.sqlite", settings, clock=lambda: now[0])
    one_hour = token(hours=1)
    with AsgiServer(app, tls=tls) as server:
        url = server.url.replace("127.0.0.1", "localhost") + CALLBACK_PATH
        assert post(url, request(message(1), one_hour), tls.certificate).status_code == 200
        now[0] += dt.timedelta(hours=2)
        late = post(url, request(message(2), one_hour, minutes=-120), tls.certificate)
        assert late.status_code == 500 and b"valid" in late.content
    app.close()
    assert items(tmp_path / "journal.sqlite") == [1]


def test_a_tampered_copy_of_a_remembered_token_is_not_taken_from_the_cache(
    service: tuple[str, Path], tls: TlsFiles
) -> None:
    """The holder lengthens its cached token's life and signs the message itself: only the
    token's own signature can tell, and the cache must not vouch for the copy."""
    url, journal = service
    good = token(hours=1)
    assert post(url, request(message(1), good), tls.certificate).status_code == 200
    conditions = etree.fromstring(good).find(f"{{{saml.SAML}}}Conditions")
    assert conditions is not None
    until = conditions.get("NotOnOrAfter", "")
    longer = good.replace(
        f'NotOnOrAfter="{until}"'.encode(), b'NotOnOrAfter="2099-01-01T00:00:00Z"'
    )
    assert longer != good
    refused = post(url, request(message(2), longer), tls.certificate)
    assert refused.status_code == 500 and b"not by a trusted issuer" in refused.content
    assert post(url, request(message(3), good), tls.certificate).status_code == 200
    assert sorted(items(journal)) == [1, 3]


def _callback_config(tmp_path: Path, tls: TlsFiles, certificate: Path) -> Path:
    sts_cert, _ = identity("sts").write_pem(tmp_path / "sts", "sts")
    return write_config(
        tmp_path,
        f"""[debitor.callback]
certificate = "{certificate}"
key = "{tls.key}"
trusted_sts = ["{sts_cert}"]
""",
    )


def _serve_in_process(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["serve", "debitor", "--config", str(config), *args])


def test_a_missing_certificate_is_named_with_its_key(tmp_path: Path, tls: TlsFiles) -> None:
    missing = tmp_path / "tls" / "missing.crt"
    config = _callback_config(tmp_path, tls, missing)
    result = _serve_in_process(config)
    assert result.exit_code == 2 and "internal error" not in result.stderr, result.output
    assert result.stderr.strip() == (
        f"toekgw: error: {config.resolve()}: [debitor.callback] certificate: cannot read "
        f"{missing}: No such file or directory"
    )


def test_a_port_out_of_range_or_in_use_is_one_line(tmp_path: Path, tls: TlsFiles) -> None:
    config = _callback_config(tmp_path, tls, tls.certificate)
    for port in ("70000", "-5", "0"):
        result = _serve_in_process(config, "--port", port)
        assert result.exit_code == 2 and "internal error" not in result.stderr, result.output
        assert f"Invalid value for '--port': {port} is not in the range 1<=x<=65535" in (
            result.stderr
        )
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        result = _serve_in_process(config, "--port", str(busy))
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        f"toekgw: error: cannot listen on 127.0.0.1:{busy}: port {busy} is in use "
        "(by another server, or another instance of this one)"
    )
