"""``toekgw demo``: a whole month-end run against the local simulators.

KSD's G68 delivery (with planted errors) travels over the Serviceplatformen simulator (a real
SFTP server on 127.0.0.1), is received, validated and journaled; the payments due are released
and bundled to the NemKonto simulator over the embedded queue; the answers move each payment to
its state; the paid benefits are reported to the eIndkomst simulator; every payment event is
booked as vouchers in the ERP simulator (ØiR), with the intermediate account equal to the
outstanding payments and the ERP's ledger agreeing; and everything is reconciled. Every file,
journal and queue stays in WORKDIR to look at afterwards
(``toekgw status --bundles --config WORKDIR/toekgw.toml`` …).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal

import click
from rich.console import Console
from rich.table import Table

from toekgw.adapters.config import load_settings
from toekgw.adapters.eindkomst import render_summary
from toekgw.adapters.g68 import PAYMENT_ITEM
from toekgw.adapters.g68.payments import FOLLOW_UP_KIND
from toekgw.adapters.monthreport import month
from toekgw.adapters.nemkonto import (
    Authority,
    FlowSettings,
    reconcile_bundles,
    render_bundles,
)
from toekgw.adapters.payments import payments_settings
from toekgw.cli import clock
from toekgw.cli.demo_eindkomst import ROUTES
from toekgw.cli.demo_payments import operate
from toekgw.cli.demo_steps import (
    AGREEMENT,
    DEBTOR,
    MUNICIPALITY,
    SUPPLIER,
    DemoRun,
    book_payments,
    first_delivery,
    nemkonto_pays,
    open_rig,
    report_benefits,
    second_delivery,
)
from toekgw.cli.options import DAY, masked
from toekgw.cli.reconcile import print_where, write_month_report
from toekgw.gateway.errors import UsageError
from toekgw.gateway.journal import Journal
from toekgw.gateway.money import kroner
from toekgw.gateway.transport.mq import SqliteQueue

MARKER = ".toekgw-demo"


def _prepare(workdir: Path) -> None:
    # Start from a clean slate, but never wipe a directory the demo did not make.
    if workdir.exists() and any(workdir.iterdir()):
        if not (workdir / MARKER).exists():
            raise UsageError(
                f"{workdir} is not empty and was not made by `toekgw demo`",
                hint="name an empty or new directory with --workdir",
            )
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text("made by toekgw demo; removed by the next demo run\n")


def _payments_by_state(journal: Journal, settings: FlowSettings) -> dict[str, dict[str, int]]:
    """Count and sum of the journaled payments in each state, in the lifecycle's order."""
    out: dict[str, dict[str, int]] = {}
    for state in PAYMENT_ITEM.descriptions:
        items = [
            i
            for kind in (settings.payment_kind, FOLLOW_UP_KIND)
            for i in journal.items_of_kind(kind, state=state)
        ]
        if items:
            out[state] = {"count": len(items), "oere": sum(i.amount_ore for i in items)}
    return out


