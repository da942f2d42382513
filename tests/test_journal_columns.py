"""The typed item columns (migration 9: municipality, disposition date, carrier), set-based
moves of a transmission's members, and totals aggregated by the store."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from toekgw.gateway.journal import (
    Direction,
    JournalError,
    JournalLocation,
    KindSpec,
    Lifecycle,
    MemberMove,
    MemberTotal,
    NewItem,
    NewTransmission,
    StateError,
    StateTotal,
    open_journal,
)
from toekgw.gateway.journal import _sqlite_connection as connection
from toekgw.gateway.journal.migrations import LATEST, MIGRATIONS

ITEMS = Lifecycle(
    ("pending",),
    {
        "pending": ("released",),
        "released": ("sent",),
        "sent": ("received", "accepted", "rejected", "pending"),
        "received": ("accepted", "rejected"),
    },
)
IN = KindSpec("in", Direction.IN, Lifecycle(("journaled",), {}), ITEMS)
OUT = KindSpec("out", Direction.OUT, Lifecycle(("prepared",), {}), None)
DAY = dt.date(2026, 11, 30)


def _bundle(journal_at: JournalLocation, count: int = 6):  # type: ignore[no-untyped-def]
    journal = open_journal(journal_at)
    journal.define_kind(IN)
    journal.define_kind(OUT)
    source = journal.create_transmission(NewTransmission("ksd", "in", "journaled"))
    journal.add_items(
        source.id,
        [NewItem(f"k{n}", 100 + n, municipality="101", disposition_date=DAY) for n in range(count)],
        state="pending",
        reason="in",
    )
    items = list(journal.items(source.id))
    out = journal.create_transmission(NewTransmission("nk", "out", "prepared", ref="B1"))
    journal.add_members(out.id, [(i.id, i.business_key) for i in items])
    return journal, out, items


def test_typed_columns_and_carrier(journal_at: JournalLocation) -> None:
    journal, out, items = _bundle(journal_at)
    assert journal.schema_version() == LATEST
    assert (items[0].municipality, items[0].disposition_date) == ("101", DAY)
    assert all(i.carrier_id == out.id for i in journal.members(out.id))
    later = journal.create_transmission(NewTransmission("nk", "out", "prepared", ref="B2"))
    journal.add_members(later.id, [(items[0].id, "k0")])
    assert journal.get_item(items[0].id).carrier_id == later.id
    assert [i.business_key for i in journal.members(out.id, current_only=True)][:2] == ["k1", "k2"]


def test_move_members_is_one_event_on_the_carrier(journal_at: JournalLocation) -> None:
    journal, out, items = _bundle(journal_at)
    before = len(journal.events(out.id))
    assert journal.move_members(out.id, "pending", "released", reason="bundled") == 6
    assert journal.move_members(out.id, "pending", "released", reason="again") == 0
    with pytest.raises(StateError):
        journal.move_members(out.id, "released", "accepted", reason="not allowed")
    assert {i.state for i in journal.members(out.id)} == {"released"}
    moves = journal.events(out.id)[before:]
    assert [(e.scope, e.item_id, e.from_state, e.to_state, e.count, e.reason) for e in moves] == [
        ("items", None, "pending", "released", 6, "bundled")
    ]
    history = journal.item_history(items[3].id)
    assert history.events[-1] == moves[0]


def test_apply_member_moves(journal_at: JournalLocation) -> None:
    journal, out, items = _bundle(journal_at)
    journal.move_members(out.id, "pending", "released", reason="bundled")
    journal.move_members(out.id, "released", "sent", reason="put")
    journal.set_item_state(items[5].id, "received", reason="1")
    journal.set_item_state(items[5].id, "accepted", reason="2")
    rank = {"sent": 0, "received": 1, "accepted": 2, "rejected": 2}
    sources = {t: [s for s in rank if rank[s] < rank[t]] for t in ("accepted", "rejected")}
    result = journal.apply_member_moves(
        out.id,
        [
            MemberMove("k0", "accepted", "ok"),
            MemberMove("k1", "rejected", "no account"),
            MemberMove("k0", "rejected", "a second answer: the first counts"),
            MemberMove("nope", "accepted", "not in the bundle"),
            MemberMove("k5", "accepted", "already there"),
        ],
        eligible=rank,
        sources=sources,
        report=["rejected"],
    )
    assert dict(result.moved) == {"accepted": 1, "rejected": 1}
    assert (result.unchanged, result.unknown) == (1, ("nope",))
    assert [(i.business_key, i.state, why) for i, why in result.reported] == [
        ("k1", "rejected", "no account")
    ]
    assert journal.get_item(items[0].id).state == "accepted"
    assert journal.item_history(items[1].id).events[-1].reason == "no account"
    with pytest.raises(JournalError):
        journal.apply_member_moves(
            out.id, [MemberMove("k2", "gone", "x")], eligible=rank, sources=sources
        )
    assert journal.get_item(items[2].id).state == "sent"  # nothing of a refused call stays
    bad = {"accepted": ["pending", "sent"]}
    journal.move_members(out.id, "sent", "pending", reason="answer 0")
    with pytest.raises(StateError):
        journal.apply_member_moves(
            out.id, [MemberMove("k2", "accepted", "x")], eligible=["pending"], sources=bad
        )


def test_totals_are_aggregated(journal_at: JournalLocation) -> None:
    journal, out, items = _bundle(journal_at)
    journal.move_members(out.id, "pending", "released", reason="bundled")
    later = journal.create_transmission(NewTransmission("nk", "out", "prepared", ref="B2"))
    journal.add_members(later.id, [(items[0].id, "k0")])
    assert journal.member_totals("nk", "out") == [
        MemberTotal(out.id, "released", False, 1, 100),
        MemberTotal(out.id, "released", True, 5, 515),
        MemberTotal(later.id, "released", True, 1, 100),
    ]
    assert journal.member_totals("nk", "out", transmission_id=later.id) == [
        MemberTotal(later.id, "released", True, 1, 100)
    ]
    assert journal.state_totals("in") == [StateTotal("released", 6, 615)]
    # kept as items and members are added, in the transaction that adds them
    counted = [journal.get_transmission(t) for t in (items[0].transmission_id, out.id, later.id)]
    assert [(t.item_count, t.total_ore) for t in counted] == [(6, 615), (6, 615), (1, 100)]


def test_the_item_columns_migration_fills_the_columns_of_an_older_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite"
    with monkeypatch.context() as patch:
        # The journal as it was the migration before the item columns (the actor on events and
        # everything else already there).
        before = next(n for n, name, _ in MIGRATIONS if name.startswith("typed item columns")) - 1
        patch.setattr(connection, "MIGRATIONS", MIGRATIONS[:before])
        patch.setattr(connection, "LATEST", before)
        old = open_journal(path)
        assert old.schema_version() == before
        old.define_kind(IN)
        old.define_kind(OUT)
        db = old._db
        source = _old_transmission(db, "ksd", IN, "journaled", "S1")
        db.execute("BEGIN")
        event = db.execute(
            "INSERT INTO events(at, transmission_id, scope, to_state, reason) "
            "VALUES ('2026-11-01T00:00:00', ?, 'items', 'pending', 'in')",
            (source.id,),
        ).lastrowid
        payload = {"municipality": "851", "disposition_date": "2026-12-01", "amount_ore": 5}
        for key, data in (("p1", json.dumps(payload)), ("p2", None), ("p3", '{"other": 1}')):
            db.execute(
                "INSERT INTO items(transmission_id, counterpart, business_key, amount_ore, state, "
                "created_event, updated_at, data) VALUES (?, 'ksd', ?, 5, 'pending', ?, 'x', ?)",
                (source.id, key, event, data),
            )
        db.execute("COMMIT")
        ids = [r[0] for r in db.execute("SELECT id FROM items ORDER BY id")]
        bundle = _old_transmission(db, "nk", OUT, "prepared", "B1")
        later = _old_transmission(db, "nk", OUT, "prepared", "B2")
        # What add_members wrote before the item columns: membership rows only.
        db.executemany(
            "INSERT INTO transmission_members(transmission_id, item_id, seq, member_key) "
            "VALUES (?, ?, ?, ?)",
            [
                (bundle.id, ids[0], 1, "p1"),
                (bundle.id, ids[1], 2, "p2"),
                (later.id, ids[0], 1, "p1"),
            ],
        )
        db.commit()
        old.close()
    journal = open_journal(path)
    assert journal.schema_version() == LATEST
    one, two, three = journal.items(source.id)
    assert (one.municipality, one.disposition_date, one.carrier_id) == (
        "851",
        dt.date(2026, 12, 1),
        later.id,
    )
    assert (two.municipality, two.disposition_date, two.carrier_id) == (None, None, bundle.id)
    assert (three.municipality, three.carrier_id) == (None, None)
    assert [i.business_key for i in journal.members(bundle.id, current_only=True)] == ["p2"]
    assert journal.move_members(later.id, "pending", "released", reason="bundled") == 1
    # migration 10: each transmission's count and sum, of its own items and its members
    counted = {t.ref: (t.item_count, t.total_ore) for t in journal.transmissions()}
    assert counted == {"S1": (3, 15), "B1": (2, 10), "B2": (1, 5)}


def _old_transmission(
    db: sqlite3.Connection, counterpart: str, kind: KindSpec, state: str, ref: str
):  # type: ignore[no-untyped-def]
    """A transmission row as the journal of that version wrote it (the code of this one reads
    columns it did not have yet)."""
    tid = db.execute(
        "INSERT INTO transmissions(ref, counterpart, kind, direction, state, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, 'x', 'x')",
        (ref, counterpart, kind.name, kind.direction.value, state),
    ).lastrowid
    return SimpleNamespace(id=tid)


def test_items_to_carry_orders_by_attempt_municipality_date_and_key(
    journal_at: JournalLocation,
) -> None:
    journal = open_journal(journal_at)
    journal.define_kind(IN)
    journal.define_kind(OUT)
    source = journal.create_transmission(NewTransmission("ksd", "in", "journaled"))
    early, late = DAY - dt.timedelta(days=5), DAY + dt.timedelta(days=1)
    given = [
        ("k5", "851", DAY),
        ("k4", "101", late),
        ("k3", "101", None),
        ("k2", "101", early),
        ("k1", "101", DAY),
        ("k0", "101", late),
    ]
    journal.add_items(
        source.id,
        [NewItem(k, 1, municipality=m, disposition_date=d) for k, m, d in given],
        state="pending",
        reason="in",
    )
    ids = {i.business_key: i.id for i in journal.items(source.id)}
    carried = journal.create_transmission(NewTransmission("nk", "out", "prepared", ref="B0"))
    journal.add_members(carried.id, [(ids["k1"], "k1")])  # carried once before: goes last
    order = []
    with journal.transaction():
        for attempt, item in journal.items_to_carry(["in"], "pending", floor=DAY):
            order.append((attempt, item.business_key))
            # moving what was read does not disturb the rest
            journal.set_item_state(item.id, "released", reason="bundled")
    # none and early count as the floor: k2, k3 (by key) on DAY, then k0, k4 on late
    assert order == [(0, "k2"), (0, "k3"), (0, "k0"), (0, "k4"), (0, "k5"), (1, "k1")]
    assert list(journal.items_to_carry(["in"], "pending", floor=DAY)) == []


def test_members_added_and_moved_at_once_as_added_then_moved(journal_at: JournalLocation) -> None:
    journal = open_journal(journal_at)
    journal.define_kind(IN)
    journal.define_kind(OUT)
    source = journal.create_transmission(NewTransmission("ksd", "in", "journaled"))
    journal.add_items(source.id, [NewItem(f"k{n}", 100 + n) for n in range(8)],
                      state="pending", reason="in")  # fmt: skip
    items = list(journal.items(source.id))
    # k3 has moved on already: it is carried along, not moved.
    earlier = journal.create_transmission(NewTransmission("nk", "out", "prepared", ref="B0"))
    journal.add_members(earlier.id, [(items[3].id, "k3")])
    assert journal.move_members(earlier.id, "pending", "released", reason="before") == 1
    assert journal.move_members(earlier.id, "released", "sent", reason="put") == 1
    first = journal.create_transmission(NewTransmission("nk", "out", "prepared", ref="B1"))
    second = journal.create_transmission(NewTransmission("nk", "out", "prepared", ref="B2"))
    journal.add_members(first.id, [(i.id, i.business_key) for i in items[:3]])
    journal.move_members(first.id, "pending", "released", reason="bundled")
    added = journal.add_members(second.id, [(i.id, i.business_key) for i in items[4:]] + [
        (items[3].id, "k3")], move=("pending", "released"), reason="bundled")  # fmt: skip
    assert added == 5

    def seen(item_id: int) -> tuple[object, ...]:
        item = journal.get_item(item_id)
        # the moves (not the creation), whether one event each or one for the bundle
        moves = [(e.from_state, e.to_state, e.reason)
                 for e in journal.item_history(item_id).events if e.from_state]  # fmt: skip
        return item.state, item.updated_at is not None, moves

    assert [seen(i.id) for i in items[4:]] == [seen(i.id) for i in items[:3]] + [seen(items[0].id)]
    assert seen(items[4].id) == ("released", True, [("pending", "released", "bundled")])
    assert [i.business_key for i in journal.members(second.id, current_only=True)] == [
        "k4", "k5", "k6", "k7", "k3"]  # fmt: skip
    assert seen(items[3].id)[0] == "sent"  # not moved again
    assert [m[2] for m in seen(items[3].id)[2]] == ["before", "put"]
    # A move the items' lifecycle refuses adds no member either.
    third = journal.create_transmission(NewTransmission("nk", "out", "prepared", ref="B3"))
    with pytest.raises(StateError):
        journal.add_members(third.id, [(items[0].id, "k0")], move=("released", "accepted"))
    assert list(journal.members(third.id)) == []
    assert journal.get_item(items[0].id).carrier_id == first.id
