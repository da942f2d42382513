"""The journal's SQL on PostgreSQL: SQLite's spelling translated per statement, once.

:class:`PostgresDb` offers the :class:`~toekgw.gateway.journal._sql.Database` surface over a
psycopg 3 connection (autocommit; :class:`~toekgw.gateway.journal._postgres_connection.
PostgresConnection` opens the transactions). A statement is translated the first time it is
seen and the result cached:

- ``?`` becomes ``%s`` and ``?N`` (numbered) ``%s`` with the arguments reordered (not inside
  quotes); every literal ``%`` is doubled (statements always go with their arguments, if none
  an empty list, so psycopg always reads the placeholders);
- ``x IS ?`` becomes ``x IS NOT DISTINCT FROM %s`` (``IS NOT ?``: ``IS DISTINCT FROM``);
- ``INSERT OR IGNORE`` becomes ``INSERT ... ON CONFLICT DO NOTHING``;
- a single-row ``INSERT ... VALUES`` into a table with an ``id`` gets ``RETURNING id``, which
  is what ``lastrowid`` reads;
- ``CREATE [TEMP] TABLE`` goes through the schema's type translation.

``sum()`` of a ``BIGINT`` is ``numeric`` in PostgreSQL; the journal holds whole øre only, so
whole numerics load as :class:`int` (as SQLite returns them).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.adapt import Loader

from toekgw.gateway.journal._postgres_schema import translate_ddl
from toekgw.gateway.journal._sql import Database, Dialect

__all__ = ["CHAIN_LOCK", "POSTGRES", "PostgresDb", "PostgresDialect", "translate"]

#: The hash chain's pg_advisory_xact_lock key (the writer and migration locks are 0001, 0002).
CHAIN_LOCK = 0x746F656B_0003

# The tables whose rows have an ``id`` that the inserting code reads back.
_ID_TABLES = frozenset(
    {
        "transmissions",
        "items",
        "events",
        "error_entries",
        "error_findings",
        "class_versions",
        "booking_events",
        "vouchers",
        "voucher_postings",
        "action_plan",
        "reads",
    }
)
_INSERT_VALUES = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)\s*\([^)]*\)\s*VALUES\s*\(", re.I)
_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_IS_MARK = re.compile(r"\bIS\s+(NOT\s+)?\?", re.IGNORECASE)
_MARK = re.compile(r"'[^']*'|\?(\d+)?|%")
_PAGE = 5_000  # rows per page of a stream


class _WholeNumeric(Loader):
    def load(self, data: Any) -> int | Decimal:
        text = bytes(data).decode()
        return int(text) if text.lstrip("-").isdigit() else Decimal(text)


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> tuple[str, tuple[int, ...] | None, bool]:
    """``sql`` for PostgreSQL; the argument order for numbered placeholders (``None``: as
    given); whether it returns the new row's id."""
    ignore = bool(_OR_IGNORE.match(sql))
    if ignore:
        sql = _OR_IGNORE.sub("INSERT INTO", sql, count=1)
    if re.match(r"^\s*CREATE\s+(TEMP\s+)?TABLE", sql, re.IGNORECASE):
        sql = translate_ddl(sql)[0]
    sql = _IS_MARK.sub(
        lambda m: "IS DISTINCT FROM ?" if m.group(1) else "IS NOT DISTINCT FROM ?", sql
    )
    order: list[int] = []
    numbered = False

    def mark(match: re.Match[str]) -> str:
        nonlocal numbered
        text = match.group(0)
        if text.startswith("'"):
            return text.replace("%", "%%")
        if text == "%":
            return "%%"
        if match.group(1):
            numbered = True
            order.append(int(match.group(1)) - 1)
        else:
            order.append(len(order))
        return "%s"

    sql = _MARK.sub(mark, sql)
    if ignore:
        sql += " ON CONFLICT DO NOTHING"
    insert = _INSERT_VALUES.match(sql)
    returning = bool(insert and insert.group(1) in _ID_TABLES and "RETURNING" not in sql.upper())
    if returning:
        sql += " RETURNING id"
    return sql, tuple(order) if numbered else None, returning


def _arguments(order: tuple[int, ...] | None, parameters: Sequence[Any]) -> Sequence[Any]:
    return parameters if order is None else [parameters[n] for n in order]


