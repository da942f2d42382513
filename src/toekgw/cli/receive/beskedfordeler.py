"""``toekgw receive beskedfordeler``: TØK's Beskedfordeler mailbox into the journal."""

from __future__ import annotations

from pathlib import Path

import click

from toekgw.adapters.beskedfordeler.broker import open_broker
from toekgw.adapters.beskedfordeler.components import COMPONENTS
from toekgw.adapters.beskedfordeler.consumer import BeskedConsumer, ConsumeResult
from toekgw.adapters.beskedfordeler.settings import BESKEDFORDELER_SECTION
from toekgw.adapters.config import load_settings
from toekgw.adapters.kombit.settings import KOMBIT_SECTION
from toekgw.cli.options import AT_LEAST_ONE, SECONDS, config_option
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.journal import open_journal


@click.command("beskedfordeler")
@click.option(
    "--wait",
    type=SECONDS,
    default=0.0,
    show_default=True,
    help="Stop when no message has come for this many seconds.",
)
@click.option(
    "--max", "max_messages", type=AT_LEAST_ONE, default=None, help="Take at most N messages."
)
@config_option
def beskedfordeler(wait: float, max_messages: int | None, config_path: Path | None) -> None:
    """Journal each waiting message and route it by type, then ack it.

    A message that cannot be read or whose type no component takes goes on the error list and
    to the dead-letter queue (exit 1); one its component breaks on is listed and put back, and
    dead-lettered after repeated attempts (exit 1); a message the journal already has is acked
    again.
    """
    settings = load_settings(config_path)
    section = settings.require(BESKEDFORDELER_SECTION)
    routes = {kind: COMPONENTS[name] for kind, name in section.routes.items()}
    # A message's id is the sender's to choose: each line masked, printed as it is settled.
    result = ConsumeResult(on_line=lambda line: click.echo(mask_cpr_in_text(line)))
    journal = open_journal(settings.journal)
    try:
        broker = open_broker(section, kombit=settings.section(KOMBIT_SECTION))
        try:
            consumer = BeskedConsumer(
                broker,
                journal,
                queue=section.queue,
                routes=routes,
                counterpart=section.counterpart,
            )
            consumer.run(max_messages=max_messages, wait=wait, into=result)
        finally:
            broker.close()
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM: what was settled before, the rest put back
        click.echo(f"{result.summary()}; stopped, the message in hand put back")
        raise
    finally:
        journal.close()
    click.echo(result.summary())
    if result.dead_lettered or result.failed:
        raise SystemExit(1)
