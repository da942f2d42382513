"""``toekgw simulate eindkomst`` (SKAT on an embedded SQLite queue) and ``toekgw simulate
eindkomst-sf0770`` (SKAT as a party of a local Serviceplatformen: KOMBIT's SF0770_B)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from toekgw.cli.options import SECONDS, masked
from toekgw.cli.simulate._common import (
    cpr_numbers,
    delay_option,
    duplicate_answers_option,
    party_names,
    queue_options,
    run_options,
    serve,
)
from toekgw.gateway.transport.amqp import QueueSpec
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker
from toekgw.simulators.eindkomst import (
    DEFAULT_REPLY_QUEUE,
    DEFAULT_REQUEST_QUEUE,
    CardsTo,
    EindkomstFileSimulator,
    EindkomstSimulator,
    SimulatorScript,
    SimulatorStats,
)

LEDGER_SUFFIX = ".eindkomst-ledger"
_F = TypeVar("_F", bound=Callable[..., Any])


def _script_options(command: _F) -> _F:
    """SKAT's scripted answers, the same on both routes."""
    for option in reversed(
        (
            click.option(
                "--reject-cpr",
                multiple=True,
                callback=cpr_numbers,
                help="Reject reports with this CPR (an error on it).",
            ),
            click.option(
                "--reject-share", type=click.FloatRange(0, 1), default=0.0, show_default=True
            ),
            click.option(
                "--advice-cpr",
                multiple=True,
                callback=cpr_numbers,
                help="An advice on this CPR (accepted).",
            ),
            click.option(
                "--wrong-sum-share",
                type=click.FloatRange(0, 1),
                default=0.0,
                show_default=True,
                help="Fault: this share of accepted reports gets a 7100 with a wrong sum.",
            ),
            click.option("--wrong-sum-ore", type=int, default=100, show_default=True),
            click.option(
                "--no-card-cpr",
                multiple=True,
                callback=cpr_numbers,
                help="Answer KORT_TYPE 0 (no card) for this CPR.",
            ),
            click.option(
                "--seed", type=int, default=0, show_default=True, help="Seed of the shares."
            ),
            delay_option,
            duplicate_answers_option,
        )
    ):
        command = option(command)
    return command


def _script(kw: dict[str, Any]) -> SimulatorScript:
    return SimulatorScript(
        reject_cprs=frozenset(kw.pop("reject_cpr")),
        reject_share=kw.pop("reject_share"),
        advice_cprs=frozenset(kw.pop("advice_cpr")),
        wrong_sum_share=kw.pop("wrong_sum_share"),
        wrong_sum_ore=kw.pop("wrong_sum_ore"),
        no_card_cprs=frozenset(kw.pop("no_card_cpr")),
        seed=kw.pop("seed"),
        delay=kw.pop("delay"),
        duplicate_answers=kw.pop("duplicate_answers"),
    )


def _report(s: SimulatorStats) -> str:
    return (
        f"deliveries {s.deliveries}, duplicates {s.duplicates}; reports accepted "
        f"{s.reports_accepted}, rejected {s.reports_rejected}; error/advice receipts "
        f"{s.error_receipts}; tax cards {s.tax_cards}; answers {s.answers}"
    )


@click.command("eindkomst")
@queue_options(
    ledger_holds="registered reports",
    ledger_suffix=LEDGER_SUFFIX,
    request_queue=DEFAULT_REQUEST_QUEUE,
    reply_queue=DEFAULT_REPLY_QUEUE,
)
@_script_options
@run_options
def eindkomst(
    queue_db: Path,
    ledger_db: Path | None,
    request_queue: str,
    reply_queue: str,
    backout_threshold: int,
    max_seconds: float | None,
    **kw: Any,
) -> None:
    """Answer income-report deliveries like SKAT: 7100 sum receipts (G/A), SKAT's
    error/advice file (0001/0002/0003/9999), and tax cards for 2101 orders. Duplicate
    deliveries (by report id) are answered again and registered once.

    Runs until Ctrl-C, SIGTERM or --max-seconds, then prints what it did.
    """
    script = _script(kw)
    serve(
        "eindkomst",
        queue_db=queue_db,
        ledger_db=ledger_db,
        ledger_suffix=LEDGER_SUFFIX,
        request_queue=request_queue,
        reply_queue=reply_queue,
        backout_threshold=backout_threshold,
        max_seconds=max_seconds,
        start=lambda queue, ledger: EindkomstSimulator(
            queue, ledger, script, request_queue=request_queue, reply_queue=reply_queue
        ),
        report=lambda sim: _report(sim.stats),
    )


@click.command("eindkomst-sf0770")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The platform's directory tree (as given to `toekgw simulate serviceplatform`).",
)
@click.option(
    "--party",
    default="skat-eindkomst",
    show_default=True,
    callback=party_names,
    help="SKAT's party.",
)
@click.option(
    "--ledger",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SKAT's ledger (SQLite) [default: ROOT/eindkomst-ledger.sqlite].",
)
@click.option(
    "--cards-queue-db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Send tax cards through the Beskedfordeler: the embedded broker's file "
    "(as [beskedfordeler] queue_db); without it, tax cards go over SFTP.",
)
@click.option("--cards-queue", default=None, help="The mailbox queue for tax cards.")
@click.option("--cards-type", default=None, help="The tax cards' Beskedtype (UUID).")
@click.option("--cards-cvr", default=None, help="The recipient's CVR in the envelope.")
@_script_options
@click.option("--max-seconds", type=SECONDS, default=None, help="Stop after this many seconds.")
def eindkomst_sf0770(
    root: Path,
    party: str,
    ledger: Path | None,
    cards_queue_db: Path | None,
    cards_queue: str | None,
    cards_type: str | None,
    cards_cvr: str | None,
    max_seconds: float | None,
    **kw: Any,
) -> None:
    """SKAT over KOMBIT's SF0770_B: answer the deliveries uploaded to PARTY on a local
    Serviceplatformen with files (7100 receipts, SKAT's error/advice file, tax cards), or
    send the tax cards through the Beskedfordeler (--cards-queue-db, --cards-queue,
    --cards-type, --cards-cvr). Runs until Ctrl-C or --max-seconds, then prints what it did.
    """
    script = _script(kw)
    cards_to = None
    broker = None
    if cards_queue_db is not None:
        if not (cards_queue and cards_type and cards_cvr):
            raise click.UsageError(
                "--cards-queue-db needs --cards-queue, --cards-type and --cards-cvr"
            )
        broker = SqliteBroker(cards_queue_db)
        broker.declare(QueueSpec(cards_queue))
        cards_to = CardsTo(broker, cards_queue, cards_type, cards_cvr)
    home = root / "parties" / party
    sim = EindkomstFileSimulator(
        home, ledger or root / "eindkomst-ledger.sqlite", script, party=party, cards_to=cards_to
    )
    click.echo(f"eIndkomst simulator (SF0770_B): party {masked(party)} at {masked(home)}")
    try:
        sim.run(max_seconds=max_seconds)
    except KeyboardInterrupt:
        pass
    finally:
        sim.ledger.close()
        if broker is not None:
            broker.close()
    click.echo(_report(sim.stats))
