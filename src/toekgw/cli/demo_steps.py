"""The steps of ``toekgw demo``'s month-end, each on a :class:`Rig`: the Serviceplatformen
simulator (SFTP on 127.0.0.1) and the keys to it, the gateway's journal and KSD's own, and the
gateway's G68 receiver. KSD sends two deliveries and we receive them; NemKonto's simulator pays
what is released; the paid benefits are reported to eIndkomst's simulator; every payment event
is booked in the ERP simulator (ØiR). Each step records what it did on the run
(:class:`DemoRun`)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from toekgw.adapters.eindkomst import BenefitReportSummary, PaidBenefit
from toekgw.adapters.g68 import G68Processor, PaymentInstruction
from toekgw.adapters.g68.payments import FOLLOW_UP_KIND
from toekgw.adapters.monthreport import month
from toekgw.adapters.nemkonto import (
    FlowSettings,
    receive_answers,
    release,
    send_bundles,
)
from toekgw.adapters.payments import PaymentControls, PaymentsSettings
from toekgw.adapters.serviceplatform import ReceiveSettings, receive_pipeline, send_file
from toekgw.cli.demo_eindkomst import eindkomst_config, report_income
from toekgw.cli.demo_oir import OIR_CONFIG, PARTIES, book_in_erp
from toekgw.cli.demo_payments import POLICY_TOML, write_second_delivery
from toekgw.formats.eindkomst import Sender
from toekgw.formats.g68 import G68Form
from toekgw.formats.nemkonto import Account
from toekgw.gateway.journal import Journal, SqliteJournal, open_journal
from toekgw.gateway.money import kroner
from toekgw.gateway.outbound import SendOutcome
from toekgw.gateway.transport import SftpSettings, SftpTransport
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.ksd import GeneratorSettings, write_delivery
from toekgw.simulators.nemkonto import NemKontoSimulator
from toekgw.simulators.nemkonto import SimulatorScript as NemKontoScript
from toekgw.simulators.serviceplatform import ServiceplatformSimulator, ensure_key

__all__ = [
    "AGREEMENT",
    "DEBTOR",
    "DEMO_CONFIG",
    "MUNICIPALITY",
    "SUPPLIER",
    "DemoRun",
    "Rig",
    "book_payments",
    "first_delivery",
    "nemkonto_pays",
    "open_rig",
    "report_benefits",
    "second_delivery",
]

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


@dataclass
class Rig:
    """What the demo's steps share: the run's record, the Serviceplatformen simulator and the
    keys to it, the gateway's journal and KSD's own, and the gateway's G68 receiver."""

    run: DemoRun
    var: Path
    sim: ServiceplatformSimulator
    key: Path
    known: Path
    journal: SqliteJournal
    ksd_journal: SqliteJournal
    processor: G68Processor

    @property
    def today(self) -> dt.date:
        return self.run.today

    def sftp(self, user: str) -> SftpTransport:
        """A session with the platform's SFTP server as ``user``."""
        settings = SftpSettings(
            "127.0.0.1", self.sim.port, user, self.key, self.known, connect_timeout=10, timeout=30
        )
        return SftpTransport(settings)

    def ksd_sends(self, delivery: Path) -> SendOutcome:
        """KSD puts ``delivery`` on Serviceplatformen for us, and waits for the receipt."""
        with self.sftp("ksd") as ksd:
            return send_file(
                self.ksd_journal, ksd, delivery, recipients=("toek",), sender="ksd",
                receipt_timeout=30,
            )  # fmt: skip

    def receive(self) -> list[Any]:
        """What the gateway's receiver finds on Serviceplatformen, received and journaled."""
        with self.sftp("toek") as toek:
            pipeline = receive_pipeline(
                self.journal, toek, self.processor, party="toek", senders=("ksd",),
                staging=self.var / "staging" / "ksd",
            )  # fmt: skip
            return list(pipeline.poll_once())


def open_rig(
    stack: ExitStack, run: DemoRun, eindkomst_route: Literal["mq", "serviceplatform"] = "mq"
) -> Rig:
    """The platform started, the gateway's configuration written, both journals opened."""
    workdir = run.workdir
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
        + OIR_CONFIG.format(municipality=MUNICIPALITY, cvr=SUPPLIER)
        + eindkomst_config(eindkomst_route, SUPPLIER),
        encoding="utf-8",
    )
    journal = open_journal(workdir / "var" / "journal.sqlite")
    stack.callback(journal.close)
    (workdir / "ksd").mkdir()
    ksd_journal = open_journal(workdir / "ksd" / "journal.sqlite")
    stack.callback(ksd_journal.close)
    processor = G68Processor(ReceiveSettings("g68", ("ksd",), "ksd"), today=run.today)
    return Rig(run, workdir / "var", sim, key, known, journal, ksd_journal, processor)


