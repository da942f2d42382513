"""The status outbox (migration 6) and the action plan (migration 7), on every back end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

import toekgw.gateway.journal._sqlite_actions as actions_module
from toekgw.gateway.journal import (
    Direction,
    JournalError,
    JournalLocation,
    KindSpec,
    Lifecycle,
    NewItem,
    NewTransmission,
    SqliteJournal,
    open_journal,
)

ORDERS = KindSpec(
    "orders",
    Direction.IN,
    Lifecycle(("journaled",), {}),
    Lifecycle(("received",), {"received": ("sent",), "sent": ("paid",)}),
)


@pytest.fixture
def journal(journal_at: JournalLocation) -> Iterator[SqliteJournal]:
    j = open_journal(journal_at)
    j.define_kind(ORDERS)
    yield j
    j.close()


def _orders(journal: SqliteJournal, *keys: str) -> list[int]:
    tx = journal.create_transmission(NewTransmission("ky", "orders", "journaled"))
    journal.add_items(
        tx.id, [NewItem(k, 100, seq=n) for n, k in enumerate(keys, 1)], state="received", reason="x"
    )
    return [i.id for i in journal.items(tx.id)]


def test_every_state_is_due_once_and_in_order(journal: SqliteJournal) -> None:
    a, b = _orders(journal, "A", "B")
    due = journal.due_statuses(["orders"])
    assert [(d.business_key, d.state, d.sequence, d.seq) for d in due] == [
        ("A", "received", 1, 1),
        ("B", "received", 1, 2),
    ]
    assert journal.due_statuses(["other"]) == [] and journal.due_statuses([]) == []
    assert len(journal.due_statuses(["orders"], limit=1)) == 1
    for d in due:
        journal.mark_published(d)
    assert journal.due_statuses(["orders"]) == []
    journal.set_item_state(a, "sent", reason="bundled")
    journal.set_item_state(a, "paid", reason="answered")  # two moves between runs: the last
    (again,) = journal.due_statuses(["orders"])
    assert (again.item_id, again.state, again.sequence, again.event_id) == (a, "paid", 2, f"{a}.2")
    journal.mark_published(again)
    journal.mark_published(due[0])  # a late duplicate record does not go back
    assert journal.due_statuses(["orders"]) == []
    assert b not in {d.item_id for d in journal.due_statuses(["orders"])}


def test_a_page_of_the_outbox_and_what_is_still_due_after_a_claim(journal: SqliteJournal) -> None:
    a, b, c = _orders(journal, "A", "B", "C")
    assert [d.item_id for d in journal.due_statuses(["orders"], after=a)] == [b, c]
    assert journal.due_statuses(["orders"], after=c) == []
    due = journal.due_statuses(["orders"])
    journal.mark_published(due[1])  # another publisher told B between our read and our claim
    assert [d.item_id for d in journal.still_due(due)] == [a, c]
    assert journal.still_due([]) == []


def test_the_action_plan_keeps_who_changed_what(journal: SqliteJournal) -> None:
    entry = journal.add_action(
        month="2026-11",
        difference="bank vs journal",
        amount_oere=250_000,
        cause="unknown",
        owner="økonomi",
        deadline=dt.date(2026, 12, 15),
        by="anna",
    )
    changed = journal.update_action(entry, by="bo", status="in-progress", cause="late answer")
    assert (
        changed.status,
        changed.cause,
        changed.owner,
        changed.created_by,
        changed.updated_by,
    ) == (
        "in-progress",
        "late answer",
        "økonomi",
        "anna",
        "bo",
    )
    assert changed.deadline == dt.date(2026, 12, 15)
    assert [a.id for a in journal.actions(month="2026-12")] == [entry]  # not done: carried on
    journal.update_action(entry, by="bo", status="done")
    assert [a.id for a in journal.actions(month="2026-11")] == [entry]
    assert [a.id for a in journal.actions()] == [entry]
    with pytest.raises(JournalError, match="expected one of"):
        journal.update_action(entry, by="bo", status="forgotten")
    with pytest.raises(JournalError, match="no action-plan entry"):
        journal.action(entry + 1)


def test_the_action_plan_keeps_no_cpr_number_typed_into_it(journal: SqliteJournal) -> None:
    """Its texts are typed by people, and shown in the list and the month's reports: a CPR
    number in one was kept and shown in clear."""
    entry = journal.add_action(
        month="2026-11", difference="payment to 1503851234", amount_oere=250_000,
        cause="cpr 150385-1234 paid twice", owner="sag 1503851234", deadline=dt.date(2026, 12, 15),
        by="anna",
    )  # fmt: skip
    journal.update_action(entry, by="bo", cause="the case of 1503851234")
    kept = journal._db.execute(
        "SELECT difference || cause || owner FROM action_plan WHERE id = ?", (entry,)
    ).fetchone()[0]
    shown = journal.action(entry)
    for text in (kept, shown.difference, shown.cause, shown.owner):
        assert "1503851234" not in text and "150385-1234" not in text, text
    assert (shown.difference, shown.cause) == ("payment to 150385-****", "the case of 150385-****")


@pytest.mark.parametrize(
    ("done_at", "in_december"),
    [
        ("2026-11-30T22:59:59.999999+00:00", False),  # 23:59:59 on 30 November in Denmark
        ("2026-11-30T23:30:00.000000+00:00", True),  # 00:30 on 1 December in Denmark
    ],
)
def test_an_entry_done_is_on_the_report_of_the_danish_month_it_was_done_in(
    journal: SqliteJournal, monkeypatch: pytest.MonkeyPatch, done_at: str, in_december: bool
) -> None:
    """A done entry stays on the reports up to the month it was done in: a Danish month,
    whatever the UTC date of the time stamp."""
    entry = journal.add_action(month="2026-10", difference="bank vs journal", amount_oere=1,
                               cause="?", owner="økonomi", deadline=dt.date(2026, 11, 1),
                               by="anna")  # fmt: skip
    monkeypatch.setattr(actions_module, "now", lambda: done_at)
    journal.update_action(entry, by="bo", status="done")
    assert journal.action(entry).updated_at == done_at
    assert [a.id for a in journal.actions(month="2026-11")] == [entry]
    assert [a.id for a in journal.actions(month="2026-12")] == ([entry] if in_december else [])
