"""The SF1514/SF1516 token client against the STS simulator over real HTTP (uvicorn).

The clock is one shared, movable value: the simulator issues by it and the client caches by
it, so expiry is tested without waiting.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.configs import write_config
from tests.pki import identity
from toekgw.adapters.kombit.settings import Credentials, KombitSettings
from toekgw.adapters.kombit.tokens import TokenClient, TokenError, TokenRejected
from toekgw.cli.main import cli
from toekgw.gateway.httpserver import AsgiServer
from toekgw.simulators.sts import EXCHANGE_PATH, STS_PATH, StsSimulator

SERVICE = "http://entityid.kombit.dk/service/debitorindbetalingafsend/1"
CVR = "29189846"
START = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def simulator(clock: Clock) -> StsSimulator:
    sts_identity = identity("sts-simulator")
    return StsSimulator(
        identity_key=sts_identity.key,
        identity_certificate=sts_identity.certificate,
        trusted=[identity("toek-gateway").certificate],
        cvrs=frozenset({CVR}),
        clock=clock,
    )


@pytest.fixture
def server(simulator: StsSimulator) -> Iterator[AsgiServer]:
    with AsgiServer(simulator.app()) as running:
        yield running


def _client(server: AsgiServer, clock: Clock, who: str = "toek-gateway") -> TokenClient:
    settings = KombitSettings(
        sts_url=server.url + STS_PATH,
        exchange_url=server.url + EXCHANGE_PATH,
        timeout_seconds=10,
    )
    me = identity(who)
    return TokenClient(settings, Credentials(me.certificate, me.key), clock=clock)


def test_one_fetch_for_many_calls_and_again_after_expiry(
    server: AsgiServer, simulator: StsSimulator, clock: Clock
) -> None:
    client = _client(server, clock)
    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(lambda _: client.saml_token(SERVICE, CVR), range(40)))
    assert simulator.issued == 1 and client.fetches == 1
    assert {t.value for t in tokens} == {tokens[0].value}
    assert tokens[0].expires == START + dt.timedelta(hours=8)  # what the token says

    clock.now = START + dt.timedelta(hours=7, minutes=44)  # before expiry - 15 min margin
    assert client.saml_token(SERVICE, CVR).value == tokens[0].value
    assert simulator.issued == 1
    clock.now = START + dt.timedelta(hours=7, minutes=45)  # the margin reached
    renewed = client.saml_token(SERVICE, CVR)
    assert simulator.issued == 2 and renewed.value != tokens[0].value
    assert renewed.expires == clock.now + dt.timedelta(hours=8)


def test_tokens_are_per_service_and_cvr(
    server: AsgiServer, simulator: StsSimulator, clock: Clock
) -> None:
    simulator.cvrs = frozenset({CVR, "11111111"})
    client = _client(server, clock)
    client.saml_token(SERVICE, CVR)
    client.saml_token(SERVICE, "11111111")
    client.saml_token("http://entityid.kombit.dk/service/other/1", CVR)
    client.saml_token(SERVICE, CVR)
    assert simulator.issued == 3


def test_access_tokens_are_exchanged_once_and_renewed(
    server: AsgiServer, simulator: StsSimulator, clock: Clock
) -> None:
    client = _client(server, clock)
    first = client.access_token(SERVICE, CVR)
    assert client.access_token(SERVICE, CVR) == first
    assert (simulator.issued, simulator.exchanged) == (1, 1)
    assert first.expires == START + dt.timedelta(seconds=3600)
    clock.now = START + dt.timedelta(seconds=3540)  # expires_in - 60 s margin
    second = client.access_token(SERVICE, CVR)
    assert second.value != first.value
    assert (simulator.issued, simulator.exchanged) == (1, 2)  # the SAML token still lives


def test_the_sts_refuses_an_unregistered_certificate(
    server: AsgiServer, simulator: StsSimulator, clock: Clock
) -> None:
    with pytest.raises(TokenError, match=r"FailedAuthentication.*not registered"):
        _client(server, clock, who="stranger").saml_token(SERVICE, CVR)
    assert simulator.issued == 0 and simulator.refused == 1


def test_the_sts_refuses_an_unknown_cvr(server: AsgiServer, clock: Clock) -> None:
    with pytest.raises(TokenError, match="no service agreement for CVR 12345678"):
        _client(server, clock).saml_token(SERVICE, "12345678")


def test_the_sts_refuses_an_expired_request(
    server: AsgiServer, simulator: StsSimulator, clock: Clock
) -> None:
    client = _client(server, clock)
    client.clock = lambda: START - dt.timedelta(minutes=10)  # our clock behind the STS's
    with pytest.raises(TokenError, match="MessageExpired"):
        client.saml_token(SERVICE, CVR)
    assert simulator.issued == 0


def test_a_refused_token_is_fetched_again_once(
    server: AsgiServer, simulator: StsSimulator, clock: Clock
) -> None:
    client = _client(server, clock)
    seen: list[bytes] = []

    def refuse_first(token: bytes) -> str:
        seen.append(token)
        if len(seen) == 1:
            raise TokenRejected("token expired (41)")
        return "ok"

    assert client.call_with_token(SERVICE, CVR, refuse_first) == "ok"
    assert simulator.issued == 2 and seen[0] != seen[1]

    def refuse_always(token: bytes) -> str:
        raise TokenRejected("no access")

    with pytest.raises(TokenError, match="refused a fresh token"):
        client.call_with_token(SERVICE, CVR, refuse_always)
    assert simulator.issued == 3  # one renewal, not a loop


def test_an_unreachable_sts_is_an_environmental_error(clock: Clock) -> None:
    from toekgw.adapters.kombit.tokens import StsUnavailable
    from toekgw.gateway.errors import is_environmental

    settings = KombitSettings(sts_url="http://127.0.0.1:9/sts", timeout_seconds=2)
    me = identity("toek-gateway")
    client = TokenClient(settings, Credentials(me.certificate, me.key), clock=clock)
    with pytest.raises(StsUnavailable) as caught:
        client.saml_token(SERVICE, CVR)
    assert is_environmental(caught.value)


def test_concurrent_callers_share_one_fetch_even_when_slow(
    server: AsgiServer, simulator: StsSimulator, clock: Clock
) -> None:
    client = _client(server, clock)
    barrier = threading.Barrier(6)

    def ask(_: int) -> bytes:
        barrier.wait()
        return client.saml_token(SERVICE, CVR).value

    with ThreadPoolExecutor(6) as pool:
        assert len(set(pool.map(ask, range(6)))) == 1
    assert simulator.issued == 1


def _config(tmp_path: Path, server: AsgiServer) -> Path:
    cert, key = identity("toek-gateway").write_pem(tmp_path / "keys", "toek")
    config = write_config(
        tmp_path,
        f"""[kombit]
