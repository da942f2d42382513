"""One contract for every MessageBroker: the embedded SQLite twin and RabbitMQ over pika.

Each test runs against both; the RabbitMQ node is a private one started for the session
(tests/servers.py). Queue names are unique per test, so tests share the node safely.
"""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import Opener
from toekgw.gateway.transport.amqp import (
    BrokerError,
    DeliveryStateError,
    MessageBroker,
    PublishRefused,
    QueueSpec,
    dead_letter_name,
)

WAIT = 5.0


@pytest.fixture
def queue() -> str:
    return f"test.{uuid.uuid4().hex[:12]}"


def test_both_implement_the_protocol(open_broker: Opener) -> None:
    assert isinstance(open_broker(), MessageBroker)


def test_publish_then_get_carries_body_and_properties(open_broker: Opener, queue: str) -> None:
    broker = open_broker()
    broker.declare(QueueSpec(queue))
    broker.publish(queue, b"\x00body\xff", message_id="m-1", type="T", headers={"token": "abc"})
    got = broker.get(queue, wait=WAIT)
    assert got is not None
    assert (got.body, got.message_id, got.type, got.headers["token"]) == (
        b"\x00body\xff",
        "m-1",
        "T",
        "abc",
    )
    assert not got.redelivered
    broker.ack(got)
    assert broker.get(queue, wait=0.2) is None


def test_publish_to_a_missing_queue_is_refused(open_broker: Opener, queue: str) -> None:
    with pytest.raises(PublishRefused):
        open_broker().publish(queue, b"x")


def test_fifo_without_priorities(open_broker: Opener, queue: str) -> None:
    broker = open_broker()
    broker.declare(QueueSpec(queue))
    for n in range(5):
        broker.publish(queue, str(n).encode(), priority=9)
    bodies = []
    for _ in range(5):
        got = broker.get(queue, wait=WAIT)
        assert got is not None
        bodies.append(got.body)
        broker.ack(got)
    assert bodies == [b"0", b"1", b"2", b"3", b"4"]


def test_higher_priority_first_then_oldest(open_broker: Opener, queue: str) -> None:
    broker = open_broker()
    broker.declare(QueueSpec(queue, max_priority=5))
    for body, priority in [(b"low1", 1), (b"high1", 5), (b"low2", 1), (b"high2", 9), (b"mid", 3)]:
        broker.publish(queue, body, priority=priority)
    order = []
    for _ in range(5):
        got = broker.get(queue, wait=WAIT)
        assert got is not None
        order.append(got.body)
        broker.ack(got)
    # 9 is above max_priority 5: it counts as 5, after the older high1.
    assert order == [b"high1", b"high2", b"mid", b"low1", b"low2"]


def test_unacked_delivery_comes_back_when_the_session_ends(open_broker: Opener, queue: str) -> None:
    first = open_broker()
    first.declare(QueueSpec(queue))
    first.publish(queue, b"once", message_id="m-2")
    got = first.get(queue, wait=WAIT)
    assert got is not None and not got.redelivered
    first.close()
    second = open_broker()
    again = second.get(queue, wait=WAIT)
    assert again is not None
    assert (again.body, again.message_id, again.redelivered) == (b"once", "m-2", True)
    second.ack(again)


def test_requeue_redelivers(open_broker: Opener, queue: str) -> None:
    broker = open_broker()
    broker.declare(QueueSpec(queue))
    broker.publish(queue, b"again")
    got = broker.get(queue, wait=WAIT)
    assert got is not None
    broker.requeue(got)
    again = broker.get(queue, wait=WAIT)
    assert again is not None and again.body == b"again" and again.redelivered
    broker.ack(again)


def test_reject_dead_letters(open_broker: Opener, queue: str) -> None:
    broker = open_broker()
    broker.declare(QueueSpec(queue))
    broker.publish(queue, b"poison", message_id="m-3", type="X", headers={"a": "b"})
    got = broker.get(queue, wait=WAIT)
    assert got is not None
    broker.reject(got)
    assert broker.get(queue, wait=0.2) is None
    dead = broker.get(dead_letter_name(queue), wait=WAIT)
    assert dead is not None
    assert (dead.body, dead.message_id, dead.type, dead.headers["a"]) == (
        b"poison",
        "m-3",
        "X",
        "b",
    )
    assert dead.headers["x-first-death-reason"] == "rejected"
    assert dead.headers["x-first-death-queue"] == queue
    broker.ack(dead)


def test_reject_without_dead_letter_queue_drops(open_broker: Opener, queue: str) -> None:
    broker = open_broker()
    broker.declare(QueueSpec(queue, dead_letter=""))
    broker.publish(queue, b"gone")
    got = broker.get(queue, wait=WAIT)
    assert got is not None
    broker.reject(got)
    assert broker.get(queue, wait=0.2) is None


