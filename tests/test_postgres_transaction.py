"""The PostgreSQL journal's outermost transaction: ``BEGIN`` and the journal's writer lock are
deferred to the transaction's first statement (one round trip less per commit), so these
tests hold what that must not change: the statements run inside one transaction, under the
writer lock, from the first statement on; a second writer waits for the commit; a rollback
leaves nothing; a transaction that sends nothing commits nothing and leaves no lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from tests.servers import PostgresServer
from toekgw.gateway.journal._postgres_connection import WRITER_LOCK
from toekgw.gateway.journal.postgres import PostgresJournal

_IDLE = psycopg.pq.TransactionStatus.IDLE
_IN_TRANSACTION = psycopg.pq.TransactionStatus.INTRANS


def _writer_lock_holders(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as other:
        row = other.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND ((classid::bigint << 32) | objid::bigint) = %s",
            (WRITER_LOCK,),
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.fixture
def url(postgresql: PostgresServer) -> Iterator[str]:
    """A new journal database, dropped after the test."""
    fresh = postgresql.fresh()
    yield fresh
    postgresql.drop(fresh)


def test_the_first_statement_runs_in_the_transaction_under_the_writer_lock(url: str) -> None:
    journal = PostgresJournal(url)
    try:
        with journal.transaction(durable=True):
            assert journal._db.execute("SELECT 1").fetchone()[0] == 1
            assert journal._connection.info.transaction_status == _IN_TRANSACTION
            assert _writer_lock_holders(url) == 1
        assert journal._connection.info.transaction_status == _IDLE
        assert _writer_lock_holders(url) == 0
    finally:
        journal.close()


def test_a_rolled_back_transaction_leaves_nothing(url: str) -> None:
    journal = PostgresJournal(url)
    try:
        count = journal._db.execute("SELECT count(*) FROM kinds").fetchone()[0]
        with pytest.raises(RuntimeError), journal.transaction():
            journal._db.execute(
                "INSERT INTO kinds(name, direction, definition) VALUES ('x', 'in', '{}')"
            )
            raise RuntimeError("the caller fails")
        assert journal._db.execute("SELECT count(*) FROM kinds").fetchone()[0] == count
        assert journal._connection.info.transaction_status == _IDLE
    finally:
        journal.close()


def test_an_empty_transaction_commits_nothing_and_holds_no_lock(url: str) -> None:
    journal = PostgresJournal(url)
    try:
        links = journal._db.execute("SELECT count(*) FROM chain").fetchone()[0]
        with journal.transaction(durable=True):
            pass
        assert journal._connection.info.transaction_status == _IDLE
        assert _writer_lock_holders(url) == 0
        assert journal._db.execute("SELECT count(*) FROM chain").fetchone()[0] == links
    finally:
        journal.close()


def test_a_second_writer_waits_for_the_first_ones_commit(url: str) -> None:
    first, second = PostgresJournal(url), PostgresJournal(url)
    order: list[str] = []
    try:
        with first.transaction():
            first._db.execute("SELECT 1")  # sends BEGIN and takes the writer lock

            def write() -> None:
                with second.transaction():
                    second._db.execute("SELECT 1")
                    order.append("second")

            thread = threading.Thread(target=write)
            thread.start()
            time.sleep(0.5)
            order.append("first")
        thread.join(timeout=30)
        assert order == ["first", "second"]
    finally:
        first.close()
        second.close()
