"""Migration 3: the members of an outbound transmission, and moving a set of items."""

from __future__ import annotations

import pytest

from toekgw.gateway.journal import (
    Direction,
    JournalError,
    JournalLocation,
    KindSpec,
    Lifecycle,
    NewItem,
    NewTransmission,
    StateError,
    open_journal,
)

ITEMS = Lifecycle(("pending",), {"pending": ("released",), "released": ("sent",)})
IN = KindSpec("in", Direction.IN, Lifecycle(("journaled",), {}), ITEMS)
OUT = KindSpec("out", Direction.OUT, Lifecycle(("prepared",), {}), None)


def test_members_memberships_and_set_moves(journal_at: JournalLocation) -> None:
    journal = open_journal(journal_at)
    assert journal.schema_version() >= 3
    journal.define_kind(IN)
    journal.define_kind(OUT)
    source = journal.create_transmission(NewTransmission("ksd", "in", "journaled"))
    journal.add_items(
        source.id, [NewItem(f"k{n}", 100 + n) for n in range(5)], state="pending", reason="in"
    )
    items = list(journal.items(source.id))
    moved = journal.set_items_state(
        [items[0].id, items[1].id, items[1].id, items[4].id],
        "pending",
        "released",
        reason={items[0].id: "first", items[1].id: "second"},
    )
    assert moved == [items[0].id, items[1].id, items[4].id]
    assert journal.set_items_state([items[0].id], "pending", "released", reason="x") == []
    with pytest.raises(StateError):
        journal.set_items_state([items[2].id], "pending", "sent", reason="no such move")
    history = journal.item_history(items[0].id)
    assert [(e.to_state, e.reason) for e in history.events if e.scope == "item"] == [
        ("released", "first")
    ]
    assert {i.business_key for i in journal.items_of_kind("in", "released")} == {"k0", "k1", "k4"}

    one = journal.create_transmission(NewTransmission("nk", "out", "prepared", ref="B1"))
    two = journal.create_transmission(NewTransmission("nk", "out", "prepared", ref="B2"))
    journal.add_members(one.id, [(items[1].id, "k1"), (items[0].id, "k0")])
    journal.add_members(two.id, [(items[0].id, "k0")])
    with pytest.raises(JournalError, match="a member appears twice"):
        journal.add_members(two.id, [(items[2].id, "k2"), (items[0].id, "k0")])
    assert [i.business_key for i in journal.members(two.id)] == ["k0"]  # nothing of it added
    assert [i.business_key for i in journal.members(one.id)] == ["k1", "k0"]
    counted = journal.get_transmission(one.id)
    assert (counted.item_count, counted.total_ore) == (2, 201)  # its members count as its items
    assert [i.business_key for i in journal.members(one.id, current_only=True)] == ["k1"]
    member = journal.member(two.id, "k0")
    assert member is not None and member.id == items[0].id
    assert journal.member(two.id, "k1") is None
    assert journal.memberships([items[0].id, items[3].id]) == {items[0].id: [one.id, two.id]}
    journal.close()
