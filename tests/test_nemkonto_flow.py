"""The NemKonto flow from the journal: release, send, answers, states, reconciliation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from tests.nemkonto_data import cpr
from tests.nemkonto_flow_data import (
    DUE,
    LATER,
    SETTINGS,
    TODAY,
    instruction,
    journal_delivery,
    new_journal,
    states,
)
from toekgw.adapters.nemkonto import (
    block_recipient,
    lift_block,
    overdue_payments,
    receive_answers,
    recipient,
    reconcile_bundles,
    release,
    render_bundles,
    send_bundles,
)
from toekgw.adapters.nemkonto.answers import RANK
from toekgw.adapters.nemkonto.reconcile import _deadline
from toekgw.adapters.nemkonto.send import bundle_of
from toekgw.formats.nemkonto import AnswerType, BundleAnswer, build_answer, parse_bundle
from toekgw.gateway.journal import Item, SqliteJournal, Transmission
from toekgw.gateway.reconcile import Category
from toekgw.gateway.transport.mq import SqliteQueue, message_id
from toekgw.simulators.nemkonto import NemKontoSimulator, SimulatorScript
from toekgw.simulators.nemkonto.ledger import Ledger


@pytest.fixture
def journal(tmp_path: Path) -> SqliteJournal:
    return new_journal(tmp_path / "journal.sqlite")


@pytest.fixture
def queue(tmp_path: Path) -> SqliteQueue:
    return SqliteQueue(tmp_path / "queues.sqlite")


def _key(n: int) -> str:
    return instruction(n).business_key


def _round(
    journal: SqliteJournal,
    queue: SqliteQueue,
    ledger: Path,
    script: SimulatorScript | None = None,
    today: dt.date = TODAY,
) -> None:
    release(journal, SETTINGS, today)
    send_bundles(journal, queue, SETTINGS)
    sim = NemKontoSimulator(queue, ledger, script)
    sim.drain()
    sim.ledger.close()
    receive_answers(journal, queue, SETTINGS)


def test_release_waits_for_the_banking_days_and_lets_straks_go(
    journal: SqliteJournal, queue: SqliteQueue
) -> None:
    journal_delivery(
        journal,
        [
            instruction(1, date=DUE),
            instruction(2, date=LATER),
            instruction(3, date=LATER, straks=True),
            instruction(4, date=dt.date(2026, 12, 28)),  # after Christmas: released 22 Dec
        ],
    )
    result = release(journal, SETTINGS, TODAY)
    assert (result.released, result.waiting) == (2, 2)
    assert states(journal) == {
        _key(1): "released",
        _key(2): "pending",
        _key(3): "released",
        _key(4): "pending",
    }
    # One bundle per disposition date: the straks payment goes now, dated as it was asked.
    assert sorted((b.disposition_date, b.count) for b in result.bundles) == [(DUE, 1), (LATER, 1)]
    assert release(journal, SETTINGS, dt.date(2026, 12, 21)).released == 1  # no. 2 is late
    assert states(journal)[_key(4)] == "pending"
    assert release(journal, SETTINGS, dt.date(2026, 12, 22)).released == 1
    assert all(s == "released" for s in states(journal).values())


def test_a_recall_stops_a_pending_payment_and_is_refused_after_release(
    journal: SqliteJournal,
) -> None:
    journal_delivery(journal, [instruction(1), instruction(2, date=LATER)], delivery=1)
    release(journal, SETTINGS, TODAY)
    journal_delivery(
        journal,
        [instruction(1, recall=True, delivery=2), instruction(2, recall=True, delivery=2)],
        delivery=2,
    )
    result = release(journal, SETTINGS, TODAY)
    assert (result.recalled, result.recalls_refused) == (1, 1)
    got = states(journal)
    assert got[_key(1)] == "released" and got[_key(2)] == "recalled"
    recall_states = sorted(v for k, v in got.items() if ":recall:" in k)
    assert recall_states == ["recall-applied", "recall-refused"]
    (entry,) = journal.errors(counterpart="ksd")
    assert entry.subject == "recall" and "already released" in entry.findings[0].message


def test_a_blocked_recipient_is_held_until_the_block_is_lifted(
    journal: SqliteJournal, queue: SqliteQueue
) -> None:
    journal_delivery(journal, [instruction(1), instruction(2)])
    key = recipient("cpr", cpr(2))
    assert block_recipient(journal, SETTINGS, key, "the citizen has died")
    assert not block_recipient(journal, SETTINGS, key, "again")
    result = release(journal, SETTINGS, TODAY)
    assert (result.released, result.blocked) == (1, 1)
    assert states(journal)[_key(2)] == "blocked"
    assert lift_block(journal, SETTINGS, key, "case closed")
    result = release(journal, SETTINGS, TODAY)
    assert (result.unblocked, result.released) == (1, 1)
    history = journal.item_history(journal.find_items(_key(2))[0].id)
    assert [e.to_state for e in history.events if e.scope != "transmission"][1:] == [
        "blocked",
        "pending",
        "released",
    ]


def test_the_payments_move_through_their_states_to_the_bank_or_the_manual_list(
    journal: SqliteJournal, queue: SqliteQueue, tmp_path: Path
) -> None:
    journal_delivery(journal, [instruction(n) for n in range(1, 7)])
    script = SimulatorScript(
        reject_cprs=frozenset({cpr(2)}),
        no_account=frozenset({cpr(3), cpr(4)}),
        no_account_action="cheque",
    )
    _round(journal, queue, tmp_path / "ledger.sqlite", script)
    got = states(journal)
    assert got[_key(1)] == "at-bank" and got[_key(2)] == "rejected"
    assert got[_key(3)] == got[_key(4)] == "cheque"
    (manual,) = [e for e in journal.errors(counterpart="nemkonto")]
    assert manual.subject == "manual-handling" and manual.business_key == _key(2)
    assert "CPR_REJECTED" in manual.findings[0].message
    history = journal.item_history(journal.find_items(_key(1))[0].id)
    moves = [e.to_state for e in history.events if e.scope != "transmission" and e.from_state]
    assert moves == ["released", "sent", "received", "accepted", "at-bank"]
    (bundle,) = journal.transmissions(kind="nemkonto-bundle")
    assert bundle.state == "settled"
    # Nothing is sent again by itself: another round puts no bundle.
    assert release(journal, SETTINGS, TODAY).bundles == []
    assert send_bundles(journal, queue, SETTINGS) == []


def test_the_bundle_is_built_from_the_journal_with_the_ids_and_texts(
    journal: SqliteJournal, queue: SqliteQueue
) -> None:
    journal_delivery(
        journal,
        [
            instruction(1),
            instruction(2, ident_code="11", beneficiary="29189846".rjust(14, "0")),
            instruction(3, ident_code="01", beneficiary="12340000004711"),
        ],
    )
    release(journal, SETTINGS, TODAY)
    (sent,) = send_bundles(journal, queue, SETTINGS)
    (message,) = queue.browse(SETTINGS.request_queue)
    assert message.msg_id == message_id(sent.bundle_id)
    bundle = parse_bundle(message.body)
    orders = {p.payment_id: p for p in bundle.payments}
    first = orders[_key(1)]
    assert first.recipient.number == cpr(1) and not first.complete
    assert first.notification == ("Kontanthjælp", "for november, sag 1")
    assert orders[_key(2)].recipient.kind.value == "CVR"
    account = orders[_key(3)].account
    assert account is not None and (account.registration, account.number) == (
        "1234",
        "0000004711",
    )
    tx = journal.get_transmission(sent.transmission_id)
    assert bundle_of(journal, tx).payments == bundle.payments


@pytest.mark.parametrize("staged", ["as released", "none", "damaged"])
def test_the_send_puts_the_staged_bytes_or_builds_the_same_again(
    journal: SqliteJournal, queue: SqliteQueue, staged: str
) -> None:
    journal_delivery(journal, [instruction(n) for n in range(1, 6)])
    (prepared,) = release(journal, SETTINGS, TODAY).bundles
    tx = journal.get_transmission(prepared.transmission_id)
    released = journal.staged_body(tx.id)
    assert released is not None and hashlib.sha256(released).hexdigest() == tx.sha256
    if staged == "none":
        journal.drop_staged_body(tx.id)  # a bundle journaled before migration 16
    elif staged == "damaged":
        journal.stage_body(tx.id, released.replace(b"Kontanthj", b"Kontanthx"))
    (sent,) = send_bundles(journal, queue, SETTINGS)
    (message,) = queue.browse(SETTINGS.request_queue)
    assert message.body == released  # the same bytes whichever way
    assert (sent.count, sent.total_ore) == (5, sum(10_000 + n for n in range(1, 6)))
    assert journal.get_transmission(tx.id).state == "sent"
    assert journal.staged_body(tx.id) is None  # dropped with the move to sent


def test_duplicate_and_out_of_order_answers_change_nothing_twice(
    tmp_path: Path,
) -> None:
    outcomes = []
    for faults in ({}, {"duplicate_answers": True, "out_of_order": True}):
        base = tmp_path / ("faults" if faults else "clean")
        journal = new_journal(base / "journal.sqlite")
        queue = SqliteQueue(base / "queues.sqlite")
        journal_delivery(journal, [instruction(n) for n in range(1, 11)])
        script = SimulatorScript(
            reject_cprs=frozenset({cpr(5)}),
            no_account=frozenset({cpr(7)}),
            no_account_action="reject",
            **faults,  # type: ignore[arg-type]
        )
        _round(journal, queue, base / "ledger.sqlite", script)
        summary = receive_answers(journal, queue, SETTINGS)
        assert summary.messages == 0
        manual = [e.business_key for e in journal.errors(counterpart="nemkonto")]
        for tx in journal.transmissions(kind="g68-delivery"):
            for item in journal.items(tx.id):
                moves = [
                    e.to_state
                    for e in journal.item_history(item.id).events
                    if e.scope == "item" and e.to_state
                ]
                # Each state once, and only ever further along (a late answer moves nothing).
                assert len(moves) == len(set(moves)), moves
                assert [RANK[m] for m in moves] == sorted(RANK[m] for m in moves), moves
        outcomes.append((states(journal), sorted(k or "" for k in manual)))
        journal.close()
        queue.close()
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0][_key(7)] == "rejected" and outcomes[0][0][_key(5)] == "rejected"


def test_a_duplicate_answer_is_noted_and_changes_no_state(
    journal: SqliteJournal, queue: SqliteQueue, tmp_path: Path
) -> None:
    journal_delivery(journal, [instruction(1), instruction(2)])
    release(journal, SETTINGS, TODAY)
    send_bundles(journal, queue, SETTINGS)
    sim = NemKontoSimulator(
        queue, tmp_path / "ledger.sqlite", SimulatorScript(duplicate_answers=True)
    )
    sim.drain()
    summary = receive_answers(journal, queue, SETTINGS)
    assert summary.duplicates == summary.applied == 3  # 1, 2 and 8, each twice
    (bundle,) = journal.transmissions(kind="nemkonto-bundle")
    notes = [e.reason for e in journal.events(bundle.id) if "duplicate" in e.reason]
    assert len(notes) == 3


def test_answer_0_returns_the_bundle_to_pending_and_a_new_bundle_goes(
    journal: SqliteJournal, queue: SqliteQueue, tmp_path: Path
) -> None:
    journal_delivery(journal, [instruction(1), instruction(2)])
    release(journal, SETTINGS, TODAY)
    (first,) = send_bundles(journal, queue, SETTINGS)
    # NemKonto could not read it: take the request off the queue and answer 0.
    got = queue.get(SETTINGS.request_queue)
    assert got is not None
    answer = BundleAnswer(
        AnswerType.UNREADABLE,
        first.bundle_id,
        dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC),
        error_code="XML",
        error_text="premature end of data",
    )
    queue.put(SETTINGS.reply_queue, build_answer(answer), msg_id=message_id("answer-0"))
    queue.commit()
    summary = receive_answers(journal, queue, SETTINGS)
    assert summary.returned_bundles == [first.bundle_id]
    assert set(states(journal).values()) == {"pending"}
    (entry,) = journal.errors(counterpart="nemkonto")
    assert entry.subject == "bundle" and "pending again" in entry.findings[0].message
    # A late answer about the returned bundle touches none of its payments.
    late = BundleAnswer(AnswerType.RECEIVED, first.bundle_id, answer.processed_at)
    queue.put(SETTINGS.reply_queue, build_answer(late), msg_id=message_id("late-1"))
    queue.commit()
    assert receive_answers(journal, queue, SETTINGS).unchanged == 1
    assert set(states(journal).values()) == {"pending"}
    again = release(journal, SETTINGS, TODAY)
    (second,) = again.bundles
    assert second.bundle_id != first.bundle_id and second.count == 2
    send_bundles(journal, queue, SETTINGS)
    sim = NemKontoSimulator(queue, tmp_path / "ledger.sqlite")
    sim.drain()
    receive_answers(journal, queue, SETTINGS)
    assert set(states(journal).values()) == {"at-bank"}
    rec = reconcile_bundles(journal, SETTINGS, TODAY)
    returned, paid = rec.bundles
    assert returned.state == "returned" and returned.counts["returned"] == 2
    assert paid.counts["at_bank"] == 2 and rec.total.counts["sent"] == 2
    assert rec.total.reconciliation is not None
    assert rec.total.reconciliation.category is Category.RECONCILED


def test_a_payment_without_an_answer_is_overdue(journal: SqliteJournal, queue: SqliteQueue) -> None:
    journal_delivery(journal, [instruction(1)])
    release(journal, SETTINGS, TODAY)
    send_bundles(journal, queue, SETTINGS)
    now = dt.datetime.now(dt.UTC)
    assert overdue_payments(journal, SETTINGS, now) == []
    (late,) = overdue_payments(journal, SETTINGS, now + dt.timedelta(hours=49))
    assert late.payment == _key(1) and late.state == "sent"
    rec = reconcile_bundles(journal, SETTINGS, TODAY, now=now + dt.timedelta(hours=49))
    assert rec.differences[0].overdue and "OVERDUE" in rec.differences[0].reason


def test_retursvar_8_is_overdue_counted_from_the_disposition_date_in_denmark() -> None:
    """An accepted payment waits for Retursvar 8 from the start of its disposition date in
    Denmark (23:00 UTC the day before in winter), not from that date's UTC midnight."""
    sent = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
    bundle = SimpleNamespace(meta={"sent_at": sent.isoformat(), "disposition_date": "2026-11-25"})
    waiting = {state: SimpleNamespace(state=state) for state in ("sent", "accepted", "at-bank")}
    overdue = dt.timedelta(hours=48)

    def deadline(state: str) -> dt.datetime | None:
        return _deadline(cast(Transmission, bundle), cast(Item, waiting[state]), overdue)

    assert deadline("accepted") == dt.datetime(2026, 11, 24, 23, 0, tzinfo=dt.UTC) + overdue
    assert deadline("sent") == sent + overdue
    assert deadline("at-bank") is None