class PostgresCursor:
    """A psycopg cursor with SQLite's ``lastrowid``."""

    def __init__(self, cursor: psycopg.Cursor[Any], lastrowid: int | None) -> None:
        self._cursor = cursor
        self._lastrowid = lastrowid

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._lastrowid

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    def fetchmany(self, size: int = 1) -> list[Any]:
        return self._cursor.fetchmany(size)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)


class PostgresDb:
    """The :class:`~toekgw.gateway.journal._sql.Database` surface on a psycopg connection."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection
        connection.adapters.register_loader("numeric", _WholeNumeric)
        self._deferred: list[str] = []
        #: A savepoint was rolled back to since this was last cleared: rows an INSERT's
        #: RETURNING gave may since be gone.
        self.undone = False

    def defer(self, statement: str) -> None:
        """Send ``statement`` - one whose answer nobody reads: a savepoint set, released or
        rolled back to - with the next statement sent, in the same round trip."""
        self._note(statement)
        self._deferred.append(statement)

    def _note(self, statement: str) -> None:
        if statement.lstrip()[:8].upper() == "ROLLBACK":
            self.undone = True

    def drop_deferred(self) -> None:
        """Forget the deferred statements (the transaction is being rolled back)."""
        self._deferred.clear()

    @contextmanager
    def sending(self) -> Iterator[None]:
        """Around sending a statement on :attr:`connection`: the deferred ones first, in one
        pipeline with it (their errors raised here, as the statement's own)."""
        if not self._deferred:
            yield
            return
        deferred, self._deferred = self._deferred, []
        with self.connection.pipeline():
            for statement in deferred:
                self.connection.execute(statement)
            yield

    def flush(self) -> None:
        """Send the deferred statements now (before a COPY or a stream, which a pipeline
        cannot carry)."""
        with self.sending():
            pass

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> PostgresCursor:
        self._note(sql)
        text, order, returning = translate(sql)
        cursor = self.connection.cursor()
        with self.sending():
            cursor.execute(text, _arguments(order, parameters))
        lastrowid = int(cursor.fetchone()[0]) if returning else None  # type: ignore[index]
        return PostgresCursor(cursor, lastrowid)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> PostgresCursor:
        text, order, returning = translate(sql)
        if returning:
            text = text[: -len(" RETURNING id")]
        cursor = self.connection.cursor()
        with self.sending():
            cursor.executemany(text, (_arguments(order, p) for p in parameters))
        return PostgresCursor(cursor, None)


class PostgresDialect(Dialect):
    name = "postgresql"
    integrity_error: type[Exception] = psycopg.errors.IntegrityError
    begin_snapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    fence = ""  # the planner orders a query's conditions by their cost

    def json_text(self, column: str, key: str) -> str:
        return f"({column}::jsonb ->> {key})"

    def greatest(self, left: str, right: str) -> str:
        return f"greatest({left}, {right})"

    def bytewise(self, expression: str) -> str:
        return f'({expression}) COLLATE "C"'

    def json_row(self, columns: str) -> None:
        return None  # json_build_array puts a space after each comma

    def stream(self, db: Database, sql: str, parameters: Sequence[Any]) -> Iterator[Any]:
        # psycopg's stream: one query, rows fetched from the server in pages (not all at once
        # as a plain cursor does). Pages of LIMIT queries were far slower on a million rows
        # written in the same transaction (bench/pg_journal.py, docs/scaling.md).
        assert isinstance(db, PostgresDb)
        text, order, _ = translate(sql)
        db.flush()
        yield from db.connection.cursor().stream(text, _arguments(order, parameters), size=_PAGE)

    def has_table(self, db: Database, name: str) -> bool:
        row = db.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()
        return bool(row[0])

    def lock_chain(self, db: Database) -> None:
        db.execute(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})")

    def guard(self, db: Database) -> AbstractContextManager[None]:
        return _savepoint(db)


@contextmanager
def _savepoint(db: Database) -> Iterator[None]:
    db.execute("SAVEPOINT guard")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK TO SAVEPOINT guard")
        db.execute("RELEASE SAVEPOINT guard")
        raise
    db.execute("RELEASE SAVEPOINT guard")


POSTGRES = PostgresDialect()