def first_delivery(rig: Rig, *, count: int, seed: int, error_rate: float) -> dict[str, Any]:
    """1. KSD writes its delivery and sends it over Serviceplatformen (with its own journal).
    2. We receive it: metadata, staging, SHA-256, validation, journal, remote removal.
    The error list it leaves, each planted error found at its line."""
    delivery = rig.run.workdir / "ksd" / f"G68_{SUPPLIER}_00001.g68"
    generated = write_delivery(
        delivery,
        GeneratorSettings(
            count=count,
            seed=seed,
            form=G68Form.FAST,
            error_rate=error_rate,
            today=rig.today,
            supplier_id=SUPPLIER,
            registration_place=MUNICIPALITY,
        ),
    )
    sent = rig.ksd_sends(delivery)
    rig.run.step(
        "KSD sends a G68 delivery",
        payments=generated.count,
        planted_errors=generated.planted,
        file=delivery.name,
        receipt=sent.message,
    )
    outcomes = rig.receive()
    errors = rig.journal.errors(counterpart="ksd")
    by_code = Counter(f.code for entry in errors for f in entry.findings)
    # Every error KSD's generator planted must be on the error list, at its line.
    planted = {
        (p["line"], p["code"])
        for p in json.loads(generated.manifest.read_text(encoding="utf-8"))["planted"]
    }
    found = {(f.line, f.code) for entry in errors for f in entry.findings}
    planted_found = len(planted & found)
    codes = dict(sorted(by_code.items()))
    rig.run.step(
        "gateway receives it over SFTP",
        outcomes=[str(o) for o in outcomes],
        error_list_entries=len(errors),
        planted_errors_found=f"{planted_found} of {len(planted)}",
        findings_by_code=codes,
    )
    return {
        "entries": len(errors),
        "planted": len(planted),
        "planted_found": planted_found,
        "findings": sum(by_code.values()),
        "by_code": codes,
    }


def second_delivery(rig: Rig, settings: FlowSettings) -> dict[str, Any]:
    """2b. KSD's second delivery: a suspected duplicate and an amount below the lower limit."""
    path = rig.run.workdir / "ksd" / f"G68_{SUPPLIER}_00002.g68"
    second = write_second_delivery(rig.journal, settings, rig.today, path, SUPPLIER)
    rig.ksd_sends(path)
    outcomes = rig.receive()
    rig.run.step("KSD sends a second delivery", outcomes=[str(o) for o in outcomes], **second)
    return second


def nemkonto_pays(
    rig: Rig,
    settings: FlowSettings,
    policy: PaymentsSettings,
    queues: tuple[SqliteQueue, SqliteQueue],
    now: dt.datetime,
    reject_share: float,
    seed: int,
) -> NemKontoSimulator:
    """The payments due released (after the payment controls), bundled and put; NemKonto's
    simulator answers on its side of the embedded queue; the answers taken."""
    gateway_queue, sim_queue = queues
    released = release(rig.journal, settings, rig.today, controls=PaymentControls(policy, now))
    bundles = send_bundles(rig.journal, gateway_queue, settings)
    nemkonto = NemKontoSimulator(
        sim_queue,
        rig.var / "nemkonto-ledger.sqlite",
        NemKontoScript(reject_share=reject_share, seed=seed),
        request_queue=settings.request_queue,
        reply_queue=settings.reply_queue,
    )
    nemkonto.drain()
    nemkonto.send_bank_answers()
    answers = receive_answers(rig.journal, gateway_queue, settings)
    answer_facts = answers.as_dict()
    rig.run.step(
        "NemKonto pays the released payments",
        released_payments=released.released,
        waiting_for_their_date=released.waiting,
        bundles_sent=len(bundles),
        answers_taken=answer_facts["messages"],
        to_manual_handling=answer_facts["manual_handling"],
        released=released.as_dict(),
        answers=answer_facts,
    )
    return nemkonto


def report_benefits(
    rig: Rig,
    stack: ExitStack,
    settings: FlowSettings,
    queues: tuple[SqliteQueue, SqliteQueue],
    seed: int,
    route: Literal["mq", "serviceplatform"],
) -> BenefitReportSummary:
    """The kontanthjælp the bank has received reported to eIndkomst's simulator on ``route``,
    and its receipts reconciled."""
    income = report_income(
        rig.journal,
        _paid_benefits(rig.journal, settings),
        month(f"{rig.today:%Y-%m}"),
        route=route,
        var=rig.var,
        sender=Sender(se=SUPPLIER, cvr=SUPPLIER),
        seed=seed,
        queues=queues,
        platform=rig.sim.platform,
        transport=stack.enter_context(rig.sftp("toek")),
    )
    rig.run.step(
        "eIndkomst receives the income of the paid benefits", route=route, **income.as_dict()
    )
    return income


def book_payments(rig: Rig) -> dict[str, Any]:
    """Every payment event booked in the ERP simulator (ØiR); whether the books agree."""
    books = book_in_erp(rig.journal, rig.sim, rig.run.workdir, rig.today)
    control = books["konteringskontrol"]
    rig.run.step(
        "the ERP books every payment (ØiR)",
        vouchers_built=books["vouchers"]["built"],
        vouchers_accepted=books["erp_answers"]["accepted"],
        intermediate_account=kroner(control["intermediate_balance_ore"]),
        outstanding_payments=kroner(control["outstanding_ore"]),
        intermediate_equals_outstanding=books["intermediate_equals_outstanding"],
        erp_ledger_agrees=books["erp_agrees"],
    )
    return books
