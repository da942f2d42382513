"""``toekgw simulate ydelsesindeks``: SF1490's benefit index, locally, over HTTP(S)."""

from __future__ import annotations

from pathlib import Path

import click

from toekgw.cli.options import LISTEN_PORT, SECONDS, TIMES
from toekgw.cli.simulate._common import pem_certificates, tls_files
from toekgw.formats.ydelsesindeks import SERVICE_ENTITY_ID
from toekgw.gateway.httpserver import AsgiServer
from toekgw.simulators.ydelsesindeks import INDEX_PATH, IndexFaults, IndexSimulator


@click.command()
@click.option(
    "--port", type=LISTEN_PORT, default=8445, show_default=True,
    help="Port on 127.0.0.1 (0: a free one).",
)  # fmt: skip
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Where the index keeps its ledger (ledger.sqlite).",
)
@click.option(
    "--trust-sts",
    "trusted",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The STS's signing certificate (PEM; `toekgw simulate sts` writes sts.crt).",
)
@click.option("--issuer", default="https://sts.simulator.toekgw.local", show_default=True)
@click.option("--audience", default=SERVICE_ENTITY_ID, show_default=True)
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--late", type=TIMES, default=0, help="Answer the first N calls late (timeout).")
@click.option("--late-seconds", type=SECONDS, default=35.0, show_default=True)
@click.option("--refuse", "refuse_keys", multiple=True, help="Refuse this payment key (fault).")
@click.option("--lose-answers", type=TIMES, default=0, help="Lose the answer to the first N calls.")
@click.option("--max-seconds", type=SECONDS, default=None, help="Stop after this many seconds.")
def ydelsesindeks(
    port: int,
    directory: Path,
    trusted: tuple[Path, ...],
    issuer: str,
    audience: str,
    tls_cert: Path | None,
    tls_key: Path | None,
    late: int,
    late_seconds: float,
    refuse_keys: tuple[str, ...],
    lose_answers: int,
    max_seconds: float | None,
) -> None:
    """Take effectuation reports (YdelseIndeksService_6 importer) like KOMBIT's index.

    Checks the token (trusted STS, issuer, audience, validity, the holder's signature), the
    body against KOMBIT's schema and the CVR; takes each effectuation once per object id
    (a repeat is counted, not taken again). Faults: --late (answer after the caller's
    timeout), --refuse (a SOAP fault), --lose-answers (take it, then HTTP 503).
    """
    tls = tls_files(tls_cert, tls_key)
    simulator = IndexSimulator(
        ledger_path=directory / "ledger.sqlite",
        trusted_sts=pem_certificates(trusted, "--trust-sts"),
        issuer=issuer,
        audience=audience,
        faults=IndexFaults(
            late=late,
            late_seconds=late_seconds,
            refuse_keys=frozenset(refuse_keys),
            lose_answers=lose_answers,
        ),
    )
    server = AsgiServer(simulator.app(), port=port, tls=tls).listen()
    click.echo(f"benefit index simulator on {server.url}{INDEX_PATH}", err=True)
    server.run(max_seconds)
    click.echo(
        f"calls {simulator.calls}, taken {simulator.taken}, repeats {simulator.repeats}, "
        f"refused {simulator.refused}",
        err=True,
    )
