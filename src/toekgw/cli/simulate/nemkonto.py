"""``toekgw simulate nemkonto``: the NemKonto simulator on an embedded SQLite queue."""

from __future__ import annotations

from pathlib import Path

import click

from toekgw.cli.options import AT_LEAST_ONE, SECONDS
from toekgw.cli.simulate._common import (
    cpr_numbers,
    delay_option,
    duplicate_answers_option,
    queue_options,
    recipient_ids,
    run_options,
    serve,
)
from toekgw.simulators.nemkonto import (
    DEFAULT_REPLY_QUEUE,
    DEFAULT_REQUEST_QUEUE,
    NO_ACCOUNT_ACTIONS,
    NemKontoSimulator,
    SimulatorScript,
)

LEDGER_SUFFIX = ".nemkonto-ledger"


@click.command("nemkonto")
@queue_options(
    ledger_holds="paid payments",
    ledger_suffix=LEDGER_SUFFIX,
    request_queue=DEFAULT_REQUEST_QUEUE,
    reply_queue=DEFAULT_REPLY_QUEUE,
)
@click.option(
    "--reject-cpr",
    multiple=True,
    callback=cpr_numbers,
    help="Reject payments to this CPR (repeatable).",
)
@click.option("--reject-share", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --reject-share.")
@click.option(
    "--no-account",
    multiple=True,
    callback=recipient_ids,
    help="A recipient id (CPR/CVR/SE/P-number) without NemKonto: Retursvar 7 (repeatable).",
)
@click.option(
    "--no-account-action",
    type=click.Choice(sorted(NO_ACCOUNT_ACTIONS)),
    default="reject",
    show_default=True,
    help="What the municipality's agreement says for a recipient without NemKonto.",
)
@click.option(
    "--bank-delay",
    type=SECONDS,
    default=0.0,
    show_default=True,
    help="Seconds until Retursvar 8 (received by the bank).",
)
@click.option(
    "--max-payments", type=AT_LEAST_ONE, default=10_000, show_default=True, help="Bundle cap."
)
@delay_option
@duplicate_answers_option
@click.option("--out-of-order", is_flag=True, help="Fault: put a bundle's answers in reverse.")
@click.option(
    "--poison-bundle",
    multiple=True,
    help="Fault: fail on this bundle id, so it is backed out until the error queue takes it.",
)
@run_options
def nemkonto(
    queue_db: Path,
    ledger_db: Path | None,
    request_queue: str,
    reply_queue: str,
    reject_cpr: tuple[str, ...],
    reject_share: float,
    seed: int,
    no_account: tuple[str, ...],
    no_account_action: str,
    bank_delay: float,
    max_payments: int,
    delay: float,
    duplicate_answers: bool,
    out_of_order: bool,
    poison_bundle: tuple[str, ...],
    backout_threshold: int,
    max_seconds: float | None,
) -> None:
    """Answer payment bundles like NemKonto: Kvitteringssvar 0/1, Retursvar 2, 7 and 8;
    stop requests (NKSStop) with Retursvar 5 (stopped, or too late).

    Runs until Ctrl-C, SIGTERM or --max-seconds, then prints what it did.
    """
    script = SimulatorScript(
        reject_cprs=frozenset(reject_cpr),
        reject_share=reject_share,
        seed=seed,
        no_account=frozenset(no_account),
        no_account_action=no_account_action,
        bank_delay=bank_delay,
        max_payments=max_payments,
        delay=delay,
        duplicate_answers=duplicate_answers,
        out_of_order=out_of_order,
        poison_bundles=frozenset(poison_bundle),
    )

    def report(sim: NemKontoSimulator) -> str:
        s = sim.stats
        return (
            f"bundles {s.bundles}, duplicates {s.duplicates}, unreadable {s.unreadable}, "
            f"poisoned {s.poisoned}; payments accepted {s.accepted}, rejected {s.rejected}, "
            f"completion failed {s.completion_failed}; answers {s.answers}, "
            f"bank answers {s.bank_answers}"
        )

    serve(
        "nemkonto",
        queue_db=queue_db,
        ledger_db=ledger_db,
        ledger_suffix=LEDGER_SUFFIX,
        request_queue=request_queue,
        reply_queue=reply_queue,
        backout_threshold=backout_threshold,
        max_seconds=max_seconds,
        start=lambda queue, ledger: NemKontoSimulator(
            queue, ledger, script, request_queue=request_queue, reply_queue=reply_queue
        ),
        report=report,
    )
