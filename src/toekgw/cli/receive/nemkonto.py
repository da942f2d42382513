"""``toekgw receive nemkonto``: NemKonto's answers from the reply queue into the journal."""

from __future__ import annotations

import json
from pathlib import Path

import click

from toekgw.adapters.nemkonto import NEMKONTO_SECTION, receive_answers
from toekgw.cli.nemkonto import opened
from toekgw.cli.options import SECONDS, config_option
from toekgw.gateway.transport.config import open_queue


@click.command("nemkonto")
@click.option(
    "--wait",
    type=SECONDS,
    default=0.0,
    show_default=True,
    help="Seconds to wait for the first answer.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@config_option
def nemkonto(wait: float, as_json: bool, config_path: Path | None) -> None:
    """Journal every answer waiting on the NemKonto reply queue, then commit its get."""
    with opened(config_path, moves_money="receive-nemkonto") as (settings, flow, journal):
        queue = open_queue(settings.require(NEMKONTO_SECTION).mq)
        try:
            summary = receive_answers(journal, queue, flow, wait=wait)
        finally:
            queue.close()
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
    else:
        moved = ", ".join(f"{n} {state}" for state, n in sorted(summary.moved.items()))
        click.echo(
            f"{summary.messages} answers: {summary.applied} applied, {summary.duplicates} "
            f"duplicates, {summary.unusable} to the error queue; payments moved: "
            f"{moved or 'none'}; {summary.unchanged} answers changed nothing; "
            f"{summary.manual} to the manual-handling list"
            + (f"; {summary.failed} failed (see the error list)" if summary.failed else "")
        )
        for bundle_id in summary.returned_bundles:
            click.echo(f"  bundle {bundle_id} could not be read (answer 0): payments pending")
    if summary.unusable or summary.returned_bundles or summary.failed:
        raise SystemExit(1)
