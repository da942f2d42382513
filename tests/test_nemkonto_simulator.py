"""The NemKonto simulator in-process: answers, decisions, duplicates, faults, crash replay."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.nemkonto_data import bundle, cpr, payment
from toekgw.formats.nemkonto import (
    Account,
    AnswerType,
    BundleAnswer,
    PaymentOrder,
    PaymentState,
    RecipientId,
    RecipientKind,
    build_bundle,
    parse_answer,
)
from toekgw.gateway.transport.mq import SqliteQueue, message_id
from toekgw.simulators.nemkonto import (
    DEFAULT_REPLY_QUEUE as REPLY,
)
from toekgw.simulators.nemkonto import (
    DEFAULT_REQUEST_QUEUE as REQUEST,
)
from toekgw.simulators.nemkonto import (
    NemKontoSimulator,
    SimulatorScript,
)
from toekgw.simulators.nemkonto.ledger import Decision, Ledger
from toekgw.simulators.nemkonto.simulator import _drawer


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[SqliteQueue]:
    with SqliteQueue(tmp_path / "q.sqlite") as q:
        yield q


def make_sim(queue: SqliteQueue, tmp_path: Path, **script: object) -> NemKontoSimulator:
    script.setdefault("bank_delay", 3600.0)  # no Retursvar 8 unless a test asks for it
    return NemKontoSimulator(
        queue,
        tmp_path / "ledger.sqlite",
        SimulatorScript(**script),  # type: ignore[arg-type]
        clock=Clock(),
        sleep=lambda _s: None,
    )


def send(queue: SqliteQueue, data: bytes, key: str) -> bytes:
    mid = queue.put(REQUEST, data, msg_id=message_id(key))
    queue.commit()
    return mid


def answers(queue: SqliteQueue) -> list[tuple[BundleAnswer, bytes, bytes | None]]:
    return [(parse_answer(m.body), m.msg_id, m.correl_id) for m in queue.browse(REPLY)]


def test_answers_1_then_2_then_7_with_decisions(queue: SqliteQueue, tmp_path: Path) -> None:
    complete = PaymentOrder(
        "C1", 700, RecipientId(RecipientKind.CPR, cpr(9)), account=Account("1111", "22")
    )
    payments = [payment(1), payment(2), payment(3), payment(4, cpr_number="3113001234"), complete]
    mid = send(queue, build_bundle(bundle(payments)), "b1")
    sim = make_sim(
        queue,
        tmp_path,
        reject_cprs=frozenset({cpr(2)}),
        no_account=frozenset({cpr(3), cpr(9)}),
        no_account_action="cheque",
    )
    assert sim.drain() == 1
    got = answers(queue)
    assert [a.answer_type for a, _, _ in got] == [
        AnswerType.RECEIVED,
        AnswerType.RECEIVE_CONTROL,
        AnswerType.COMPLETION_FAILED,
    ]
    assert all(correl == mid for _, _, correl in got)
    received, control, failed = (a for a, _, _ in got)
    assert received.bundle_id == "B-0001" and not received.bundle_rejected
    assert received.ref_to_message_id == control.ref_to_message_id == "B-0001"
    statuses = {p.payment_id: (p.status, p.error_code) for p in control.payments}
    assert statuses == {
        "P0000000001": (PaymentState.ACCEPTED, None),
        "P0000000002": (PaymentState.REJECTED, "CPR_REJECTED"),
        "P0000000003": (PaymentState.ACCEPTED, None),
        "P0000000004": (PaymentState.REJECTED, "INVALID_RECIPIENT"),
        "C1": (PaymentState.ACCEPTED, None),  # complete: has an account, no 7
    }
    # Each payment status repeats the payment (OrgnlTxInf): amount, recipient, completeness.
    originals = {p.payment_id: p.original for p in control.payments}
    assert all(o is not None and o.amount_ore > 0 for o in originals.values())
    c1 = originals["C1"]
    assert c1 is not None and not c1.incomplete and c1.account is not None
    assert [(p.payment_id, p.status) for p in failed.payments] == [
        ("P0000000003", PaymentState.CHEQUE)
    ]
    assert "3113001234" not in (control.payments[3].error_text or "")
    assert set(sim.ledger.paid()) == {"P0000000001", "P0000000003", "C1"}
    assert queue.depth(REQUEST) == 0


def test_unreadable_bundle_gets_answer_0_and_nothing_is_paid(
    queue: SqliteQueue, tmp_path: Path
) -> None:
    good = build_bundle(bundle([payment(1)], bundle_id="B-X"))
    bad_sum = good.replace(b"<swift:CtrlSum>100.01<", b"<swift:CtrlSum>100.02<")
    mid1 = send(queue, bad_sum, "bad-sum")
    send(queue, b"this is not XML", "garbage")
    sim = make_sim(queue, tmp_path)
    assert sim.drain() == 2
    (a1, _, c1), (a2, _, _) = answers(queue)
    assert a1.answer_type is AnswerType.UNREADABLE and a1.bundle_id == "B-X" and c1 == mid1
    assert a1.error_code == "nemkonto.bundle.header.control_sum"
    assert "CtrlSum" in (a1.error_text or "")
    assert a2.answer_type is AnswerType.UNREADABLE and a2.bundle_id is None
    assert sim.ledger.paid() == {} and sim.stats.unreadable == 2


def test_bundle_over_the_cap_is_refused_whole(queue: SqliteQueue, tmp_path: Path) -> None:
    send(queue, build_bundle(bundle([payment(1), payment(2), payment(3)])), "big")
    sim = make_sim(queue, tmp_path, max_payments=2)
    sim.drain()
    (a, _, _), *_ = answers(queue)
    assert a.answer_type is AnswerType.UNREADABLE and "more than 2" in (a.error_text or "")


def test_duplicate_bundle_is_answered_again_and_paid_once(
    queue: SqliteQueue, tmp_path: Path
) -> None:
    data = build_bundle(bundle([payment(1), payment(2)]))
    send(queue, data, "first")
    send(queue, data, "resend")
    sim = make_sim(queue, tmp_path)
    assert sim.drain() == 2
    got = answers(queue)
    assert [a.answer_type for a, _, _ in got] == [1, 2, 1, 2]
    assert got[0][0] == got[2][0] and got[1][0] == got[3][0]
    assert got[0][1] == got[2][1]  # the same answer message id: a duplicate by id
    assert sim.ledger.paid() == {
        "P0000000001": (10_001, "ACCEPTED"),
        "P0000000002": (10_002, "ACCEPTED"),
    }
    assert sim.ledger.deliveries() == {"B-0001": 2}
    assert (sim.stats.bundles, sim.stats.duplicates) == (1, 1)


def test_a_payment_id_paid_before_is_rejected_in_another_bundle(
    queue: SqliteQueue, tmp_path: Path
) -> None:
    send(queue, build_bundle(bundle([payment(1)], bundle_id="B-1")), "1")
    send(queue, build_bundle(bundle([payment(1), payment(2)], bundle_id="B-2")), "2")
    sim = make_sim(queue, tmp_path)
    sim.drain()
    control = [a for a, _, _ in answers(queue) if a.answer_type is AnswerType.RECEIVE_CONTROL]
    assert [(p.payment_id, p.error_code) for p in control[1].payments] == [
        ("P0000000001", "DUPLICATE_PAYMENT"),
        ("P0000000002", None),
    ]
    assert sim.ledger.paid()["P0000000001"][0] == 10_001


def test_seeded_random_share_is_reproducible(queue: SqliteQueue, tmp_path: Path) -> None:
    data = build_bundle(bundle([payment(n) for n in range(200)]))
    send(queue, data, "b")
    sim = make_sim(queue, tmp_path, reject_share=0.25, seed=1)
    sim.drain()
    rejected = {
        p.payment_id
        for a, _, _ in answers(queue)
        if a.answer_type is AnswerType.RECEIVE_CONTROL
        for p in a.payments
        if p.status is PaymentState.REJECTED
    }
    assert 25 <= len(rejected) <= 75
    other = tmp_path / "other"
    other.mkdir()
    with SqliteQueue(other / "q.sqlite") as q2:
        send(q2, data, "b")
        sim2 = make_sim(q2, other, reject_share=0.25, seed=1)
        sim2.drain()
        again = {
            p.payment_id
            for a, _, _ in answers(q2)
            if a.answer_type is AnswerType.RECEIVE_CONTROL
            for p in a.payments
            if p.status is PaymentState.REJECTED
        }
    assert again == rejected


@pytest.mark.parametrize("seed", [0, 1, 17, -5, 2**40])
def test_the_draw_is_a_hash_of_seed_and_payment_id(seed: int) -> None:
    # The rejections chosen at random are those the SHA-256 of "{seed}:{id}" chooses: answers
    # stay the same in any process, whoever seeds a generator.
    draw = _drawer(seed)
    ids = [f"29189846:{n:018d}" for n in range(2_000)] + ["", "x" * 35, "æøå:Ü-1"]
    expected = [
        (int.from_bytes(hashlib.sha256(f"{seed}:{i}".encode()).digest()[:8]) >> 11) / 2**53
        for i in ids
    ]
    assert [draw(i) for i in ids] == expected


def test_the_draw_is_uniform_and_differs_by_seed() -> None:
    ids = [f"29189846:{n:018d}" for n in range(20_000)]
    one, other = _drawer(17), _drawer(18)
    draws = [one(i) for i in ids]
    assert all(0.0 <= d < 1.0 for d in draws)
    # a share is rejected as the share says: 2 % of 20,000 is 400, 3 standard deviations ~ 59
    assert abs(sum(d < 0.02 for d in draws) - 400) < 60
    assert abs(sum(d < 0.5 for d in draws) - 10_000) < 425
    assert sum(d == other(i) for d, i in zip(draws, ids, strict=True)) == 0


def test_bank_answers_follow_after_the_delay(queue: SqliteQueue, tmp_path: Path) -> None:
    send(queue, build_bundle(bundle([payment(1), payment(2), payment(3)])), "b")
    sim = make_sim(
        queue,
        tmp_path,
        bank_delay=3600,
        reject_cprs=frozenset({cpr(2)}),
        no_account=frozenset({cpr(3)}),
        no_account_action="error-account",
    )
    sim.drain()
    assert sim.send_bank_answers() == 0
    assert isinstance(sim.clock, Clock)
    sim.clock.now += dt.timedelta(hours=1)
    assert sim.send_bank_answers() == 1
    assert sim.send_bank_answers() == 0
    last, _, correl = answers(queue)[-1]
    assert last.answer_type is AnswerType.RECEIVED_BY_BANK and correl is None
    assert [p.payment_id for p in last.payments] == ["P0000000001"]
    assert sim.ledger.paid()["P0000000003"] == (10_003, "ERROR_ACCOUNT")


def test_fault_duplicate_and_out_of_order_answers(queue: SqliteQueue, tmp_path: Path) -> None:
    send(queue, build_bundle(bundle([payment(1)])), "b")
    sim = make_sim(queue, tmp_path, duplicate_answers=True, out_of_order=True)
    sim.drain()
    got = answers(queue)
    assert [a.answer_type for a, _, _ in got] == [2, 2, 1, 1]
    assert got[0][1] == got[1][1]


def test_fault_delay_waits_before_answering(queue: SqliteQueue, tmp_path: Path) -> None:
    slept: list[float] = []
    send(queue, build_bundle(bundle([payment(1)])), "b")
    sim = make_sim(queue, tmp_path, delay=2.5)
    sim.sleep = slept.append
    sim.drain()
    assert slept == [2.5]


def test_fault_poison_message_ends_on_the_error_queue(queue: SqliteQueue, tmp_path: Path) -> None:
    send(queue, build_bundle(bundle([payment(1)], bundle_id="POISON")), "p")
    send(queue, build_bundle(bundle([payment(2)], bundle_id="FINE")), "f")
    sim = make_sim(queue, tmp_path, poison_bundles=frozenset({"POISON"}))
    handled = 0
    while sim.step():
        handled += 1
    assert sim.stats.poisoned == queue.backout_threshold == 3
    assert handled == 4
    assert [m.backout_count for m in queue.browse(queue.error_queue(REQUEST))] == [3]
    assert {a.bundle_id for a, _, _ in answers(queue)} == {"FINE"}
    assert "P0000000001" not in sim.ledger.paid()


def test_crash_between_ledger_and_commit_replays_without_paying_twice(
    queue: SqliteQueue, tmp_path: Path
) -> None:
    send(queue, build_bundle(bundle([payment(1), payment(2)])), "b")
    sim = make_sim(queue, tmp_path, bank_delay=0.0)
    real_put = sim._put_answers
    calls = {"n": 0}

    def crash_once(*args: object, **kw: object) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            sim.queue.put(REPLY, b"half an answer")
            raise RuntimeError("killed")
        real_put(*args, **kw)  # type: ignore[arg-type]

    sim._put_answers = crash_once  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="killed"):
        sim.step()
    assert queue.browse(REPLY) == []  # the half answer was backed out with the get
    assert sim.drain() == 1
    assert [a.answer_type for a, _, _ in answers(queue)] == [1, 2, 8]
    assert sim.ledger.deliveries() == {"B-0001": 2}
    assert len(sim.ledger.paid()) == 2


def test_25000_payments_three_bundles_paid_once_even_when_sent_twice(
    queue: SqliteQueue, tmp_path: Path
) -> None:
    from tests.nemkonto_data import AUTHORITY_CVR, CREATED
    from toekgw.adapters.nemkonto import Authority, ReleasedPayment, make_bundles

    authorities = {"0101": Authority(AUTHORITY_CVR, "4711", Account("1234", "0001234567"))}
    released = [ReleasedPayment("0101", dt.date(2026, 12, 1), payment(n)) for n in range(25_000)]
    sim = make_sim(queue, tmp_path)
    for attempt in range(2):  # the second run re-sends the same bundles, as after a crash
        bundles = make_bundles(released, authorities, created_at=CREATED)
        assert [b.number_of_payments for b in bundles] == [10_000, 10_000, 5_000]
        for b in bundles:
            send(queue, build_bundle(b), f"{b.bundle_id}:{attempt}")
        assert sim.drain() == 3
    paid = sim.ledger.paid()
    assert len(paid) == 25_000
    assert sum(amount for amount, _ in paid.values()) == sum(r.order.amount_ore for r in released)
    assert sorted(sim.ledger.deliveries().values()) == [2, 2, 2]
    assert (sim.stats.bundles, sim.stats.duplicates, sim.stats.accepted) == (3, 3, 25_000)


def test_the_ledger_records_a_bundle_set_wise_as_payment_by_payment(tmp_path: Path) -> None:
    """Paid before: in an earlier bundle (looked up in chunks of 500) or earlier in the same
    one (a bundle the codec would refuse, handed to the ledger directly): a duplicate."""
    ledger = Ledger(tmp_path / "ledger.sqlite")
    first = bundle([payment(n) for n in range(0, 1200, 2)], bundle_id="B-1")
    ledger.record(first, lambda p: Decision(PaymentState.ACCEPTED), now=0.0, bank_delay=0.0)
    rejected = {payment(3).payment_id}
    second = bundle([payment(n) for n in range(1200)] + [payment(1), payment(3)], bundle_id="B-2")
    recorded = ledger.record(
        second,
        lambda p: Decision(
            PaymentState.REJECTED if p.payment_id in rejected else PaymentState.ACCEPTED
        ),
        now=0.0,
        bank_delay=0.0,
    )
    codes = [o.decision.control_code for o in recorded.outcomes]
    # even: paid in B-1; odd: paid now, but 1 again is a duplicate and 3 (rejected) is not
    expected = ["DUPLICATE_PAYMENT" if n % 2 == 0 else None for n in range(1200)]
    assert codes == [*expected, "DUPLICATE_PAYMENT", None]
    assert recorded.outcomes[-1].decision.control is PaymentState.REJECTED
    assert len(ledger.paid()) == 1200 - 1
    again = ledger.record(second, lambda p: Decision(PaymentState.ACCEPTED), now=1.0, bank_delay=0)
    assert again.duplicate and again.outcomes == recorded.outcomes  # answered from the ledger
    ledger.close()
