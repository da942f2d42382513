"""The journal on PostgreSQL: the same protocol, SQL and lifecycles as the embedded SQLite one.

Selected by ``[journal] url = "postgresql://..."`` (:func:`toekgw.gateway.journal.open_journal`
chooses). :class:`PostgresJournal` runs the journal's one body of SQL (the ``_sqlite_*``
mixins of :class:`~toekgw.gateway.journal.sqlite.SqliteJournal`, written against the small
:mod:`~toekgw.gateway.journal._sql` seam) on a :class:`~toekgw.gateway.journal.
_postgres_connection.PostgresConnection`, which translates each statement once
(:mod:`~toekgw.gateway.journal._postgres_sql`) and migrates the database from the same
numbered migrations (:mod:`~toekgw.gateway.journal._postgres_schema`). Being a
``SqliteJournal`` in Python's sense is what lets every adapter typed against it run unchanged;
nothing of SQLite's file handling is used.
"""

from __future__ import annotations

from toekgw.gateway.journal._postgres_connection import PostgresConnection, close_pool
from toekgw.gateway.journal.sqlite import SqliteJournal

__all__ = ["PostgresJournal", "close_pool"]


class PostgresJournal(PostgresConnection, SqliteJournal):
    """The :class:`~toekgw.gateway.journal.base.Journal` (with its books, status outbox and
    action plan) in one PostgreSQL database."""