def test_the_differences_table_lists_the_first_ones_and_says_how_many(
    journal: SqliteJournal, queue: SqliteQueue
) -> None:
    journal_delivery(journal, [instruction(n) for n in range(1, 4)])
    release(journal, SETTINGS, TODAY)
    send_bundles(journal, queue, SETTINGS)
    rec = reconcile_bundles(journal, SETTINGS, TODAY)
    assert [d.state for d in rec.differences] == ["sent"] * 3
    *_, capped = render_bundles(rec, differences=2)
    assert capped.row_count == 2
    assert capped.caption == "the first 2 of 3 payments (--json lists all)"
    *_, whole = render_bundles(rec)
    assert whole.row_count == 3 and whole.caption is None


def test_reconciliation_received_is_accepted_plus_rejected_plus_outstanding(
    journal: SqliteJournal, queue: SqliteQueue, tmp_path: Path
) -> None:
    journal_delivery(journal, [instruction(n, date=DUE) for n in range(1, 21)])
    journal_delivery(
        journal, [instruction(n, date=LATER, straks=True) for n in range(21, 31)], delivery=2
    )
    release(journal, SETTINGS, TODAY)
    send_bundles(journal, queue, SETTINGS)
    sim = NemKontoSimulator(
        queue, tmp_path / "ledger.sqlite", SimulatorScript(reject_cprs=frozenset({cpr(3)}))
    )
    sim.drain()
    sim.ledger.close()
    # Only the first answers: the first bundle fully answered, the second received only.
    receive_answers(journal, queue, SETTINGS, max_messages=4)
    rec = reconcile_bundles(journal, SETTINGS, TODAY)
    assert len(rec.bundles) == 2 and len(rec.dates) == 2
    for row in (*rec.bundles, *rec.dates, rec.total):
        assert row.balanced, row.as_dict()
        assert row.counts["received"] == (
            row.counts["accepted"] + row.counts["rejected"] + row.counts["outstanding"]
        )
    total = rec.total
    assert total.counts["sent"] == 30 and total.counts["rejected"] == 1
    assert total.counts["outstanding"] > 0
    assert total.sums["sent"] == sum(10_000 + n for n in range(1, 31))
    assert total.reconciliation is not None
    assert total.reconciliation.category is Category.FOLLOW_UP
    data = rec.as_dict()
    assert data["total"]["balanced"] is True  # type: ignore[index]
    receive_answers(journal, queue, SETTINGS)
    done = reconcile_bundles(journal, SETTINGS, TODAY).total
    assert done.counts["outstanding"] == 0 and done.counts["at_bank"] == 29


