"""Moving a SQLite journal into PostgreSQL (``toekgw journal migrate-to``), verified.

The SQLite file is brought to the newest schema and checked (``quick_check``), the PostgreSQL
database is migrated to the same schema and must hold nothing yet. Every table is then streamed
across with ``COPY ... FROM STDIN`` in batches (memory holds one batch, whatever the size of
the journal), all in one transaction with the foreign keys checked at its end (items and
events refer to each other). Before it commits, each table's row count and the sum of each
of its integer columns (ids, øre amounts, sequences; of a digest column, how many rows have
one) are compared between the two: any difference rolls the whole copy back. The identity
counters then continue after the copied ids, and the copied tables are analysed, so the
planner starts from their statistics.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from toekgw.gateway.journal import open_journal
from toekgw.gateway.journal._in_use import journal_to_itself
from toekgw.gateway.journal._postgres_references import parents
from toekgw.gateway.journal.location import JournalUrl
from toekgw.gateway.journal.model import JournalError
from toekgw.gateway.journal.postgres import PostgresJournal

__all__ = ["TableCopy", "copy_to_postgres"]

BATCH = 10_000

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TableCopy:
    """One table copied: its rows and the sums of its integer columns (equal on both sides)."""

    table: str
    rows: int
    sums: dict[str, int]


def _tables(db: sqlite3.Connection) -> list[str]:
    """The tables in creation order (a table comes after those its plain keys name), except
    that a table comes after those its set-wise references name too: PostgreSQL checks those
    at once, not at the commit (the foreign keys are deferred)."""
    rows = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name <> 'schema_migrations' ORDER BY rowid"
    ).fetchall()
    created = [str(r[0]) for r in rows]
    ordered: list[str] = []

    def add(table: str) -> None:
        if table not in ordered:
            for parent in sorted(parents(table) & set(created) - {table}):
                add(parent)
            ordered.append(table)

    for table in created:
        add(table)
    return ordered


def _columns(db: sqlite3.Connection, table: str) -> list[tuple[str, bool]]:
    """``(column, is integer)`` in table order."""
    info = db.execute(f"PRAGMA table_info({table})").fetchall()
    return [(str(r[1]), "INT" in str(r[2]).upper()) for r in info]


#: Integer columns that hold digests, not quantities: their sum would overflow 64 bits, so
#: the copy compares how many rows have one (the digest is of a text column copied with it).
_DIGESTS = frozenset({"lookup_key"})


def _totals_sql(table: str, integers: list[str]) -> str:
    sums = "".join(
        f", count({c})" if c in _DIGESTS else f", coalesce(sum({c}), 0)" for c in integers
    )
    return f"SELECT count(*){sums} FROM {table}"  # noqa: S608 (names from the schema)


def _rows(db: sqlite3.Connection, table: str, columns: list[str]) -> Iterator[tuple[object, ...]]:
    cursor = db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid")  # noqa: S608
    while batch := cursor.fetchmany(BATCH):
        yield from batch


def copy_to_postgres(
    source: Path, target: JournalUrl, *, progress: Callable[[str, int], None] | None = None
) -> list[TableCopy]:
    """Copy the SQLite journal ``source`` into the empty PostgreSQL journal ``target``;
    what was copied, per table. :class:`JournalError` (nothing committed) for a target that is
    not empty or a copy whose counts or sums differ; refused while another process has the
    source open (:func:`~toekgw.gateway.journal._in_use.journal_to_itself`, held while it
    copies: what the copy reads is all there is)."""
    with journal_to_itself(source, "a copy of the journal"):
        return _copy_all(source, target, progress)


def _copy_all(
    source: Path, target: JournalUrl, progress: Callable[[str, int], None] | None
) -> list[TableCopy]:
    open_journal(source, verify=True).close()  # the newest schema, and sound
    db = sqlite3.connect(f"file:{source}?mode=ro", uri=True, isolation_level=None)
    journal = PostgresJournal(target.url)
    try:
        # One read transaction: every table as of one moment, whatever commits meanwhile
        # (each statement on its own would see a later journal than the tables before it).
        db.execute("BEGIN")
        tables = _tables(db)
        _refuse_filled(journal, tables)
        connection = journal._connection
        copied: list[TableCopy] = []
        with connection.transaction():
            connection.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in tables:
                copied.append(_copy_table(db, connection, table, target, progress))
            _continue_identities(connection, tables)
        _analyze(connection, tables)
        return copied
    finally:
        db.close()
        journal.close()


def _refuse_filled(journal: PostgresJournal, tables: list[str]) -> None:
    for table in tables:
        if journal._db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():  # noqa: S608
            raise JournalError(
                f"the journal {journal.where} is not empty (table {table} has rows): "
                "toekgw copies a journal only into a new database; nothing was copied",
                hint="create an empty database for it (createdb), or drop the tables",
            )


def _copy_table(
    db: sqlite3.Connection,
    connection: psycopg.Connection[Any],
    table: str,
    target: JournalUrl,
    progress: Callable[[str, int], None] | None,
) -> TableCopy:
    described = _columns(db, table)
    columns = [c for c, _ in described]
    integers = [c for c, is_int in described if is_int]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    count = 0
    with connection.cursor().copy(statement) as copy:
        for row in _rows(db, table, columns):
            copy.write_row(row)
            count += 1
            if progress is not None and count % BATCH == 0:
                progress(table, count)
    if progress is not None:
        progress(table, count)
    want = [int(v) for v in db.execute(_totals_sql(table, integers)).fetchone()]
    got = [
        int(v) for v in connection.execute(_totals_sql(table, integers).encode()).fetchone() or ()
    ]
    if want != got:
        raise JournalError(
            f"the copy of table {table} into {target} does not add up "
            f"(rows and sums of {', '.join(integers) or 'nothing'}: SQLite {want}, "
            f"PostgreSQL {got}); nothing was copied"
        )
    return TableCopy(
        table, int(want[0]), {c: int(v) for c, v in zip(integers, want[1:], strict=True)}
    )


def _analyze(connection: psycopg.Connection[Any], tables: list[str]) -> None:
    """The planner's statistics for the copied tables, which a bulk copy does not leave: on
    a copied 100k month without them, the first answers' members looked up by key took about
    three times as long. The copy has committed: a failure here is a warning, not an error."""
    try:
        connection.execute(
            sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(sql.Identifier(t) for t in tables))
        )
    except psycopg.Error as exc:
        _log.warning(
            "the copy is complete, but its tables could not be analysed (%s): run ANALYZE "
            "on the database before the service starts",
            str(exc).strip(),
        )


def _continue_identities(connection: psycopg.Connection[Any], tables: list[str]) -> None:
    rows = connection.execute(
        "SELECT table_name, pg_get_serial_sequence(quote_ident(table_name), 'id') "
        "FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND column_name = 'id' AND is_identity = 'YES'"
    ).fetchall()
    for table, sequence in rows:
        if table in tables:
            connection.execute(
                sql.SQL(
                    "SELECT setval({}, coalesce((SELECT max(id) FROM {}), 0) + 1, false)"
                ).format(sql.Literal(sequence), sql.Identifier(table))
            )
