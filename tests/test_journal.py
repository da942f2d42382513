"""The journal on each back end (a SQLite file in WAL mode, a PostgreSQL database):
idempotency, lifecycles, audit trail."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.journal_clock import JournalClock
from tests.journals import INTEGRITY_ERRORS, raw_execute
from toekgw.formats.findings import Finding, Severity
from toekgw.gateway.journal import (
    Direction,
    DuplicateItem,
    DuplicateTransmission,
    JournalError,
    JournalLocation,
    JournalUrl,
    KindSpec,
    Lifecycle,
    NewItem,
    NewTransmission,
    SqliteJournal,
    StateError,
    open_journal,
)
from toekgw.gateway.journal._item_rows import lookup_key
from toekgw.gateway.journal._sqlite_connection import READER_CACHE_KIB, WRITER_CACHE_KIB
from toekgw.gateway.journal._sqlite_items import DUPLICATE_PAYMENTS
from toekgw.gateway.journal.migrations import LATEST, MIGRATIONS
from toekgw.gateway.journal.postgres import PostgresJournal
from toekgw.gateway.prefetch import Standalone

BUNDLE = KindSpec(
    "test-bundle",
    Direction.OUT,
    Lifecycle(("prepared",), {"prepared": ("sent",), "sent": ("answered",)}),
    Lifecycle(
        ("pending",),
        {
            "pending": ("released",),
            "released": ("sent",),
            "sent": ("received", "rejected"),
            "received": ("accepted",),
            "accepted": ("at-bank",),
        },
    ),
)
DELIVERY = KindSpec(
    "test-delivery",
    Direction.IN,
    Lifecycle(("journaled",), {"journaled": ("received",)}),
    Lifecycle(("received",), {}),
)


@pytest.fixture
def journal(journal_at: JournalLocation) -> Iterator[SqliteJournal]:
    j = open_journal(journal_at)
    j.define_kind(BUNDLE)
    j.define_kind(DELIVERY)
    yield j
    j.close()


def _delivery(journal: SqliteJournal, name: str, sha: str, **kw: str) -> int:
    new = NewTransmission("ksd", "test-delivery", "journaled", file_name=name, sha256=sha, **kw)
    return journal.create_transmission(new).id


def test_the_migrations_are_numbered_without_a_gap() -> None:
    """A journal at version N skips every migration numbered N or less: one numbered below a
    version already applied (a gap filled later) would never run there."""
    assert [version for version, _name, _sql in MIGRATIONS] == list(range(1, LATEST + 1))


def test_opens_in_wal_mode_with_migrations_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    open_journal(path).close()
    again = open_journal(path)  # migrations apply once; reopening is a no-op
    assert again.schema_version() == LATEST
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("PRAGMA foreign_keys = ON")
        db.execute(
            "INSERT INTO items(transmission_id, counterpart, business_key, amount_ore, state, "
            "created_event, updated_at) VALUES (999, 'x', 'k', 1, 's', 999, 'now')"
        )


def test_refuses_a_journal_from_a_newer_version(journal: SqliteJournal) -> None:
    raw_execute(journal, "INSERT INTO schema_migrations VALUES (?, 'future', 'now')", [LATEST + 1])
    with pytest.raises(JournalError, match="newer than this toekgw knows"):
        open_journal(journal.location)


def test_same_file_transfer_or_delivery_is_refused_naming_the_first(
    journal: SqliteJournal,
) -> None:
    first = _delivery(journal, "G68_1.txt", "a" * 64, transfer_id="u-1", delivery_key="S1/00001")
    with pytest.raises(DuplicateTransmission, match=r"already received as transmission #1 'G68_1"):
        _delivery(journal, "G68_1_again.txt", "a" * 64)
    with pytest.raises(DuplicateTransmission, match="transfer u-1"):
        _delivery(journal, "other.txt", "b" * 64, transfer_id="u-1")
    with pytest.raises(DuplicateTransmission, match="delivery 'S1/00001' of ksd") as info:
        _delivery(journal, "renamed.txt", "c" * 64, delivery_key="S1/00001")
    assert info.value.first.id == first
    assert [t.id for t in journal.transmissions()] == [first]
    # The same content in the other direction is a different transmission.
    out = NewTransmission("nemkonto", "test-bundle", "prepared", file_name="x", sha256="a" * 64)
    assert journal.create_transmission(out).direction is Direction.OUT


def test_the_constraints_hold_without_the_python_checks(journal: SqliteJournal) -> None:
    _delivery(journal, "one.txt", "d" * 64, transfer_id="u-9")
    with pytest.raises(INTEGRITY_ERRORS, match=r"(?i)unique"):
        raw_execute(
            journal,
            "INSERT INTO transmissions(ref, counterpart, kind, direction, state, sha256, "
            "created_at, updated_at) VALUES ('r', 'ksd', 'test-delivery', 'in', 'journaled', "
            "?, 'now', 'now')",
            ["d" * 64],
        )
    with pytest.raises(INTEGRITY_ERRORS, match=r"(?i)foreign key"):
        raw_execute(
            journal,
            "INSERT INTO items(transmission_id, counterpart, business_key, amount_ore, state, "
            "created_event, updated_at) VALUES (999, 'x', 'k', 1, 's', 999, 'now')",
        )


def test_items_in_bulk_with_duplicate_key_refused_all_or_none(journal: SqliteJournal) -> None:
    tid = _delivery(journal, "big.txt", "e" * 64)
    added = journal.add_items(
        tid,
        (NewItem(f"P{i:06d}", 100 + i, seq=i + 2) for i in range(25_000)),
        state="received",
        reason="validated and journaled",
    )
    assert (added.count, added.total_ore) == (25_000, 25_000 * 100 + sum(range(25_000)))
    second = _delivery(journal, "next.txt", "f" * 64)
    with pytest.raises(
        DuplicateItem, match=r"'P000007' is already journaled as item 'P000007'.*big"
    ):
        journal.add_items(
            second,
            [NewItem("NEW1", 5), NewItem("P000007", 5)],
            state="received",
            reason="x",
        )
    assert journal.get_transmission(second).item_count == 0  # none of them
    with pytest.raises(DuplicateItem, match="appears twice in the transmission"):
        journal.add_items(
            second, [NewItem("A", 1, seq=2), NewItem("A", 1, seq=3)], state="received", reason="x"
        )
    assert journal.get_transmission(second).item_count == 0


def _payments(
    count: int, *, prefix: str = "P", twice: tuple[int, int] | None = None
) -> Iterator[NewItem]:
    """Payments with every column the items keep; ``twice``: (at, of) repeats item ``of``'s
    key at position ``at``."""
    for n in range(count):
        key = f"{prefix}{(twice[1] if twice and n == twice[0] else n):06d}"
        yield NewItem(
            key,
            n - 5_000,
            seq=n + 2,
            fingerprint=f"fp-{n % 997}",
            payload=f'{{"n": {n}, "tekst": "Særlig støtte § {n}"}}',
            lookup=f"lk-{n % 501}" if n % 3 else None,
            municipality=f"{101 + n % 98:03d}",
            disposition_date=dt.date(2026, 12, 1 + n % 28),
        )


_KEPT = (
    "SELECT substr(business_key, 2), amount_ore, seq, fingerprint, data, lookup, municipality, "
    "disposition_date, state, created_event IS NOT NULL FROM items WHERE transmission_id = ? "
    "ORDER BY id"
)


def test_items_read_ahead_are_journaled_as_items_read_in_turn(journal: SqliteJournal) -> None:
    """A Standalone iterable's rows are made on a thread and inserted many a statement; the
    journal then holds what the same items hold when read in turn, in the same order."""
    ahead, in_turn = _delivery(journal, "a.txt", "a" * 64), _delivery(journal, "b.txt", "b" * 64)
    added = journal.add_items(ahead, Standalone(_payments(12_345)), state="received", reason="x")
    plain = journal.add_items(in_turn, _payments(12_345, prefix="Q"), state="received", reason="x")
    expected = (12_345, sum(range(12_345)) - 5_000 * 12_345)
    assert (added.count, added.total_ore) == (plain.count, plain.total_ore) == expected
    rows = raw_execute(journal, _KEPT, [ahead])
    assert rows == raw_execute(journal, _KEPT, [in_turn])
    assert [r[0] for r in rows] == [f"{n:06d}" for n in range(12_345)]
    assert rows[7][4] == '{"n": 7, "tekst": "Særlig støtte § 7"}'
    assert not any(t.name == "journal-items" for t in threading.enumerate())


@pytest.mark.parametrize("standalone", [False, True], ids=["in-turn", "read-ahead"])
def test_a_key_repeated_statements_later_refuses_all(
    journal: SqliteJournal, standalone: bool
) -> None:
    """The repeat sits several multi-row statements (and, read ahead, batches) after the
    first: DuplicateItem names it, and nothing of the transmission is journaled."""
    tid = _delivery(journal, "twice.txt", "c" * 64)
    items = _payments(12_000, twice=(9_001, 17))
    with pytest.raises(DuplicateItem, match=r"'P000017' appears twice in the transmission"):
        journal.add_items(
            tid, Standalone(items) if standalone else items, state="received", reason="x"
        )
    assert journal.get_transmission(tid).item_count == 0
    assert raw_execute(journal, "SELECT count(*) FROM items WHERE transmission_id = ?", [tid]) == [
        (0,)
    ]
    assert not any(t.name == "journal-items" for t in threading.enumerate())


def test_a_source_failing_while_read_ahead_journals_nothing(journal: SqliteJournal) -> None:
    tid = _delivery(journal, "broken.txt", "9" * 64)

    def broken() -> Iterator[NewItem]:
        yield from _payments(6_000)
        raise OSError("the staged copy went away")

    with pytest.raises(OSError, match="the staged copy went away"):
        journal.add_items(tid, Standalone(broken()), state="received", reason="x")
    assert journal.get_transmission(tid).item_count == 0
    assert raw_execute(journal, "SELECT count(*) FROM items WHERE transmission_id = ?", [tid]) == [
        (0,)
    ]


def test_duplicate_payment_control_reports_the_earlier_occurrence(
    journal: SqliteJournal,
) -> None:
    one = _delivery(journal, "one.txt", "1" * 64)
    journal.add_items(
        one, [NewItem("K1", 500, seq=2, fingerprint="fp-a")], state="received", reason="x"
    )
    two = _delivery(journal, "two.txt", "2" * 64)
    assert journal.earlier_fingerprints("ksd", ["fp-a", "fp-z"]).keys() == {"fp-a"}
    added = journal.add_items(
        two,
        [
            NewItem("K2", 500, seq=2, fingerprint="fp-a"),
            NewItem("K3", 7, seq=3, fingerprint="fp-b"),
        ],
        state="received",
        reason="x",
    )
    (match,) = added.duplicate_payments
    assert match.item.business_key == "K2"
    assert (match.earlier.business_key, match.earlier.file_name) == ("K1", "one.txt")


def test_duplicate_payment_control_reads_only_the_new_transmissions_items(
    journal: SqliteJournal,
) -> None:
    """Another counterpart's fingerprint is no match, nor the transmission's own later item; the
    statement starts from the transmission's items (its index), not from every fingerprint of
    the counterpart (the whole journal at every delivery)."""
    other = journal.create_transmission(
        NewTransmission("other", "test-delivery", "journaled", file_name="o.txt", sha256="3" * 64)
    ).id
    journal.add_items(other, [NewItem("O1", 5, fingerprint="fp-a")], state="received", reason="x")
    one = _delivery(journal, "one.txt", "1" * 64)
    added = journal.add_items(
        one,
        [NewItem("K1", 5, fingerprint="fp-a"), NewItem("K2", 5, fingerprint="fp-a")],
        state="received",
        reason="x",
    )
    assert [(m.item.business_key, m.earlier.business_key) for m in added.duplicate_payments] == [
        ("K2", "K1")
    ]
    explain = "EXPLAIN " if isinstance(journal, PostgresJournal) else "EXPLAIN QUERY PLAN "
    if isinstance(journal, PostgresJournal):
        journal._db.execute("SET enable_seqscan = off")
    plan = " ".join(
        str(row[-1]) for row in journal._db.execute(explain + DUPLICATE_PAYMENTS, (one, "ksd"))
    )
    if isinstance(journal, PostgresJournal):
        journal._db.execute("RESET enable_seqscan")
    assert "items_transmission" in plan, plan


def test_lifecycle_is_data_and_guards_every_move(journal: SqliteJournal) -> None:
    tx = journal.create_transmission(
        NewTransmission("nemkonto", "test-bundle", "prepared", ref="bundle-1")
    )
    with pytest.raises(StateError, match="cannot start in state"):
        journal.create_transmission(NewTransmission("nemkonto", "test-bundle", "sent"))
    with pytest.raises(StateError, match="cannot move from 'prepared' to 'answered'"):
        journal.set_state(tx.id, "answered", reason="skip")
    journal.set_state(tx.id, "sent", reason="put on the queue", expect="prepared")
    with pytest.raises(StateError, match="not 'prepared'"):
        journal.set_state(tx.id, "answered", reason="race", expect="prepared")
    # Another process sees the lifecycle from the database, not from code.
    other = open_journal(journal.location)
    assert other.kind("test-bundle").item is not None
    assert other.kind("test-bundle").transmission.allows("sent", "answered")


def test_item_history_replays_bulk_and_single_moves(journal: SqliteJournal) -> None:
    tx = journal.create_transmission(NewTransmission("nemkonto", "test-bundle", "prepared"))
    journal.add_items(
        tx.id, [NewItem("B1", 100), NewItem("B2", 200)], state="pending", reason="chunked"
    )
    journal.move_items(tx.id, "pending", "released", reason="released by approver")
    journal.move_items(tx.id, "released", "sent", reason="bundle put")
    b1 = journal.find_items("B1")[0]
    journal.set_item_state(b1.id, "rejected", reason="NemKonto: no account")
    assert journal.move_items(tx.id, "sent", "received", reason="bank accepted") == 1
    story = journal.item_history(b1.id).events
    moves = [(e.from_state, e.to_state) for e in story if e.scope != "transmission"]
    assert moves == [
        (None, "pending"),
        ("pending", "released"),
        ("released", "sent"),
        ("sent", "rejected"),
    ]
    b2 = journal.find_items("B2")[0]
    moves2 = [e.to_state for e in journal.item_history(b2.id).events if e.scope == "items"]
    assert moves2 == ["pending", "released", "sent", "received"]
    assert journal.item_history(b2.id).events[0].to_state == "prepared"  # the file's creation


def test_event_log_is_append_only(journal: SqliteJournal) -> None:
    _delivery(journal, "x.txt", "9" * 64)
    with pytest.raises(INTEGRITY_ERRORS, match="append-only"):
        raw_execute(journal, "UPDATE events SET reason = 'rewritten'")
    with pytest.raises(INTEGRITY_ERRORS, match="append-only"):
        raw_execute(journal, "DELETE FROM events")
    assert journal.events(1)[0].reason != "rewritten"


def test_error_list_keeps_every_finding(journal: SqliteJournal) -> None:
    tid = _delivery(journal, "bad.txt", "8" * 64)
    findings = [
        Finding("G68-001", Severity.ERROR, "amount not digits", line=3, columns=(39, 49)),
        Finding("G68-002", Severity.WARNING, "beneficiary 0101011234 odd", line=4),
    ]
    entry = journal.add_error(
        counterpart="ksd",
        subject="delivery",
        findings=findings,
        transmission_id=tid,
        file_name="bad.txt",
    )
    (listed,) = journal.errors()
    assert listed.id == entry and len(listed.findings) == 2
    assert listed.findings[0].columns == (39, 49) and listed.findings[0].file == "bad.txt"
    assert "0101011234" not in listed.findings[1].message
    journal.resolve_error(entry, "resent corrected")
    assert journal.errors() == [] and len(journal.errors(include_resolved=True)) == 1


def test_a_durable_transaction_rolls_back_whole_and_cannot_nest_in_a_normal_one(
    journal: SqliteJournal,
) -> None:
    with pytest.raises(RuntimeError), journal.transaction(durable=True):
        _delivery(journal, "gone.txt", "7" * 64)
        raise RuntimeError("crash before commit")
    assert journal.transmissions() == []
    with (
        pytest.raises(JournalError, match="cannot be nested"),
        journal.transaction(),
        journal.transaction(durable=True),
    ):
        pass


def test_two_processes_write_the_same_journal(journal_at: JournalLocation) -> None:
    path = journal_at.url if isinstance(journal_at, JournalUrl) else journal_at
    j = open_journal(journal_at)
    j.define_kind(DELIVERY)
    script = (
        "import sys\n"
        "from toekgw.gateway.journal import open_journal, NewTransmission\n"
        "j = open_journal(sys.argv[1])\n"
        "for i in range(40):\n"
        "    j.create_transmission(NewTransmission('ksd', 'test-delivery', 'journaled',"
        " ref=f'{sys.argv[2]}-{i}'))\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(path), name]) for name in ("a", "b")
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    assert len(j.transmissions()) == 80
    j.close()


def test_an_adapter_extends_the_inbound_lifecycle(journal: SqliteJournal) -> None:
    from toekgw.gateway.inbound import INBOUND_FILE, inbound_kind

    grown = INBOUND_FILE.extended({"received": ["forwarded"]})
    kind = inbound_kind("test-grown", Lifecycle(("received",), {}), grown)
    journal.define_kind(kind)
    tx = journal.create_transmission(NewTransmission("ksd", "test-grown", "journaled"))
    journal.set_state(tx.id, "received", reason="remote removed")
    assert journal.set_state(tx.id, "forwarded", reason="to NemKonto").state == "forwarded"
    with pytest.raises(ValueError, match="must extend INBOUND_FILE"):
        inbound_kind("broken", Lifecycle(("received",), {}), Lifecycle(("journaled",), {}))


def test_durable_commits_are_synchronous_full_and_others_normal(tmp_path: Path) -> None:
    # SQLite's own safety levels (PostgreSQL's commits are all durable).
    journal = open_journal(tmp_path / "journal.sqlite")
    journal.define_kind(DELIVERY)
    statements: list[str] = []
    journal._db.set_trace_callback(statements.append)
    with journal.transaction(durable=True):
        _delivery(journal, "d.txt", "6" * 64)
    with journal.transaction():
        _delivery(journal, "e.txt", "5" * 64)
    journal._db.set_trace_callback(None)
    marks = [s for s in statements if s.startswith(("PRAGMA synchronous", "BEGIN", "COMMIT"))]
    assert marks == [
        "PRAGMA synchronous = FULL",
        "BEGIN IMMEDIATE",
        "COMMIT",
        "PRAGMA synchronous = NORMAL",
        "BEGIN IMMEDIATE",
        "COMMIT",
    ]


def test_item_payload_round_trips_as_json(journal: SqliteJournal) -> None:
    tid = _delivery(journal, "payload.txt", "d" * 64)
    payload = {"recipient": "0101011234", "text": ["Kontanthjælp", "november"], "amount": 12345}
    journal.add_items(
        tid,
        [
            NewItem("K1", 12345, seq=2, data=payload),
            NewItem("K2", 1, seq=3),
            # already encoded by the adapter: stored as given, read back as its data
            NewItem("K3", 7, seq=4, payload=json.dumps(payload, ensure_ascii=False)),
        ],
        state="received",
        reason="journaled",
    )
    first, second, third = journal.items(tid)
    assert first.data == payload and second.data is None and third.data == payload
    assert journal.find_items("K1")[0].data == payload
    assert journal.get_item(first.id).data == payload


def test_items_by_lookup_finds_earlier_items_across_transmissions(journal: SqliteJournal) -> None:
    one = _delivery(journal, "one.txt", "e" * 64)
    two = _delivery(journal, "two.txt", "f" * 64)
    journal.add_items(
        one,
        [NewItem("A1", 5, lookup="p|2026-11"), NewItem("A2", 6, lookup="q|2026-11")],
        state="received",
        reason="journaled",
    )
    journal.add_items(two, [NewItem("B1", 7, lookup="p|2026-11")], state="received", reason="j")
    found = journal.items_by_lookup("ksd", "p|2026-11")
    assert [(i.business_key, i.lookup) for i in found] == [("A1", "p|2026-11"), ("B1", "p|2026-11")]
    assert journal.items_by_lookup("other", "p|2026-11") == []
    assert journal.items_by_lookup("ksd", "none") == []
    many = journal.items_by_lookups("ksd", ["p|2026-11", "q|2026-11", "none", "p|2026-11"])
    assert {k: [i.business_key for i in v] for k, v in many.items()} == {
        "p|2026-11": ["A1", "B1"],
        "q|2026-11": ["A2"],
    }
    assert journal.items_by_lookups("other", ["p|2026-11"]) == {}
    # Found by the key's digest (indexed), then the text: one key, and a list of keys.
    one = "SELECT id FROM items WHERE lookup_key = ? AND counterpart = ? AND lookup = ?"
    args = (lookup_key("p|2026-11"), "ksd", "p|2026-11")
    listed = (
        "SELECT id FROM items WHERE lookup_key IN (?, ?) AND counterpart = ? AND lookup IN (?, ?)"
    )
    list_args = (lookup_key("p|2026-11"), lookup_key("q"), "ksd", "p|2026-11", "q")
    shapes = [(one, args)]
    if not isinstance(journal, PostgresJournal):
        # SQLite plans without statistics: a list of keys must still take the digest's index
        # (PostgreSQL plans by its statistics, on a handful of rows any index).
        shapes.append((listed, list_args))
    for query, values in shapes:
        if isinstance(journal, PostgresJournal):
            # A handful of rows: the planner would scan; what matters is that the index serves.
            journal._db.execute("SET enable_seqscan = off")
            plan = journal._db.execute("EXPLAIN " + query, values).fetchall()
            journal._db.execute("RESET enable_seqscan")
        else:
            plan = journal._db.execute("EXPLAIN QUERY PLAN " + query, values).fetchall()
        assert any("items_lookup_key" in str(row) for row in plan), plan
    assert [r[0] for r in journal._db.execute(one, args)] == [
        i.id for i in journal.items_by_lookup("ksd", "p|2026-11")
    ]


def test_a_postgresql_journal_that_cannot_be_reached_is_one_line_without_the_password() -> None:
    from tests.servers import free_port

    url = f"postgresql://toekgw:hemmeligt@127.0.0.1:{free_port()}/journal"
    with pytest.raises(JournalError, match="cannot open the journal") as info:
        open_journal(url)
    assert "hemmeligt" not in str(info.value) and "toekgw:***@127.0.0.1" in str(info.value)


def test_item_amounts_at_an_instant_replay_single_and_bulk_moves(
    journal: SqliteJournal, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
    clock = JournalClock(monkeypatch, day)
    tx = journal.create_transmission(NewTransmission("nemkonto", "test-bundle", "prepared"))
    journal.add_items(tx.id, [NewItem("B1", 100), NewItem("B2", 200)], state="pending", reason="x")
    clock.at(day + dt.timedelta(days=1))
    journal.move_items(tx.id, "pending", "released", reason="released")
    journal.move_items(tx.id, "released", "sent", reason="bundle put")
    clock.at(day + dt.timedelta(days=2))
    journal.set_item_state(journal.find_items("B1")[0].id, "rejected", reason="no account")
    clock.at(day + dt.timedelta(days=3))
    assert journal.move_items(tx.id, "sent", "received", reason="bank took it") == 1

    def amounts(states: tuple[str, ...], days: int | None) -> list[tuple[str, int]]:
        before = None
        if days is not None:
            before = (day + dt.timedelta(days=days, hours=1)).isoformat(timespec="microseconds")
        return list(journal.item_amounts(["test-bundle"], states, before=before))

    assert amounts(("pending",), -1) == []  # not journaled yet
    assert amounts(("pending",), 0) == [("B1", 100), ("B2", 200)]
    assert amounts(("sent",), 1) == [("B1", 100), ("B2", 200)]
    assert amounts(("sent",), 2) == [("B2", 200)]
    assert amounts(("rejected",), 2) == [("B1", 100)]
    # B1's own move came after the bulk moves it was in; the later bulk move skips it.
    assert amounts(("received", "rejected"), 3) == [("B1", 100), ("B2", 200)]
    assert amounts(("sent",), 3) == []
    assert amounts(("received",), None) == [("B2", 200)]


def test_a_reader_keeps_a_small_page_cache_a_writer_a_large_one(
    journal_at: JournalLocation,
) -> None:
    """An operator's query reads each page about once: its memory must not grow with the
    journal (the 64 MiB a writer keeps would be filled by a large journal's pages)."""
    for reader, kib in ((False, WRITER_CACHE_KIB), (True, READER_CACHE_KIB)):
        journal = open_journal(journal_at, reader=reader)
        if isinstance(journal_at, Path):
            assert journal._sqlite.execute("PRAGMA cache_size").fetchone()[0] == -kib
        journal.define_kind(DELIVERY)  # a reader still writes (the read log, kinds)
        assert journal.transmissions() == []
        journal.close()
    assert READER_CACHE_KIB * 16 <= WRITER_CACHE_KIB