def test_an_answer_about_a_payment_not_in_the_bundle_is_not_reconciled(
    journal: SqliteJournal, queue: SqliteQueue
) -> None:
    journal_delivery(journal, [instruction(1)])
    release(journal, SETTINGS, TODAY)
    (sent,) = send_bundles(journal, queue, SETTINGS)
    from toekgw.formats.nemkonto import PaymentState, PaymentStatus

    answer = BundleAnswer(
        AnswerType.RECEIVE_CONTROL,
        sent.bundle_id,
        dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC),
        payments=(
            PaymentStatus(_key(1), PaymentState.ACCEPTED),
            PaymentStatus("99999999:1", PaymentState.ACCEPTED),
        ),
    )
    queue.put(SETTINGS.reply_queue, build_answer(answer))
    queue.put(SETTINGS.reply_queue, b"<garbage/>")
    queue.commit()
    summary = receive_answers(journal, queue, SETTINGS)
    assert (summary.applied, summary.unusable) == (1, 1)
    assert len(queue.browse(SETTINGS.error_queue)) == 1
    rec = reconcile_bundles(journal, SETTINGS, TODAY)
    assert rec.total.reconciliation is not None
    assert rec.total.reconciliation.category is Category.NOT_RECONCILED
    assert rec.unexplained and "99999999:1" in rec.unexplained[0]


