"""ØiR postings from the journal's payment events: vouchers balance, the intermediate account
equals the outstanding payments, a closed account holds a voucher until it is regenerated."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.oir_data import (
    BANK,
    EXPENSE,
    EXPENSE_NEW,
    INTERMEDIATE,
    SORTIMENT,
    full_sortiment,
    klasse,
    load_sortiment,
    settings,
)
from tests.servers import PostgresServer
from toekgw.adapters.g68 import PAYMENT_ITEM
from toekgw.adapters.oir import EVENT_SOURCES, current_chart, plan_vouchers
from toekgw.adapters.oir.balance import BOOKED_STATES, konteringskontrol
from toekgw.adapters.oir.replica import apply_delivery, diff
from toekgw.adapters.oir.vouchers import RegenerateError, build_vouchers, regenerate
from toekgw.formats.oir import Account, Delivery, SortimentDelivery
from toekgw.gateway.journal import JournalError, JournalLocation, SqliteJournal, open_journal


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
    today = dt.datetime.now(dt.UTC).date()
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
