"""``toekgw simulate debitor``: the municipality's debtor system behind SF1590_B, locally."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import click

from toekgw.cli.options import LISTEN_PORT, SECONDS, TIMES, FiniteRange, masked
from toekgw.cli.simulate._common import pem_certificates, tls_files
from toekgw.gateway.errors import InputError
from toekgw.gateway.httpserver import AsgiServer
from toekgw.simulators.debitor import (
    INDBETALING_PATH,
    REGISTRERING_PATH,
    DebitorSimulator,
    DebtorSystem,
    Faults,
    ScriptStep,
    Signer,
)
from toekgw.simulators.sts.identity import ensure_identity


def _script(path: Path | None) -> list[ScriptStep]:
    """The script: a JSON list of ``{"fordring": ID or "*", "type": ..., "beloeb_ore": N}``."""
    if path is None:
        return []
    try:
        steps = json.loads(path.read_text(encoding="utf-8"))
        return [ScriptStep(str(s["fordring"]), str(s.get("type", "DAEKNING")),
                           s.get("beloeb_ore")) for s in steps]  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"{path}: expected a JSON list of {{fordring, type, beloeb_ore}} steps: {exc}"
        ) from exc


@click.command()
@click.option(
    "--port", type=LISTEN_PORT, default=8444, show_default=True,
    help="Port on 127.0.0.1 (0: a free one).",
)  # fmt: skip
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Where it keeps the certificate that signs its callback tokens "
    "(debitor-sts.crt/.key, made if missing; TØK's callback must trust it).",
)
@click.option("--callback", "callback_url", default=None, help="TØK's callback URL.")
@click.option(
    "--callback-ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Verify the callback's TLS with this CA (PEM).",
)
@click.option(
    "--trust-sts",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Verify callers' tokens: the STS's certificate (PEM).",
)
@click.option("--sts-issuer", default="https://sts.simulator.toekgw.local", show_default=True)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Serve HTTPS with this certificate (with --tls-key).",
)
@click.option(
    "--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None
)
@click.option(
    "--script",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Coverings and write-offs to book and call back (JSON).",
)
@click.option(
    "--script-every",
    type=FiniteRange(min=0, min_open=True),
    default=2.0,
    show_default=True,
    help="Seconds between runs of the script over the claims.",
)
@click.option("--timeouts", type=TIMES, default=0, help="Answer the next N calls too late.")
@click.option("--delay", type=SECONDS, default=5.0, show_default=True, help="How late (s).")
@click.option("--soap-faults", type=TIMES, default=0, help="Fault the next N calls (soap:Server).")
@click.option("--duplicate-callbacks", is_flag=True, help="Deliver every callback twice.")
@click.option(
    "--unknown-claim-callbacks",
    type=TIMES,
    default=0,
    help="Add a registration for an unknown claim to the next N callbacks.",
)
@click.option("--max-seconds", type=SECONDS, default=None, help="Stop after this many seconds.")
def debitor(
    port: int,
    directory: Path,
    callback_url: str | None,
    callback_ca: Path | None,
    trust_sts: Path | None,
    sts_issuer: str,
    tls_cert: Path | None,
    tls_key: Path | None,
    script: Path | None,
    script_every: float,
    timeouts: int,
    delay: float,
    soap_faults: int,
    duplicate_callbacks: bool,
    unknown_claim_callbacks: int,
    max_seconds: float | None,
) -> None:
    """The debtor system behind SF1590_B: keeps debtor accounts and claims, answers B_01 and
    B_03 (a repeated BeskedId is answered as the first time and applied once), serves its
    balance report at /report, and calls TØK's callback with the coverings of B_03 payments
    and with what --script says; faults from the options.
    """
    trusted = pem_certificates([trust_sts] if trust_sts else [], "--trust-sts")
    tls = tls_files(tls_cert, tls_key)
    key, certificate = ensure_identity(
        directory / "debitor-sts.crt", directory / "debitor-sts.key", "toekgw debtor simulator"
    )
    faults = Faults(timeouts, delay, soap_faults, duplicate_callbacks, unknown_claim_callbacks)
    simulator = DebitorSimulator(
        DebtorSystem(),
        signer=Signer(key, certificate),
        callback_url=callback_url,
        callback_ca=callback_ca,
        trusted_sts=trusted,
        sts_issuer=sts_issuer,
        faults=faults,
    )
    server = AsgiServer(simulator.app(), port=port, tls=tls).listen()
    steps = _script(script)
    stop = threading.Event()
    if steps:
        threading.Thread(target=_script_loop, args=(simulator, steps, script_every, stop),
                         daemon=True).start()  # fmt: skip
    click.echo(
        f"debtor simulator on {server.url}{REGISTRERING_PATH} and "
        f"{INDBETALING_PATH}; callback tokens signed by {masked(directory / 'debitor-sts.crt')}",
        err=True,
    )
    server.run(max_seconds)
    stop.set()
    system = simulator.system
    click.echo(f"{len(system.claims())} claims, {system.applied} messages applied, "
               f"{system.repeats} repeats dropped, {simulator.callbacks_sent} callbacks",
               err=True)  # fmt: skip


def _script_loop(
    simulator: DebitorSimulator, steps: list[ScriptStep], every: float, stop: threading.Event
) -> None:
    while not stop.wait(every):
        simulator.run_script(steps)
