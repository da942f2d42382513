"""The journal's database file: opening it, bringing its schema up to date, and transactions.

The journal is the outbox, audit trail and idempotency guard of every transmission; everything
it records goes through the one connection opened here. Opening sets WAL mode and the pragmas
that let several gateway processes share the file, then applies the numbered migrations of
:mod:`toekgw.gateway.journal.migrations` that the file lacks. After that every write runs in
:meth:`JournalConnection.transaction`: ``BEGIN IMMEDIATE`` at the outermost level (durable ones
at ``synchronous=FULL``), a savepoint when nested.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self, TypeVar

from toekgw.formats.findings import first_and_more
from toekgw.gateway.errors import os_problem
from toekgw.gateway.journal._in_use import JournalInUse
from toekgw.gateway.journal._sql import SQLITE, Database, Dialect
from toekgw.gateway.journal._sqlite_chain import ChainReport, has_chain, seal, verify_chain
from toekgw.gateway.journal.location import JournalLocation
from toekgw.gateway.journal.migrations import LATEST, MIGRATIONS, fill
from toekgw.gateway.journal.model import JournalError, KindSpec
from toekgw.gateway.jsonlog import CORRELATION_FIELD
from toekgw.gateway.sqlite import primary_code

__all__ = ["InsertMaker", "JournalConnection", "chunks", "now", "statements"]

_T = TypeVar("_T")

#: Rows of a table's columns -> their insert, to run on the journal's connection
#: (:meth:`JournalConnection._insert_maker`).
InsertMaker = Callable[[Sequence[Sequence[object]]], Callable[[], None]]
_journal_log = logging.getLogger("toekgw.journal")
_LOOKUP_CHUNK = 500  # stays under SQLite's bound-parameter limit


def now() -> str:
    """UTC, ISO 8601 with microseconds: sorts as text, reads as time."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def chunks(values: Sequence[_T], size: int = _LOOKUP_CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def quick_check(db: sqlite3.Connection) -> list[str]:
    """What SQLite's ``PRAGMA quick_check`` finds wrong with the open file (empty: sound);
    :class:`sqlite3.DatabaseError` for a file SQLite cannot read as a database at all."""
    problems = [str(r[0]) for r in db.execute("PRAGMA quick_check").fetchall()]
    return [] if problems == ["ok"] else problems


# SQLite's page cache per connection, in KiB. A writer keeps the indexes it updates in
# memory; a reader (an operator's query) reads each page about once and leaves the caching to
# the operating system, so its memory stays the same however large the journal grows
# (SQLite's default cache: 2,000 KiB).
WRITER_CACHE_KIB = 65_536
READER_CACHE_KIB = 2_000

#: Rows a multi-row ``INSERT`` takes at most (:meth:`JournalConnection._insert_maker`; fewer
#: where SQLite's bound-parameter limit needs it: of an item's 14 columns 2,340 rows fit its
#: default of 32,766).
ROWS_PER_INSERT = 2_500


@functools.lru_cache(maxsize=64)
def _insert_sql(table: str, columns: tuple[str, ...], rows: int) -> str:
    """``INSERT INTO table(columns) VALUES (?, ...), ...`` for ``rows`` rows: made once per
    shape (the full statement's text is some 100 kB), not at every insert."""
    one = "(" + ", ".join("?" * len(columns)) + ")"
    return f"INSERT INTO {table}({', '.join(columns)}) VALUES " + ", ".join([one] * rows)  # noqa: S608


