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

import calendar
import datetime as dt
import json
import shutil
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import click
from rich.console import Console
from rich.table import Table

from toekgw.adapters.config import load_settings
from toekgw.adapters.eindkomst import PaidBenefit, render_summary
from toekgw.adapters.g68 import PAYMENT_ITEM, G68Processor, PaymentInstruction
from toekgw.adapters.g68.payments import FOLLOW_UP_KIND
from toekgw.adapters.monthreport import month
from toekgw.adapters.nemkonto import (
    Authority,
    FlowSettings,
    receive_answers,
    reconcile_bundles,
    release,
    render_bundles,
    send_bundles,
)
from toekgw.adapters.payments import PaymentControls, payments_settings
from toekgw.adapters.serviceplatform import ReceiveSettings, receive_pipeline, send_file
from toekgw.cli import clock
from toekgw.cli.demo_eindkomst import ROUTES, report_income
from toekgw.cli.demo_oir import OIR_CONFIG, PARTIES, book_in_erp
from toekgw.cli.demo_payments import POLICY_TOML, operate, write_second_delivery
from toekgw.cli.reconcile import print_where, write_month_report
from toekgw.formats.eindkomst import Sender
from toekgw.formats.g68 import G68Form
from toekgw.formats.nemkonto import Account
from toekgw.gateway.errors import UsageError
from toekgw.gateway.journal import Journal, open_journal
from toekgw.gateway.money import kroner
from toekgw.gateway.transport import SftpSettings, SftpTransport
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.ksd import GeneratorSettings, write_delivery
from toekgw.simulators.nemkonto import NemKontoSimulator
from toekgw.simulators.nemkonto import SimulatorScript as NemKontoScript
from toekgw.simulators.serviceplatform import ServiceplatformSimulator, ensure_key

MARKER = ".toekgw-demo"
SUPPLIER = "29189846"  # KSD's data supplier id in the demo (also the paying authority's CVR)
MUNICIPALITY = "101"
AGREEMENT = "4711"
DEBTOR = Account("1234", "0001234567")
DEMO_CONFIG = """\
# Written by `toekgw demo`: the gateway's side of the demo, for `toekgw --config` afterwards.
[journal]
path = "var/journal.sqlite"

[staging]
dir = "var/staging"

[serviceplatform]
party = "toek"
transport = "sftp"
receipt_timeout = 10

[serviceplatform.sftp]
host = "127.0.0.1"
port = {port}
user = "toek"
key = "keys/id_ed25519"
known_hosts = "keys/known_hosts"

[receive.g68]
senders = ["ksd"]
counterpart = "ksd"

[nemkonto.mq]
transport = "sqlite"
queue_db = "var/queues.sqlite"

[nemkonto.authorities.{municipality}]
cvr = "{cvr}"
agreement_number = "{agreement}"
debtor_registration = "{registration}"
debtor_account = "{account}"
"""


@dataclass
class DemoRun:
    """What the month-end run did, step by step, for the table and for ``--json``."""

    workdir: Path
    today: dt.date
    steps: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)

    def step(self, name: str, **facts: Any) -> None:
        self.steps.append({"step": name, **facts})


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


@contextmanager
def _platform(workdir: Path) -> Iterator[tuple[ServiceplatformSimulator, Path, Path]]:
    key = workdir / "keys" / "id_ed25519"
    ensure_key(key)
    sim = ServiceplatformSimulator(
        workdir / "platform", parties=("ksd", "toek", *PARTIES), authorized_keys=Path(f"{key}.pub")
    )
    with sim:
        known = workdir / "keys" / "known_hosts"
        known.write_text(sim.known_hosts_line() + "\n", encoding="utf-8")
        yield sim, key, known


def _sftp(sim: ServiceplatformSimulator, user: str, key: Path, known: Path) -> SftpTransport:
    return SftpTransport(
        SftpSettings("127.0.0.1", sim.port, user, key, known, connect_timeout=10, timeout=30)
    )


def _receive(
    transport: SftpTransport, journal: Journal, processor: G68Processor, var: Path
) -> list[Any]:
    """What the gateway's receiver finds on Serviceplatformen, received and journaled."""
    with transport as toek:
        pipeline = receive_pipeline(
            journal, toek, processor, party="toek", senders=("ksd",),
            staging=var / "staging" / "ksd",
        )  # fmt: skip
        return list(pipeline.poll_once())


