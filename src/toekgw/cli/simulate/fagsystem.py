"""``toekgw simulate fagsystem``: a case system ordering over TØK's interfaces."""

from __future__ import annotations

from pathlib import Path

import click

from toekgw.adapters.tok import DEFAULT_QUEUES, DEFAULT_REPLY_QUEUE
from toekgw.cli import clock
from toekgw.cli.options import AT_LEAST_ONE, SECONDS, masked
from toekgw.cli.simulate._common import cvr_numbers
from toekgw.formats.tok.read import SYSTEM_NAME
from toekgw.gateway.transport.amqp import MessageBroker
from toekgw.gateway.transport.amqp_pika import BrokerSettings, PikaBroker
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker
from toekgw.simulators.fagsystem import CaseSystem, Mix

_share = click.FloatRange(0, 1)


def _system_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """``--sender``: the name every message's header carries (``SenderSystem``), as the schema
    allows one; a usage error, not every message refused by its own schema check."""
    if not SYSTEM_NAME.fullmatch(value):
        raise click.BadParameter(
            f"{masked(value)!r}: expected a case system's short name, e.g. KY (a letter, then "
            "at most nine letters, digits, '.', '_' or '-')",
            ctx,
            param,
        )
    return value


@click.command("fagsystem")
@click.option(
    "--queue-db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The embedded broker's file shared with the gateway.",
)
@click.option("--rabbitmq", metavar="HOST:PORT", help="A RabbitMQ broker instead (guest login).")
@click.option(
    "--sender",
    default="KY",
    show_default=True,
    callback=_system_name,
    help="The case system's short name (a letter, then up to nine letters, digits, . _ -).",
)
@click.option(
    "--municipality", required=True, callback=cvr_numbers, help="The municipality's CVR number."
)
@click.option(
    "--count", type=AT_LEAST_ONE, default=100, show_default=True, help="Messages to send."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--straks-share", type=_share, default=0.1, show_default=True)
@click.option("--claims-share", type=_share, default=0.2, show_default=True)
@click.option("--recalls-share", type=_share, default=0.1, show_default=True)
@click.option("--broken-share", type=_share, default=0.02, show_default=True)
@click.option(
    "--check-after",
    type=SECONDS,
    default=0.0,
    show_default=True,
    help="Then wait up to this many seconds per status and check every one (0: do not check).",
)
def fagsystem(
    queue_db: Path | None,
    rabbitmq: str | None,
    sender: str,
    municipality: str,
    count: int,
    seed: int,
    straks_share: float,
    claims_share: float,
    recalls_share: float,
    broken_share: float,
    check_after: float,
) -> None:
    """Order payments and claims over TØK's interfaces as a case system does, recall some, send
    a share of broken messages; with --check-after, check every status that comes back (exit 1
    if one is wrong, missing or about something never sent)."""
    broker = _broker(queue_db, rabbitmq)
    try:
        case_system = CaseSystem(
            broker,
            sender=sender,
            municipality=municipality,
            queues=dict(DEFAULT_QUEUES),
            reply_queue=DEFAULT_REPLY_QUEUE.format(sender=sender),
            now=clock.now,
            seed=seed,
        )
        case_system.send(count, Mix(straks_share, claims_share, recalls_share, broken_share))
        click.echo(f"sent {count} messages as {sender}")
        if check_after <= 0:
            return
        report = case_system.check(wait=check_after)
        click.echo(
            f"checked {report.statuses} statuses ({report.copies} copies dropped): "
            f"{report.answered} of {report.sent} messages answered"
        )
        for error in report.errors[:20]:
            click.echo(f"error: {masked(error)}", err=True)
        if not report.ok:
            raise SystemExit(1)
    finally:
        broker.close()


def _broker(queue_db: Path | None, rabbitmq: str | None) -> MessageBroker:
    if (queue_db is None) == (rabbitmq is None):
        raise click.UsageError("give one of --queue-db and --rabbitmq")
    if queue_db is not None:
        return SqliteBroker(queue_db)
    assert rabbitmq is not None
    host, _, port = rabbitmq.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise click.BadParameter(
            f"{rabbitmq!r}: expected HOST:PORT, the port from 1 to 65535", param_hint="--rabbitmq"
        )
    return PikaBroker(BrokerSettings(host=host, port=int(port)))
