"""Message queues with MQ syncpoint semantics: the protocol and its embedded SQLite twin.

The protocol is IBM MQ's unit of work, reduced to what the gateway uses. A session (one
connection to a queue manager) puts and gets under syncpoint across any number of queues:

- a put is invisible to everyone until ``commit``; ``backout`` discards it;
- a got message is hidden from everyone until ``commit`` removes it; ``backout`` - or the death
  of the getting process before it commits - puts it back where it was, with its backout count
  one higher;
- a get takes the message of the highest priority first, the oldest among equals;
- a message whose backout count reaches the threshold is moved to the error (backout) queue
  instead of coming back, so a poison message cannot loop.

:class:`SqliteQueue` is the embedded default: a durable queue in one SQLite file (WAL,
``synchronous=FULL``), shared by any number of processes on one host.

How a crash is detected: every session holds an exclusive ``flock`` on a lock file of its own
for its whole life, and marks the messages it got (and its uncommitted puts) with its owner
token. The kernel releases a flock when the process dies, however it dies (SIGKILL included),
and never while it lives. Any session that finds an owner in the table whose lock it can take
knows that owner is dead and rolls its work back: its gets come back with the backout count
raised, its uncommitted puts vanish. A pid-based lease would be wrong under pid reuse, and a
time-based lease wrong for a slow but live process; holding the unit of work as an open SQLite
write transaction would lock every other process out of the database until commit. The lock
files live in ``<db>.owners/`` beside the database and need a local file system (flock is not
reliable on NFS).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from toekgw.gateway.errors import GatewayError
from toekgw.gateway.sqlite import connect, write

__all__ = [
    "DEFAULT_BACKOUT_THRESHOLD",
    "ID_LENGTH",
    "Message",
    "MessageQueue",
    "QueueError",
    "SqliteQueue",
    "UnitOfWorkLost",
    "backout_queue_name",
    "message_id",
]

ID_LENGTH = 24  # MQ's MsgId and CorrelId are 24 bytes.
DEFAULT_BACKOUT_THRESHOLD = 3


class QueueError(GatewayError):
    """The queue manager refused or failed an operation (a clear reason in the message)."""


class UnitOfWorkLost(QueueError):
    """The connection broke with work uncommitted: the queue manager has backed it out.

    Nothing is lost - got messages come back, uncommitted puts never happened - but the caller
    must redo its whole unit of work from the first get.
    """


@dataclasses.dataclass(frozen=True, slots=True)
class Message:
    """A message as got from a queue. ``backout_count`` counts earlier deliveries that were
    backed out (explicitly or by a crash); ``put_at`` is the UNIX time of the put;
    ``priority`` and ``properties`` (string pairs) are as given to the put; ``seq`` is the
    queue manager's own number for it (0 where it has none)."""

    msg_id: bytes
    correl_id: bytes | None
    body: bytes
    backout_count: int
    put_at: float
    priority: int = 0
    properties: Mapping[str, str] = dataclasses.field(default_factory=dict)
    seq: int = 0


@runtime_checkable
class MessageQueue(Protocol):
    """One session with a queue manager; its puts and gets form one unit of work.

    A session belongs to one thread. ``close`` backs out what is uncommitted (deliberately:
    a program that stops without committing must not have consumed a message); a closed
    session refuses every call but ``close`` with :class:`QueueError`.

    Every implementation passes one contract suite, ``tests/test_mq_contract.py``.
    """

    def put(
        self,
        queue: str,
        body: bytes,
        *,
        msg_id: bytes | None = None,
        correl_id: bytes | None = None,
    ) -> bytes:
        """Put under syncpoint; returns the message id (a new unique one unless given).

        Ids are 24 bytes (else ``ValueError``); all zeros is MQ's "none": a new message id,
        no correlation id. A given message id is kept, even if an earlier message has it."""
        ...

    def get(self, queue: str, *, wait: float = 0.0) -> Message | None:
        """Get the oldest message under syncpoint, waiting up to ``wait`` seconds; ``None``
        when there is none."""
        ...

    def commit(self) -> None: ...

    def backout(self) -> None: ...

    def close(self) -> None: ...


def message_id(text: str) -> bytes:
    """A stable 24-byte message id derived from ``text`` (e.g. a bundle id), so that a re-sent
    message carries the id of the first send."""
    return hashlib.sha256(text.encode("utf-8")).digest()[:ID_LENGTH]


