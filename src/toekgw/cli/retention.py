"""``toekgw retention``: one retention run now (the service runs it daily)."""

from __future__ import annotations

from pathlib import Path

import click

from toekgw.adapters.config import load_settings
from toekgw.cli import clock
from toekgw.cli.options import config_option
from toekgw.gateway.retention import retention_flow


@click.command("retention")
@config_option
def retention(config_path: Path | None) -> None:
    """Replace personal data past its period ([retention.kinds], days per kind) by keyed
    pseudonyms, delete the staging copies past it, pseudonymise the read log past [retention]
    reads; amounts, dates and the hash chain stay (docs/operations.md). Safe to repeat."""
    settings = load_settings(config_path)
    report = retention_flow(settings, clock.now())
    click.echo(f"retention: {report.summary()}")
