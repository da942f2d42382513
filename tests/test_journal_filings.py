"""``create_filings`` on each back end: a batch of transmissions with their items journals
what ``create_transmission`` then ``add_items`` journal one at a time, all or none."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toekgw.gateway.journal import (
    Direction,
    DuplicateItem,
    DuplicateTransmission,
    JournalLocation,
    KindSpec,
    Lifecycle,
    NewFiling,
    NewItem,
    NewTransmission,
    SqliteJournal,
    StateError,
    Transmission,
    open_journal,
)

MESSAGE = KindSpec(
    "test-message",
    Direction.IN,
    Lifecycle(("taken",), {}),
    Lifecycle(("pending", "received"), {"pending": ("released",)}),
)


@pytest.fixture
def journal(journal_at: JournalLocation) -> Iterator[SqliteJournal]:
    j = open_journal(journal_at)
    j.define_kind(MESSAGE)
    yield j
    j.close()


def _new(n: int, *, sha: str | None = None) -> NewTransmission:
    return NewTransmission(
        "tok",
        "test-message",
        "taken",
        file_name=f"queue message {n}",
        size=100 + n,
        sha256=sha or f"{n:064x}",
        delivery_key=f"KY:m-{n}",
        ref=f"tok:KY:m-{n}",
        meta={"n": n},
    )


def _items(n: int) -> list[NewItem]:
    return [
        NewItem(
            f"KY:P-{n}",
            100_00 + n,
            seq=1,
            fingerprint=f"fp-{n}",
            data={"payment": n},
            lookup=f"look-{n}",
            municipality="0751",
            disposition_date=dt.date(2026, 12, 10),
        )
    ]


def _filing(n: int) -> NewFiling:
    return NewFiling(_new(n), _items(n), "pending", "ordered")


def _story(journal: SqliteJournal, tx: Transmission) -> tuple[object, ...]:
    """What a transmission journaled, without ids and times."""
    items = [
        (i.business_key, i.amount_ore, i.seq, i.fingerprint, i.state, i.data, i.lookup,
         i.municipality, i.disposition_date, i.created_at == journal.events(tx.id)[1].at)
        for i in journal.items(tx.id)
    ]  # fmt: skip
    events = [(e.scope, e.from_state, e.to_state, e.count, e.reason, e.actor)
              for e in journal.events(tx.id)]  # fmt: skip
    return (
        tx.counterpart, tx.kind, tx.direction, tx.state, tx.file_name, tx.size,
        tx.delivery_key, tx.item_count, tx.total_ore, tx.meta, items, events,
    )  # fmt: skip


def test_a_batch_journals_what_one_at_a_time_journals(journal: SqliteJournal) -> None:
    with journal.transaction():
        one = journal.create_transmission(_new(1))
        journal.add_items(one.id, _items(1), state="pending", reason="ordered")
    with journal.transaction():
        ids = journal.create_filings([_filing(2), _filing(3), NewFiling(_new(4))])
    filed = [journal.get_transmission(tid) for tid in ids]
    assert [t.ref for t in filed] == ["tok:KY:m-2", "tok:KY:m-3", "tok:KY:m-4"]
    expected = _story(journal, journal.get_transmission(one.id))
    story = _story(journal, filed[0])
    # The same rows and events, the keys and amounts of their own.
    assert story[:4] == expected[:4]
    assert (story[4], story[5], story[6], story[7], story[8], story[9]) == (
        "queue message 2",
        102,
        "KY:m-2",
        1,
        100_02,
        {"n": 2},
    )
    assert [e[:4] for e in story[11]] == [e[:4] for e in expected[11]]
    assert [e[4] for e in story[11]] == ["created", "ordered", "1 items journaled, total 10002 øre"]
    assert story[10] == [
        ("KY:P-2", 100_02, 1, "fp-2", "pending", {"payment": 2}, "look-2", "0751",
         dt.date(2026, 12, 10), True)
    ]  # fmt: skip
    assert expected[10][0][4] == "pending" and expected[10][0][9]
    assert journal.find_items("KY:P-3", "tok")[0].transmission_id == filed[1].id
    assert journal.get_transmission(filed[2].id).item_count == 0
    assert len(journal.events(filed[2].id)) == 1  # no items, no item events
    assert journal.find_transmission(counterpart="tok", delivery_key="KY:m-3") == filed[1]


# Any text a journal's text column holds (PostgreSQL's text has no NUL; lone surrogates are
# no UTF-8), quotes, backslashes, control characters, U+2028, astral planes and text that
# reads as JSON or a number among them.
_texts = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=20)
_hostile = st.one_of(
    _texts, st.sampled_from(['"', "\\", "null", "[1]", "007", "1e3", "\u2028", "😀", ""])
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=_hostile,
    amount=st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from([0, -1, 2**53 + 1])),
)
def test_a_batch_journals_any_text_and_amount_exactly(
    journal: SqliteJournal, text: str, amount: int
) -> None:
    """The rows go to PostgreSQL as one JSON parameter per table: every text and integer
    comes back as given - here in every text column a filing writes and in the amounts - and
    the chain's link, made from the rows the inserts returned, verifies."""
    n = len(journal.transmissions())
    new = dataclasses.replace(
        _new(n), file_name=text, ref=f"{text}#{n}", delivery_key=f"{text}#{n}",
        meta={text: [text, amount]}, state="taken", reason=text,
    )  # fmt: skip
    item = NewItem(
        f"{text}#{n}", amount, seq=amount, fingerprint=text, data={"t": text},
        lookup=text, municipality=text, disposition_date=dt.date(2026, 12, 10),
    )  # fmt: skip
    (tid,) = journal.create_filings([NewFiling(new, [item], "pending", text)])
    got = journal.get_transmission(tid)
    assert (got.file_name, got.ref, got.delivery_key, got.meta, got.total_ore) == (
        text, f"{text}#{n}", f"{text}#{n}", {text: [text, amount]}, amount,
    )  # fmt: skip
    (stored,) = journal.items(tid)
    assert (stored.business_key, stored.amount_ore, stored.seq, stored.fingerprint) == (
        f"{text}#{n}", amount, amount, text,
    )  # fmt: skip
    assert (stored.data, stored.lookup, stored.municipality) == ({"t": text}, text, text)
    assert [e.reason for e in journal.events(tid)][:2] == [text, text]
    # the chain's link hashed the rows as the server stored them
    assert journal.verify_chain().problems == []