def test_25000_payments_become_the_same_three_bundles_on_a_second_run(tmp_path: Path) -> None:
    ids = []
    payments = [instruction(n) for n in range(25_000)]
    for run in ("one", "two"):
        journal = new_journal(tmp_path / run / "journal.sqlite")
        journal_delivery(journal, payments)
        result = release(journal, SETTINGS, TODAY, now=dt.datetime(2026, 11, 23, 8, tzinfo=dt.UTC))
        assert [b.count for b in result.bundles] == [10_000, 10_000, 5_000]
        ids.append([b.bundle_id for b in result.bundles])
        journal.close()
    assert ids[0] == ids[1]


def test_a_municipality_without_an_agreement_is_held(journal: SqliteJournal) -> None:
    journal_delivery(journal, [instruction(1, municipality="999"), instruction(2)])
    result = release(journal, SETTINGS, TODAY)
    assert result.no_agreement == {"999": 1} and result.released == 1
    narrow = dataclasses.replace(SETTINGS, authorities={})
    assert release(journal, narrow, TODAY).no_agreement == {"999": 1}


def test_the_ledger_pays_each_payment_once(
    journal: SqliteJournal, queue: SqliteQueue, tmp_path: Path
) -> None:
    journal_delivery(journal, [instruction(n) for n in range(1, 6)])
    _round(journal, queue, tmp_path / "ledger.sqlite")
    ledger = Ledger(tmp_path / "ledger.sqlite")
    assert sorted(ledger.paid()) == sorted(_key(n) for n in range(1, 6))
    ledger.close()


