"""PymqiQueue against the stand-in pymqi (tests/fakes/pymqi.py): no real queue manager here.

What is pymqi's own: MQ options, queue attributes (BOTHRESH, BOQNAME), reason codes,
reconnects and a missing client. The protocol's behaviour is asserted once for both
implementations in tests/test_mq_contract.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tests.fakes import pymqi as fake
from toekgw.gateway.errors import GatewayError
from toekgw.gateway.transport.mq import QueueError, UnitOfWorkLost
from toekgw.gateway.transport.pymqi_queue import PymqiQueue

Q = "NKS.REQUEST"
R = "NKS.REPLY"


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[fake.Broker]:
    monkeypatch.setitem(sys.modules, "pymqi", fake)
    b = fake.reset()
    b.define(Q, bothresh=2, boqname="NKS.REQUEST.BOQ")
    b.define(R)
    b.define("NKS.REQUEST.BOQ")
    b.define("NKS.REPLY.BACKOUT")
    yield b


def session(**kw: object) -> PymqiQueue:
    args: dict[str, object] = {"user": "app", "password": "secret", "reconnect_delay": 0.0}
    args.update(kw)
    return PymqiQueue("QM1", "DEV.APP.SVRCONN", "127.0.0.1(1414)", **args)  # type: ignore[arg-type]


def test_puts_and_gets_use_syncpoint_and_wait_options(broker: fake.Broker) -> None:
    """The MQ options behind the contract's syncpoint and wait (tests/test_mq_contract.py),
    and the queue manager's own view of the messages."""
    with session() as a, session() as b:
        a.put(Q, b"bundle")
        assert broker.visible(Q) == []
        a.commit()
        assert broker.visible(Q) == [b"bundle"]
        m = b.get(Q, wait=1)
        assert m is not None and m.body == b"bundle"
        b.commit()
        assert broker.queues[Q] == []
    put_opts = [opts for op, (_q, opts, *_rest) in broker.calls if op == "put"]
    assert put_opts and all(o & fake.CMQC.MQPMO_SYNCPOINT for o in put_opts)
    gets = [args for op, args in broker.calls if op == "get"]
    assert all(o & fake.CMQC.MQGMO_SYNCPOINT and o & fake.CMQC.MQGMO_WAIT for _q, o, _w in gets)
    assert gets[-1][0] == Q and 900 <= gets[-1][2] <= 1000  # wait=1 s as WaitInterval in ms


def test_a_wait_is_never_shortened_to_whole_milliseconds(broker: fake.Broker) -> None:
    """WaitInterval is in milliseconds. The time left when the get is made is a hair under
    the wait asked for; truncated, a wait of 0.3 s became 299 ms and the get returned early
    (the contract's wait test failed on it in CI). It is rounded up."""
    with session() as s:
        assert s.get(Q, wait=0.3) is None
        assert s.get(Q, wait=0.0) is None
    waits = [args[2] for op, args in broker.calls if op == "get"]
    assert waits[0] == 300 and waits[-1] == 0


def test_poison_message_goes_to_the_queues_backout_queue(broker: fake.Broker) -> None:
    with session(backout_threshold=None) as s:  # take BOTHRESH=2, BOQNAME from the queue
        s.put(Q, b"poison")
        s.put(Q, b"next")
        s.commit()
        for _ in range(2):
            m = s.get(Q)
            assert m is not None and m.body == b"poison"
            s.backout()
        m = s.get(Q)
        assert m is not None and m.body == b"next"
        # The move was committed on its own; this unit of work holds only "next".
        s.backout()
        assert broker.visible("NKS.REQUEST.BOQ") == [b"poison"]
        assert broker.visible(Q) == [b"next"]


def test_poison_move_joins_a_unit_of_work_in_progress(broker: fake.Broker) -> None:
    with session(backout_threshold=1) as s:
        s.put(R, b"bad")
        s.put(Q, b"good")
        s.commit()
        assert s.get(R) is not None
        s.backout()
        s.put(Q, b"mine")  # uncommitted work: the move must not commit it
        assert s.get(R) is None
        assert broker.visible(Q) == [b"good"]
        s.commit()
        assert broker.visible(Q) == [b"good", b"mine"]
        assert broker.visible("NKS.REPLY.BACKOUT") == [b"bad"]


