"""One contract for every MessageQueue: the embedded SQLite twin and IBM MQ through pymqi.

Each test runs against both through the ``open_queue`` fixture (tests/conftest.py):
``SqliteQueue`` on a file of the test's own, and ``PymqiQueue`` on the stand-in pymqi
(tests/fakes/pymqi.py), since no IBM MQ client can be installed here. A second session is a
second ``SqliteQueue`` on the same file, or a second connection to the same queue manager.

The contract is what the protocol's docstrings (``toekgw.gateway.transport.mq``) promise and
what the NemKonto and eIndkomst adapters rely on: puts and gets under syncpoint, the message
and correlation ids, FIFO order, a get that waits, ``commit`` / ``backout`` / ``close``, backout
counts and poison messages moved to the backout queue, and the errors for bad ids and a closed
session. What only one implementation has stays in its own file: SQLite across processes,
SIGKILL and its file layout (tests/test_sqlite_queue.py); pymqi's options, reason codes,
reconnects, queue attributes and missing client (tests/test_pymqi_queue.py).
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from tests.conftest import MQ_CONTRACT_QUEUES, QueueOpener
from toekgw.gateway.transport.mq import (
    ID_LENGTH,
    MessageQueue,
    QueueError,
    backout_queue_name,
    message_id,
)

Q, R, DEAD = MQ_CONTRACT_QUEUES
NONE_ID = b"\x00" * ID_LENGTH  # MQMI_NONE / MQCI_NONE


def test_both_implement_the_protocol(open_queue: QueueOpener) -> None:
    assert isinstance(open_queue(), MessageQueue)


def test_a_put_is_invisible_until_commit(open_queue: QueueOpener) -> None:
    a, b = open_queue(), open_queue()
    before = time.time()
    mid = a.put(Q, b"bundle")
    assert b.get(Q) is None  # not to another session
    assert a.get(Q) is None  # nor to its own
    a.commit()
    got = b.get(Q)
    assert got is not None
    assert (got.msg_id, got.correl_id, got.body, got.backout_count) == (mid, None, b"bundle", 0)
    assert before - 1 <= got.put_at <= time.time() + 1  # MQ's PutTime has hundredths
    b.commit()
    assert a.get(Q) is None and b.get(Q) is None


@pytest.mark.parametrize(
    "body", [b"", bytes(range(256)) * 4, os.urandom(1_000_000)], ids=["empty", "binary", "1MB"]
)
def test_the_body_comes_back_byte_for_byte(open_queue: QueueOpener, body: bytes) -> None:
    q = open_queue()
    q.put(Q, body)
    q.commit()
    got = q.get(Q)
    assert got is not None and got.body == body
    q.commit()


def test_backout_of_a_put_discards_it(open_queue: QueueOpener) -> None:
    a, b = open_queue(), open_queue()
    a.put(Q, b"one")
    a.backout()
    a.commit()  # commits nothing
    assert a.get(Q) is None and b.get(Q) is None


def test_a_given_message_id_is_kept_and_may_repeat(open_queue: QueueOpener) -> None:
    """A bundle sent again after a crash carries the id of its first send: the queue keeps
    both (the receiver drops the duplicate by id, as IBM MQ allows equal MsgIds)."""
    mid = message_id("bundle-7")
    assert len(mid) == ID_LENGTH and mid == message_id("bundle-7") != message_id("bundle-8")
    q = open_queue()
    assert q.put(Q, b"first send", msg_id=mid) == mid
    assert q.put(Q, b"sent again", msg_id=mid) == mid
    q.commit()
    got = [q.get(Q), q.get(Q)]
    assert [(m.msg_id, m.body, m.correl_id) for m in got if m is not None] == [
        (mid, b"first send", None),
        (mid, b"sent again", None),
    ]
    q.commit()


def test_generated_message_ids_are_new_and_unique(open_queue: QueueOpener) -> None:
    q = open_queue()
    ids = [q.put(Q, str(n).encode()) for n in range(50)]
    q.commit()
    assert all(isinstance(i, bytes) and len(i) == ID_LENGTH and i != NONE_ID for i in ids)
    assert len(set(ids)) == len(ids)
    got = [q.get(Q) for _ in ids]
    assert [m.msg_id for m in got if m is not None] == ids


def test_the_correlation_id_travels_with_the_message(open_queue: QueueOpener) -> None:
    """An unusable answer is put on the error queue with the answer's own MsgId and CorrelId."""
    q = open_queue()
    mid = q.put(Q, b"answer", correl_id=message_id("bundle-7"))
    q.commit()
    got = q.get(Q)
    assert got is not None and got.correl_id == message_id("bundle-7")
    q.put(R, got.body, msg_id=got.msg_id, correl_id=got.correl_id)
    q.commit()
    moved = q.get(R)
    assert moved is not None
    assert (moved.msg_id, moved.correl_id, moved.body) == (mid, message_id("bundle-7"), b"answer")
    q.commit()


