"""``toekgw simulate eindkomst``: SKAT's eIndkomst on an embedded SQLite queue."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click

from gateway.transport.mq import DEFAULT_BACKOUT_THRESHOLD, SqliteQueue
from simulators.eindkomst import (
    DEFAULT_REPLY_QUEUE,
    DEFAULT_REQUEST_QUEUE,
    EindkomstSimulator,
    SimulatorScript,
)


@click.command("eindkomst")
@click.option(
    "--queue-db",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The SQLite queue file shared with the gateway.",
)
@click.option(
    "--ledger-db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The simulator's ledger of registered reports [default: <queue-db>.eindkomst-ledger].",
)
@click.option("--request-queue", default=DEFAULT_REQUEST_QUEUE, show_default=True)
@click.option("--reply-queue", default=DEFAULT_REPLY_QUEUE, show_default=True)
@click.option("--reject-cpr", multiple=True, help="Reject reports with this CPR (7200 on it).")
@click.option("--reject-share", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--advice-cpr", multiple=True, help="A 7200 advice on this CPR (accepted).")
@click.option(
    "--wrong-sum-share",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Fault: this share of accepted reports gets a 7100 with a wrong sum.",
)
@click.option("--wrong-sum-ore", type=int, default=100, show_default=True)
@click.option("--no-card-cpr", multiple=True, help="Answer KORT_TYPE 0 (no card) for this CPR.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the shares.")
@click.option("--delay", type=float, default=0.0, help="Fault: seconds before answering.")
@click.option("--duplicate-answers", is_flag=True, help="Fault: put every answer twice.")
@click.option("--backout-threshold", type=int, default=DEFAULT_BACKOUT_THRESHOLD, show_default=True)
@click.option("--max-seconds", type=float, help="Stop after this many seconds.")
def eindkomst(
    queue_db: Path,
    ledger_db: Path | None,
    request_queue: str,
    reply_queue: str,
    reject_cpr: tuple[str, ...],
    reject_share: float,
    advice_cpr: tuple[str, ...],
    wrong_sum_share: float,
    wrong_sum_ore: int,
    no_card_cpr: tuple[str, ...],
    seed: int,
    delay: float,
    duplicate_answers: bool,
    backout_threshold: int,
    max_seconds: float | None,
) -> None:
    """Answer income-report deliveries like SKAT: 7100 sum receipts (G/A), 7200 error and
    advice receipts, and tax cards for 2101 orders. Duplicate deliveries (by report id) are
    answered again and registered once.

    Runs until Ctrl-C, SIGTERM or --max-seconds, then prints what it did.
    """
    script = SimulatorScript(
        reject_cprs=frozenset(reject_cpr),
        reject_share=reject_share,
        advice_cprs=frozenset(advice_cpr),
        wrong_sum_share=wrong_sum_share,
        wrong_sum_ore=wrong_sum_ore,
        no_card_cprs=frozenset(no_card_cpr),
        seed=seed,
        delay=delay,
        duplicate_answers=duplicate_answers,
    )
    ledger = ledger_db or queue_db.with_name(queue_db.name + ".eindkomst-ledger")
    stop = threading.Event()

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        with SqliteQueue(queue_db, backout_threshold=backout_threshold) as queue:
            sim = EindkomstSimulator(
                queue, ledger, script, request_queue=request_queue, reply_queue=reply_queue
            )
            click.echo(
                f"eindkomst simulator: {request_queue} -> {reply_queue} on {queue_db}", err=True
            )
            try:
                sim.run(max_seconds=max_seconds, stop=stop)
            except KeyboardInterrupt:
                pass
            finally:
                sim.ledger.close()
            s = sim.stats
            click.echo(
                f"deliveries {s.deliveries}, duplicates {s.duplicates}; reports accepted "
                f"{s.reports_accepted}, rejected {s.reports_rejected}; error/advice receipts "
                f"{s.error_receipts}; tax cards {s.tax_cards}; answers {s.answers}"
            )
    finally:
        signal.signal(signal.SIGTERM, previous)
