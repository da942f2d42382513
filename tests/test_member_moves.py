"""``apply_member_moves`` against a plain model of what it promises, on both back ends: many
members (more than one lookup chunk), moves given as objects and as columns, an answer about
most members (read in one go) and about fewer (looked up by key), keys named twice, keys of
no member, of a member another transmission carries now, or in a state that is not eligible,
several targets with several reasons, and the moved members reported."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.test_journal_columns import _bundle
from tests.test_journal_waiting_index import _plan, _Recording
from toekgw.gateway.journal import (
    JournalLocation,
    MemberMove,
    MemberMoveColumns,
    NewTransmission,
)
from toekgw.gateway.journal._sqlite_connection import _LOOKUP_CHUNK

COUNT = 2 * _LOOKUP_CHUNK + 123  # three lookup chunks
RANK = {"sent": 0, "received": 1, "accepted": 2, "rejected": 2}
SOURCES = {t: [s for s in RANK if RANK[s] < RANK[t]] for t in ("received", "accepted", "rejected")}
ELIGIBLE = list(RANK)


@dataclass
class Expected:
    """What the moves should do, worked out member by member."""

    moved: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0
    unknown: list[str] = field(default_factory=list)
    reported: list[tuple[str, str, str]] = field(default_factory=list)  # key, state, reason
    states: dict[str, str] = field(default_factory=dict)


def _model(states: dict[str, str], moves: list[MemberMove], report: set[str]) -> Expected:
    """``states``: each current member's state (key -> state)."""
    first: dict[str, MemberMove] = {}
    for move in moves:
        first.setdefault(move.member_key, move)
    asked: dict[str, int] = {}
    for move in first.values():
        asked[move.to_state] = asked.get(move.to_state, 0) + 1
    expected = Expected(states=dict(states))
    chosen: dict[str, list[tuple[int, MemberMove]]] = {}
    for n, move in enumerate(first.values()):
        state = states.get(move.member_key)
        if state is None or state not in ELIGIBLE:
            expected.unknown.append(move.member_key)
        elif state in SOURCES[move.to_state]:
            chosen.setdefault(move.to_state, []).append((n, move))
        else:
            expected.unchanged += 1
    for target in asked:  # in the order the moves name them
        for _n, move in chosen.get(target, []):
            expected.states[move.member_key] = target
        if chosen.get(target):
            expected.moved[target] = len(chosen[target])
    named = sorted((n, m) for t in report for n, m in chosen.get(t, []))
    expected.reported = [(m.member_key, m.to_state, m.reason) for _n, m in named]
    return expected


def _sent_bundle(journal_at: JournalLocation):  # type: ignore[no-untyped-def]
    journal, bundle, made = _bundle(journal_at, COUNT)
    journal.move_members(bundle.id, "pending", "released", reason="bundled")
    journal.move_members(bundle.id, "released", "sent", reason="put")
    return journal, bundle, {i.business_key: i for i in made}


def _check(journal, bundle, items, moves, rnd, *, columns=False) -> None:  # type: ignore[no-untyped-def]
    """Apply ``moves`` (as :class:`MemberMoveColumns` if ``columns``) and compare."""
    states = {i.business_key: i.state for i in journal.members(bundle.id, current_only=True)}
    expected = _model(states, moves, {"rejected"})
    result = journal.apply_member_moves(
        bundle.id,
        MemberMoveColumns.of(moves) if columns else moves,
        eligible=ELIGIBLE,
        sources=SOURCES,
        report=["rejected"],
    )
    assert list(result.moved.items()) == list(expected.moved.items())
    assert result.unchanged == expected.unchanged
    assert list(result.unknown) == expected.unknown
    assert [(i.business_key, i.state, why) for i, why in result.reported] == expected.reported
    now = {i.business_key: i.state for i in journal.members(bundle.id, current_only=True)}
    assert now == expected.states
    first: dict[str, str] = {}
    for move in moves:
        first.setdefault(move.member_key, move.reason)
    changed = [k for k in states if now[k] != states[k]]
    for key in rnd.sample(changed, min(len(changed), 40)):
        last = journal.item_history(items[key].id).events[-1]
        assert (last.to_state, last.reason) == (now[key], first[key])