def test_an_all_zero_id_is_none(open_queue: QueueOpener) -> None:
    """MQMI_NONE asks the queue manager for a new MsgId; MQCI_NONE is no CorrelId."""
    q = open_queue()
    mid = q.put(Q, b"x", msg_id=NONE_ID, correl_id=NONE_ID)
    q.commit()
    assert len(mid) == ID_LENGTH and mid != NONE_ID
    got = q.get(Q)
    assert got is not None and (got.msg_id, got.correl_id) == (mid, None)
    q.commit()


@pytest.mark.parametrize("field", ["msg_id", "correl_id"])
@pytest.mark.parametrize(
    "bad", [b"short", b"x" * (ID_LENGTH + 1), "x" * ID_LENGTH], ids=["short", "long", "str"]
)
def test_an_id_that_is_not_24_bytes_is_refused(
    open_queue: QueueOpener, field: str, bad: object
) -> None:
    q = open_queue()
    with pytest.raises(ValueError, match=f"{field} must be 24 bytes"):
        q.put(Q, b"x", **{field: bad})  # type: ignore[arg-type]
    q.commit()
    assert q.get(Q) is None  # nothing was put


def test_gets_are_first_in_first_out(open_queue: QueueOpener) -> None:
    a, b = open_queue(), open_queue()
    for n in range(3):
        a.put(Q, f"a{n}".encode())
    a.commit()
    for n in range(3):
        b.put(Q, f"b{n}".encode())
    b.commit()
    a.put(Q, b"later")
    a.commit()
    got = [a.get(Q) for _ in range(8)]
    assert [m.body for m in got if m is not None] == [
        b"a0",
        b"a1",
        b"a2",
        b"b0",
        b"b1",
        b"b2",
        b"later",
    ]
    assert got[-1] is None
    a.commit()


def test_a_got_message_is_hidden_until_commit_removes_it(open_queue: QueueOpener) -> None:
    a, b = open_queue(), open_queue()
    a.put(Q, b"one")
    a.put(Q, b"two")
    a.commit()
    first = a.get(Q)
    assert first is not None and first.body == b"one"
    second = b.get(Q)  # "one" is held by a: b gets the next
    assert second is not None and second.body == b"two"
    assert b.get(Q) is None
    a.commit()
    b.backout()
    again = a.get(Q)
    assert again is not None and (again.body, again.backout_count) == (b"two", 1)
    a.commit()
    assert b.get(Q) is None and a.get(Q) is None


def test_backout_gives_the_message_back_in_its_place_counted(open_queue: QueueOpener) -> None:
    q = open_queue()
    ids = [q.put(Q, body) for body in (b"1", b"2", b"3")]
    q.commit()
    got = q.get(Q)
    assert got is not None and (got.body, got.backout_count) == (b"1", 0)
    q.backout()
    again = [q.get(Q) for _ in range(3)]
    assert [(m.msg_id, m.body, m.backout_count) for m in again if m is not None] == [
        (ids[0], b"1", 1),
        (ids[1], b"2", 0),
        (ids[2], b"3", 0),
    ]
    q.backout()
    last = [q.get(Q) for _ in range(3)]
    assert [(m.body, m.backout_count) for m in last if m is not None] == [
        (b"1", 2),
        (b"2", 1),
        (b"3", 1),
    ]
    q.commit()


def test_commit_after_a_get_removes_it_for_good(open_queue: QueueOpener) -> None:
    a = open_queue()
    a.put(Q, b"m")
    a.commit()
    assert a.get(Q) is not None
    a.commit()
    a.backout()  # backs out nothing: the get is committed
    a.close()
    b = open_queue()
    assert b.get(Q) is None


