"""Migration 17: a transmission's items by a waiting state through the partial index
``items_waiting``, by any other state through ``items_transmission`` - same answers either way,
on both back ends; a move between states outside it leaves it alone."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from toekgw.gateway.journal import (
    Direction,
    JournalLocation,
    KindSpec,
    Lifecycle,
    NewItem,
    NewTransmission,
    SqliteJournal,
    open_journal,
)
from toekgw.gateway.journal._sql import WAITING_STATES
from toekgw.gateway.journal.migrations import MIGRATIONS

DELIVERY = KindSpec(
    "test-waiting",
    Direction.IN,
    Lifecycle(("journaled",), {"journaled": ("received",)}),
    Lifecycle(
        ("pending", "blocked"),
        {"pending": ("sent", "blocked"), "blocked": ("pending",), "sent": ("at-bank",)},
    ),
)


@pytest.fixture
def journal(journal_at: JournalLocation) -> Iterator[SqliteJournal]:
    j = open_journal(journal_at)
    j.define_kind(DELIVERY)
    yield j
    j.close()


def _delivery(journal: SqliteJournal) -> int:
    tx = journal.create_transmission(NewTransmission("ksd", "test-waiting", "journaled"))
    journal.add_items(
        tx.id, [NewItem(f"K{n}", 100 + n) for n in range(6)], state="pending", reason="x"
    )
    return tx.id


def test_the_migration_spells_the_waiting_states() -> None:
    (sql,) = [text for number, _name, text in MIGRATIONS if number == 17]
    index = sql[sql.index("CREATE INDEX items_waiting") :]
    assert set(re.findall(r"state = '([^']+)'", index)) == WAITING_STATES


def test_readers_by_state_answer_the_same_through_either_index(journal: SqliteJournal) -> None:
    tx = _delivery(journal)
    first = [i.id for i in journal.items(tx)][:2]
    assert journal.set_items_state(first, "pending", "blocked", reason="held") == first
    assert journal.move_items(tx, "pending", "sent", reason="sent") == 4
    assert journal.move_items(tx, "sent", "at-bank", reason="at the bank") == 4
    by_state = {
        s: [i.business_key for i in journal.items(tx, state=s)] for s in ("blocked", "at-bank")
    }
    assert by_state == {"blocked": ["K0", "K1"], "at-bank": ["K2", "K3", "K4", "K5"]}
    of_kind = [i.business_key for i in journal.items_of_kind("test-waiting", "blocked")]
    assert of_kind == ["K0", "K1"]
    assert journal.move_items(tx, "blocked", "pending", reason="lifted") == 2
    carry = [
        i.business_key
        for _n, i in journal.items_to_carry(["test-waiting"], "pending", floor=dt.date(2026, 12, 1))
    ]
    assert carry == ["K0", "K1"]
    totals = {t.state: (t.count, t.total_ore) for t in journal.state_totals("test-waiting")}
    assert totals == {"pending": (2, 201), "at-bank": (4, 414)}


class _Recording:
    """The journal's connection, remembering each statement's text (before its values are
    bound: the text is what the planner matches a partial index's condition against)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.seen: list[str] = []

    def execute(self, sql: str, *args: Any) -> Any:
        self.seen.append(sql)
        return self.db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


def test_a_waiting_state_plans_on_the_partial_index(tmp_path: Path) -> None:
    journal = open_journal(tmp_path / "journal.sqlite")
    journal.define_kind(DELIVERY)
    tx = _delivery(journal)
    db = journal._db
    assert isinstance(db, sqlite3.Connection)
    recording = _Recording(db)
    journal._db = recording
    floor = dt.date(2026, 12, 1)
    reads: dict[str, Callable[[str], object]] = {
        "items": lambda state: list(journal.items(tx, state=state)),
        "items_of_kind": lambda state: list(journal.items_of_kind("test-waiting", state)),
        "items_to_carry": lambda state: list(
            journal.items_to_carry(["test-waiting"], state, floor=floor)
        ),
    }
    for state, index in (("pending", "items_waiting"), ("at-bank", "items_transmission")):
        for name, read in reads.items():
            recording.seen.clear()
            read(state)
            plan = " ".join(_plan(db, sql) for sql in recording.seen)
            assert f"INDEX {index} (transmission_id=?" in plan, (name, state, plan)
            assert "SCAN i " not in plan + " ", (name, state, plan)
    for state, index in (("pending", "items_waiting"), ("sent", "items_transmission")):
        recording.seen.clear()
        journal.move_items(tx, state, {"pending": "sent", "sent": "at-bank"}[state], reason="x")
        (update,) = [sql for sql in recording.seen if sql.startswith("UPDATE items")]
        assert f"INDEX {index} (transmission_id=?" in _plan(db, update), (state, update)
    journal._db = db
    journal.close()


def _plan(db: sqlite3.Connection, statement: str) -> str:
    """The plan of ``statement`` (its parameters unbound: NULLs), or "" for other statements."""
    if not statement.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT")):
        return ""
    try:
        numbered = [int(n) for n in re.findall(r"\?(\d+)", statement)]
        count = max(numbered) if numbered else statement.count("?")
        rows = db.execute("EXPLAIN QUERY PLAN " + statement, [None] * count)
    except sqlite3.ProgrammingError:
        return ""
    return " ".join(str(r[3]) for r in rows)