def test_an_answer_about_every_member_moves_most_of_them_in_one_event(
    journal_at: JournalLocation,
) -> None:
    rnd = random.Random(0)
    journal, bundle, items = _sent_bundle(journal_at)
    rejected = set(rnd.sample(sorted(items), 25))
    moves = [
        MemberMove(k, "rejected", "no account")
        if k in rejected
        else MemberMove(k, "accepted", "ok")
        for k in sorted(items)
    ]
    before = len(journal.events(bundle.id))
    _check(journal, bundle, items, moves, rnd, columns=True)
    on_bundle = [(e.scope, e.from_state, e.to_state, e.count) for e in journal.events(bundle.id)]
    assert on_bundle[before:] == [("items", "sent", "accepted", COUNT - 25)]


@pytest.mark.parametrize(
    ("seed", "share"),
    [(1, 1.0), (2, 1.0), (4, 0.4)],
    ids=["all-read", "all-read-columns", "looked-up-columns"],
)
def test_apply_member_moves_does_what_the_model_says(
    journal_at: JournalLocation, seed: int, share: float
) -> None:
    """``share``: the part of the members the moves name; at least half are matched with
    the members read in one go, fewer are looked up by key."""
    rnd = random.Random(seed)
    journal, bundle, items = _sent_bundle(journal_at)
    # Some members moved on already, some carried by a later bundle, some back to pending.
    for key in rnd.sample(sorted(items), 40):
        journal.set_item_state(items[key].id, rnd.choice(["received", "accepted"]), reason="x")
    later = journal.create_transmission(NewTransmission("nk", "out", "prepared", ref="B2"))
    taken = rnd.sample(sorted(items), 30)
    journal.add_members(later.id, [(items[k].id, k) for k in taken])
    for key in rnd.sample(sorted(set(items) - set(taken)), 20):
        journal.set_item_state(items[key].id, "pending", reason="answer 0")
    keys = sorted(items)
    moves = [
        MemberMove(
            rnd.choice(keys) if rnd.random() < 0.05 else keys[n],
            rnd.choices(["accepted", "rejected", "received"], [90, 8, 2])[0],
            rnd.choice(["ok", "no account", "late"]),
        )
        for n in range(COUNT)
        if rnd.random() < share
    ]
    moves += [MemberMove(f"stray{n}", "accepted", "ok") for n in range(5)]
    rnd.shuffle(moves)
    _check(journal, bundle, items, moves, rnd, columns=seed % 2 == 0)


@pytest.mark.parametrize("share", [1.0, 0.3], ids=["all-read", "looked-up"])
def test_the_members_are_read_through_their_memberships(tmp_path: Path, share: float) -> None:
    """Memberships first, each item by its id: not through ``items_carrier``, which goes
    through the items and looks each one's membership up (twice the time for a bundle)."""
    journal, bundle, items = _sent_bundle(tmp_path / "journal.sqlite")
    db = journal._db
    recording = _Recording(db)
    journal._db = recording
    keys = sorted(items)[: int(len(items) * share)]
    journal.apply_member_moves(
        bundle.id,
        [MemberMove(k, "accepted", "ok") for k in keys],
        eligible=ELIGIBLE,
        sources=SOURCES,
    )
    journal._db = db
    reads = [sql for sql in recording.seen if "FROM transmission_members m" in sql]
    assert reads
    for sql in reads:
        plan = _plan(db, sql)
        assert plan.startswith("SEARCH m USING INDEX sqlite_autoindex_transmission_members_2")
        assert "SEARCH i USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
    journal.close()


def test_columns_of_unequal_length_are_refused() -> None:
    with pytest.raises(ValueError, match="1 keys, 2 states, 1 reasons"):
        MemberMoveColumns(["K1"], ["accepted", "rejected"], ["ok"])
    moves = [MemberMove("K1", "accepted", "ok"), MemberMove("K2", "rejected", "no")]
    assert MemberMoveColumns.of(moves) == MemberMoveColumns(
        ["K1", "K2"], ["accepted", "rejected"], ["ok", "no"]
    )
    columns = MemberMoveColumns.of(moves)
    assert MemberMoveColumns.of(columns) is columns and len(columns) == 2
