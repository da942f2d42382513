"""``toekgw simulate eindkomst``: SKAT's eIndkomst on an embedded SQLite queue."""

from __future__ import annotations

from pathlib import Path

import click

from toekgw.cli.simulate._common import (
    delay_option,
    duplicate_answers_option,
    queue_options,
    run_options,
    serve,
)
from toekgw.simulators.eindkomst import (
    DEFAULT_REPLY_QUEUE,
    DEFAULT_REQUEST_QUEUE,
    EindkomstSimulator,
    SimulatorScript,
)

LEDGER_SUFFIX = ".eindkomst-ledger"


@click.command("eindkomst")
@queue_options(
    ledger_holds="registered reports",
    ledger_suffix=LEDGER_SUFFIX,
    request_queue=DEFAULT_REQUEST_QUEUE,
    reply_queue=DEFAULT_REPLY_QUEUE,
)
@click.option("--reject-cpr", multiple=True, help="Reject reports with this CPR (an error on it).")
@click.option("--reject-share", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--advice-cpr", multiple=True, help="An advice on this CPR (accepted).")
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
@delay_option
@duplicate_answers_option
@run_options
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
    """Answer income-report deliveries like SKAT: 7100 sum receipts (G/A), SKAT's
    error/advice file (0001/0002/0003/9999), and tax cards for 2101 orders. Duplicate
    deliveries (by report id) are answered again and registered once.

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

    def report(sim: EindkomstSimulator) -> str:
        s = sim.stats
        return (
            f"deliveries {s.deliveries}, duplicates {s.duplicates}; reports accepted "
            f"{s.reports_accepted}, rejected {s.reports_rejected}; error/advice receipts "
            f"{s.error_receipts}; tax cards {s.tax_cards}; answers {s.answers}"
        )

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
        report=report,
    )