@pytest.mark.parametrize("reason", [2009, 2161, 2538])
def test_reconnect_and_retry_with_nothing_uncommitted(broker: fake.Broker, reason: int) -> None:
    with session() as s:
        s.put(Q, b"m")
        s.commit()
        broker.fail("get", reason)
        m = s.get(Q)
        assert m is not None and m.body == b"m"
        assert broker.connects == 2  # the first connect and one reconnect
        s.commit()


@pytest.mark.parametrize("reason", [2009, 2161])
def test_broken_connection_with_work_uncommitted(broker: fake.Broker, reason: int) -> None:
    with session() as s:
        s.put(Q, b"bundle")
        s.commit()
        assert s.get(Q) is not None
        broker.fail("put", reason)
        with pytest.raises(UnitOfWorkLost, match="backed out"):
            s.put(R, b"answer")
        assert broker.visible(R) == []
        again = s.get(Q)
        assert again is not None and again.backout_count == 1
        s.put(R, b"answer")
        s.commit()
        assert broker.visible(R) == [b"answer"]


def test_broken_commit_outcome_is_unknown(broker: fake.Broker) -> None:
    with session() as s:
        s.put(Q, b"m")
        broker.fail("commit", 2009)
        with pytest.raises(UnitOfWorkLost, match="may or may not"):
            s.commit()
        s.put(Q, b"m2")
        s.commit()
        assert broker.visible(Q) == [b"m2"]


def test_connect_retries_on_2538_then_gives_up(broker: fake.Broker) -> None:
    broker.fail("connect", 2538, times=2)
    with session(reconnect_attempts=3) as s:
        assert s.get(Q) is None
    broker.fail("connect", 2538, times=10)
    with pytest.raises(QueueError, match=r"unreachable \(MQRC 2538\) after 2 reconnects"):
        session(reconnect_attempts=2)


def test_2035_not_authorized_is_a_clear_error(broker: fake.Broker) -> None:
    with pytest.raises(QueueError) as info:
        session(password="wrong")
    text = str(info.value)
    assert "not authorized on queue manager QM1 (MQRC 2035" in text
    assert "CHLAUTH" in text and "DEV.APP.SVRCONN" in text
    assert broker.connects == 0


def test_2059_queue_manager_not_available_is_a_clear_error(broker: fake.Broker) -> None:
    broker.running = False
    with pytest.raises(QueueError) as info:
        session()
    assert "queue manager QM1 is not available at 127.0.0.1(1414) (MQRC 2059" in str(info.value)
    assert "listener" in str(info.value)


def test_other_reasons_are_reported_with_their_code(broker: fake.Broker) -> None:
    with session() as s, pytest.raises(QueueError, match=r"put to NOPE.*MQRC 2085"):
        s.put("NOPE", b"x")


def test_missing_pymqi_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pymqi", None)
    with pytest.raises(GatewayError, match=r"toek-gateway\[mq\]"):
        session()


class _NoMqClient:
    """A finder that fails like pymqi installed without IBM's client libraries."""

    def find_spec(self, name: str, path: object, target: object = None) -> None:
        if name == "pymqi":
            raise ImportError("libmqic_r.so: cannot open shared object file")
        return None


def test_pymqi_without_the_ibm_client_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "pymqi", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_NoMqClient(), *sys.meta_path])
    with pytest.raises(QueueError, match="cannot load IBM's MQ client libraries") as info:
        session()
    assert "LD_LIBRARY_PATH" in str(info.value)


def test_queue_attributes_are_inquired_once(broker: fake.Broker) -> None:
    with session(backout_threshold=None) as s:
        for n in range(3):
            s.put(Q, str(n).encode())
        s.commit()
        for _ in range(3):
            assert s.get(Q) is not None
        s.commit()
    assert [args for op, args in broker.calls if op == "inquire"] == [(Q, 22)]