class JournalConnection:
    """The connection, schema and transactions that the rest of
    :class:`~toekgw.gateway.journal.sqlite.SqliteJournal` is built on."""

    _db: Database  # what the journal's SQL runs on (toekgw.gateway.journal._sql)
    _dialect: Dialect = SQLITE

    def __init__(
        self, path: str | Path, *, busy_timeout: float = 30.0, cache_kib: int = WRITER_CACHE_KIB
    ) -> None:
        self.path = Path(path)
        self._cache_kib = cache_kib
        self._busy_timeout = busy_timeout
        _refuse_unusable_file(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(
                f"cannot open the journal {self.path}: {_reason(exc, self.path)}"
            ) from exc
        self._in_use = JournalInUse(self.path)  # no restore while it is open
        try:
            self._sqlite = sqlite3.connect(
                str(self.path), timeout=busy_timeout, isolation_level=None
            )
        except (OSError, sqlite3.Error) as exc:
            self._in_use.release()
            raise JournalError(
                f"cannot open the journal {self.path}: {_reason(exc, self.path)}"
            ) from exc
        try:
            self._setup(busy_timeout)
        except sqlite3.DatabaseError as exc:
            self._sqlite.close()
            self._in_use.release()
            if str(exc) == "file is not a database":
                raise JournalError(
                    f"the journal {self.path} is not a SQLite database (its first bytes are "
                    "not 'SQLite format 3')",
                    hint="check [journal] path in the configuration",
                ) from exc
            if primary_code(exc) in _BUSY:
                raise self._busy() from exc
            if primary_code(exc) in _NO_ACCESS:
                raise JournalError(
                    f"the journal {self.path} cannot be written: {exc}{_access(self.path)}",
                    hint="run toekgw as a user that may read and write the journal and its "
                    "directory, where SQLite keeps its -wal and -shm files",
                ) from exc
            raise JournalError(
                f"the journal {self.path} is damaged: {exc}",
                hint="restore it from a backup; do not start a new one in its place",
            ) from exc
        except BaseException:  # a schema too new, Ctrl-C: nothing stays open
            self._sqlite.close()
            self._in_use.release()
            raise

    def _busy(self) -> JournalError:
        """Another process held the journal's write lock for longer than we wait: the journal
        is sound (nothing to restore), nothing of this step was journaled."""
        return JournalError(
            f"the journal {self.path} is busy: another process has held its write lock for "
            f"{self._busy_timeout:g} s; nothing of this step was journaled",
            hint="run the command again when the other process is done: a long release or "
            "receive, or one stopped in the middle of a step",
        )

    def _setup(self, busy_timeout: float) -> None:
        self._depth = 0
        self._chained = False  # set by _migrate: the journal has its hash chain
        self._told: list[tuple[int, str]] = []  # transmission events to log after the commit
        self._kinds: dict[str, KindSpec] = {}  # read once per connection (Transmissions.kind)
        self._db = db = self._sqlite
        _refuse_foreign_database(db, self.path)
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise JournalError(f"the journal {self.path} cannot use WAL mode (got {mode})")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute(f"PRAGMA cache_size = -{int(self._cache_kib)}")
        self._migrate()

    def _migrate(self) -> None:
        db = self._sqlite
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            current = db.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] or 0
            if current > LATEST:
                raise JournalError(
                    f"the journal {self.path} has schema version {current}, newer than this "
                    f"toekgw knows ({LATEST})",
                    hint="upgrade toek-gateway",
                )
            for version, name, sql in MIGRATIONS:
                if version <= current:
                    continue
                for statement in statements(sql):
                    db.execute(statement)
                fill(version, db)
                db.execute(
                    "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, now()),
                )
            self._start_chain(current)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def integrity_problems(self) -> list[str]:
        """What SQLite's ``PRAGMA quick_check`` finds wrong with the file (empty: sound)."""
        try:
            return quick_check(self._sqlite)
        except sqlite3.DatabaseError as exc:
            return [str(exc)]

    def _start_chain(self, migrated_from: int) -> None:
        """After the migrations, in their transaction: whether the journal keeps its hash
        chain, and a journal from before the chain its first link, over its history."""
        self._chained = has_chain(self._db, self._dialect)
        if self._chained and migrated_from < LATEST:
            seal(self._db, self._dialect)

    def verify_chain(self) -> ChainReport:
        """Recompute the hash chain over every event, item and read (``toekgw doctor``)."""
        if not self._chained:
            return ChainReport(problems=["the journal has no hash chain"])
        if self._depth:
            return verify_chain(self._db, self._dialect)
        # One snapshot throughout: a commit while the chain is read would show rows after
        # the links read, as if they were not chained.
        self._db.execute(self._dialect.begin_snapshot)
        try:
            return verify_chain(self._db, self._dialect)
        finally:
            self._db.execute("COMMIT")

    def require_sound(self) -> None:
        """Refuse to go on with a journal that fails its integrity check: money is never moved
        on the strength of a damaged journal."""
        problems = self.integrity_problems()
        if problems:
            raise JournalError(
                f"the journal {self.path} fails its integrity check: {first_and_more(problems)}; "
                "nothing was done",
                hint="restore it from a backup; `toekgw doctor` runs the check",
            )

    def _insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> None:
        """Insert many rows at once (PostgreSQL streams them with ``COPY``)."""
        self._insert_maker(table, columns)(rows)()

    def _insert_maker(self, table: str, columns: Sequence[str]) -> InsertMaker:
        """What turns rows of ``columns`` into their insert into ``table``: the maker touches
        no connection, so it may run on another thread
        (:func:`~toekgw.gateway.prefetch.prefetched_batches`); the insert it gives runs on
        the connection's.

        Here: up to :data:`ROWS_PER_INSERT` rows a statement, whose parameters the maker
        lays out, so SQLite inserts them with the interpreter's lock released
        (``executemany`` takes it back for every row, and waits for it while another thread
        holds it). A statement is all or nothing: after a constraint error the rows of the
        statements before it stay, as with ``executemany`` the rows before the failing one."""
        names = tuple(columns)
        limit = self._sqlite.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        per = max(1, min(ROWS_PER_INSERT, limit // len(names)))
        db = self._db

        def make(rows: Sequence[Sequence[object]]) -> Callable[[], None]:
            statements = [
                (_insert_sql(table, names, len(part)), [value for row in part for value in row])
                for part in chunks(rows, per)
            ]

            def insert() -> None:
                for sql, parameters in statements:
                    db.execute(sql, parameters)

            return insert

        return make

    def _insert_returning(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[object]],
        returning: str | None,
    ) -> list[Any] | None:
        """Insert the rows; the ``returning`` columns of each, in order, where the back end
        gives them with the insert (None here: SQLite's ``executemany`` returns no rows, so
        the caller looks them up; PostgreSQL gives them for up to a thousand rows)."""
        self._insert_rows(table, columns, rows)
        return None

    @property
    def location(self) -> JournalLocation:
        """Where the journal is (what :func:`~toekgw.gateway.journal.open_journal` opens)."""
        return self.path

    def schema_version(self) -> int:
        return int(self._db.execute("SELECT max(version) FROM schema_migrations").fetchone()[0])

    @contextmanager
    def transaction(self, *, durable: bool = False) -> Iterator[None]:
        db = self._sqlite
        if self._depth == 0:
            # SQLite fixes the safety level outside a transaction only.
            if durable:
                db.execute("PRAGMA synchronous = FULL")
            try:
                try:
                    db.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as exc:
                    if primary_code(exc) in _BUSY:
                        raise self._busy() from exc
                    raise
                self._depth = 1
                try:
                    yield
                    if self._chained:
                        seal(db, self._dialect)
                    db.execute("COMMIT")
                except BaseException as exc:
                    self._told.clear()
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    if isinstance(exc, sqlite3.OperationalError) and _is_full(exc):
                        self._shrink_wal()
                        raise JournalError(
                            f"the journal {self.path} cannot be written: no space left on the "
                            "device (the disk is full); nothing of this step was journaled",
                            hint="free space, then run the command again",
                        ) from exc
                    raise
                finally:
                    self._depth = 0
            finally:
                if durable:
                    db.execute("PRAGMA synchronous = NORMAL")
            self._tell()
            return
        with self._nested(db.execute, durable, self._durable_outer):
            yield

    @contextmanager
    def _nested(
        self, execute: Callable[[str], object], durable: bool, durable_outer: Callable[[], bool]
    ) -> Iterator[None]:
        """A transaction inside the outermost one: a savepoint, so a caller can catch a
        refusal and carry on (both back ends; ``execute`` runs a statement)."""
        if durable and not durable_outer():
            raise JournalError(
                "a durable transaction cannot be nested in a non-durable one: "
                "open the outermost transaction with durable=True"
            )
        name = f"sp{self._depth}"
        execute(f"SAVEPOINT {name}")
        self._depth += 1
        told = len(self._told)
        try:
            yield
        except BaseException:
            del self._told[told:]
            execute(f"ROLLBACK TO SAVEPOINT {name}")
            execute(f"RELEASE SAVEPOINT {name}")
            raise
        finally:
            self._depth -= 1
        execute(f"RELEASE SAVEPOINT {name}")

    def _tell(self) -> None:
        """Log the committed transmission events (``toekgw.journal``, INFO), each with its
        transmission's correlation id: the id its counterpart knows it by (an inbound file's
        transfer id, else our ref)."""
        told, self._told = self._told, []
        if not told or not _journal_log.isEnabledFor(logging.INFO):
            return
        ids = sorted({t for t, _text in told})
        names: dict[int, tuple[str, str]] = {}
        for chunk in chunks(ids):
            for tid, kind, ref, transfer in self._db.execute(
                "SELECT id, kind, ref, transfer_id FROM transmissions "  # noqa: S608 (only ?s)
                f"WHERE id IN ({', '.join('?' * len(chunk))})",
                chunk,
            ):
                names[tid] = (kind, transfer or ref)
        for tid, text in told:
            kind, ident = names.get(tid, ("transmission", str(tid)))
            _journal_log.info("%s %s", kind, text, extra={CORRELATION_FIELD: ident})

    def _shrink_wal(self) -> None:
        """After a failed write on a full disk: give back what the WAL took, if SQLite can."""
        with contextlib.suppress(sqlite3.Error):
            self._sqlite.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _durable_outer(self) -> bool:
        return int(self._sqlite.execute("PRAGMA synchronous").fetchone()[0]) >= 2

    def close(self) -> None:
        self._sqlite.close()
        self._in_use.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: SQLite's primary result codes for a file this process may not write (or create beside):
#: a permission problem, not damage.
_NO_ACCESS = frozenset({sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM})
#: Another connection holds the lock we waited for (``busy_timeout``) in vain.
_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def _access(path: Path) -> str:
    """What this process may not do to the journal's file or directory, as a clause."""
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return f" (this user, uid {os.geteuid()}, may not read and write the file)"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f" (this user, uid {os.geteuid()}, may not write its directory {path.parent})"
    return ""


def _is_full(exc: sqlite3.OperationalError) -> bool:
    return primary_code(exc) == sqlite3.SQLITE_FULL or "full" in str(exc).lower()


def _reason(exc: BaseException, path: Path) -> str:
    return os_problem(path, exc) if isinstance(exc, OSError) else str(exc)


def _refuse_unusable_file(path: Path) -> None:
    """A journal is created only where no file is: an existing empty or foreign file is not
    taken for a fresh install (every duplicate protection would start from nothing)."""
    try:
        if not path.exists():
            return
        if not path.is_file():
            raise JournalError(f"the journal {path} is not a regular file")
        if path.stat().st_size == 0:
            # SQLite writes the header when it turns WAL on, before any table: a journal this
            # code made is never 0 bytes.
            raise JournalError(
                f"the journal {path} is an empty file (0 bytes), not a journal: taking it for a "
                "new one would forget every delivery, file and payment already journaled",
                hint="restore it from a backup, or remove the file to start a new journal",
            )
        # Its header is SQLite's to read: a file descriptor this process opened and closed on
        # the journal would drop every POSIX lock its other connections hold on it, and
        # another process closing its connection would then take itself for the last one and
        # delete the WAL under them (https://www.sqlite.org/howtocorrupt.html, 2.2): their
        # next commits would be lost. A foreign file fails SQLite's first read (_setup).
    except OSError as exc:
        raise JournalError(f"cannot open the journal {path}: {os_problem(path, exc)}") from exc


def _refuse_foreign_database(db: sqlite3.Connection, path: Path) -> None:
    """A SQLite file with tables but without ours is somebody else's database."""
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if names and "schema_migrations" not in names:
        raise JournalError(
            f"the journal {path} is a SQLite database but not a toekgw journal "
            f"(it has tables {', '.join(sorted(names)[:3])}, no schema_migrations)",
            hint="check [journal] path in the configuration",
        )


def statements(sql: str) -> Iterator[str]:
    """The statements of a migration script, one by one."""
    # Triggers hold ';' inside BEGIN ... END: complete_statement knows where they end.
    buffer = ""
    for line in sql.splitlines(keepends=True):
        if line.strip().startswith("--") and not buffer.strip():
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()
