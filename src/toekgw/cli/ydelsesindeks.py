"""``toekgw ydelsesindeks report``: effectuated payments to SF1490's benefit index."""

from __future__ import annotations

from pathlib import Path

import click

from toekgw.adapters.config import load_settings
from toekgw.adapters.ydelsesindeks.flow import Reporting
from toekgw.cli.options import config_option


@click.group()
def ydelsesindeks() -> None:
    """SF1490 Ydelsesindeks: report what the bank has paid to KOMBIT's benefit index."""


@ydelsesindeks.command("report")
@config_option
def report(config_path: Path | None) -> None:
    """Report every effectuated payment not reported yet, each once.

    Each report is claimed in the journal before the call and recorded when the index
    answers; a report the index refuses goes on the error list (`toekgw errors`). One left
    unanswered (network, timeout) is sent again by the next run. Exit 2 when any was left
    because the index or the token service could not be reached, else 1 when any was
    refused or not reportable, 0 otherwise.
    """
    run = Reporting.from_settings(load_settings(config_path)).run()
    click.echo(run.text())
    for skipped in run.skipped[:5]:
        click.echo(f"not reportable: {skipped}", err=True)
    if run.unreachable:
        click.echo(f"toekgw: error: {run.problems[0]}", err=True)
        raise SystemExit(2)
    if run.refused or run.skipped:
        raise SystemExit(1)