def test_one_unsettled_delivery_at_a_time(open_broker: Opener, queue: str) -> None:
    broker = open_broker()
    broker.declare(QueueSpec(queue))
    broker.publish(queue, b"1")
    broker.publish(queue, b"2")
    got = broker.get(queue, wait=WAIT)
    assert got is not None
    with pytest.raises(DeliveryStateError):
        broker.get(queue)
    broker.ack(got)
    with pytest.raises(DeliveryStateError):
        broker.ack(got)
    second = broker.get(queue, wait=WAIT)
    assert second is not None and second.body == b"2"
    broker.ack(second)


def test_a_prefetch_holds_that_many_and_each_is_settled_alone(
    open_broker: Opener, queue: str
) -> None:
    broker = open_broker(prefetch=3)
    assert broker.prefetch == 3
    broker.declare(QueueSpec(queue))
    for body in (b"1", b"2", b"3", b"4"):
        broker.publish(queue, body)
    held = [broker.get(queue, wait=WAIT) for _ in range(3)]
    assert [d.body for d in held if d is not None] == [b"1", b"2", b"3"]
    with pytest.raises(DeliveryStateError):
        broker.get(queue)
    first, second, third = (d for d in held if d is not None)
    broker.ack(second)  # out of order: each settles alone
    broker.reject(third)
    broker.requeue(first)
    with pytest.raises(DeliveryStateError):
        broker.ack(second)
    bodies = []
    while (got := broker.get(queue, wait=0.5)) is not None:
        bodies.append((got.body, got.redelivered))
        broker.ack(got)
    assert sorted(bodies) == [(b"1", True), (b"4", False)]
    dead = broker.get(dead_letter_name(queue), wait=WAIT)
    assert dead is not None and dead.body == b"3"
    broker.ack(dead)


def test_unsettled_deliveries_of_a_prefetch_come_back_when_the_session_ends(
    open_broker: Opener, queue: str
) -> None:
    first = open_broker(prefetch=2)
    first.declare(QueueSpec(queue))
    first.publish(queue, b"1")
    first.publish(queue, b"2")
    one, two = first.get(queue, wait=WAIT), first.get(queue, wait=WAIT)
    assert one is not None and two is not None
    first.ack(one)
    first.close()
    second = open_broker()
    again = second.get(queue, wait=WAIT)
    assert again is not None and (again.body, again.redelivered) == (b"2", True)
    second.ack(again)
    assert second.get(queue, wait=0.2) is None


def test_two_consumers_never_share_a_message(open_broker: Opener, queue: str) -> None:
    a, b = open_broker(), open_broker()
    a.declare(QueueSpec(queue))
    a.publish(queue, b"1")
    a.publish(queue, b"2")
    got_a = a.get(queue, wait=WAIT)
    got_b = b.get(queue, wait=WAIT)
    assert got_a is not None and got_b is not None
    assert {got_a.body, got_b.body} == {b"1", b"2"}
    a.ack(got_a)
    b.ack(got_b)


def test_redeclare_with_other_arguments_is_refused(open_broker: Opener, queue: str) -> None:
    broker = open_broker()
    broker.declare(QueueSpec(queue, max_priority=3))
    broker.declare(QueueSpec(queue, max_priority=3))  # idempotent
    with pytest.raises(BrokerError):
        broker.declare(QueueSpec(queue, max_priority=7))
    broker.publish(queue, b"still usable")  # the session survives the refusal
    got = broker.get(queue, wait=WAIT)
    assert got is not None
    broker.ack(got)


def test_ack_many_settles_a_batch_and_leaves_the_rest_held(open_broker: Opener, queue: str) -> None:
    broker = open_broker(prefetch=4)
    broker.declare(QueueSpec(queue))
    for body in (b"1", b"2", b"3", b"4"):
        broker.publish(queue, body)
    held = [d for d in (broker.get(queue, wait=WAIT) for _ in range(4)) if d is not None]
    assert [d.body for d in held] == [b"1", b"2", b"3", b"4"]
    broker.ack_many([held[0], held[2]])  # not contiguous: 2 stays held
    broker.ack_many([held[3]])  # a "multiple" ack would take 2 with it
    with pytest.raises(DeliveryStateError):
        broker.ack_many([held[1], held[1]])
    with pytest.raises(DeliveryStateError):
        broker.ack_many([held[0]])
    broker.requeue(held[1])
    again = broker.get(queue, wait=WAIT)
    assert again is not None and (again.body, again.redelivered) == (b"2", True)
    broker.ack_many([again])
    assert broker.get(queue, wait=0.2) is None


def test_depth_counts_the_messages_waiting_not_those_held(open_broker: Opener, queue: str) -> None:
    broker = open_broker()
    broker.declare(QueueSpec(queue))
    assert broker.depth(queue) == 0
    for body in (b"1", b"2", b"3"):
        broker.publish(queue, body)
    assert broker.depth(queue) == 3
    got = broker.get(queue, wait=WAIT)
    assert got is not None
    assert broker.depth(queue) == 2  # held by this session (prefetch 1): not waiting
    broker.ack(got)
    for _ in range(2):
        got = broker.get(queue, wait=WAIT)
        assert got is not None
        broker.ack(got)
    assert broker.depth(queue) == 0
