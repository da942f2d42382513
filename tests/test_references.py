"""The journal's references hold on every back end, whether the store declares them as foreign
keys (SQLite; PostgreSQL's other references) or checks them once per statement (PostgreSQL's
busiest, :mod:`toekgw.gateway.journal._postgres_references`): shown through a connection of
the test's own, so the store holds them, not the Python in front of it."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests import old_schema
from tests.journals import INTEGRITY_ERRORS, raw_execute
from tests.servers import PostgresServer
from toekgw.gateway.journal import (
    Direction,
    JournalLocation,
    JournalUrl,
    KindSpec,
    Lifecycle,
    NewItem,
    NewTransmission,
    SqliteJournal,
    open_journal,
)
from toekgw.gateway.journal._postgres_references import SET_WISE, Reference, parents
from toekgw.gateway.journal._postgres_references import triggers as reference_triggers
from toekgw.gateway.journal.copy import _tables
from toekgw.gateway.journal.postgres import PostgresJournal

KIND = KindSpec(
    "test-refs",
    Direction.IN,
    Lifecycle(("journaled",), {}),
    Lifecycle(("pending",), {"pending": ("released",)}),
)
MISSING = {"bigint": 999_999, "text": "no-such-kind"}


@pytest.fixture
def journal(journal_at: JournalLocation) -> Iterator[SqliteJournal]:
    j = open_journal(journal_at)
    j.define_kind(KIND)
    yield j
    j.close()


@pytest.fixture
def pg_journal(postgresql: PostgresServer) -> Iterator[PostgresJournal]:
    """A journal on PostgreSQL alone, for what SQLite has no counterpart of."""
    url = postgresql.fresh()
    j = open_journal(JournalUrl(url))
    assert isinstance(j, PostgresJournal)
    j.define_kind(KIND)
    yield j
    j.close()
    postgresql.drop(url)


def _parents(journal: SqliteJournal, n: int = 0) -> dict[str, Any]:
    """A new parent row of each table a reference names, that no other row refers to yet:
    the key a child row names."""
    tx = journal.create_transmission(NewTransmission("ksd", KIND.name, "journaled", ref=f"t{n}"))
    event = raw_execute(journal, "SELECT max(id) FROM events")[0][0]
    inserts = {
        "kinds": ("INSERT INTO kinds(name, direction, definition) VALUES (?, 'in', '{}')",
                  [f"spare-{n}"]),
        "transmissions": ("INSERT INTO transmissions(ref, counterpart, kind, direction, state, "
                          "created_at, updated_at) VALUES (?, 'ksd', ?, 'in', 'journaled', "
                          "'now', 'now')", [f"p-{n}", KIND.name]),
        "events": ("INSERT INTO events(at, transmission_id, scope, reason) "
                   "VALUES ('now', ?, 'transmission', 'r')", [tx.id]),
        "items": ("INSERT INTO items(transmission_id, counterpart, business_key, amount_ore, "
                  "state, created_event, updated_at) VALUES (?, 'x', ?, 1, 'pending', ?, 'now')",
                  [tx.id, f"p-{n}", event]),
    }  # fmt: skip
    keys: dict[str, Any] = {"kinds": f"spare-{n}"}
    for table, (sql, params) in inserts.items():
        raw_execute(journal, sql, params)
        if table != "kinds":
            keys[table] = raw_execute(journal, f"SELECT max(id) FROM {table}")[0][0]
    return keys


def _refused(ref: Reference) -> str:
    """What refusing a change to ``ref`` says: SQLite's foreign key, PostgreSQL's by name;
    the event log refuses every change before its keys are looked at."""
    return rf"(?i)FOREIGN KEY constraint failed|{ref.constraint}|append-only"


def _row(ref: Reference, parent: dict[str, Any], value: object, n: int) -> dict[str, object]:
    """A row of ``ref.table`` whose ``ref.column`` is ``value``, its other references naming
    the rows of ``parent`` (``n`` keeps its unique columns apart)."""
    tx, event, item = parent["transmissions"], parent["events"], parent["items"]
    rows: dict[str, dict[str, object]] = {
        "transmissions": {
            "ref": f"r-{n}", "counterpart": "ksd", "kind": parent["kinds"], "direction": "in",
            "state": "journaled", "created_at": "now", "updated_at": "now",
        },
        "items": {
            "transmission_id": tx, "counterpart": "x", "business_key": f"b-{n}",
            "amount_ore": 1, "state": "pending", "created_event": event, "updated_at": "now",
        },
        "events": {"at": "now", "transmission_id": tx, "scope": "transmission", "reason": "r"},
        "transmission_members": {
            "transmission_id": tx, "item_id": item, "seq": n, "member_key": f"m-{n}",
        },
    }  # fmt: skip
    return {**rows[ref.table], ref.column: value}


def _insert(journal: SqliteJournal, table: str, row: dict[str, object]) -> None:
    marks = ", ".join("?" * len(row))
    raw_execute(
        journal,
        f"INSERT INTO {table}({', '.join(row)}) VALUES ({marks})",
        list(row.values()),
    )


REFS = pytest.mark.parametrize("ref", SET_WISE, ids=lambda r: r.constraint)


@REFS
def test_a_row_naming_a_missing_parent_is_refused(journal: SqliteJournal, ref: Reference) -> None:
    parent = _parents(journal)
    _insert(journal, ref.table, _row(ref, parent, parent[ref.parent], 1))  # the row is sound
    with pytest.raises(INTEGRITY_ERRORS, match=_refused(ref)):
        _insert(journal, ref.table, _row(ref, parent, MISSING[ref.type], 2))
    with pytest.raises(INTEGRITY_ERRORS, match=_refused(ref)):
        raw_execute(
            journal,
            f"UPDATE {ref.table} SET {ref.column} = ? WHERE {ref.column} = ?",
            [MISSING[ref.type], parent[ref.parent]],
        )


@REFS
def test_a_parent_still_referred_to_is_neither_deleted_nor_rekeyed(
    journal: SqliteJournal, ref: Reference
) -> None:
    """Each parent is named by the one row under test alone: the refusal is that reference's
    (on PostgreSQL the error names it), and a parent no row names is deleted."""
    parent, spare = _parents(journal, 1), _parents(journal, 2)
    _insert(journal, ref.table, _row(ref, parent, parent[ref.parent], 1))
    key = parent[ref.parent]
    count = f"SELECT count(*) FROM {ref.parent} WHERE {ref.key} = ?"
    with pytest.raises(INTEGRITY_ERRORS, match=_refused(ref)):
        raw_execute(journal, f"DELETE FROM {ref.parent} WHERE {ref.key} = ?", [key])
    with pytest.raises(INTEGRITY_ERRORS, match=_refused(ref)):
        raw_execute(
            journal,
            f"UPDATE {ref.parent} SET {ref.key} = ? WHERE {ref.key} = ?",
            [MISSING[ref.type], key],
        )
    assert raw_execute(journal, count, [key]) == [(1,)]
    if ref.parent != "events":  # append-only: never deleted
        raw_execute(journal, f"DELETE FROM {ref.parent} WHERE {ref.key} = ?", [spare[ref.parent]])
        assert raw_execute(journal, count, [spare[ref.parent]]) == [(0,)]


def test_postgresql_checks_the_busiest_references_per_statement(
    pg_journal: PostgresJournal,
) -> None:
    journal = pg_journal
    """On PostgreSQL the references of SET_WISE are triggers, not foreign keys, and a COPY of
    many rows (as add_items sends) is refused as the foreign key refused it: its error
    class, constraint name and detail."""
    with psycopg.connect(journal.url, autocommit=True) as connection:
        declared = {
            row[0]
            for row in connection.execute("SELECT conname FROM pg_constraint WHERE contype = 'f'")
        }
        triggers = {row[0] for row in connection.execute("SELECT tgname FROM pg_trigger")}
    assert declared and not declared & {r.constraint for r in SET_WISE}
    assert {name for _table, name in reference_triggers()} <= triggers
    parent = _parents(journal)
    ref = next(r for r in SET_WISE if r.constraint == "items_transmission_id_fkey")
    rows = [_row(ref, parent, parent["transmissions"], n) for n in range(1, 500)]
    rows.append(_row(ref, parent, MISSING["bigint"], 500))
    with psycopg.connect(journal.url) as connection:
        statement = f"COPY items ({', '.join(rows[0])}) FROM STDIN"
        with (
            pytest.raises(psycopg.errors.ForeignKeyViolation) as info,
            connection.cursor().copy(statement.encode()) as copy,
        ):
            for row in rows:
                copy.write_row(list(row.values()))
    assert info.value.diag.constraint_name == "items_transmission_id_fkey"
    assert info.value.diag.message_detail == (
        'Key (transmission_id)=(999999) is not present in table "transmissions".'
    )
    assert raw_execute(journal, "SELECT count(*) FROM items")[0][0] == 1  # none of the COPY
    with pytest.raises(psycopg.errors.FeatureNotSupported, match="cannot truncate"):
        raw_execute(journal, "TRUNCATE kinds CASCADE")


def _spare_kind(journal: PostgresJournal) -> None:
    raw_execute(
        journal, "INSERT INTO kinds(name, direction, definition) VALUES ('spare', 'in', '{}')"
    )


_ORPHAN = (
    "INSERT INTO transmissions(ref, counterpart, kind, direction, state, created_at, "
    "updated_at) VALUES ('orphan', 'ksd', 'spare', 'in', 'journaled', 'now', 'now')"
)


def _in_thread(url: str, statement: str) -> tuple[threading.Thread, list[BaseException]]:
    """``statement`` committed on a connection of its own in a thread; what it raised."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(statement)
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, raised


