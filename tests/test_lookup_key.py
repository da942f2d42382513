"""Items found by look-up key through the key's digest (migrations 19 and 20), on both back
ends: the digest is indexed, the text stays the key."""

from __future__ import annotations

import dataclasses
import signal
import sqlite3
import subprocess
import sys

import psycopg
import pytest

from tests.crashkit import child_env
from tests.journals import raw_execute
from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.old_schema import LOOKUP_KEY, schema_before, unmigrated
from toekgw.gateway.journal import (
    JournalLocation,
    JournalUrl,
    _item_rows,
    _sqlite_items,
    open_journal,
)
from toekgw.gateway.journal._item_rows import lookup_key
from toekgw.gateway.journal.migrations import LATEST
from toekgw.gateway.journal.sqlite import SqliteJournal


def _index_names(journal: SqliteJournal) -> set[str]:
    if isinstance(journal.location, JournalUrl):
        query = "SELECT indexname FROM pg_indexes WHERE tablename = 'items'"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items'"
    return {str(r[0]) for r in raw_execute(journal, query)}


def _version_on_disk(where: JournalLocation) -> int:
    """The schema version as stored, read without opening (and so migrating) the journal."""
    query = "SELECT max(version) FROM schema_migrations"
    if isinstance(where, JournalUrl):
        with psycopg.connect(where.url) as connection:
            row = connection.execute(query).fetchone()
    else:
        db = sqlite3.connect(where)
        row = db.execute(query).fetchone()
        db.close()
    assert row is not None
    return int(row[0])


def test_the_digest_is_64_bits_of_blake2b_and_none_without_a_key() -> None:
    assert lookup_key(None) is None
    assert lookup_key("4410|02|0101701234|100|2026-11-30") == lookup_key(
        "4410|02|0101701234|100|2026-11-30"
    )
    assert lookup_key("a") != lookup_key("b")
    keys = [lookup_key(str(n)) for n in range(1_000)]
    assert all(k is not None and -(2**63) <= k < 2**63 for k in keys)
    assert any(k is not None and k < 0 for k in keys)  # signed: SQLite's integer range


def test_older_items_get_their_digest_and_are_found_after_the_upgrade(
    journal_at: JournalLocation, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal_at = unmigrated(journal_at, request)
    payment = instruction(1)
    recall = instruction(2, recall=True)  # refused, with no look-up key
    with monkeypatch.context() as patch:
        schema_before(patch, LOOKUP_KEY)
        old = open_journal(journal_at)
        assert old.schema_version() == LOOKUP_KEY - 1 and "items_lookup" in _index_names(old)
        journal_delivery(old, [payment, instruction(3), recall])
        old.close()
    journal = open_journal(journal_at)
    assert journal.schema_version() == LATEST
    rows = raw_execute(journal, "SELECT lookup, lookup_key FROM items ORDER BY id")
    assert len(rows) == 3 and any(lookup is None for lookup, _ in rows)
    assert all(key == lookup_key(lookup) for lookup, key in rows)
    indexes = _index_names(journal)
    assert "items_lookup_key" in indexes and "items_lookup" not in indexes
    found = journal.items_by_lookups("ksd", [payment.control_key, "none"])
    assert [i.business_key for i in found[payment.control_key]] == [payment.business_key]
    # A payment journaled after the upgrade finds the one from before.
    again = dataclasses.replace(instruction(1, delivery=2), payment_ident=f"{99:018d}", line=99)
    journal_delivery(journal, [again], delivery=2)
    assert [i.business_key for i in journal.items_by_lookup("ksd", payment.control_key)] == [
        payment.business_key,
        again.business_key,
    ]
    journal.close()


def test_keys_sharing_a_digest_find_only_their_own_items(
    journal_at: JournalLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every key one digest: the index finds them all, the text picks the one asked for.
    for module in (_item_rows, _sqlite_items):
        monkeypatch.setattr(module, "lookup_key", lambda lookup: None if lookup is None else 7)
    journal = open_journal(journal_at)
    first, second = instruction(1), instruction(2)
    assert first.control_key != second.control_key
    journal_delivery(journal, [first, second])
    assert {k for (k,) in raw_execute(journal, "SELECT lookup_key FROM items")} == {7}
    assert [i.business_key for i in journal.items_by_lookup("ksd", first.control_key)] == [
        first.business_key
    ]
    found = journal.items_by_lookups("ksd", [second.control_key, "other"])
    assert {k: [i.business_key for i in v] for k, v in found.items()} == {
        second.control_key: [second.business_key]
    }
    journal.close()


def test_a_migration_killed_after_its_fill_leaves_the_old_schema_and_runs_again(
    journal_at: JournalLocation, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal_at = unmigrated(journal_at, request)
    with monkeypatch.context() as patch:
        schema_before(patch, LOOKUP_KEY)
        old = open_journal(journal_at)
        journal_delivery(old, [instruction(n) for n in range(1, 6)])
        old.close()
    where = journal_at.url if isinstance(journal_at, JournalUrl) else str(journal_at)
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from toekgw.gateway.journal import open_journal; open_journal({where!r})",
        ],
        env=child_env("journal.migrate.filled"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    # Nothing of the migration stayed: the fill is in the migration's transaction.
    assert _version_on_disk(journal_at) == LOOKUP_KEY - 1
    journal = open_journal(journal_at)
    assert journal.schema_version() == LATEST
    rows = raw_execute(journal, "SELECT lookup, lookup_key FROM items")
    assert len(rows) == 5 and all(key == lookup_key(lookup) is not None for lookup, key in rows)
    assert journal.verify_chain().problems == []
    journal.close()
