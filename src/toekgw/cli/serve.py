"""``toekgw serve debitor``: TØK's SF1590_B callback service over HTTPS."""

from __future__ import annotations

from pathlib import Path

import click

from toekgw.adapters.config import load_settings
from toekgw.adapters.debitor.callback import CALLBACK_PATH, CallbackService, CallbackSettings
from toekgw.adapters.debitor.settings import DEBITOR_SECTION, check_callback_tls, load_trusted
from toekgw.cli.options import PORT, config_option
from toekgw.gateway.config import ConfigError
from toekgw.gateway.httpserver import AsgiServer, TlsFiles


@click.group()
def serve() -> None:
    """Run a service counterparts call (until interrupted)."""


@serve.command("debitor")
@click.option("--port", type=PORT, default=None, help="Override [debitor.callback] port.")
@config_option
def debitor(port: int | None, config_path: Path | None) -> None:
    """The callback for DaekningAfskrivningRegistreringAfsend (coverings, write-offs).

    Each message is checked (size, XML, schema, the caller's token) and journaled durably
    before it is answered; a re-delivered message is answered again without a second effect.
    """
    settings = load_settings(config_path)
    section = settings.require(DEBITOR_SECTION)
    if section.callback is None:
        raise ConfigError(f"{settings.path}: no [debitor.callback] table")
    cb = section.callback
    check_callback_tls(settings.path, cb)
    service = CallbackService(
        settings.journal,
        CallbackSettings(
            trusted=load_trusted(cb.trusted_sts),
            issuer=cb.issuer,
            audience=cb.audience,
            max_body=cb.max_body_bytes,
            counterpart=section.counterpart,
        ),
    )
    server = AsgiServer(
        service,
        host=cb.host,
        port=port if port is not None else cb.port,
        tls=TlsFiles(cb.certificate, cb.key, cb.client_ca),
    )
    try:
        server.listen()  # a port in use: one line, before the URL is announced
        click.echo(f"debitor callback on https://{cb.host}:{server.port}{CALLBACK_PATH}", err=True)
        server.run()
    finally:
        service.close()
