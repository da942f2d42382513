"""TØK's interfaces end to end over a broker: intake into the journal, status back.

Every test runs against the embedded broker and a real RabbitMQ node."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, cast

import pytest

import toekgw.adapters.tok.filing as filing_module
import toekgw.adapters.tok.intake as intake_module
from tests.conftest import Opener
from tests.tok_helpers import CPR, PLACES, Names, clock, header, order, send, statuses
from toekgw.adapters.tok import Intake, StatusPublisher
from toekgw.adapters.tok.payments import ordered_payment
from toekgw.formats.tok import (
    ClaimCreate,
    Party,
    PartyKind,
    PaymentChange,
    PaymentRecall,
    Priority,
    SetOff,
    SubClaim,
    build_message,
)
from toekgw.gateway.journal import open_journal
from toekgw.gateway.refusals import MAX_ATTEMPTS_PER_RUN
from toekgw.gateway.transport.amqp import Delivery, MessageBroker, QueueSpec
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker

#: One delivery at a time, and batches journaled in one commit each.
PREFETCH = pytest.mark.parametrize("prefetch", [1, 20])


def rig(tmp_path: Path, broker: MessageBroker, names: Names) -> tuple[Intake, StatusPublisher]:
    journal = open_journal(tmp_path / "journal.sqlite")
    intake = Intake(journal, broker, registration_places=PLACES, now=clock, queues=names.queues)
    publisher = StatusPublisher(journal, journal, broker, now=clock, reply_queue=names.reply)
    return intake, publisher


@PREFETCH
def test_orders_changes_recalls_and_set_offs_reach_the_journal_and_every_change_is_told(
    tmp_path: Path, open_broker: Opener, prefetch: int
) -> None:
    names = Names()
    broker = open_broker(prefetch=prefetch)
    intake, publisher = rig(tmp_path, broker, names)
    payments = names.payments
    first, second, third = order("P-1", 500_00), order("P-2", 300_00), order("P-3", 200_00)
    for message in (first, second, third):
        send(broker, payments, message)
    assert intake.take().taken == 3
    assert publisher.publish_due().published == 3  # the receipts
    receipts = {s.in_reply_to: s.state for s in statuses(broker, names.reply_of("KY"))}
    assert receipts == {m.header.message_id: "pending" for m in (first, second, third)}

    change = PaymentChange(header(), "P-1", 450_00, None)
    recall, stray = (
        PaymentRecall(header(), "P-2", "wrong person"),
        PaymentRecall(header(), "P-9", "?"),
    )
    for message in (change, recall, stray):
        send(broker, payments, message)
    assert intake.take().taken == 3
    # A set-off comes on its own queue; it reduces a payment journaled before it.
    set_off = SetOff(header(), "S-1", "create", "P-3", "C-1", 50_00)
    send(broker, names.effectuations, set_off)
    assert intake.take().taken == 1

    journal = intake.journal
    assert [i.state for i in journal.find_items("KY:P-1", "tok")] == ["recalled"]
    (changed,) = journal.find_items("KY:P-1~2", "tok")
    assert (changed.state, changed.amount_ore) == ("pending", 450_00)
    assert journal.find_items("KY:P-2", "tok")[0].state == "recalled"
    (reduced,) = journal.find_items("KY:P-3~2", "tok")
    assert (reduced.state, reduced.amount_ore) == ("pending", 150_00)

    # 4 receipts, 3 originals recalled or replaced, 2 next versions.
    assert publisher.publish_due().published == 9
    told = statuses(broker, names.reply_of("KY"))
    receipts = {s.in_reply_to: s.state for s in told if s.in_reply_to}
    assert receipts == {
        change.header.message_id: "change-applied",
        recall.header.message_id: "recall-applied",
        stray.header.message_id: "recall-refused",
        set_off.header.message_id: "applied",
    }
    later = sorted((s.business_key, s.state) for s in told if s.in_reply_to is None)
    assert later == [
        ("P-1", "pending"),  # version 2
        ("P-1", "recalled"),
        ("P-2", "recalled"),
        ("P-3", "pending"),  # version 2
        ("P-3", "recalled"),
    ]
    assert len({s.event_id for s in told}) == 9
    assert publisher.publish_due().published == 0  # nothing is told twice


@PREFETCH
def test_a_refused_message_is_answered_dead_lettered_and_listed_and_the_rest_goes_on(
    tmp_path: Path, open_broker: Opener, prefetch: int
) -> None:
    names = Names()
    broker = open_broker(prefetch=prefetch)
    intake, publisher = rig(tmp_path, broker, names)
    payments = names.payments
    bad = order("P-1")
    body = build_message(bad).replace(CPR.encode(), b"3213901234")  # no such birth date
    broker.declare(QueueSpec(payments, max_priority=9))
    broker.publish(payments, body, message_id=bad.header.message_id)
    broker.publish(payments, b"<not xml", message_id="junk")
    send(broker, payments, order("P-2"))

    result = intake.take()
    assert (result.taken, result.refused) == (1, 2)
    publisher.publish_due()
    (rejected,) = [s for s in statuses(broker, names.reply_of("KY")) if s.state == "rejected"]
    assert rejected.in_reply_to == bad.header.message_id
    assert rejected.findings and "3213901234" not in repr(rejected)
    assert "/PaymentOrder/Recipient/CPR" in (rejected.findings[0].where or "")
    dead = broker.get(f"{payments}.dead", wait=2.0)
    assert dead is not None
    broker.ack(dead)
    dead2 = broker.get(f"{payments}.dead", wait=2.0)
    assert dead2 is not None and {dead.body, dead2.body} == {body, b"<not xml"}
    broker.ack(dead2)
    listed = intake.journal.errors()
    assert len(listed) == 2 and all("3213901234" not in repr(e) for e in listed)


@PREFETCH
def test_a_message_delivered_again_has_no_second_effect(
    tmp_path: Path, open_broker: Opener, prefetch: int
) -> None:
    names = Names()
    broker = open_broker(prefetch=prefetch)
    intake, publisher = rig(tmp_path, broker, names)
    payments = names.payments
    message = order("P-1")
    send(broker, payments, message)
    send(broker, payments, message)  # the sender published it twice (same message id)
    result = intake.take()
    assert (result.taken, result.repeated) == (1, 1)
    assert len(intake.journal.find_items("KY:P-1", "tok")) == 1
    assert publisher.publish_due().published == 1


@PREFETCH
def test_a_straks_message_overtakes_a_flood_of_normal_ones(
    tmp_path: Path, open_broker: Opener, prefetch: int
) -> None:
    names = Names()
    broker = open_broker(prefetch=prefetch)
    intake, _ = rig(tmp_path, broker, names)
    payments = names.payments
    for n in range(300):
        send(broker, payments, order(f"N-{n}"))
    straks = order("STRAKS-1", priority=Priority.STRAKS)
    send(broker, payments, straks)
    assert intake.take(max_messages=5).taken == 5
    taken = intake.journal.transmissions(kind="tok-payments")
    first = min(taken, key=lambda tx: tx.id)
    assert first.meta["message_id"] == straks.header.message_id
    assert len(taken) == 5


def test_claims_and_effectuations_are_journaled_and_answered(
    tmp_path: Path, open_broker: Opener
) -> None:
    names = Names()
    broker = open_broker()
    intake, publisher = rig(tmp_path, broker, names)
    claims = names.claims
    claim = ClaimCreate(
        header(sender="KP"),
        "C-7",
        Party(PartyKind.CPR, CPR),
        "TILBAGEBET",
        1_000_00,
        order("x").disposition_date.replace(month=1),
        order("x").disposition_date,
        order("x").disposition_date,
        order("x").disposition_date.replace(year=2027),
        (SubClaim("C-7a", "A", 600_00), SubClaim("C-7b", "B", 400_00)),
    )
    send(broker, claims, claim)
    # A claim sent to the payments queue is refused: each queue carries its own interface.
    wrong = dataclasses.replace(claim, header=header(sender="KP"))
    send(broker, names.payments, wrong)
    result = intake.take()
    assert (result.taken, result.refused) == (1, 1)
    (item,) = intake.journal.find_items("KP:claim:C-7", "tok")
    assert (item.state, item.amount_ore) == ("received", 1_000_00)
    publisher.publish_due()
    told = {s.in_reply_to: s for s in statuses(broker, names.reply_of("KP"))}
    assert told[claim.header.message_id].state == "received"
    assert told[wrong.header.message_id].state == "rejected"
    assert told[wrong.header.message_id].findings[0].code == "tok.queue"


@PREFETCH
def test_a_message_that_breaks_the_reader_is_listed_then_dead_lettered_and_the_rest_goes_on(
    tmp_path: Path, open_broker: Opener, prefetch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = Names()
    broker = open_broker(prefetch=prefetch)
    intake, _ = rig(tmp_path, broker, names)
    payments = names.payments
    real = intake_module.apply_payment_message

    def breaks_on_p1(journal, tx, message, places):  # type: ignore[no-untyped-def]
        if message.payment_id == "P-1":
            raise ValueError("a bug meets P-1")
        return real(journal, tx, message, places)

    def filing_breaks_on_p1(message, place):  # type: ignore[no-untyped-def]
        if message.payment_id == "P-1":
            raise ValueError("a bug meets P-1 (filed in a batch)")
        return ordered_payment(message, place)

    monkeypatch.setattr(intake_module, "apply_payment_message", breaks_on_p1)
    # Broken both ways: filed with the batch, and (the fallback) alone.
    monkeypatch.setattr(filing_module, "ordered_payment", filing_breaks_on_p1)
    send(broker, payments, order("P-1"))
    send(broker, payments, order("P-2"))
    result = intake.take()
    assert (result.taken, result.failed) == (1, MAX_ATTEMPTS_PER_RUN)
    assert intake.journal.find_items("KY:P-1", "tok") == []
    (listed,) = intake.journal.errors()
    assert "a bug meets P-1" in listed.findings[0].message
    dead = broker.get(f"{payments}.dead", wait=2.0)
    assert dead is not None and b"P-1" in dead.body
    broker.ack(dead)


class InFlight:
    """A broker that, as RabbitMQ does, is still sending a put-back message when it is asked
    next: for one look it is neither at hand nor counted in the queue's depth."""

    def __init__(self, broker: MessageBroker) -> None:
        self.broker = broker
        self.in_flight: set[str] = set()

    def requeue(self, delivery: Delivery) -> None:
        self.broker.requeue(delivery)
        self.in_flight.add(delivery.queue)

    def depth(self, queue: str) -> int:
        return 0 if queue in self.in_flight else self.broker.depth(queue)

    def get(self, queue: str, wait: float = 0.0) -> Delivery | None:
        if queue in self.in_flight and wait == 0.0:
            return None
        self.in_flight.discard(queue)
        return self.broker.get(queue, wait=wait)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.broker, name)


