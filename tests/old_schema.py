"""A journal as an earlier release left it, for the tests of a migration: the schema up to a
migration, and items written by today's code without the columns later migrations add."""

from __future__ import annotations

from typing import Any

import pytest

from tests.servers import PostgresServer
from toekgw.gateway.journal import (
    JournalLocation,
    JournalUrl,
    _item_rows,
    _postgres_connection,
    _sqlite_filings,
    _sqlite_items,
)
from toekgw.gateway.journal import _sqlite_connection as connection
from toekgw.gateway.journal.migrations import MIGRATIONS

#: The migration that adds ``items.lookup_key`` (written with every item from it on).
LOOKUP_KEY = next(n for n, _, sql in MIGRATIONS if "ADD COLUMN lookup_key" in sql)


def schema_before(patch: pytest.MonkeyPatch, number: int) -> None:
    """Within ``patch`` (a ``monkeypatch.context()``): journals of either back end open (and
    migrate) up to the migration before ``number``, and are written as that schema allows."""
    before = number - 1
    for module in (connection, _postgres_connection):
        patch.setattr(module, "MIGRATIONS", MIGRATIONS[:before])
        patch.setattr(module, "LATEST", before)
    if before < LOOKUP_KEY:
        assert _item_rows.NEW_ITEM_COLUMNS[-1] == "lookup_key"
        row = _item_rows.item_row

        def without_lookup_key(*args: Any) -> tuple[Any, ...]:
            return row(*args)[:-1]

        for writer in (_sqlite_items, _sqlite_filings):  # add_items, create_filings
            patch.setattr(writer, "NEW_ITEM_COLUMNS", _item_rows.NEW_ITEM_COLUMNS[:-1])
            patch.setattr(writer, "item_row", without_lookup_key)


def unmigrated(where: JournalLocation, request: pytest.FixtureRequest) -> JournalLocation:
    """``where`` (the ``journal_at`` fixture's) without the journal's schema yet: the SQLite
    file as it is (not created), for PostgreSQL a fresh database left unmigrated (dropped
    after the test)."""
    if not isinstance(where, JournalUrl):
        return where
    server: PostgresServer = request.getfixturevalue("postgresql")
    url = server.fresh(migrated=False)
    request.addfinalizer(lambda: server.drop(url))
    return JournalUrl(url)
