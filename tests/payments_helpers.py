"""A NemKonto flow with the payment controls and a desk per person, for the payment tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.nemkonto_flow_data import SETTINGS, TODAY
from toekgw.adapters.nemkonto import ReleaseResult, receive_answers, release, send_bundles
from toekgw.adapters.payments import PaymentControls, PaymentDesk, PaymentsSettings
from toekgw.gateway.journal import SqliteJournal
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.nemkonto import NemKontoSimulator, SimulatorScript

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def desk(journal: SqliteJournal, who: str, settings: PaymentsSettings | None = None) -> PaymentDesk:
    return PaymentDesk(journal, SETTINGS, settings or PaymentsSettings(), who, NOW)


def controlled_release(
    journal: SqliteJournal, settings: PaymentsSettings | None = None, today: dt.date = TODAY
) -> ReleaseResult:
    return release(
        journal, SETTINGS, today, controls=PaymentControls(settings or PaymentsSettings(), NOW)
    )


def flow_round(
    journal: SqliteJournal,
    queue: SqliteQueue,
    ledger: Path,
    script: SimulatorScript | None = None,
    *,
    settings: PaymentsSettings | None = None,
    today: dt.date = TODAY,
) -> ReleaseResult:
    """Release (with the controls), send, let the simulator answer, take the answers."""
    result = controlled_release(journal, settings, today)
    send_bundles(journal, queue, SETTINGS)
    sim = NemKontoSimulator(queue, ledger, script)
    sim.drain()
    sim.ledger.close()
    receive_answers(journal, queue, SETTINGS)
    return result


def state_of(journal: SqliteJournal, key: str) -> str:
    (item,) = [i for i in journal.find_items(key) if i.data and not i.data.get("recall")]
    return item.state
