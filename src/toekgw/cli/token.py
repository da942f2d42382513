"""``toekgw token get``: fetch a KOMBIT security token, for operators checking access."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from toekgw.adapters.config import load_settings
from toekgw.adapters.kombit.settings import KOMBIT_SECTION, load_credentials
from toekgw.adapters.kombit.tokens import TokenClient
from toekgw.cli import clock
from toekgw.cli.options import config_option
from toekgw.gateway.errors import UsageError


@click.group()
def token() -> None:
    """KOMBIT security tokens (SF1514 SAML tokens, SF1516 access tokens)."""


@token.command("get")
@click.option("--service", required=True, help="The service's entity id (AppliesTo).")
@click.option("--cvr", required=True, help="The municipality's CVR number (8 digits).")
@click.option("--access", is_flag=True, help="Exchange the SAML token for a REST access token.")
@click.option("--show", is_flag=True, help="Print the token itself on stdout (a secret).")
@config_option
def get(service: str, cvr: str, access: bool, show: bool, config_path: Path | None) -> None:
    """Fetch a token for SERVICE on behalf of CVR and print when it expires.

    The token is never printed unless --show; exit 2 when the STS refuses or cannot be
    reached (its reason on one line).
    """
    if not (cvr.isdigit() and len(cvr) == 8):
        raise UsageError(f"--cvr {cvr!r}: expected a CVR number of 8 digits")
    settings = load_settings(config_path).require(KOMBIT_SECTION)
    client = TokenClient(settings, load_credentials(settings))
    fetched = client.access_token(service, cvr) if access else client.saml_token(service, cvr)
    left = fetched.expires - clock.now()
    kind = "access token" if access else "SAML token"
    expires = fetched.expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    click.echo(f"{kind} for {service}, CVR {cvr}: valid until {expires} ({_span(left)} left)")
    if show:
        value = fetched.value
        click.echo(value.decode("utf-8") if isinstance(value, bytes) else value)


def _span(left: dt.timedelta) -> str:
    minutes = max(int(left.total_seconds()) // 60, 0)
    return f"{minutes // 60} h {minutes % 60} min"