def test_a_payment_item_without_its_payload_is_a_clear_error(journal: SqliteJournal) -> None:
    from tests.nemkonto_flow_data import G68_KIND
    from toekgw.gateway.errors import GatewayError
    from toekgw.gateway.journal import NewItem, NewTransmission

    journal_delivery(journal, [instruction(1)])
    with journal.transaction():
        tx = journal.create_transmission(NewTransmission("ksd", G68_KIND.name, "journaled"))
        journal.add_items(tx.id, [NewItem("12345678:bare", 100)], state="pending", reason="x")
    with pytest.raises(GatewayError, match=r"'12345678:bare'.*carries no payment"):
        release(journal, SETTINGS, TODAY)
    assert set(states(journal).values()) == {"pending"}  # all or nothing


def test_a_send_overtaken_by_the_answers_carries_on(
    journal: SqliteJournal, queue: SqliteQueue, tmp_path: Path
) -> None:
    """A receiver journals the answers between the send's put and its journal commit."""
    journal_delivery(journal, [instruction(1), instruction(2)])
    release(journal, SETTINGS, TODAY)
    other = SqliteQueue(tmp_path / "queues.sqlite")
    receiver = new_journal(tmp_path / "journal.sqlite")

    class Overtaken:
        def __init__(self) -> None:
            self.inner = queue

        def put(self, *args: object, **kw: object) -> bytes:
            return self.inner.put(*args, **kw)  # type: ignore[arg-type]

        def commit(self) -> None:
            self.inner.commit()
            NemKontoSimulator(other, tmp_path / "ledger.sqlite").drain()
            receive_answers(receiver, other, SETTINGS)

    (sent,) = send_bundles(journal, Overtaken(), SETTINGS)  # type: ignore[arg-type]
    assert set(states(journal).values()) == {"at-bank"}
    events = [e.reason for e in journal.events(sent.transmission_id)]
    assert any("proves the bundle was put" in r for r in events)
    other.close()
    receiver.close()