def backout_queue_name(queue: str) -> str:
    """The default error queue of ``queue``."""
    return f"{queue}.BACKOUT"


def _check_id(name: str, value: bytes | None) -> None:
    if value is not None and (not isinstance(value, bytes) or len(value) != ID_LENGTH):
        raise ValueError(f"{name} must be {ID_LENGTH} bytes")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS message (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    queue         TEXT NOT NULL,
    msg_id        BLOB NOT NULL,
    correl_id     BLOB,
    put_at        REAL NOT NULL,
    backout_count INTEGER NOT NULL DEFAULT 0,
    -- 'ready': visible; 'put': put but not committed; 'got': got but not committed.
    state         TEXT NOT NULL CHECK (state IN ('ready', 'put', 'got')),
    owner         TEXT,
    priority      INTEGER NOT NULL DEFAULT 0,
    properties    TEXT
);
-- The body apart from the row a get, a commit and a back-out rewrite: SQLite writes a row
-- whose size changes anew, overflow pages and all, so a state change of a message of some
-- megabytes wrote all of it again.
CREATE TABLE IF NOT EXISTS message_body (
    seq           INTEGER PRIMARY KEY,
    body          BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS message_ready ON message (queue, state, seq);
CREATE INDEX IF NOT EXISTS message_owner ON message (owner);
CREATE TRIGGER IF NOT EXISTS message_gone AFTER DELETE ON message
    BEGIN DELETE FROM message_body WHERE seq = old.seq; END;
CREATE TABLE IF NOT EXISTS owner (
    token      TEXT PRIMARY KEY,
    pid        INTEGER NOT NULL,
    started_at REAL NOT NULL
);
"""


class SqliteQueue:
    """A session with the embedded queue manager in the SQLite file ``path``.

    ``backout_threshold``: a message backed out this many times goes to its error queue
    (``backout_queues[queue]`` or ``<queue>.BACKOUT``). ``poll_interval`` bounds the latency
    of a waiting get.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        backout_threshold: int = DEFAULT_BACKOUT_THRESHOLD,
        backout_queues: Mapping[str, str] | None = None,
        poll_interval: float = 0.05,
        busy_timeout: float = 30.0,
    ) -> None:
        if backout_threshold < 1:
            raise ValueError("backout_threshold must be at least 1")
        self.path = Path(path)
        self.backout_threshold = backout_threshold
        self.backout_queues = dict(backout_queues or {})
        self.poll_interval = poll_interval
        self.token = uuid.uuid4().hex
        self._owners_dir = self.path.with_name(self.path.name + ".owners")
        self._owners_dir.mkdir(parents=True, exist_ok=True)
        # Take the life lock before the owner row exists: whoever sees the row sees it held.
        self._lock_fd = os.open(self._lock_path(self.token), os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            self._db = connect(self.path, _SCHEMA, busy_timeout=busy_timeout)
        except GatewayError:  # not an SQLite file: no session, no lock left behind
            self._lock_path(self.token).unlink()
            os.close(self._lock_fd)
            raise
        _add_columns(self._db)
        _move_bodies(self._db, self.path)
        with write(self._db) as db:
            db.execute(
                "INSERT INTO owner (token, pid, started_at) VALUES (?, ?, ?)",
                (self.token, os.getpid(), time.time()),
            )
        self._closed = False
        self.recover()

    # -- the protocol ------------------------------------------------------------------

    def put(
        self,
        queue: str,
        body: bytes,
        *,
        msg_id: bytes | None = None,
        correl_id: bytes | None = None,
        priority: int = 0,
        properties: Mapping[str, str] | None = None,
    ) -> bytes:
        """Put under syncpoint (see :class:`MessageQueue`); ``priority`` orders the gets
        (higher first) and ``properties`` travel with the message."""
        self._check_open()
        _check_id("msg_id", msg_id)
        _check_id("correl_id", correl_id)
        # All zeros is MQ's MQMI_NONE / MQCI_NONE: no id given.
        mid = msg_id if msg_id is not None and any(msg_id) else os.urandom(ID_LENGTH)
        correl_id = correl_id if correl_id is not None and any(correl_id) else None
        props = json.dumps(dict(properties), sort_keys=True) if properties else None
        with write(self._db) as db:
            seq = db.execute(
                "INSERT INTO message (queue, msg_id, correl_id, put_at, state, owner,"
                " priority, properties) VALUES (?, ?, ?, ?, 'put', ?, ?, ?)",
                (queue, mid, correl_id, time.time(), self.token, priority, props),
            ).lastrowid
            db.execute("INSERT INTO message_body (seq, body) VALUES (?, ?)", (seq, bytes(body)))
        return mid

    def get(self, queue: str, *, wait: float = 0.0) -> Message | None:
        self._check_open()
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            self.recover()
            message = self._get_once(queue)
            if message is not None:
                return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            time.sleep(min(self.poll_interval, remaining))

    def commit(self) -> None:
        self._check_open()
        with write(self._db) as db:
            db.execute("DELETE FROM message WHERE owner = ? AND state = 'got'", (self.token,))
            db.execute(
                "UPDATE message SET state = 'ready', owner = NULL"
                " WHERE owner = ? AND state = 'put'",
                (self.token,),
            )

    def backout(self) -> None:
        self._check_open()
        with write(self._db) as db:
            self._roll_back(db, self.token)

    def settle(
        self,
        messages: Sequence[Message],
        *,
        to_queue: str | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        """Commit the gets of ``messages`` alone, leaving the rest of the unit of work open
        (an AMQP consumer's per-delivery ack), in one transaction: they are removed, or moved
        to ``to_queue`` carrying ``properties`` (a dead-letter)."""
        self._check_open()
        props = json.dumps(dict(properties), sort_keys=True) if properties else None
        with write(self._db) as db:
            for message in messages:
                if to_queue is None:
                    cursor = db.execute(
                        "DELETE FROM message WHERE seq = ? AND owner = ? AND state = 'got'",
                        (message.seq, self.token),
                    )
                else:
                    cursor = db.execute(
                        "UPDATE message SET queue = ?, state = 'ready', owner = NULL,"
                        " backout_count = 0, priority = 0, properties = ?"
                        " WHERE seq = ? AND owner = ? AND state = 'got'",
                        (to_queue, props, message.seq, self.token),
                    )
                if cursor.rowcount != 1:
                    raise QueueError(f"message {message.seq} is not held by this session")

    def back_out(self, message: Message) -> None:
        """Back out the get of ``message`` alone (as :meth:`backout` does for all)."""
        self._check_open()
        with write(self._db) as db:
            row = db.execute(
                "SELECT queue, backout_count FROM message"
                " WHERE seq = ? AND owner = ? AND state = 'got'",
                (message.seq, self.token),
            ).fetchone()
            if row is None:
                raise QueueError(f"message {message.seq} is not held by this session")
            self._put_back(db, message.seq, row[0], row[1])

    def close(self) -> None:
        if self._closed:
            return
        with write(self._db) as db:
            self._roll_back(db, self.token)
            db.execute("DELETE FROM owner WHERE token = ?", (self.token,))
        self._closed = True
        self._db.close()
        with contextlib.suppress(FileNotFoundError):
            self._lock_path(self.token).unlink()
        os.close(self._lock_fd)

    def __enter__(self) -> SqliteQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- inspection, for operators and tests --------------------------------------------

    def depth(self, queue: str) -> int:
        """Committed messages on ``queue`` that are not held by an uncommitted get."""
        row = self._db.execute(
            "SELECT count(*) FROM message WHERE queue = ? AND state = 'ready'", (queue,)
        ).fetchone()
        return int(row[0])

    def browse(self, queue: str) -> list[Message]:
        """The committed messages on ``queue`` (held ones included), oldest first, without
        getting them."""
        rows = self._db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM {_MESSAGES}"  # noqa: S608 (constants)
            " WHERE queue = ? AND state IN ('ready', 'got') ORDER BY m.seq",
            (queue,),
        ).fetchall()
        return [_message(row) for row in rows]

    def error_queue(self, queue: str) -> str:
        return self.backout_queues.get(queue, backout_queue_name(queue))

    def recover(self) -> int:
        """Roll back the work of every dead session; returns how many sessions were dead."""
        owners = [
            token
            for (token,) in self._db.execute(
                "SELECT token FROM owner WHERE token != ?", (self.token,)
            ).fetchall()
        ]
        dead = 0
        for token in owners:
            if self._roll_back_if_dead(token):
                dead += 1
        return dead

    # -- internals ------------------------------------------------------------------------

    def _lock_path(self, token: str) -> Path:
        return self._owners_dir / f"{token}.lock"

    def _check_open(self) -> None:
        if self._closed:
            raise QueueError(f"the queue session on {self.path} is closed")

    def _get_once(self, queue: str) -> Message | None:
        # A plain read first: polling an empty queue must not take the write lock.
        if not self._db.execute(
            "SELECT 1 FROM message WHERE queue = ? AND state = 'ready' LIMIT 1", (queue,)
        ).fetchone():
            return None
        with write(self._db) as db:
            row = db.execute(
                f"SELECT m.seq, {_MESSAGE_COLUMNS} FROM {_MESSAGES}"  # noqa: S608 (constants)
                " WHERE queue = ? AND state = 'ready' ORDER BY priority DESC, m.seq LIMIT 1",
                (queue,),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE message SET state = 'got', owner = ? WHERE seq = ?", (self.token, row[0])
            )
        return _message(row[1:], seq=row[0])

    def _roll_back(self, db: sqlite3.Connection, token: str) -> None:
        db.execute("DELETE FROM message WHERE owner = ? AND state = 'put'", (token,))
        got = db.execute(
            "SELECT seq, queue, backout_count FROM message WHERE owner = ? AND state = 'got'",
            (token,),
        ).fetchall()
        for seq, queue, count in got:
            self._put_back(db, seq, queue, count)

    def _put_back(self, db: sqlite3.Connection, seq: int, queue: str, count: int) -> None:
        count += 1
        target = self.error_queue(queue) if count >= self.backout_threshold else queue
        # A message keeps its place (seq) when it comes back; a poison message moves on.
        db.execute(
            "UPDATE message SET state = 'ready', owner = NULL, backout_count = ?, queue = ?"
            " WHERE seq = ?",
            (count, target, seq),
        )

    def _roll_back_if_dead(self, token: str) -> bool:
        try:
            fd = os.open(self._lock_path(token), os.O_RDWR)
        except FileNotFoundError:
            fd = None  # its lock file is gone: the owner died while being cleaned up
        try:
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return False  # alive
            with write(self._db) as db:
                # Only the one recoverer that deletes the owner row rolls its work back.
                if db.execute("DELETE FROM owner WHERE token = ?", (token,)).rowcount != 1:
                    return False
                self._roll_back(db, token)
            with contextlib.suppress(FileNotFoundError):
                self._lock_path(token).unlink()
            return True
        finally:
            if fd is not None:
                os.close(fd)


_MESSAGE_COLUMNS = "msg_id, correl_id, b.body, backout_count, put_at, priority, properties"
_MESSAGES = "message m JOIN message_body b ON b.seq = m.seq"


def _message(row: tuple[object, ...], *, seq: int = 0) -> Message:
    mid, correl, body, count, put_at, priority, props = row
    properties = json.loads(str(props)) if props else {}
    return Message(mid, correl, body, count, put_at, priority, properties, seq)  # type: ignore[arg-type]


def _add_columns(db: sqlite3.Connection) -> None:
    """Bring a queue file made by an older version up to date (the columns it lacks)."""
    have = {row[1] for row in db.execute("PRAGMA table_info(message)")}
    for column, ddl in (
        ("priority", "priority INTEGER NOT NULL DEFAULT 0"),
        ("properties", "properties TEXT"),
    ):
        if column not in have:
            with contextlib.suppress(sqlite3.OperationalError):  # a concurrent opener added it
                db.execute(f"ALTER TABLE message ADD COLUMN {ddl}")
    db.execute(
        "CREATE INDEX IF NOT EXISTS message_next ON message (queue, state, priority DESC, seq)"
    )


def _move_bodies(db: sqlite3.Connection, path: Path) -> None:
    """Move the bodies of a queue file made by an older version (in the ``message`` row) to
    ``message_body``, once, in one transaction."""
    if not _has_body_column(db):
        return
    if sqlite3.sqlite_version_info < (3, 35, 0):
        raise QueueError(
            f"{path}: this queue file needs SQLite 3.35 or later to be brought up to "
            f"date (this Python has {sqlite3.sqlite_version})"
        )
    with write(db):
        if _has_body_column(db):  # not done meanwhile by another opener
            db.execute("INSERT INTO message_body (seq, body) SELECT seq, body FROM message")
            db.execute("ALTER TABLE message DROP COLUMN body")


def _has_body_column(db: sqlite3.Connection) -> bool:
    return any(row[1] == "body" for row in db.execute("PRAGMA table_info(message)"))