def test_close_without_commit_backs_out(open_queue: QueueOpener) -> None:
    """Deliberately, although a normal MQDISC commits: a program that stops without
    committing must not have consumed a message."""
    a = open_queue()
    a.put(Q, b"m")
    a.commit()
    got = a.get(Q)
    assert got is not None
    a.put(R, b"answer, never committed")
    a.close()
    a.close()  # a second close does nothing
    b = open_queue()
    again = b.get(Q)
    assert again is not None
    assert (again.msg_id, again.body, again.backout_count) == (got.msg_id, b"m", 1)
    assert b.get(R) is None


def test_a_closed_session_refuses(open_queue: QueueOpener) -> None:
    q = open_queue()
    q.close()
    with pytest.raises(QueueError, match="closed"):
        q.put(Q, b"x")
    with pytest.raises(QueueError, match="closed"):
        q.get(Q)
    with pytest.raises(QueueError, match="closed"):
        q.commit()
    with pytest.raises(QueueError, match="closed"):
        q.backout()
    assert open_queue().get(Q) is None


def test_a_get_and_a_put_form_one_unit_of_work(open_queue: QueueOpener) -> None:
    a, b = open_queue(), open_queue()
    a.put(Q, b"request")
    a.commit()
    got = a.get(Q)
    assert got is not None
    a.put(R, b"answer")
    a.backout()  # both undone
    assert b.get(R) is None
    got = a.get(Q)
    assert got is not None and got.backout_count == 1
    a.put(R, b"answer")
    assert b.get(R) is None
    a.commit()  # both done
    assert b.get(Q) is None
    answer = b.get(R)
    assert answer is not None and answer.body == b"answer"
    b.commit()


def test_a_get_on_an_empty_queue_waits_about_the_wait(open_queue: QueueOpener) -> None:
    q = open_queue()
    t0 = time.monotonic()
    assert q.get(Q) is None
    assert q.get(Q, wait=-1.0) is None  # a negative wait is no wait
    assert time.monotonic() - t0 < 1.0
    t0 = time.monotonic()
    assert q.get(Q, wait=0.3) is None
    assert 0.3 <= time.monotonic() - t0 < 2.0


def test_a_get_waits_for_a_message_committed_meanwhile(open_queue: QueueOpener) -> None:
    q = open_queue()

    def later() -> None:
        time.sleep(0.3)
        other = open_queue()  # a session belongs to one thread: opened and closed here
        other.put(Q, b"late")
        other.commit()
        other.close()

    thread = threading.Thread(target=later)
    t0 = time.monotonic()
    thread.start()
    got = q.get(Q, wait=10)
    thread.join()
    assert got is not None and got.body == b"late"
    assert time.monotonic() - t0 < 5
    q.commit()


def test_a_poison_message_goes_to_the_backout_queue(open_queue: QueueOpener) -> None:
    q = open_queue(backout_threshold=3)
    mid = q.put(Q, b"poison", correl_id=message_id("c"))
    q.put(Q, b"fine")
    q.commit()
    counts = []
    for _ in range(3):
        m = q.get(Q)
        assert m is not None and m.body == b"poison"
        counts.append(m.backout_count)
        q.backout()
    assert counts == [0, 1, 2]
    m = q.get(Q)  # the threshold reached: the poison message does not come back
    assert m is not None and m.body == b"fine"
    q.commit()
    assert q.get(Q) is None
    poisoned = q.get(backout_queue_name(Q))
    assert poisoned is not None
    assert (poisoned.msg_id, poisoned.correl_id, poisoned.body) == (
        mid,
        message_id("c"),
        b"poison",
    )
    q.commit()
    assert q.get(backout_queue_name(Q)) is None


def test_a_configured_backout_queue_and_a_close_that_counts(open_queue: QueueOpener) -> None:
    settings: dict[str, object] = {"backout_threshold": 1, "backout_queues": {R: DEAD}}
    a = open_queue(**settings)
    a.put(R, b"bad")
    a.commit()
    assert a.get(R) is not None
    a.close()  # backs out: the count reaches the threshold of 1
    b = open_queue(**settings)
    assert b.get(R) is None
    assert b.get(backout_queue_name(R)) is None
    dead = b.get(DEAD)
    assert dead is not None and dead.body == b"bad"
    b.commit()
