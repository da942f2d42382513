"""Opening an SQLite file that several processes share, and its write transactions.

The embedded queue and the simulators' ledgers open their files the same way: autocommit
mode (transactions are explicit), WAL so readers never block the one writer, a busy timeout
so writers from other processes wait for the lock instead of failing, and ``synchronous=FULL``
so a commit is on disk before the call returns - what their SIGKILL tests rely on. What is
deleted is overwritten (``secure_delete``, whatever the SQLite build's default): a message's
body holds CPR numbers, and once the message is gone they must not stay in the file's free
pages. A file that is not an SQLite database is a :class:`GatewayError` naming it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator

from toekgw.gateway.errors import GatewayError

__all__ = ["connect", "primary_code", "write"]

#: What SQLite says of a file it cannot take, in an operator's words.
_UNUSABLE = {
    sqlite3.SQLITE_NOTADB: "not a SQLite database",
    sqlite3.SQLITE_CORRUPT: "a damaged SQLite database",
    sqlite3.SQLITE_CANTOPEN: "cannot be opened as a SQLite database",
}


def primary_code(exc: sqlite3.Error) -> int | None:
    """SQLite's primary result code of ``exc`` (its extended code's low byte), if it has one."""
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def connect(
    path: str | os.PathLike[str], schema: str, *, busy_timeout: float = 30.0
) -> sqlite3.Connection:
    """A connection to ``path`` in WAL mode with durable (``synchronous=FULL``) commits and
    deletes that overwrite (``secure_delete``), after running ``schema`` (``CREATE ... IF NOT
    EXISTS`` statements) on it. A :class:`GatewayError` naming ``path`` when it is no SQLite
    database (or cannot be opened as one)."""
    try:
        return _connect(path, schema, busy_timeout)
    except sqlite3.DatabaseError as exc:
        what = _UNUSABLE.get(primary_code(exc) or -1)
        if what is None:
            raise
        raise GatewayError(f"{os.fspath(path)}: {what} ({exc})") from exc


def _connect(path: str | os.PathLike[str], schema: str, busy_timeout: float) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA secure_delete=ON")
        db.executescript(schema)
    except BaseException:
        db.close()
        raise
    return db


@contextlib.contextmanager
def write(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: the lock is taken at the start (``BEGIN IMMEDIATE``), so two
    writers serialise instead of one failing at its first write; any exception rolls back."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
