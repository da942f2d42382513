"""Helpers for the journal contract tests, which run on every back end (the ``journal_at``
fixture of tests/conftest.py): a second, independent connection to a test's journal, to show
that the store itself (not the Python in front of it) holds a constraint."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from toekgw.gateway.journal import SqliteJournal
from toekgw.gateway.journal._postgres_sql import translate
from toekgw.gateway.journal.postgres import PostgresJournal

INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.errors.IntegrityError)


def raw_execute(journal: SqliteJournal, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Run ``sql`` (SQLite's spelling) on a connection of its own, committed; its rows."""
    if isinstance(journal, PostgresJournal):
        text, order, _ = translate(sql)
        args = params if order is None else [params[n] for n in order]
        with psycopg.connect(journal.url, autocommit=True) as connection:
            cursor = connection.execute(text, args)
            return cursor.fetchall() if cursor.description else []
    db = sqlite3.connect(journal.path)
    try:
        db.execute("PRAGMA foreign_keys = ON")
        rows = db.execute(sql, params).fetchall()
        db.commit()
        return rows
    finally:
        db.close()


def journal_bytes(journal: Path) -> bytes:
    """The bytes of every file of the SQLite journal at ``journal`` (the database, its
    ``-wal`` and ``-shm``): where a value retention replaced must be gone from, not only from
    the tables."""
    return b"".join(p.read_bytes() for p in journal.parent.glob(journal.name + "*"))