def _state_table(states: dict[str, dict[str, int]]) -> Table:
    table = Table(title="Payments in the journal by state (`toekgw status --payments`)")
    for column, justify in (
        ("state", "left"),
        ("count", "right"),
        ("kr", "right"),
        ("meaning", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for state, n in states.items():
        table.add_row(state, str(n["count"]), kroner(n["oere"]), PAYMENT_ITEM.descriptions[state])
    return table


def run_demo(
    workdir: Path,
    *,
    today: dt.date,
    count: int,
    seed: int,
    error_rate: float,
    reject_share: float,
    eindkomst_route: Literal["mq", "serviceplatform"] = "mq",
) -> tuple[DemoRun, list[Any]]:
    """The month-end run; returns the record of it and the rich renderables to print."""
    _prepare(workdir)
    run = DemoRun(workdir, today)
    (workdir / "var").mkdir()
    with ExitStack() as stack:
        rig = open_rig(stack, run, eindkomst_route)
        settings = FlowSettings(authorities={MUNICIPALITY: Authority(SUPPLIER, AGREEMENT, DEBTOR)})
        error_list = first_delivery(rig, count=count, seed=seed, error_rate=error_rate)
        second = second_delivery(rig, settings)
        # 3. NemKonto: the payment controls, release what is due, bundle, put, let NemKonto
        # answer, take the answers.
        policy = payments_settings(load_settings(workdir / "toekgw.toml"))
        now = dt.datetime.combine(today, dt.time(12), dt.UTC)
        queues = (SqliteQueue(rig.var / "queues.sqlite"), SqliteQueue(rig.var / "queues.sqlite"))
        for queue in queues:
            stack.callback(queue.close)
        nemkonto = nemkonto_pays(rig, settings, policy, queues, now, reject_share, seed)
        # 3b. Operators handle payments; NemKonto pays the second round.
        operations = operate(
            rig.journal, settings, policy, queues, rig.var / "nemkonto-ledger.sqlite",
            today=today, now=now, second=second,
        )  # fmt: skip
        run.step("operators handle payments (toekgw payments)", **operations)
        reconciliation = reconcile_bundles(rig.journal, settings, today)
        states = _payments_by_state(rig.journal, settings)
        shown: list[Any] = [_state_table(states), *render_bundles(reconciliation)]
        # 4. eIndkomst: report the kontanthjælp the bank has received, and reconcile receipts.
        income = report_benefits(rig, stack, settings, queues, seed, eindkomst_route)
        shown.append(render_summary(income))
        # 5. ØiR: every payment event booked in the ERP; the books agree.
        books = book_payments(rig)
        paid = nemkonto.ledger.paid()
        run.result = {
            "payments_by_state": states,
            "payments": reconciliation.as_dict(),
            "error_list": error_list,
            "eindkomst": income.as_dict(),
            "payment_operations": operations,
            "oir": books,
            "nemkonto_ledger": {
                "paid_payments": len(paid),
                "paid_ore": sum(amount for amount, _status in paid.values()),
            },
        }
    return run, shown


def _error_table(run: DemoRun) -> Table:
    table = Table(title="Error list (handled by hand: `toekgw errors`)")
    table.add_column("finding code")
    table.add_column("count", justify="right")
    for code, n in run.result["error_list"]["by_code"].items():
        table.add_row(code, str(n))
    return table


@click.command()
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-run"),
    show_default=True,
    help="Where every file, journal and queue of the run is kept (wiped by the next run).",
)
@click.option(
    "--today",
    type=DAY,
    help="The month-end day to run (default: the real today).",
)
@click.option(
    "--count", type=click.IntRange(1, 99_999), default=2_000, show_default=True,
    help="Payments in KSD's first G68 delivery (a small second one follows).",
)  # fmt: skip
@click.option(
    "--seed", type=int, default=2026, show_default=True,
    help="Same seed, same deliveries and answers.",
)  # fmt: skip
@click.option(
    "--error-rate", type=click.FloatRange(0, 1), default=0.02, show_default=True,
    help="The share of G68 records with a planted error.",
)  # fmt: skip
@click.option(
    "--reject-share", type=click.FloatRange(0, 1), default=0.02, show_default=True,
    help="The share of payments NemKonto's simulator rejects.",
)  # fmt: skip
@click.option(
    "--eindkomst-route", type=click.Choice(ROUTES), default="mq", show_default=True,
    help="How the income reports reach SKAT's simulator: MQ, or SF0770_B over Serviceplatformen.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the whole run as JSON.")
def demo(
    workdir: Path,
    today: dt.datetime | None,
    count: int,
    seed: int,
    error_rate: float,
    reject_share: float,
    eindkomst_route: Literal["mq", "serviceplatform"],
    as_json: bool,
) -> None:
    """A month-end run against the local simulators, end to end.

    KSD sends a G68 delivery with planted errors over the Serviceplatformen simulator (SFTP on
    127.0.0.1); the gateway receives, validates and journals it (bad records to the error
    list); releases the payments due, bundles them to the NemKonto simulator over the embedded
    queue and takes the answers; reports the paid benefits to the eIndkomst simulator (over MQ,
    or with --eindkomst-route serviceplatform as files over Serviceplatformen: SF0770_B); books
    every payment in the ERP simulator (ØiR); and prints the reconciliation: per bundle and
    disposition date, received = accepted + rejected + outstanding, in count and sum.
    """
    day = today.date() if today else clock.today()
    run, shown = run_demo(
        workdir, today=day, count=count, seed=seed, error_rate=error_rate,
        reject_share=reject_share, eindkomst_route=eindkomst_route,
    )  # fmt: skip
    # The run ends as a month does: with the month-end report an auditor signs.
    first, last = month(f"{day:%Y-%m}")
    settings = load_settings(workdir / "toekgw.toml")
    _report, report_files = write_month_report(settings, first, last, workdir / "reports")
    if as_json:
        click.echo(
            json.dumps(
                {
                    "workdir": masked(workdir),
                    "today": day.isoformat(),
                    "steps": run.steps,
                    **run.result,
                    "month_report": [masked(path) for path in report_files],
                },
                ensure_ascii=False,
                indent=2,
                default=str,
            )
        )
        return
    # Piped (a log, CI): wide enough that no amount is cut short.
    console = Console(width=None if sys.stdout.isatty() else 140)
    console.rule(f"toek-gateway month-end demo, {day.isoformat()}")
    for step in run.steps:
        console.print(f"[bold]{step['step']}[/bold]")
        for key, value in step.items():
            if key != "step" and not isinstance(value, dict | list):
                console.print(f"  {key}: {value}")
        for line in (*step.get("outcomes", []), *step.get("summary", [])):
            console.print(f"  {line}")
    console.print(_error_table(run))
    for renderable in shown:
        console.print(renderable)
    ledger = run.result["nemkonto_ledger"]
    console.print(
        f"NemKonto's ledger: {ledger['paid_payments']} payments paid once each; "
        f"look around with: toekgw status --bundles --config {masked(workdir / 'toekgw.toml')}"
    )
    console.print(f"The month-end report for {first:%Y-%m}:")
    print_where(report_files)