def test_an_older_payment_lifecycle_in_the_journal_is_extended(
    journal: SqliteJournal, queue: SqliteQueue, tmp_path: Path
) -> None:
    from tests.nemkonto_flow_data import G68_KIND
    from toekgw.gateway.journal import Lifecycle

    journal_delivery(journal, [instruction(1), instruction(2)])
    assert G68_KIND.item is not None
    older = dict(G68_KIND.item.transitions)
    older["accepted"] = ("at-bank", "stopped", "bank-error", "cheque", "error-account")
    journal.define_kind(dataclasses.replace(G68_KIND, item=Lifecycle(G68_KIND.item.initial, older)))
    script = SimulatorScript(no_account=frozenset({cpr(2)}), no_account_action="reject")
    _round(journal, queue, tmp_path / "ledger.sqlite", script)
    assert states(journal) == {_key(1): "at-bank", _key(2): "rejected"}  # a 7 after the 2


def _answer_from_nemkonto(queue: SqliteQueue, answer: BundleAnswer, name: str) -> None:
    queue.put(SETTINGS.reply_queue, build_answer(answer), msg_id=message_id(name))
    queue.commit()


def test_kvitteringssvar_1_rejecting_a_bundle_rejects_its_payments_for_manual_handling(
    journal: SqliteJournal, queue: SqliteQueue
) -> None:
    journal_delivery(journal, [instruction(1), instruction(2)])
    release(journal, SETTINGS, TODAY)
    (sent,) = send_bundles(journal, queue, SETTINGS)
    when = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    rejected = BundleAnswer(
        AnswerType.RECEIVED,
        sent.bundle_id,
        when,
        error_code="0003",
        error_text="BUNDT AFVIST",
        bundle_rejected=True,
    )
    _answer_from_nemkonto(queue, rejected, "receipt-1-reject")
    summary = receive_answers(journal, queue, SETTINGS)
    assert summary.moved == {"rejected": 2} and summary.manual == 2
    assert set(states(journal).values()) == {"rejected"}  # nothing goes again by itself
    manual = journal.errors(counterpart="nemkonto")
    assert {e.business_key for e in manual} == {_key(1), _key(2)}
    assert all("BUNDT AFVIST" in e.findings[0].message for e in manual)
    (bundle,) = journal.transmissions(kind="nemkonto-bundle")
    assert bundle.state == "settled"


def test_retursvar_5_stops_the_payments_it_names_or_the_whole_bundle(
    journal: SqliteJournal, queue: SqliteQueue
) -> None:
    from toekgw.formats.nemkonto import PaymentState, PaymentStatus

    journal_delivery(journal, [instruction(n) for n in (1, 2, 3)])
    release(journal, SETTINGS, TODAY)
    (sent,) = send_bundles(journal, queue, SETTINGS)
    when = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    bank = BundleAnswer(
        AnswerType.RECEIVED_BY_BANK,
        sent.bundle_id,
        when,
        payments=(PaymentStatus(_key(3), PaymentState.RECEIVED_BY_BANK),),
    )
    one = BundleAnswer(
        AnswerType.STOPPED,
        sent.bundle_id,
        when,
        error_text="BETALING(ER) STANDSET",
        payments=(PaymentStatus(_key(1), PaymentState.STOPPED),),
        bundle_rejected=True,
    )
    _answer_from_nemkonto(queue, bank, "8")
    _answer_from_nemkonto(queue, one, "5-one")
    receive_answers(journal, queue, SETTINGS)
    assert states(journal) == {_key(1): "stopped", _key(2): "sent", _key(3): "at-bank"}
    everything = BundleAnswer(
        AnswerType.STOPPED,
        sent.bundle_id,
        when,
        error_text="BETALING(ER) STANDSET",
        bundle_rejected=True,
    )
    _answer_from_nemkonto(queue, everything, "5-all")
    summary = receive_answers(journal, queue, SETTINGS)
    # Stopped is final; a payment already at the bank is not stopped after the fact.
    assert summary.moved == {"stopped": 1}
    assert states(journal) == {_key(1): "stopped", _key(2): "stopped", _key(3): "at-bank"}
    assert journal.errors(counterpart="nemkonto") == []  # a stop is no error
