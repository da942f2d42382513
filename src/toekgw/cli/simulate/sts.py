"""``toekgw simulate sts``: KOMBIT's security token service and token exchange, locally."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from toekgw.cli.options import AT_LEAST_ONE, LISTEN_PORT, SECONDS, FiniteRange, masked
from toekgw.cli.simulate._common import cvr_numbers, pem_certificates
from toekgw.gateway.httpserver import AsgiServer
from toekgw.simulators.sts import EXCHANGE_PATH, STS_PATH, StsSimulator
from toekgw.simulators.sts.identity import ensure_identity


@click.command()
@click.option(
    "--port", type=LISTEN_PORT, default=8441, show_default=True,
    help="Port on 127.0.0.1 (0: a free one).",
)  # fmt: skip
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Where the STS keeps its signing certificate (sts.crt, sts.key; made if missing).",
)
@click.option(
    "--trust",
    "trusted",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A client certificate (PEM) registered with the STS (repeat for more).",
)
@click.option(
    "--cvr", "cvrs", multiple=True, required=True, callback=cvr_numbers,
    help="A municipality's CVR.",
)  # fmt: skip
@click.option("--service", "services", multiple=True, help="An entity id (default: any).")
@click.option(
    "--saml-hours", type=FiniteRange(min=0, min_open=True), default=8.0, show_default=True
)
@click.option("--access-seconds", type=AT_LEAST_ONE, default=3600, show_default=True)
@click.option("--max-seconds", type=SECONDS, default=None, help="Stop after this many seconds.")
def sts(
    port: int,
    directory: Path,
    trusted: tuple[Path, ...],
    cvrs: tuple[str, ...],
    services: tuple[str, ...],
    saml_hours: float,
    access_seconds: int,
    max_seconds: float | None,
) -> None:
    """Issue SAML tokens (SF1514) and access tokens (SF1516) to registered certificates.

    Refuses a wrong or insufficient signature, an unregistered certificate, an unknown CVR
    or service, and an expired request, with the SOAP fault the real STS sends.
    """
    registered = pem_certificates(trusted, "--trust")
    key, certificate = ensure_identity(
        directory / "sts.crt", directory / "sts.key", "toekgw STS simulator"
    )
    simulator = StsSimulator(
        identity_key=key,
        identity_certificate=certificate,
        trusted=registered,
        cvrs=frozenset(cvrs),
        services=frozenset(services) or None,
        saml_lifetime=dt.timedelta(hours=saml_hours),
        access_lifetime=dt.timedelta(seconds=access_seconds),
    )
    server = AsgiServer(simulator.app(), port=port).listen()
    click.echo(
        f"STS simulator on {server.url}{STS_PATH} (exchange {EXCHANGE_PATH}); "
        f"its signing certificate: {masked(directory / 'sts.crt')}",
        err=True,
    )
    server.run(max_seconds)
    click.echo(
        f"issued {simulator.issued}, exchanged {simulator.exchanged}, refused {simulator.refused}",
        err=True,
    )