def test_a_known_delivery_refuses_the_whole_batch(journal: SqliteJournal) -> None:
    first = journal.get_transmission(journal.create_filings([_filing(1)])[0])
    with pytest.raises(DuplicateTransmission, match="delivery 'KY:m-1' of tok") as refused:
        journal.create_filings(
            [_filing(2), NewFiling(_new(1, sha="f" * 64), _items(9), "pending", "x")]
        )
    assert refused.value.first == first
    assert journal.find_transmission(counterpart="tok", delivery_key="KY:m-2") is None
    assert journal.find_items("KY:P-9", "tok") == []
    with pytest.raises(DuplicateTransmission, match="SHA-256"):
        journal.create_filings([NewFiling(_new(3, sha=f"{1:064x}"))])
    # The journal goes on: the same batch without the repeat is taken.
    assert len(journal.create_filings([_filing(2)])) == 1


def test_a_known_item_refuses_the_whole_batch(journal: SqliteJournal) -> None:
    journal.create_filings([_filing(1)])
    clash = NewFiling(_new(3), _items(1), "pending", "ordered")
    with pytest.raises(DuplicateItem, match="KY:P-1"):
        journal.create_filings([_filing(2), clash])
    assert journal.find_transmission(counterpart="tok", delivery_key="KY:m-2") is None
    assert journal.find_transmission(counterpart="tok", delivery_key="KY:m-3") is None


def test_a_batch_that_names_a_delivery_or_an_item_twice_is_a_mistake(
    journal: SqliteJournal,
) -> None:
    with pytest.raises(ValueError, match="twice"):
        journal.create_filings([_filing(1), NewFiling(_new(1, sha="f" * 64))])
    with pytest.raises(ValueError, match="'KY:P-1' is in the batch twice"):
        journal.create_filings([_filing(1), NewFiling(_new(2), _items(1), "pending", "x")])
    with pytest.raises(StateError, match="cannot start in state 'released'"):
        journal.create_filings([NewFiling(_new(1), _items(1), "released", "x")])
    assert journal.transmissions(counterpart="tok") == []


def test_a_refused_batch_inside_a_transaction_leaves_the_rest_of_it(
    journal: SqliteJournal,
) -> None:
    journal.create_filings([_filing(1)])
    with journal.transaction(durable=True):
        with pytest.raises(DuplicateTransmission):
            journal.create_filings([_filing(2), _filing(1)])
        kept = journal.create_filings([_filing(3)])
    assert [t.id for t in journal.transmissions(counterpart="tok")][-1] == kept[0]
    assert journal.find_transmission(counterpart="tok", delivery_key="KY:m-2") is None


OUTGOING = KindSpec("test-outgoing", Direction.OUT, Lifecycle(("taken",), {}))


