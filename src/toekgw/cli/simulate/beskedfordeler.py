"""``toekgw simulate beskedfordeler``: publish deleted-debtor-account messages to the broker."""

from __future__ import annotations

import uuid
from pathlib import Path

import click

from toekgw.cli import clock
from toekgw.cli.options import PORT, TIMES, masked
from toekgw.cli.simulate._common import cvr_numbers
from toekgw.formats.debitor.besked import DebitorkontoSlettet, build_debitorkonto_slettet
from toekgw.formats.kombit.besked import build_besked
from toekgw.gateway.transport.amqp import MessageBroker, QueueSpec
from toekgw.gateway.transport.amqp_pika import BrokerSettings, PikaBroker
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker


@click.command()
@click.option("--queue", required=True, help="TØK's mailbox queue.")
@click.option("--type", "besked_type", required=True, help="The message type UUID.")
@click.option(
    "--cvr", required=True, callback=cvr_numbers, help="The municipality's CVR (8 digits)."
)
@click.option(
    "--account",
    "accounts",
    multiple=True,
    required=True,
    help="A deleted debtor account id (repeat for more).",
)
@click.option(
    "--queue-db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The embedded broker's file (else --rabbitmq-port).",
)
@click.option("--rabbitmq-port", type=PORT, default=None, help="RabbitMQ on 127.0.0.1 (guest).")
@click.option("--duplicate", is_flag=True, help="Fault: publish every message twice.")
@click.option("--garbage", type=TIMES, default=0, help="Fault: also publish N unreadable messages.")
def beskedfordeler(
    queue: str,
    besked_type: str,
    cvr: str,
    accounts: tuple[str, ...],
    queue_db: Path | None,
    rabbitmq_port: int | None,
    duplicate: bool,
    garbage: int,
) -> None:
    """Publish one DebitorkontoSlettet message per --account to QUEUE (declared if missing)."""
    broker: MessageBroker
    if queue_db is not None:
        broker = SqliteBroker(queue_db)
    elif rabbitmq_port is not None:
        broker = PikaBroker(BrokerSettings(port=rabbitmq_port))
    else:
        raise click.UsageError("give --queue-db or --rabbitmq-port")
    now = clock.now()
    try:
        broker.declare(QueueSpec(queue))
        for account in accounts:
            payload = build_debitorkonto_slettet(DebitorkontoSlettet(account, cvr, now))
            body = build_besked(
                besked_type=besked_type, payload=payload, recipient_cvr=cvr, created=now
            )
            for _ in range(2 if duplicate else 1):
                broker.publish(queue, body, message_id=f"{account}")
        for _ in range(garbage):
            # An id of its own, as the real Beskedfordeler gives each message: a second run's
            # garbage must not look like a redelivery of the first's.
            broker.publish(queue, b"<not a message", message_id=f"garbage-{uuid.uuid4()}")
    finally:
        broker.close()
    copies = len(accounts) * (2 if duplicate else 1)
    click.echo(f"published {copies} messages and {garbage} unreadable ones to {masked(queue)}")