def test_a_message_put_back_is_waited_for_while_the_broker_sends_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = Names()
    broker = InFlight(SqliteBroker(tmp_path / "broker.sqlite", prefetch=20))
    intake, _ = rig(tmp_path, cast(MessageBroker, broker), names)
    broken = [True]  # on the first delivery, both ways (filed in a batch, and alone)

    def filing_breaks(message, place):  # type: ignore[no-untyped-def]
        if broken[0]:
            raise ValueError("a passing fault (filed in a batch)")
        return ordered_payment(message, place)

    def breaks_once(journal, tx, message, places):  # type: ignore[no-untyped-def]
        broken[0] = False
        raise ValueError("a passing fault")

    monkeypatch.setattr(filing_module, "ordered_payment", filing_breaks)
    monkeypatch.setattr(intake_module, "apply_payment_message", breaks_once)
    send(broker.broker, names.payments, order("P-1"))
    result = intake.take()
    assert (result.taken, result.failed) == (1, 1)
    assert len(intake.journal.find_items("KY:P-1", "tok")) == 1


class PushesAfterAck:
    """A broker that, as RabbitMQ does, pushes the next deliveries only after the acks have
    reached it: right after an ack nothing is at hand, and a get that waits finds them. It
    counts the depths asked, queue by queue."""

    def __init__(self, broker: MessageBroker) -> None:
        self.broker = broker
        self.pushing = False
        self.depths: dict[str, int] = {}

    def ack_many(self, deliveries: list[Delivery]) -> None:
        self.broker.ack_many(deliveries)
        self.pushing = True

    def get(self, queue: str, wait: float = 0.0) -> Delivery | None:
        if self.pushing and wait == 0.0:
            return None
        self.pushing = False
        return self.broker.get(queue, wait=wait)

    def depth(self, queue: str) -> int:
        self.depths[queue] = self.depths.get(queue, 0) + 1
        return self.broker.depth(queue)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.broker, name)


