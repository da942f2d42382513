"""A payment ordered over TØK's payments interface goes the way a G68 payment goes, and its
sender is told each step: receipt, sent to NemKonto, at the bank."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from tests.nemkonto_flow_data import (
    DUE,
    MUNICIPALITY,
    SETTINGS,
    SUPPLIER,
    TODAY,
    instruction,
    journal_delivery,
)
from tests.tok_helpers import Names, header, send, statuses
from toekgw.adapters.nemkonto import receive_answers, release, send_bundles
from toekgw.adapters.tok import Intake, StatusPublisher
from toekgw.formats.tok import DeliveryLine, Party, PartyKind, PaymentOrder, Priority
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.nemkonto import NemKontoSimulator

CVR = SETTINGS.authorities[MUNICIPALITY].cvr
NOW = dt.datetime.combine(TODAY, dt.time(9), tzinfo=dt.UTC)


def test_an_ordered_payment_is_released_sent_answered_and_each_step_told(tmp_path: Path) -> None:
    names = Names()
    journal = open_journal(tmp_path / "journal.sqlite")
    broker = SqliteBroker(tmp_path / "broker.sqlite")
    nemkonto = SqliteQueue(tmp_path / "nemkonto.sqlite")
    intake = Intake(
        journal, broker, registration_places={CVR: MUNICIPALITY}, now=lambda: NOW,
        queues=names.queues,
    )  # fmt: skip
    publisher = StatusPublisher(journal, journal, broker, now=lambda: NOW, reply_queue=names.reply)
    payments = names.payments
    ordered = [
        PaymentOrder(
            dataclasses.replace(
                header(Priority.STRAKS if n else Priority.NORMAL), municipality=CVR
            ),
            f"P-{n}",
            Party(PartyKind.CPR, f"010190{1230 + n}"),
            1_000_00 * (n + 1),
            DUE if n == 0 else dt.date(2026, 12, 30),
            "KTH",
            (),
        )
        for n in range(2)
    ]
    for message in ordered:
        send(broker, payments, message)
    assert intake.take().taken == 2
    publisher.publish_due()

    result = release(journal, SETTINGS, TODAY)
    assert result.released == 2  # one due in two banking days, one straks
    send_bundles(journal, nemkonto, SETTINGS)
    publisher.publish_due()
    simulator = NemKontoSimulator(nemkonto, tmp_path / "ledger.sqlite")
    simulator.drain()
    simulator.ledger.close()
    receive_answers(journal, nemkonto, SETTINGS)
    publisher.publish_due()

    told = statuses(broker, names.reply_of("KY"))
    steps: dict[str | None, list[str]] = {}
    for status in told:
        steps.setdefault(status.business_key, []).append(status.state)
    assert steps == {"P-0": ["pending", "sent", "at-bank"], "P-1": ["pending", "sent", "at-bank"]}
    assert {s.in_reply_to for s in told if s.state == "pending"} == {
        m.header.message_id for m in ordered
    }


def test_g68_payments_are_told_to_ksd_where_configured(tmp_path: Path) -> None:
    names = Names()
    journal = open_journal(tmp_path / "journal.sqlite")
    broker = SqliteBroker(tmp_path / "broker.sqlite")
    nemkonto = SqliteQueue(tmp_path / "nemkonto.sqlite")
    journal_delivery(journal, [instruction(0), instruction(1, date=dt.date(2026, 12, 30))])
    silent = StatusPublisher(journal, journal, broker, now=lambda: NOW, reply_queue=names.reply)
    assert silent.publish_due().published == 0  # G68 payments are not told unless asked for

    publisher = StatusPublisher(
        journal, journal, broker, now=lambda: NOW, reply_queue=names.reply, g68_sender="KSD"
    )
    assert publisher.publish_due().published == 2
    assert release(journal, SETTINGS, TODAY).released == 1  # the one due in two banking days
    send_bundles(journal, nemkonto, SETTINGS)
    assert publisher.publish_due().published == 1
    assert publisher.publish_due().published == 0

    told = statuses(broker, names.reply_of("KSD"))
    assert [(s.business_key, s.state, s.delivery) for s in told] == [
        (f"{0:018d}", "pending", DeliveryLine(f"{SUPPLIER}:1", 2)),
        (f"{1:018d}", "pending", DeliveryLine(f"{SUPPLIER}:1", 3)),
        (f"{0:018d}", "sent", DeliveryLine(f"{SUPPLIER}:1", 2)),
    ]
    assert all(s.in_reply_to is None and s.interface.value == "payments" for s in told)
    assert len({s.event_id for s in told}) == 3