def test_a_guard_holds_within_its_scope_only(journal: SqliteJournal) -> None:
    """A delivery key is unique per counterpart, a file's SHA-256 per direction: the batch
    guards ask within that scope (the unique index's leading column)."""
    journal.define_kind(OUTGOING)
    journal.create_filings([_filing(1)])
    elsewhere = NewTransmission(
        "ky", "test-message", "taken", delivery_key="KY:m-1", ref="other-1", sha256="e" * 64
    )
    outgoing = NewTransmission("tok", "test-outgoing", "taken", sha256=f"{1:064x}", ref="out-1")
    taken = [
        journal.get_transmission(tid)
        for tid in journal.create_filings([NewFiling(elsewhere), NewFiling(outgoing)])
    ]
    assert [(t.counterpart, t.direction) for t in taken] == [
        ("ky", Direction.IN),
        ("tok", Direction.OUT),
    ]
    with pytest.raises(DuplicateTransmission, match="delivery 'KY:m-1' of ky"):
        again = dataclasses.replace(elsewhere, ref="other-2", sha256=None)
        journal.create_filings([NewFiling(again)])
    with pytest.raises(DuplicateTransmission, match="SHA-256"):
        journal.create_filings([NewFiling(dataclasses.replace(outgoing, ref="out-2"))])


def test_the_guards_search_an_index_and_scan_no_table(tmp_path: Path) -> None:
    """A guard that scanned the transmissions would cost every batch the whole journal. A
    batch the journal takes looks nothing up (the unique indexes guard its inserts); one it
    refuses is looked up to name the clash."""
    journal = open_journal(tmp_path / "plans.sqlite")
    assert isinstance(journal, SqliteJournal)
    journal.define_kind(MESSAGE)
    journal.create_filings([_filing(n) for n in range(20)])
    statements: list[str] = []
    journal._sqlite.set_trace_callback(statements.append)
    journal.create_filings([_filing(n) for n in range(20, 40)])
    assert not [s for s in statements if "delivery_key IN" in s or "business_key IN" in s]
    with pytest.raises(DuplicateTransmission):
        journal.create_filings([_filing(n) for n in range(40, 60)] + [_filing(3)])
    journal._sqlite.set_trace_callback(None)
    # The guards' and the batch's own lookups (the hash chain reads its newest link only).
    selects = [s for s in statements if s.lstrip().startswith("SELECT") and " IN (" in s]
    assert any("delivery_key IN" in s for s in selects)
    assert any("sha256 IN" in s for s in selects)
    for select in selects:
        plan = journal._sqlite.execute(f"EXPLAIN QUERY PLAN {select}").fetchall()
        scans = [row[3] for row in plan if str(row[3]).startswith("SCAN")]
        assert scans == [], (select, scans)
    journal.close()


def test_the_chain_links_a_batch_from_the_rows_its_inserts_gave_back(
    journal: SqliteJournal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a batch's link hashes the events and items as their INSERTs returned
    them instead of reading them back - unless a savepoint was rolled back in the
    transaction, or it wrote a row otherwise: then it reads them. Each way the chain
    verifies (and on SQLite, which reads them back always)."""
    from toekgw.gateway.journal import _postgres_connection, _sqlite_chain

    read_back: list[str] = []
    rows = _sqlite_chain._rows

    def counted(*args: object, **kwargs: object) -> Iterator[list[str]]:
        read_back.append(str(args[2]))
        return rows(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_sqlite_chain, "_rows", counted)
    on_server = not isinstance(journal.location, Path)
    journal.create_filings([_filing(1), _filing(2)])
    assert read_back == ([] if on_server else ["events", "items"])
    read_back.clear()
    with journal.transaction():  # a savepoint rolled back: what RETURNING gave may be gone
        with pytest.raises(DuplicateTransmission):
            journal.create_filings([_filing(3), _filing(1)])
        journal.create_filings([_filing(4)])
    assert read_back == ["events", "items"]
    read_back.clear()
    with journal.transaction():  # an event written on its own, not by an array INSERT
        journal.create_filings([_filing(5)])
        journal.note(journal.find_transmission(ref="tok:KY:m-5").id, "looked at")  # type: ignore[union-attr]
    assert read_back == (["events"] if on_server else ["events", "items"])
    read_back.clear()
    # more rows than are kept for the link (a large transaction): read back
    monkeypatch.setattr(_postgres_connection, "_KNOWN_ROWS", 1)
    journal.create_filings([_filing(6), _filing(7)])
    assert read_back == ["events", "items"]
    report = journal.verify_chain()
    assert report.problems == [] and report.links == 4


def test_a_batch_insert_refuses_a_column_its_json_rows_cannot_carry() -> None:
    """PostgreSQL's batch INSERT reads each value back from JSON text: a text or bigint. A
    table with another type (bytes: ``bytea``) is refused when the statement is composed,
    not garbled when it runs."""
    from toekgw.gateway.journal._postgres_connection import _insert

    _insert(
        "items", ["business_key", "amount_ore"], {"business_key": "text", "amount_ore": "bigint"}
    )
    with pytest.raises(TypeError, match="staged_bodies: a JSON row cannot carry a bytea column"):
        _insert("staged_bodies", ["transmission_id", "body"],
                {"transmission_id": "bigint", "body": "bytea"})  # fmt: skip