@pytest.mark.parametrize("count", [12, 10])  # the last batch part full, and full
def test_after_a_full_batch_the_next_push_is_waited_for_not_asked_for(
    tmp_path: Path, count: int
) -> None:
    """A batch that filled the window says more is likely waiting: the next get waits a
    moment for the broker's push instead of asking the queue's depth first (a round trip per
    batch). The depth still decides when a queue is done: once, at its end."""
    names = Names()
    broker = PushesAfterAck(SqliteBroker(tmp_path / "broker.sqlite", prefetch=5))
    intake, _ = rig(tmp_path, cast(MessageBroker, broker), names)
    for n in range(count):
        send(broker.broker, names.payments, order(f"P-{n}"))
    assert intake.take().taken == count
    assert broker.depths[names.payments] == 1
    assert len(intake.journal.transmissions(kind="tok-payments")) == count
    assert broker.broker.get(names.payments) is None


def test_a_prefetch_journals_several_messages_per_durable_commit(
    tmp_path: Path, open_broker: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = Names()
    broker = open_broker(prefetch=20)
    intake, publisher = rig(tmp_path, broker, names)
    commits: list[str] = []
    monkeypatch.setattr(intake_module, "crash_point", commits.append)
    orders = [order(f"P-{n}") for n in range(12)]
    for message in orders:
        send(broker, names.payments, message)
    send(broker, names.payments, orders[0])  # a copy, in the same batch as its original
    send(broker, names.payments, order("P-1"))  # P-1 again under a new message id
    result = intake.take(wait=2.0)
    assert (result.taken, result.repeated, result.refused) == (12, 1, 1)
    assert 1 <= len(commits) < 7  # batches, not a commit per message
    assert len(intake.journal.transmissions(kind="tok-payments")) == 12
    (listed,) = intake.journal.errors()
    assert listed.findings[0].code == "tok.payment.duplicate"
    assert publisher.publish_due().published == 13  # 12 receipts and one rejection
    assert broker.get(names.payments, wait=0.2) is None  # every one settled
    dead = broker.get(f"{names.payments}.dead", wait=2.0)
    assert dead is not None and b"P-1" in dead.body
    broker.ack(dead)


def test_a_batch_mixing_new_orders_a_redelivery_a_bad_message_and_a_change(
    tmp_path: Path, open_broker: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Orders are filed together; a run the journal refuses (it holds one of its messages)
    is taken one at a time; the rest of the batch goes on, in delivery order."""
    names = Names()
    broker = open_broker(prefetch=20)
    intake, _ = rig(tmp_path, broker, names)
    first = [order(f"P-{n}") for n in range(3)]
    for message in first:
        send(broker, names.payments, message)
    assert intake.take(wait=2.0).taken == 3
    commits: list[str] = []
    monkeypatch.setattr(intake_module, "crash_point", commits.append)
    send(broker, names.payments, order("P-3"))
    send(broker, names.payments, first[1])  # delivered again, after its commit
    send(broker, names.payments, order("P-4"))
    broker.publish(names.payments, b"<PaymentOrder", message_id="broken")
    send(broker, names.payments, PaymentChange(header(), "P-3", 450_00, None))
    send(broker, names.payments, order("P-5"))
    result = intake.take(wait=2.0)
    assert (result.taken, result.repeated, result.refused) == (4, 1, 1)
    assert len(commits) == 1  # one batch, one durable commit
    journal = intake.journal
    assert [i.state for i in journal.find_items("KY:P-3", "tok")] == ["recalled"]
    assert journal.find_items("KY:P-3~2", "tok")[0].amount_ore == 450_00
    assert [journal.find_items(f"KY:P-{n}", "tok")[0].state for n in (4, 5)] == [
        "pending",
        "pending",
    ]
    assert len(journal.transmissions(kind="tok-payments")) == 7
    (listed,) = journal.errors()
    assert listed.findings[0].code.startswith("tok.xml")
    assert broker.get(names.payments, wait=0.2) is None