def _month(today: dt.date) -> tuple[dt.date, dt.date]:
    last = calendar.monthrange(today.year, today.month)[1]
    return today.replace(day=1), today.replace(day=last)


def _paid_benefits(journal: Journal, settings: FlowSettings) -> list[PaidBenefit]:
    """The payments the bank has received that went to a person (ident code 02, CPR)."""
    paid = []
    kinds = (settings.payment_kind, FOLLOW_UP_KIND)
    for item in (i for k in kinds for i in journal.items_of_kind(k, state="at-bank")):
        if item.data is None:
            continue
        instr = PaymentInstruction.from_data(item.data)
        if instr.ident_code == "02" and instr.disposition_date is not None:
            paid.append(
                PaidBenefit(instr.beneficiary[-10:], instr.amount_ore, instr.disposition_date)
            )
    return paid


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
    shown: list[Any] = []
    var = workdir / "var"
    var.mkdir()
    with ExitStack() as stack:
        sim, key, known = stack.enter_context(_platform(workdir))
        (workdir / "toekgw.toml").write_text(
            DEMO_CONFIG.format(
                port=sim.port,
                municipality=MUNICIPALITY,
                cvr=SUPPLIER,
                agreement=AGREEMENT,
                registration=DEBTOR.registration,
                account=DEBTOR.number,
            )
            + POLICY_TOML.format(municipality=MUNICIPALITY)
            + OIR_CONFIG.format(municipality=MUNICIPALITY, cvr=SUPPLIER),
            encoding="utf-8",
        )
        journal = open_journal(var / "journal.sqlite")
        stack.callback(journal.close)

        # 1. KSD writes its delivery and sends it over Serviceplatformen (with its own journal).
        delivery = workdir / "ksd" / f"G68_{SUPPLIER}_00001.g68"
        delivery.parent.mkdir()
        generated = write_delivery(
            delivery,
            GeneratorSettings(
                count=count,
                seed=seed,
                form=G68Form.FAST,
                error_rate=error_rate,
                today=today,
                supplier_id=SUPPLIER,
                registration_place=MUNICIPALITY,
            ),
        )
        ksd_journal = open_journal(workdir / "ksd" / "journal.sqlite")
        stack.callback(ksd_journal.close)
        with _sftp(sim, "ksd", key, known) as ksd:
            sent = send_file(
                ksd_journal, ksd, delivery, recipients=("toek",), sender="ksd", receipt_timeout=30
            )
        run.step(
            "KSD sends a G68 delivery",
            payments=generated.count,
            planted_errors=generated.planted,
            file=delivery.name,
            receipt=sent.message,
        )

        # 2. We receive it: metadata, staging, SHA-256, validation, journal, remote removal.
        processor = G68Processor(ReceiveSettings("g68", ("ksd",), "ksd"), today=today)
        outcomes = _receive(_sftp(sim, "toek", key, known), journal, processor, var)
        errors = journal.errors(counterpart="ksd")
        by_code = Counter(f.code for entry in errors for f in entry.findings)
        # Every error KSD's generator planted must be on the error list, at its line.
        planted = {
            (p["line"], p["code"])
            for p in json.loads(generated.manifest.read_text(encoding="utf-8"))["planted"]
        }
        found = {(f.line, f.code) for entry in errors for f in entry.findings}
        run.step(
            "gateway receives it over SFTP",
            outcomes=[str(o) for o in outcomes],
            error_list_entries=len(errors),
            planted_errors_found=f"{len(planted & found)} of {len(planted)}",
            findings_by_code=dict(sorted(by_code.items())),
        )

        # 2b. KSD's second delivery: a suspected duplicate and an amount below the lower limit.
        settings = FlowSettings(authorities={MUNICIPALITY: Authority(SUPPLIER, AGREEMENT, DEBTOR)})
        second_path = delivery.with_name(f"G68_{SUPPLIER}_00002.g68")
        second = write_second_delivery(journal, settings, today, second_path, SUPPLIER)
        with _sftp(sim, "ksd", key, known) as ksd:
            send_file(ksd_journal, ksd, second_path, recipients=("toek",), sender="ksd",
                      receipt_timeout=30)  # fmt: skip
        second_outcomes = _receive(_sftp(sim, "toek", key, known), journal, processor, var)
        run.step("KSD sends a second delivery", outcomes=[str(o) for o in second_outcomes],
                 **second)  # fmt: skip

        # 3. NemKonto: the payment controls, release what is due, bundle, put, let NemKonto
        # answer, take the answers.
        policy = payments_settings(load_settings(workdir / "toekgw.toml"))
        now = dt.datetime.combine(today, dt.time(12), dt.UTC)
        released = release(journal, settings, today, controls=PaymentControls(policy, now))
        gateway_queue = SqliteQueue(var / "queues.sqlite")
        sim_queue = SqliteQueue(var / "queues.sqlite")
        stack.callback(gateway_queue.close)
        stack.callback(sim_queue.close)
        bundles = send_bundles(journal, gateway_queue, settings)
        nemkonto = NemKontoSimulator(
            sim_queue,
            var / "nemkonto-ledger.sqlite",
            NemKontoScript(reject_share=reject_share, seed=seed),
            request_queue=settings.request_queue,
            reply_queue=settings.reply_queue,
        )
        nemkonto.drain()
        nemkonto.send_bank_answers()
        answers = receive_answers(journal, gateway_queue, settings)
        released_facts = released.as_dict()
        answer_facts = answers.as_dict()
        run.step(
            "NemKonto pays the released payments",
            released_payments=released.released,
            waiting_for_their_date=released.waiting,
            bundles_sent=len(bundles),
            answers_taken=answer_facts["messages"],
            to_manual_handling=answer_facts["manual_handling"],
            released=released_facts,
            answers=answer_facts,
        )
        # 3b. Operators handle payments; NemKonto pays the second round.
        operations = operate(
            journal, settings, policy, (gateway_queue, sim_queue), var / "nemkonto-ledger.sqlite",
            today=today, now=now, second=second,
        )  # fmt: skip
        run.step("operators handle payments (toekgw payments)", **operations)
        reconciliation = reconcile_bundles(journal, settings, today)
        states = _payments_by_state(journal, settings)
        shown.append(_state_table(states))
        shown.extend(render_bundles(reconciliation))

        # 4. eIndkomst: report the kontanthjælp the bank has received, and reconcile receipts.
        benefits = _paid_benefits(journal, settings)
        income = report_income(
            journal,
            benefits,
            _month(today),
            route=eindkomst_route,
            var=var,
            sender=Sender(se=SUPPLIER, cvr=SUPPLIER),
            seed=seed,
            queues=(gateway_queue, sim_queue),
            platform=sim.platform,
            transport=stack.enter_context(_sftp(sim, "toek", key, known)),
        )
        run.step(
            "eIndkomst receives the income of the paid benefits",
            route=eindkomst_route,
            **income.as_dict(),
        )
        shown.append(render_summary(income))

        # 5. ØiR: every payment event booked in the ERP; the books agree.
        books = book_in_erp(journal, sim, workdir, today)
        control = books["konteringskontrol"]
        run.step(
            "the ERP books every payment (ØiR)",
            vouchers_built=books["vouchers"]["built"],
            vouchers_accepted=books["erp_answers"]["accepted"],
            intermediate_account=kroner(control["intermediate_balance_ore"]),
            outstanding_payments=kroner(control["outstanding_ore"]),
            intermediate_equals_outstanding=books["intermediate_equals_outstanding"],
            erp_ledger_agrees=books["erp_agrees"],
        )

        run.result = {
            "payments_by_state": states,
            "payments": reconciliation.as_dict(),
            "error_list": {
                "entries": len(errors),
                "planted": len(planted),
                "planted_found": len(planted & found),
                "findings": sum(by_code.values()),
                "by_code": dict(sorted(by_code.items())),
            },
            "eindkomst": income.as_dict(),
            "payment_operations": operations,
            "oir": books,
            "nemkonto_ledger": {
                "paid_payments": len(nemkonto.ledger.paid()),
                "paid_ore": sum(amount for amount, _status in nemkonto.ledger.paid().values()),
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
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The month-end day to run (default: the real today).",
)
@click.option("--count", type=click.IntRange(1, 99_999), default=2_000, show_default=True)
@click.option("--seed", type=int, default=2026, show_default=True)
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
                    "workdir": str(workdir),
                    "today": day.isoformat(),
                    "steps": run.steps,
                    **run.result,
                    "month_report": [str(path) for path in report_files],
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
        f"look around with: toekgw status --bundles --config {workdir / 'toekgw.toml'}"
    )
    console.print(f"The month-end report for {first:%Y-%m}:")
    print_where(report_files)
