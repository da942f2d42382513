"""The demo's eIndkomst step on either route: the paid benefits reported to the simulator.

``mq`` (the default of ``toekgw demo``): the gateway and SKAT share the embedded queue.
``serviceplatform`` (SF0770_B): the delivery is uploaded over the Serviceplatformen simulator to
SKAT's party, and SKAT's answers come back over it as files. The outcome is the same on both
routes (``tests/test_eindkomst_routes.py`` runs this step over each and compares).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal

from toekgw.adapters.eindkomst import (
    BenefitReportSummary,
    MqRoute,
    PaidBenefit,
    ReportRoute,
    ServiceplatformRoute,
    report_paid_benefits,
)
from toekgw.formats.eindkomst import REPLY_QUEUE, REQUEST_QUEUE, Sender
from toekgw.gateway.journal import Journal
from toekgw.gateway.transport.files import FileTransport
from toekgw.gateway.transport.mq import MessageQueue
from toekgw.simulators.eindkomst import EindkomstFileSimulator, EindkomstSimulator
from toekgw.simulators.eindkomst import SimulatorScript as EindkomstScript
from toekgw.simulators.serviceplatform import Platform

__all__ = ["ROUTES", "SKAT_PARTY", "eindkomst_config", "report_income"]

ROUTES = ("mq", "serviceplatform")
SKAT_PARTY = "skat-eindkomst"  # SKAT's party on the simulated platform (ours)


def eindkomst_config(route: Literal["mq", "serviceplatform"], sender: str) -> str:
    """The demo's ``[eindkomst]`` table: the route, sender, queue and outbox
    :func:`report_income` uses, so that ``toekgw eindkomst … --config WORKDIR/toekgw.toml``
    afterwards works on what the demo reported."""
    party = f'skat_party = "{SKAT_PARTY}"\n' if route == "serviceplatform" else ""
    return (
        f'\n[eindkomst]\nsender_se = "{sender}"\nroute = "{route}"\n{party}'
        'outbox = "var/eindkomst-outbox"\n\n'
        '[eindkomst.mq]\ntransport = "sqlite"\nqueue_db = "var/queues.sqlite"\n'
    )


def report_income(
    journal: Journal,
    benefits: Iterable[PaidBenefit],
    period: tuple[dt.date, dt.date],
    *,
    route: Literal["mq", "serviceplatform"],
    var: Path,
    sender: Sender,
    seed: int,
    queues: tuple[MessageQueue, MessageQueue],
    platform: Platform,
    transport: FileTransport,
    party: str = "toek",
    clock: Callable[[], dt.datetime] | None = None,
) -> BenefitReportSummary:
    """Report ``benefits`` on ``route`` and let the simulator answer (``queues``: the
    gateway's and the simulator's session of the embedded queue; ``platform`` and
    ``transport``: the platform and the gateway's login to it)."""
    script = EindkomstScript(seed=seed)
    ledger = var / "eindkomst-ledger.sqlite"
    gw_route: ReportRoute
    answer: Callable[[], object]
    if route == "mq":
        mq_sim = EindkomstSimulator(queues[1], ledger, script)
        gw_route, answer = MqRoute(queues[0], REQUEST_QUEUE, REPLY_QUEUE), mq_sim.drain
    else:
        file_sim = EindkomstFileSimulator(
            platform.add_party(SKAT_PARTY), ledger, script, party=SKAT_PARTY
        )
        gw_route = ServiceplatformRoute(
            transport,
            party=party,
            skat_party=SKAT_PARTY,
            lock=var / "eindkomst-outbox" / ".sf0770.lock",
            receipt_timeout=0,
        )

        def answer() -> None:
            platform.scan()  # the upload to SKAT, our technical receipt
            file_sim.scan_once()  # SKAT answers
            platform.scan()  # the answers to us

    return report_paid_benefits(
        journal,
        gw_route,
        benefits,
        period,
        sender=sender,
        outbox=var / "eindkomst-outbox",
        answer=answer,
        clock=clock,
    )
