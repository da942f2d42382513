"""A carrier's set-wise moves (one event for all its members in a state) read back as what
happened to each item: ``item_history`` and ``item_amounts`` as of every moment.

Random runs of bundling (taken on and moved at once, or taken on and then moved; carrying
along an item another bundle carried), bundle moves, answers naming all or some members,
single moves and moves of the delivery's own items. After each step the test notes every
item's state from the items table and the instant; afterwards, for each instant, the journal's
as-of reading must give exactly those states, and each item's history must tell the moves it
went through, in order, ending in its state now. A reader that applied a carrier's move to an
item another bundle carried by then, or missed one, fails here.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_journal_columns import IN, ITEMS, OUT
from toekgw.gateway.journal import (
    JournalLocation,
    MemberMove,
    NewItem,
    NewTransmission,
    open_journal,
)
from toekgw.gateway.journal._sqlite_connection import now

STATES = ("pending", "released", "sent", "received", "accepted", "rejected")
BUNDLE_MOVES = (
    ("released", "sent"),
    ("sent", "received"),
    ("sent", "pending"),
    ("received", "accepted"),
    ("sent", "accepted"),
)
ON_THEIR_WAY = ("sent", "received")
SOURCES = {"accepted": ("sent", "received"), "rejected": ("sent", "received")}
COUNT = 12

Step = tuple[str, int, int]
steps = st.lists(
    st.tuples(
        st.sampled_from(("bundle", "move", "answer", "single", "own")),
        st.integers(0, 2**16),
        st.integers(0, 2**16),
    ),
    min_size=1,
    max_size=25,
)


def run(where: JournalLocation, plan: list[Step]) -> None:
    journal = open_journal(where)
    journal.define_kind(IN)
    journal.define_kind(OUT)
    source = journal.create_transmission(NewTransmission("ksd", "in", "journaled"))
    journal.add_items(
        source.id, [NewItem(f"k{n:02d}", 100 + n) for n in range(COUNT)], state="pending",
        reason="in",
    )  # fmt: skip
    ids = {i.business_key: i.id for i in journal.items(source.id)}
    bundles: list[int] = []
    snapshots: list[tuple[str, dict[str, str]]] = []

    def states() -> dict[str, str]:
        return {i.business_key: i.state for i in journal.items(source.id)}

    for number, (kind, a, b) in enumerate(plan):
        time.sleep(0.001)  # the next step's events come after the instant noted
        now_states = states()
        if kind == "bundle":
            take = [k for k, s in sorted(now_states.items()) if s == "pending"][: 1 + a % 6]
            other = [k for k, s in sorted(now_states.items()) if s != "pending"]
            if b % 3 == 2 and other:  # carried along in the state it is in
                take.append(other[a % len(other)])
            if not take:
                continue
            out = journal.create_transmission(
                NewTransmission("nk", "out", "prepared", ref=f"B{number}")
            )
            members = [(ids[k], k) for k in take]
            if b % 3 == 1:
                journal.add_members(out.id, members)
                journal.move_members(out.id, "pending", "released", reason=f"bundled {number}")
            else:
                journal.add_members(
                    out.id, members, move=("pending", "released"), reason=f"bundled {number}"
                )
            bundles.append(out.id)
        elif kind == "move" and bundles:
            source_state, target = BUNDLE_MOVES[b % len(BUNDLE_MOVES)]
            journal.move_members(bundles[a % len(bundles)], source_state, target, reason="step")
        elif kind == "answer" and bundles:
            bundle = bundles[a % len(bundles)]
            current = [i for i in journal.members(bundle, current_only=True)]
            named = [i for n, i in enumerate(current) if b & 1 or (b >> (n % 15)) & 2]
            target = ("accepted", "rejected")[(b >> 4) & 1]
            moves = [
                MemberMove(i.business_key, target, "ok" if (b >> 5) & 1 else f"why {n % 2}")
                for n, i in enumerate(named)
            ]
            journal.apply_member_moves(bundle, moves, eligible=ON_THEIR_WAY, sources=SOURCES)
        elif kind == "single":
            key = f"k{a % COUNT:02d}"
            allowed = ITEMS.transitions.get(now_states[key], ())
            if allowed:
                target = allowed[b % len(allowed)]
                journal.set_item_state(ids[key], target, reason="by hand")
        elif kind == "own":
            source_state, target = BUNDLE_MOVES[b % len(BUNDLE_MOVES)]
            journal.move_items(source.id, source_state, target, reason="the delivery's")
        time.sleep(0.001)
        snapshots.append((now(), states()))

    for instant, expected in snapshots:
        for state in STATES:
            got = {k for k, _amount in journal.item_amounts(["in"], [state], before=instant)}
            assert got == {k for k, s in expected.items() if s == state}, (instant, state)
    for key, item_id in ids.items():
        trajectory = ["pending"]
        for _instant, seen in snapshots:
            if seen[key] != trajectory[-1]:
                trajectory.append(seen[key])
        history = journal.item_history(item_id)
        moves = [e.to_state for e in history.events if e.scope != "transmission" and e.from_state]
        assert ["pending", *moves] == trajectory, key
        assert history.item.state == trajectory[-1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=steps)
def test_set_wise_moves_read_back_as_each_item_went(plan: list[Step]) -> None:
    with tempfile.TemporaryDirectory() as work:
        run(Path(work) / "journal.sqlite", plan)


def test_set_wise_moves_read_back_on_both_back_ends(journal_at: JournalLocation) -> None:
    draw = random.Random(1815)
    kinds = ("bundle", "bundle", "move", "answer", "single", "own")
    plan = [(draw.choice(kinds), draw.randrange(2**16), draw.randrange(2**16)) for _ in range(40)]
    run(journal_at, plan)


def test_a_bundle_moves_none_of_the_items_a_later_one_carries_since(tmp_path: Path) -> None:
    """k00 is sent with the first bundle, then carried along (still sent) by a second: the
    first bundle's move of its sent members no longer takes k00, the second's does."""
    run(
        tmp_path / "journal.sqlite",
        [
            ("bundle", 1, 0),  # k00, k01 taken on and released
            ("move", 0, 0),  # both sent
            ("bundle", 0, 2),  # k02 released, k00 carried along as it is (sent)
            ("move", 0, 1),  # the first bundle's sent members received: k01 only
            ("move", 1, 1),  # the second's: k00
            ("answer", 0, 1),  # the first bundle's current members all accepted, one reason
            ("answer", 1, 1 | 16),  # the second's all rejected
        ],
    )
