"""The journal on a PostgreSQL server: connections from a pool, the schema, transactions.

A :class:`PostgresConnection` takes one connection from a process-wide pool per URL (psycopg
3 and ``psycopg_pool``) for its lifetime and gives it back on :meth:`close`, so the commands and
jobs that open and close the journal over and over do not log in each time. Opening applies the
migrations the database lacks, under an advisory lock, so two workers starting together do not
both migrate.

Transactions keep SQLite's semantics. The outermost one is ``BEGIN`` followed by the journal's
writer lock (a transaction-level advisory lock): writers take turns as they do on SQLite's
``BEGIN IMMEDIATE``, so every read-check-write of the journal's SQL holds as written, across
processes and machines; readers are never blocked. Both go to the server with the
transaction's first statement, in its round trip (:meth:`PostgresDb.defer`), as a savepoint's
statements do. Before it commits, the outermost one adds its link to the hash chain
(:mod:`~toekgw.gateway.journal._sqlite_chain`, shared with SQLite), sent with the ``COMMIT`` in
one round trip; the writer lock, held to the end of the commit, keeps the chain one sequence.
Its link hashes the events and items the transaction's inserts returned, where they are
exactly the link's range and no savepoint was rolled back, instead of reading them back.
Nested ones are savepoints. Every commit is durable (``synchronous_commit`` is the server's,
``on`` by default), so ``durable=True`` needs nothing more than it does on SQLite with
``synchronous=FULL``. Each INSERT of a batch's rows is composed and rendered once per
connection.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from toekgw.gateway.journal._postgres_references import triggers as reference_triggers
from toekgw.gateway.journal._postgres_schema import postgres_migration
from toekgw.gateway.journal._postgres_sql import POSTGRES, PostgresDb
from toekgw.gateway.journal._sqlite_chain import CHAINED_COLUMNS, encode_row, link
from toekgw.gateway.journal._sqlite_connection import InsertMaker, JournalConnection, now
from toekgw.gateway.journal.location import JournalLocation, JournalUrl, redact
from toekgw.gateway.journal.migrations import LATEST, MIGRATIONS, fill
from toekgw.gateway.journal.model import JournalError, KindSpec

__all__ = ["PostgresConnection", "close_pool"]

# pg_advisory_xact_lock keys: the journal's writer lock and its migration lock.
WRITER_LOCK = 0x746F656B_0001
MIGRATION_LOCK = 0x746F656B_0002
_EXPECTED_TABLES = ("schema_migrations", "kinds", "transmissions", "items", "events")
_APPEND_ONLY = {("events", f"events_no_{what}") for what in ("update", "delete", "truncate")}

_pools: dict[str, ConnectionPool[psycopg.Connection[Any]]] = {}
_pools_lock = threading.Lock()


def _pool(url: str) -> ConnectionPool[psycopg.Connection[Any]]:
    with _pools_lock:
        pool = _pools.get(url)
        if pool is None:
            # Once per process: the server's own word when it cannot be reached or refuses
            # the login (a pool would only say that it timed out).
            try:
                psycopg.connect(url, connect_timeout=10).close()
            except psycopg.Error as exc:
                raise JournalError(
                    f"cannot open the journal {redact(url)}: {_first_line(exc)}",
                    hint="check [journal] url, that the server runs and that the user may log in",
                ) from exc
            pool = ConnectionPool(
                url,
                min_size=1,
                max_size=8,
                max_idle=60.0,
                kwargs={"autocommit": True},
                open=True,
                name=redact(url),
            )
            _pools[url] = pool
        return pool


def close_pool(url: str) -> None:
    """Close the pool of ``url`` (its idle connections end; the next open makes a new one)."""
    with _pools_lock:
        pool = _pools.pop(url, None)
    if pool is not None:
        pool.close()


@atexit.register
def _close_pools() -> None:
    for url in list(_pools):
        close_pool(url)


#: Up to this many rows are inserted by one INSERT of JSON rows (:func:`_insert`), more by COPY.
_FEW_ROWS = 1000
#: Up to this many rows per table and transaction are kept for the link as their INSERT gave
#: them back (an intake batch's); a larger transaction's link reads its rows back.
_KNOWN_ROWS = 20_000


#: The column types a row of :func:`_insert` may carry: JSON gives each value as text or
#: null, which these read back exactly (the journal's tables hold nothing else).
_JSON_TYPES = frozenset({"text", "bigint"})


def _insert(table: str, columns: Sequence[str], types: Mapping[str, str]) -> sql.Composed:
    """One INSERT of many rows: the rows as one parameter, a JSON array of arrays (written by
    the chain's compact encoder, ``encode_row``: the standard library's, in C), each column
    cast from its element's text; the rows inserted (and their ids drawn) in the array's
    order. One statement with one plan, however many rows: a pipelined INSERT per row cost the
    server a statement each (and psycopg a round of its pipeline), and an array parameter per
    column cost psycopg a Python loop over every value."""
    kept = {types[c] for c in columns} - _JSON_TYPES
    if kept:
        raise TypeError(f"{table}: a JSON row cannot carry a {', '.join(sorted(kept))} column")
    return sql.SQL(
        "INSERT INTO {} ({}) SELECT {} FROM jsonb_array_elements(%s::jsonb) "
        "WITH ORDINALITY AS u(r, n) ORDER BY n"
    ).format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(
            sql.SQL("(r->>{})::{}").format(sql.Literal(n), sql.SQL(types[c]))
            for n, c in enumerate(columns)
        ),
    )


class PostgresConnection(JournalConnection):
    """What :class:`~toekgw.gateway.journal.postgres.PostgresJournal` runs the journal's SQL
    on: the connection, its schema and its transactions."""

    _dialect = POSTGRES
    _db: PostgresDb

    def __init__(self, url: str, *, connect_timeout: float = 30.0) -> None:
        self.url = url
        self.where = redact(url)
        self._depth = 0
        self._durable = False
        self._chained = False  # set by _migrate: the journal has its hash chain
        self._told: list[tuple[int, str]] = []  # transmission events to log after the commit
        self._kinds: dict[str, KindSpec] = {}
        self._types: dict[str, dict[str, str]] = {}  # per table: each column's SQL type
        #: Each batch INSERT, rendered once: composing and rendering it per batch cost
        #: more client CPU than the server's parse of it.
        self._inserts: dict[tuple[str, tuple[str, ...], str | None], bytes] = {}
        #: The chained rows this transaction inserted, as its link hashes them (from the
        #: inserts' RETURNING), so the link need not read them back: by table, by id.
        #: ``None`` for a table with more rows than are kept: those are read back.
        self._known: dict[str, dict[int, str] | None] = {}
        self._pool = _pool(url)
        try:
            self._connection = self._pool.getconn(timeout=connect_timeout)
        except Exception as exc:
            raise JournalError(
                f"cannot open the journal {self.where}: {_first_line(exc)}",
                hint="check [journal] url, that the server runs and that the user may log in",
            ) from exc
        self._db = PostgresDb(self._connection)
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise

    def _migrate(self) -> None:
        with self._connection.transaction():
            raw = self._connection
            raw.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            raw.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
                'name TEXT COLLATE "C" NOT NULL, applied_at TEXT COLLATE "C" NOT NULL)'
            )
            row = raw.execute("SELECT max(version) FROM schema_migrations").fetchone()
            current = int(row[0] or 0) if row else 0
            if current > LATEST:
                raise JournalError(
                    f"the journal {self.where} has schema version {current}, newer than this "
                    f"toekgw knows ({LATEST})",
                    hint="upgrade toek-gateway",
                )
            for version, name, sql in MIGRATIONS:
                if version <= current:
                    continue
                for statement in postgres_migration(version, sql):
                    raw.execute(statement)
                fill(version, self._db)
                raw.execute(
                    "INSERT INTO schema_migrations(version, name, applied_at) VALUES (%s, %s, %s)",
                    (version, name, now()),
                )
            self._start_chain(current)

    def _insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> None:
        if len(rows) <= _FEW_ROWS:
            # A few rows (an intake batch's): one statement, one round trip; COPY's start,
            # data and end are three.
            self._insert_returning(table, columns, rows, None)
            return
        names = sql.SQL(", ").join(map(sql.Identifier, columns))
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), names)
        self._db.flush()
        with self._connection.cursor().copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def _insert_maker(self, table: str, columns: Sequence[str]) -> InsertMaker:
        """The rows as they are; ``COPY`` (or one statement for a few) when the insert runs."""
        return lambda rows: functools.partial(self._insert_rows, table, columns, rows)

    def _insert_returning(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[object]],
        returning: str | None,
    ) -> list[Any] | None:
        if len(rows) > _FEW_ROWS:
            self._insert_rows(table, columns, rows)
            return None
        chained = CHAINED_COLUMNS.get(table) if self._chained else None
        both = ", ".join(c for c in (chained, returning) if c is not None) or None
        statement = self._insert_statement(table, tuple(columns), both)
        cursor = self._connection.cursor()
        with self._db.sending():
            cursor.execute(statement, (encode_row(rows),))
        if both is None:
            return None
        got = cursor.fetchall()
        if chained is None:
            return got
        width = chained.count(",") + 1
        known = self._known.setdefault(table, {})
        if known is not None and len(known) + len(got) <= _KNOWN_ROWS:
            for row in got:
                known[int(row[0])] = encode_row(row[:width])
        else:  # a large transaction: its link reads its rows back, memory stays bounded
            self._known[table] = None
        return [row[width:] for row in got] if returning is not None else None

    def _insert_statement(
        self, table: str, columns: tuple[str, ...], returning: str | None
    ) -> bytes:
        key = (table, columns, returning)
        rendered = self._inserts.get(key)
        if rendered is None:
            statement = _insert(table, columns, self._column_types(table))
            if returning is not None:
                statement = sql.SQL("{} RETURNING {}").format(statement, sql.SQL(returning))
            rendered = self._inserts[key] = statement.as_bytes(self._connection)
        return rendered

    def _column_types(self, table: str) -> Mapping[str, str]:
        """The SQL type of each of ``table``'s columns (read once per connection)."""
        types = self._types.get(table)
        if types is None:
            self._db.flush()
            types = self._types[table] = dict(
                self._connection.execute(
                    "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                    (table,),
                ).fetchall()
            )
        return types

    @property
    def location(self) -> JournalLocation:
        return JournalUrl(self.url)

    def integrity_problems(self) -> list[str]:
        """What is missing of the schema, and the server's word if it cannot be read."""
        try:
            rows = self._connection.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            ).fetchall()
            triggers = {
                (str(table), str(name))
                for table, name in self._connection.execute(
                    "SELECT c.relname, t.tgname FROM pg_trigger t "
                    "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
                ).fetchall()
            }
        except psycopg.Error as exc:
            return [_first_line(exc)]
        have = {r[0] for r in rows}
        problems = [f"table {name} is missing" for name in _EXPECTED_TABLES if name not in have]
        if _APPEND_ONLY - triggers:
            problems.append("the event log's append-only triggers are missing")
        gone = sorted(name for _table, name in reference_triggers() - triggers)
        if gone:
            problems.append(f"the reference checks' triggers are missing: {', '.join(gone)}")
        return problems

    def require_sound(self) -> None:
        problems = self.integrity_problems()
        if problems:
            raise JournalError(
                f"the journal {self.where} fails its check: {'; '.join(problems)}; "
                "nothing was done",
                hint="`toekgw doctor` runs the check",
            )

    @contextmanager
    def transaction(self, *, durable: bool = False) -> Iterator[None]:
        raw = self._connection
        if self._depth == 0:
            # The transaction and the writer lock go with its first statement, in the same
            # round trip (every statement sends what is deferred before it).
            self._db.defer("BEGIN")
            self._db.defer(f"SELECT pg_advisory_xact_lock({WRITER_LOCK})")
            self._depth = 1
            self._durable = durable
            self._known.clear()
            self._db.undone = False
            try:
                yield
                # The writer lock, held since BEGIN, orders the chain: no other
                # transaction writes (so none links) until this one has committed. Rows a
                # savepoint rolled back may be among those known: then all are read back.
                known = (
                    None
                    if self._db.undone
                    else {t: rows for t, rows in self._known.items() if rows is not None}
                )
                insert = (
                    link(self._db, self._dialect, locked=True, known=known)
                    if self._chained
                    else None
                )
                self._commit(insert)
            except BaseException:
                self._told.clear()
                self._db.drop_deferred()
                with contextlib.suppress(psycopg.Error):
                    raw.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0
                self._durable = False
                self._known.clear()
            self._tell()
            return
        # A savepoint's statements go with the next statement sent (one round trip less each).
        with self._nested(self._db.defer, durable, lambda: self._durable):
            yield

    def _commit(self, insert: tuple[str, tuple[object, ...]] | None) -> None:
        """``COMMIT``, with what is deferred and the chain's new link in the same round trip
        (pipelined: a failed statement aborts the pipeline, so the COMMIT is not run and the
        error raised)."""
        with self._db.sending(), self._connection.pipeline():
            if insert is not None:
                self._db.execute(*insert)
            self._connection.execute("COMMIT")

    def __del__(self) -> None:
        # A journal dropped without close() gives its connection back (as SQLite's closes).
        with contextlib.suppress(Exception):
            self.close()

    def close(self) -> None:
        connection = getattr(self, "_connection", None)
        if connection is None:
            return
        self._connection = None  # type: ignore[assignment]
        if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            connection.close()  # broken or mid-transaction: the pool replaces it
        self._pool.putconn(connection)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