sts_url = "{server.url}{STS_PATH}"
exchange_url = "{server.url}{EXCHANGE_PATH}"
certificate = "keys/toek.crt"
key = "keys/toek.key"
""",
    )
    assert cert.exists() and key.exists()
    return config


def test_cli_token_get_prints_the_expiry_not_the_token(
    tmp_path: Path, server: AsgiServer, simulator: StsSimulator
) -> None:
    simulator.clock = lambda: dt.datetime.now(dt.UTC)
    config = _config(tmp_path, server)
    runner = CliRunner()
    args = ["token", "get", "--service", SERVICE, "--cvr", CVR, "--config", str(config)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "SAML token for" in result.output and "valid until" in result.output
    assert "7 h 59 min left" in result.output or "8 h 0 min left" in result.output
    assert "Assertion" not in result.output
    shown = runner.invoke(cli, [*args, "--show"])
    assert shown.exit_code == 0 and "<saml:Assertion" in shown.output
    access = runner.invoke(cli, [*args, "--access"])
    assert access.exit_code == 0 and "access token for" in access.output


def test_cli_token_get_refusal_is_one_line_exit_2(
    tmp_path: Path, server: AsgiServer, simulator: StsSimulator
) -> None:
    simulator.clock = lambda: dt.datetime.now(dt.UTC)
    config = _config(tmp_path, server)
    result = CliRunner().invoke(
        cli, ["token", "get", "--service", SERVICE, "--cvr", "12345678", "--config", str(config)]
    )
    assert result.exit_code == 2
    assert "no service agreement for CVR 12345678" in result.output
    assert "Traceback" not in result.output
    bad = CliRunner().invoke(
        cli, ["token", "get", "--service", SERVICE, "--cvr", "12", "--config", str(config)]
    )
    assert bad.exit_code == 2 and "expected a CVR number of 8 digits" in bad.output