def _wait_for_a_lock(url: str) -> None:
    """Until another session waits for a lock (the statement under test has reached it)."""
    with psycopg.connect(url, autocommit=True) as connection:
        for _ in range(200):
            if connection.execute(
                "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            ).fetchone():
                return
            time.sleep(0.05)
    raise AssertionError("no session came to wait for a lock")


def _race(url: str, first: str, second: str) -> list[BaseException]:
    """``first`` run and left uncommitted, ``second`` started on a connection of its own
    until it waits for ``first``'s lock, then ``first`` committed: what ``second`` raised."""
    with psycopg.connect(url) as connection:
        connection.execute(first)
        thread, raised = _in_thread(url, second)
        _wait_for_a_lock(url)
        connection.commit()
        thread.join(10)
    return raised


def test_a_parent_deleted_while_a_row_names_it_is_refused_after_the_insert_commits(
    pg_journal: PostgresJournal,
) -> None:
    _spare_kind(pg_journal)
    # The insert locks the kind FOR KEY SHARE; the delete waits for it, then sees the row.
    raised = _race(pg_journal.url, _ORPHAN, "DELETE FROM kinds WHERE name = 'spare'")
    assert len(raised) == 1 and isinstance(raised[0], psycopg.errors.ForeignKeyViolation)
    count = "SELECT count(*) FROM kinds WHERE name = 'spare'"
    assert raw_execute(pg_journal, count) == [(1,)]


def test_a_row_naming_a_parent_being_deleted_is_refused_once_the_delete_commits(
    pg_journal: PostgresJournal,
) -> None:
    _spare_kind(pg_journal)
    raised = _race(pg_journal.url, "DELETE FROM kinds WHERE name = 'spare'", _ORPHAN)
    assert len(raised) == 1 and isinstance(raised[0], psycopg.errors.ForeignKeyViolation)
    assert not raw_execute(pg_journal, "SELECT 1 FROM transmissions WHERE ref = 'orphan'")


def test_migration_21_keeps_a_journal_and_its_references(
    journal_at: JournalLocation, request: pytest.FixtureRequest
) -> None:
    """A journal of migration 20, with items, opened by today's code: on PostgreSQL the
    foreign keys give way to the triggers; on either, the rows stay and a bad row is
    refused."""
    where = old_schema.unmigrated(journal_at, request)
    with pytest.MonkeyPatch.context() as patch:
        old_schema.schema_before(patch, 21)
        old = open_journal(where)
        old.define_kind(KIND)
        tx = old.create_transmission(NewTransmission("ksd", KIND.name, "journaled"))
        old.add_items(tx.id, [NewItem("k-1", 100), NewItem("k-2", 200)], state="pending",
                      reason="journaled")  # fmt: skip
        old.close()
    journal = open_journal(where)
    try:
        assert [i.amount_ore for i in journal.items(tx.id)] == [100, 200]
        if isinstance(journal, PostgresJournal):
            with psycopg.connect(journal.url, autocommit=True) as connection:
                names = {r[0] for r in connection.execute("SELECT conname FROM pg_constraint")}
            assert not names & {r.constraint for r in SET_WISE}
        ref = SET_WISE[1]
        with pytest.raises(INTEGRITY_ERRORS, match=r"(?i)foreign key"):
            _insert(journal, ref.table, _row(ref, _parents(journal), MISSING[ref.type], 9))
    finally:
        journal.close()


def test_the_copy_fills_a_parent_before_the_tables_that_refer_to_it(tmp_path: Path) -> None:
    open_journal(tmp_path / "j.sqlite").close()
    db = sqlite3.connect(tmp_path / "j.sqlite")
    try:
        order = _tables(db)
    finally:
        db.close()
    assert {r.table for r in SET_WISE} <= set(order)
    for table in order:
        assert all(order.index(p) < order.index(table) for p in parents(table)), table


def test_postgresql_finds_a_statements_parents_by_their_index(pg_journal: PostgresJournal) -> None:
    """The checks look their parents up by key, never by reading the parent table through:
    a plan made while a table was small (and kept for the session) would otherwise read all
    of it for every statement as it grows (the intake took twice as long)."""
    with psycopg.connect(pg_journal.url) as connection:
        for batch in range(12):  # as an intake's batches: 50 transmissions, then their events
            ids = [
                row[0]
                for row in connection.execute(
                    "INSERT INTO transmissions (ref, counterpart, kind, direction, state, "
                    "created_at, updated_at) SELECT 'b' || %s || '-' || n, 'ksd', %s, 'in', "
                    "'journaled', 'now', 'now' FROM generate_series(1, 50) n RETURNING id",
                    (batch, KIND.name),
                ).fetchall()
            ]
            connection.execute(
                "INSERT INTO events (at, transmission_id, scope, reason) "
                "SELECT 'now', t, 'transmission', 'r' FROM unnest(%s::bigint[]) t",
                (ids,),
            )
        scans = connection.execute(
            "SELECT relname, seq_scan FROM pg_stat_xact_user_tables "
            "WHERE relname IN ('kinds', 'transmissions') ORDER BY relname"
        ).fetchall()
    assert scans == [("kinds", 0), ("transmissions", 0)]


def test_doctor_names_a_reference_check_or_append_only_trigger_that_is_gone(
    pg_journal: PostgresJournal,
) -> None:
    """`toekgw doctor`'s schema check finds each trigger by name: the reference checks' added
    to the event log's own, so that a count of them could no longer tell one was gone."""
    assert pg_journal.integrity_problems() == []
    raw_execute(pg_journal, "DROP TRIGGER items_references_inserted ON items")
    raw_execute(pg_journal, "DROP TRIGGER events_no_delete ON events")
    assert pg_journal.integrity_problems() == [
        "the event log's append-only triggers are missing",
        "the reference checks' triggers are missing: items_references_inserted",
    ]
