"""ØiR postings from the journal's payment events: vouchers balance, the intermediate account
equals the outstanding payments, a closed account holds a voucher until it is regenerated."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.journal_clock import JournalClock
from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.oir_data import (
    BANK,
    EXPENSE,
    EXPENSE_NEW,
    INTERMEDIATE,
    SORTIMENT,
    TRIVIAL,
    full_sortiment,
    klasse,
    load_sortiment,
    posting_day,
    settings,
)
from tests.servers import PostgresServer
from toekgw.adapters.g68 import PAYMENT_ITEM
from toekgw.adapters.oir import EVENT_SOURCES, current_chart, plan_vouchers
from toekgw.adapters.oir.balance import BOOKED_STATES, konteringskontrol
from toekgw.adapters.oir.replica import apply_delivery, diff, find_classes
from toekgw.adapters.oir.vouchers import RegenerateError, build_vouchers, regenerate
from toekgw.formats.oir import (
    Account,
    Delivery,
    RemovedKlasse,
    SortimentDelivery,
    build_sortiment,
    read_sortiment,
)
from toekgw.gateway.journal import (
    JournalError,
    JournalLocation,
    SqliteJournal,
    _sqlite_asof,
    _sqlite_books,
    open_journal,
)


def _payment_ids(journal: SqliteJournal) -> list[int]:
    return [
        i.id
        for tx in journal.transmissions(kind="g68-delivery")
        for i in journal.items(tx.id)
        if not i.state.startswith("recall-")
    ]


def _check_books(journal: SqliteJournal) -> None:
    for v in journal.vouchers():
        rows = journal.postings(v.id)
        debit = sum(r.amount_ore for r in rows if r.side == "D")
        credit = sum(r.amount_ore for r in rows if r.side == "K")
        assert rows and debit == credit, v


# A step: ("deliver", n payments) | ("move", which payment, which transition) | ("build",)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("deliver"), st.integers(1, 4), st.integers(1, 900_000)),
        st.tuples(st.just("move"), st.integers(0, 10_000), st.integers(0, 10)),
        st.tuples(st.just("build"), st.just(0), st.just(0)),
    ),
    min_size=1,
    max_size=25,
)


@hsettings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(history=steps, max_postings=st.sampled_from([2, 4, 1000]))
def test_random_payment_histories_book_balanced_and_agree(
    tmp_path_factory: pytest.TempPathFactory,
    history: list[tuple[str, int, int]],
    max_postings: int,
) -> None:
    _random_history(
        open_journal(tmp_path_factory.mktemp("oir") / "journal.sqlite"), history, max_postings
    )


# Fewer examples on PostgreSQL: each is a database of its own and every statement a round trip.
@hsettings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(history=steps, max_postings=st.sampled_from([2, 4, 1000]))
def test_random_payment_histories_book_balanced_and_agree_on_postgresql(
    postgresql: PostgresServer, history: list[tuple[str, int, int]], max_postings: int
) -> None:
    url = postgresql.fresh()
    try:
        _random_history(open_journal(url), history, max_postings)
    finally:
        postgresql.drop(url)


def _random_history(
    journal: SqliteJournal, history: list[tuple[str, int, int]], max_postings: int
) -> None:
    conf = settings(max_postings_per_voucher=max_postings)
    load_sortiment(journal)
    delivery = 0
    serial = 0
    for kind, a, b in history:
        if kind == "deliver":
            delivery += 1
            payments = [instruction(serial + n, amount=b) for n in range(a)]
            serial += a
            journal_delivery(journal, payments, delivery=delivery)
        elif kind == "move":
            ids = _payment_ids(journal)
            if not ids:
                continue
            item = journal.get_item(ids[a % len(ids)])
            targets = PAYMENT_ITEM.transitions.get(item.state, ())
            if targets:
                journal.set_item_state(item.id, targets[b % len(targets)], reason="test")
        else:
            build_vouchers(journal, conf)
    summary = build_vouchers(journal, conf)
    assert summary.held == 0
    _check_books(journal)
    control = konteringskontrol(journal, conf)
    assert control.agrees, control.differences
    # Nothing is booked twice: a second build finds nothing new.
    again = build_vouchers(journal, conf)
    assert (again.events, again.built) == (0, 0)
    journal.close()


def _journal(journal_at: JournalLocation) -> SqliteJournal:
    journal = open_journal(journal_at)
    load_sortiment(journal)
    return journal


def test_the_model_books_expense_intermediate_and_bank(journal_at: JournalLocation) -> None:
    journal = _journal(journal_at)
    conf = settings()
    journal_delivery(journal, [instruction(1, amount=12_345), instruction(2, amount=500)])
    ids = _payment_ids(journal)
    for state in ("released", "sent", "received", "accepted", "at-bank"):
        journal.set_item_state(ids[0], state, reason="test")
    journal.set_item_state(ids[1], "recalled", reason="test")
    summary = build_vouchers(journal, conf)
    assert summary.held == 0 and summary.built == 3  # journaled, effectuated, cancelled
    lines = {
        account: sorted(journal.account_lines(account, states=BOOKED_STATES))
        for account in (EXPENSE, INTERMEDIATE, BANK)
    }
    key0, key1 = (journal.get_item(i).business_key for i in ids)
    assert sorted(lines[BANK]) == [(key0, -12_345)]
    assert sorted(lines[EXPENSE]) == sorted([(key0, 12_345), (key1, 500), (key1, -500)])
    assert sum(v for _, v in lines[INTERMEDIATE]) == 0
    control = konteringskontrol(journal, conf)
    assert control.agrees and control.outstanding_ore == 0


def test_balance_lists_a_payment_not_yet_booked(journal_at: JournalLocation) -> None:
    journal = _journal(journal_at)
    conf = settings()
    journal_delivery(journal, [instruction(1, amount=700)])
    control = konteringskontrol(journal, conf)
    assert not control.agrees
    assert [(d.booked_ore, d.outstanding_ore) for d in control.differences] == [(0, 700)]
    build_vouchers(journal, conf)
    assert konteringskontrol(journal, conf).agrees


def _close_expense(version: int, closed: dt.date) -> SortimentDelivery:
    return SortimentDelivery(
        SORTIMENT,
        "TØK konti",
        closed,
        version,
        Delivery.DELTA,
        (klasse(EXPENSE, until=closed), klasse(EXPENSE_NEW, since=closed)),
    )


def test_a_closed_account_holds_the_voucher_and_regeneration_books_the_replacement(
    journal_at: JournalLocation,
) -> None:
    journal = _journal(journal_at)
    today = posting_day()
    applied = apply_delivery(journal, _close_expense(2, today - dt.timedelta(days=3)))
    assert applied.status == "applied"
    journal_delivery(journal, [instruction(1, amount=1_000)])
    conf = settings()
    summary = build_vouchers(journal, conf)
    assert summary.held == 1 and summary.built == 0
    (held,) = journal.vouchers(states=["held"])
    errors = journal.errors(counterpart="erp")
    assert errors and "5.57.72/1/5.2" in errors[0].findings[0].message
    assert not konteringskontrol(journal, conf).agrees
    # Regenerating with the same accounts is refused and changes nothing.
    new_date = today + dt.timedelta(days=1)
    try:
        regenerate(journal, conf, held.voucher_id, new_date)
    except RegenerateError as exc:
        assert "still not be valid" in str(exc)
    else:
        raise AssertionError("regenerated onto a closed account")
    assert journal.voucher(held.voucher_id).state == "held"  # type: ignore[union-attr]
    # The parameters now name the replacement account: regenerated, booked, linked.
    accounts = dict(conf.accounts, expense=Account.parse(EXPENSE_NEW))
    conf = dataclasses.replace(conf, accounts=accounts)
    new, _ = regenerate(journal, conf, held.voucher_id, new_date)
    assert new.state == "built" and new.day == new_date and new.replaces == held.id
    assert journal.voucher(held.voucher_id).state == "superseded"  # type: ignore[union-attr]
    rows = journal.postings(new.id)
    assert {r.account for r in rows} == {EXPENSE_NEW, INTERMEDIATE}
    assert konteringskontrol(journal, conf).agrees


def test_sortiment_versions_never_go_back_and_diff_names_the_change(
    journal_at: JournalLocation,
) -> None:
    journal = _journal(journal_at)
    closed = dt.date(2026, 11, 30)
    assert apply_delivery(journal, _close_expense(3, closed)).status == "applied"
    stale = apply_delivery(journal, full_sortiment(2))
    assert stale.status == "stale"
    assert journal.class_version(SORTIMENT).version == 3  # type: ignore[union-attr]
    before, after, changes = diff(journal, SORTIMENT)
    assert (before.version, after.version) == (1, 3)
    kinds = {(c.kind, (c.after or c.before).code) for c in changes}  # type: ignore[union-attr]
    assert kinds == {("changed", EXPENSE), ("added", EXPENSE_NEW)}


def test_a_delta_without_a_full_delivery_is_refused(journal_at: JournalLocation) -> None:
    journal = open_journal(journal_at)
    assert apply_delivery(journal, _close_expense(2, dt.date(2026, 11, 30))).status == "refused"


def test_an_event_is_never_put_on_two_vouchers(journal_at: JournalLocation) -> None:
    journal = _journal(journal_at)
    conf = settings()
    journal_delivery(journal, [instruction(1, amount=300)])
    for source in EVENT_SOURCES:
        journal.collect_events(source, zone=conf.time_zone)
    # Two builders read the same open events; the second to store its voucher loses whole.
    planned = list(plan_vouchers(journal.open_events(100), conf, current_chart(journal, SORTIMENT)))
    assert build_vouchers(journal, conf).built == 1
    with pytest.raises(JournalError, match="already on another voucher"):
        journal.add_voucher(
            voucher_id="00000000-0000-4000-8000-000000000099",
            group="101",
            day=planned[0].voucher.date,
            kind="journaled",
            state="built",
            postings=planned[0].rows,
        )
    assert len(journal.vouchers()) == 1


def _walk(journal: SqliteJournal, item_id: int, *states: str) -> None:
    for state in states:
        journal.set_item_state(item_id, state, reason="test")


def test_balance_on_a_past_date_counts_each_payment_by_its_state_then(
    journal_at: JournalLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)
    clock = JournalClock(monkeypatch, day)
    journal = _journal(journal_at)
    conf = settings()
    amounts = (1_000, 2_000, 3_000)
    journal_delivery(journal, [instruction(n, amount=a) for n, a in enumerate(amounts)])
    a, b, c = _payment_ids(journal)
    build_vouchers(journal, conf)
    clock.at(day + dt.timedelta(days=1))
    _walk(journal, a, "released", "sent", "accepted", "at-bank")
    _walk(journal, c, "recalled")
    build_vouchers(journal, conf)
    clock.at(day + dt.timedelta(days=2))
    _walk(journal, b, "released", "sent", "accepted", "at-bank")
    _walk(journal, a, "fail-requested", "failed-after-bank")  # back: outstanding again
    build_vouchers(journal, conf)

    def on(days: int) -> tuple[int, int, bool]:
        control = konteringskontrol(journal, conf, as_of=(day + dt.timedelta(days=days)).date())
        return control.outstanding_ore, control.outstanding_count, control.agrees

    assert on(-1) == (0, 0, True)
    assert on(0) == (6_000, 3, True)
    # a was at the bank then, though it has failed since; b was still outstanding.
    assert on(1) == (2_000, 1, True)
    assert on(2) == (1_000, 1, True)
    now = konteringskontrol(journal, conf)
    assert (now.outstanding_ore, now.agrees) == (1_000, True)


def test_the_balance_check_streams_its_memory_does_not_grow_with_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small pages, so that both sizes are many pages: what is left to grow is the check's own.
    monkeypatch.setattr(_sqlite_asof, "_FETCH", 200)
    monkeypatch.setattr(_sqlite_books, "_FETCH", 200)
    conf = settings()
    peaks = []
    for n in (1_500, 6_000):
        journal = open_journal(tmp_path / f"{n}.sqlite")
        load_sortiment(journal)
        journal_delivery(journal, [instruction(i, amount=100 + i) for i in range(n)])
        build_vouchers(journal, conf)  # booked: n payments agree
        later = [instruction(n + i, amount=100 + i) for i in range(n)]
        journal_delivery(journal, later, delivery=2)  # not booked: n differences
        seen = 0

        def count(_: object) -> None:
            nonlocal seen
            seen += 1

        # Once untraced: what a first run allocates once (caches, compiled statements) is
        # not the check's own and lands in neither measurement.
        konteringskontrol(journal, conf, as_of=None, keep=0)
        konteringskontrol(journal, conf, as_of=posting_day() + dt.timedelta(days=1), keep=0)
        tracemalloc.start()
        control = konteringskontrol(journal, conf, as_of=None, keep=0, on_difference=count)
        past = konteringskontrol(journal, conf, as_of=posting_day() + dt.timedelta(days=1), keep=0)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert (control.outstanding_count, control.difference_count, seen) == (2 * n, n, n)
        assert (past.outstanding_count, past.difference_count) == (2 * n, n)
        journal.close()
    assert peaks[1] < peaks[0] * 1.25, peaks  # four times the journal, not more memory


def test_a_delta_removing_a_class_keeps_it_for_history_and_holds_new_vouchers_on_it(
    journal_at: JournalLocation,
) -> None:
    journal = _journal(journal_at)
    conf = settings()
    journal_delivery(journal, [instruction(1, amount=1_000)])
    assert build_vouchers(journal, conf).built == 1  # booked on EXPENSE while it was there
    gone = klasse(EXPENSE)
    stranger = RemovedKlasse("00000000-0000-4000-8000-000000000001", "1.11.11/1/1.1")
    delta = SortimentDelivery(
        SORTIMENT,
        "TØK konti",
        dt.date(2026, 11, 1),
        2,
        Delivery.DELTA,
        (klasse(EXPENSE_NEW, since=dt.date(2026, 11, 1)),),
        (RemovedKlasse(gone.class_id, gone.code), stranger),
    )
    applied = apply_delivery(journal, read_sortiment(build_sortiment(delta)))
    assert applied.status == "applied" and "1 removed" in applied.message
    assert stranger.class_id in applied.message  # a removal of a class it never held: said
    # Known for history, marked; not counted as a class of the sortiment; diff says removed.
    (row,) = find_classes(journal, SORTIMENT, EXPENSE)
    assert (row.class_id, row.removed_in) == (gone.class_id, 2)
    assert journal.class_version(SORTIMENT).classes == 6  # type: ignore[union-attr]
    _, _, changes = diff(journal, SORTIMENT)
    assert {(c.kind, (c.after or c.before).code) for c in changes} == {  # type: ignore[union-attr]
        ("removed", EXPENSE),
        ("added", EXPENSE_NEW),
    }
    # The voucher booked before stays; a new one on the removed account is held with a finding.
    journal_delivery(journal, [instruction(2, amount=2_000)], delivery=2)
    summary = build_vouchers(journal, conf)
    assert (summary.built, summary.held) == (0, 1)
    (held,) = journal.vouchers(states=["held"])
    message = journal.errors(counterpart="erp")[0].findings[0].message
    assert EXPENSE in message and "removed from sortiment" in message and "version 2" in message
    with pytest.raises(RegenerateError):
        regenerate(journal, conf, held.voucher_id, posting_day())
    moved = dataclasses.replace(
        conf, accounts=dict(conf.accounts, expense=Account.parse(EXPENSE_NEW))
    )
    new, _ = regenerate(journal, moved, held.voucher_id, posting_day())
    assert {r.account for r in journal.postings(new.id)} == {EXPENSE_NEW, INTERMEDIATE}
    # A full delivery no longer listing a class removes it too; the earlier removal stays.
    listed = tuple(k for k in full_sortiment(3).classes if k.code not in (EXPENSE, TRIVIAL))
    full = dataclasses.replace(full_sortiment(3), classes=(*listed, klasse(EXPENSE_NEW)))
    assert apply_delivery(journal, full).status == "applied"
    removed = {c.code: c.removed_in for c in journal.classes(journal.class_version(SORTIMENT).id)}  # type: ignore[union-attr]
    assert (removed[EXPENSE], removed[TRIVIAL], removed[INTERMEDIATE]) == (2, 3, None)
