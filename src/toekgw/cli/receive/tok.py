"""``toekgw receive tok``: TØK's interfaces from their queues into the journal, status back."""

from __future__ import annotations

import json
from pathlib import Path

import click

from toekgw.adapters.tok.flow import FLOW, PER_MACHINE, registration_places, take_and_tell
from toekgw.adapters.tok.settings import TOK_SECTION
from toekgw.cli import clock
from toekgw.cli.nemkonto import opened
from toekgw.cli.options import AT_LEAST_ONE, SECONDS, config_option


@click.command("tok")
@click.option("--wait", type=SECONDS, default=0.0, show_default=True,
              help="Seconds to wait for the first message.")  # fmt: skip
@click.option("--max-messages", type=AT_LEAST_ONE, default=None, help="Stop after this many.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@config_option
def tok(wait: float, max_messages: int | None, as_json: bool, config_path: Path | None) -> None:
    """Take every message waiting on the payments, claims and effectuation queues into the
    journal (acknowledged after the commit), then publish every status due to its sender.
    Exit 1 when a message was refused or failed (see `toekgw errors`)."""
    with opened(config_path, moves_money=FLOW, per_machine=PER_MACHINE) as (
        settings,
        flow,
        journal,
    ):
        run = take_and_tell(
            journal, settings.require(TOK_SECTION), registration_places(flow), clock.now,
            wait=wait, max_messages=max_messages,
        )  # fmt: skip
    result = run.intake
    if as_json:
        figures = {
            "taken": result.taken,
            "repeated": result.repeated,
            "refused": result.refused,
            "failed": result.failed,
            "statuses": run.statuses.published,
        }
        click.echo(json.dumps(figures, indent=2))
    else:
        click.echo(
            f"{result.messages} messages: {result.taken} taken, {result.repeated} delivered "
            f"again, {result.refused} refused (answered, dead-lettered, listed), "
            f"{result.failed} failed; {run.statuses.published} statuses published"
        )
    if result.refused or result.failed:
        raise SystemExit(1)
