"""The seam between the journal's SQL and the database behind it.

The journal's statements (in ``_sqlite_*.py``) are written once, in SQLite's dialect, against
the small DB-API surface below: ``execute``/``executemany`` with ``?`` placeholders (``?N``
numbered), cursors with ``fetchone``/``fetchall``/``fetchmany``, ``rowcount`` and
``lastrowid``. :class:`sqlite3.Connection` is one; :class:`~toekgw.gateway.journal.
_postgres_sql.PostgresDb` translates the same statements for PostgreSQL. The few places where
the dialects differ in more than spelling go through :class:`Dialect`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

__all__ = ["SQLITE", "WAITING_STATES", "Cursor", "Database", "Dialect", "waiting"]


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    @property
    def lastrowid(self) -> int | None: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int = ...) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Database(Protocol):
    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...


class Dialect:
    """SQLite's spelling of what the dialects spell differently (PostgreSQL's overrides)."""

    name = "sqlite"
    integrity_error: type[Exception] = sqlite3.IntegrityError
    # A read-only transaction that sees one state of the journal throughout (in WAL mode a
    # deferred transaction reads the snapshot of its first read).
    begin_snapshot = "BEGIN"
    # Ends a subquery in FROM so that the planner keeps it apart (SQLite does not flatten a
    # subquery with a LIMIT into an outer query with a WHERE; it runs it as a co-routine): the
    # outer query's conditions are then evaluated on its rows only, after all of its own.
    fence = " LIMIT -1"

    def json_text(self, column: str, key: str) -> str:
        """The text of the top-level field named by the SQL expression ``key`` in the JSON
        column ``column``."""
        return f"json_extract({column}, '$.' || {key})"

    def greatest(self, left: str, right: str) -> str:
        return f"max({left}, {right})"

    def bytewise(self, expression: str) -> str:
        """``expression`` (text) compared and ordered byte by byte (SQLite: its default)."""
        return expression

    def json_row(self, columns: str) -> str | None:
        """An expression for the row of ``columns`` as the hash chain writes it: a compact
        JSON array (no spaces, non-ASCII as is, quotes, backslashes and control characters
        escaped as Python's ``json`` does); ``None`` where the database spells JSON otherwise
        (then the chain encodes each row in Python)."""
        return f"json_array({columns})"

    def stream(self, db: Database, sql: str, parameters: Sequence[Any]) -> Iterator[Any]:
        """The rows of one query as they come (memory holds a page of them, whatever their
        number); nothing else may run on ``db`` until the last has come."""
        yield from db.execute(sql, parameters)

    def has_table(self, db: Database, name: str) -> bool:
        row = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        return row is not None

    def lock_chain(self, db: Database) -> None:
        """Hold the hash chain's head until the transaction ends (SQLite: its one writer
        already does)."""

    def guard(self, db: Database) -> AbstractContextManager[None]:
        """Around a statement whose constraint error the caller handles and then reads on:
        PostgreSQL needs a savepoint for that (its failed statement aborts the transaction),
        SQLite nothing."""
        return nullcontext()


SQLITE = Dialect()


#: The states of the partial index ``items_waiting`` (migration 17): where items wait in the
#: journal, the ones the flows look for by transmission and state. A move between other states
#: (NemKonto's sent and answered ones) leaves the index alone. The migration spells the same
#: states (a test checks).
WAITING_STATES = frozenset(
    {
        "pending",
        "blocked",
        "recall-requested",
        "held",
        "suspected-duplicate",
        "over-limit",
        "awaiting-approval",
        "fail-requested",
        "journaled",
        "claimed",
    }
)


def waiting(column: str, state: str) -> str:
    """`` AND <column> = '<state>'`` where ``state`` is one of :data:`WAITING_STATES`, else
    nothing: added beside the statement's ``<column> = ?`` (the same value), this literal is
    what lets the planner use the partial index (SQLite matches a partial index's condition
    against the statement's text, not against bound values)."""
    return f" AND {column} = '{state}'" if state in WAITING_STATES else ""
