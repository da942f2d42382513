"""A gateway and a simulator on one SQLite queue, for the eIndkomst flow tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.eik_helpers import DISPOSITION, PERIOD, SE
from toekgw.adapters.eindkomst import EindkomstGateway, MqRoute
from toekgw.formats.eindkomst import IncomeReport, Recipient, Sender
from toekgw.gateway.journal import SqliteJournal, open_journal
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.eindkomst import (
    DEFAULT_REPLY_QUEUE,
    DEFAULT_REQUEST_QUEUE,
    EindkomstSimulator,
    SimulatorScript,
)

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


@dataclass
class Rig:
    journal: SqliteJournal
    queue: SqliteQueue
    gateway: EindkomstGateway
    sim: EindkomstSimulator

    def round_trip(self) -> None:
        self.sim.drain()
        self.gateway.receive()


@contextmanager
def rig(
    tmp: Path, script: SimulatorScript | None = None, *, companies: tuple[str, ...] = ()
) -> Iterator[Rig]:
    journal = open_journal(tmp / "journal.sqlite")
    queue = SqliteQueue(tmp / "queues.sqlite")
    sim_queue = SqliteQueue(tmp / "queues.sqlite")
    gw = EindkomstGateway(
        journal,
        MqRoute(queue, DEFAULT_REQUEST_QUEUE, DEFAULT_REPLY_QUEUE),
        sender=Sender(se=SE, cvr=SE),
        outbox=tmp / "outbox",
        companies=companies,
        clock=lambda: NOW,
    )
    sim = EindkomstSimulator(sim_queue, tmp / "ledger.sqlite", script, clock=lambda: NOW)
    try:
        yield Rig(journal, queue, gw, sim)
    finally:
        sim.ledger.close()
        sim_queue.close()
        queue.close()
        journal.close()


def income(
    people: dict[str, dict[str, int]],
    *,
    key: str = "",
    income_type: str = "06",
    disposition: dt.date = DISPOSITION,
    se: str = SE,
) -> IncomeReport:
    return IncomeReport(
        se,
        PERIOD[0],
        PERIOD[1],
        disposition,
        income_type,
        [Recipient(cpr=c, amounts=a) for c, a in people.items()],
        key=key,
    )
