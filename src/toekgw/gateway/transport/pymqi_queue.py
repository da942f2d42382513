"""IBM MQ through pymqi (the optional extra ``mq``, which needs IBM's MQ client libraries).

The same protocol as :class:`toekgw.gateway.transport.mq.SqliteQueue`: puts and gets under
syncpoint, ``commit`` / ``backout`` on the queue manager. The queue manager does the crash
safety itself (an uncommitted unit of work is backed out when the connection ends).

- A get waits with ``MQGMO_WAIT``; reason 2033 (no message available) is an empty queue.
- Reasons 2009 (connection broken), 2161 (queue manager quiescing) and 2538 (host not
  available) drop the connection and reconnect. With nothing uncommitted the call is retried;
  with work uncommitted the queue manager has backed it out, and :class:`UnitOfWorkLost` tells
  the caller to redo its unit of work. A broken commit's outcome is unknown; receivers drop
  duplicates by id, so redoing it is safe.
- A message whose ``BackoutCount`` reached the threshold is moved to the backout queue (the
  configured one, else the queue's BOQNAME, else ``<queue>.BACKOUT``) instead of being
  returned.
- 2035 (not authorized) and 2059 (queue manager not available) end in a clear error that says
  what to check.

This module is tested - the MQ contract (``tests/test_mq_contract.py``, shared with
``SqliteQueue``) and its own tests - against a stand-in ``pymqi`` (``tests/fakes/pymqi.py``)
that reproduces the calls and reason codes used here, not against a real queue manager.
"""

from __future__ import annotations

import calendar
import contextlib
import math
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TypeVar

from toekgw.gateway.transport.mq import (
    DEFAULT_BACKOUT_THRESHOLD,
    Message,
    QueueError,
    UnitOfWorkLost,
    _check_id,
    backout_queue_name,
)

__all__ = [
    "MQRC_CONNECTION_BROKEN",
    "MQRC_HOST_NOT_AVAILABLE",
    "MQRC_NOT_AUTHORIZED",
    "MQRC_NO_MSG_AVAILABLE",
    "MQRC_Q_MGR_NOT_AVAILABLE",
    "MQRC_Q_MGR_QUIESCING",
    "PymqiQueue",
    "load_pymqi",
]

MQRC_CONNECTION_BROKEN = 2009
MQRC_NO_MSG_AVAILABLE = 2033
MQRC_NOT_AUTHORIZED = 2035
MQRC_Q_MGR_NOT_AVAILABLE = 2059
MQRC_Q_MGR_QUIESCING = 2161
MQRC_HOST_NOT_AVAILABLE = 2538

RECONNECT_REASONS = frozenset(
    {MQRC_CONNECTION_BROKEN, MQRC_Q_MGR_QUIESCING, MQRC_HOST_NOT_AVAILABLE}
)

_T = TypeVar("_T")


def load_pymqi() -> Any:
    """Import pymqi, or say plainly what is missing."""
    try:
        import pymqi
    except ModuleNotFoundError:
        raise QueueError(
            "IBM MQ support is not installed",
            hint="pip install 'toek-gateway[mq]' (pymqi), with IBM's MQ client libraries; "
            "or use the embedded SqliteQueue",
        ) from None
    except ImportError as exc:
        raise QueueError(
            f"pymqi is installed but cannot load IBM's MQ client libraries: {exc}",
            hint="install the IBM MQ client (libmqic) and set LD_LIBRARY_PATH to its lib64",
        ) from None
    return pymqi


class PymqiQueue:
    """A session with an IBM MQ queue manager over a client (TCP) channel."""

    def __init__(
        self,
        queue_manager: str,
        channel: str,
        conn_name: str,
        *,
        user: str | None = None,
        password: str | None = None,
        backout_threshold: int | None = DEFAULT_BACKOUT_THRESHOLD,
        backout_queues: Mapping[str, str] | None = None,
        reconnect_attempts: int = 3,
        reconnect_delay: float = 1.0,
    ) -> None:
        """``backout_threshold=None`` takes each queue's BOTHRESH (or the default if 0)."""
        self._mq = load_pymqi()
        self._c = self._mq.CMQC
        self.queue_manager = queue_manager
        self.channel = channel
        self.conn_name = conn_name
        self._user = user
        self._password = password
        self.backout_threshold = backout_threshold
        self.backout_queues = dict(backout_queues or {})
        self.reconnect_attempts = reconnect_attempts
        self.reconnect_delay = reconnect_delay
        self._qmgr: Any = None
        self._queues: dict[tuple[str, str], Any] = {}
        # Queue attributes, inquired once per queue (an MQINQ is a round trip).
        self._thresholds: dict[str, int] = {}
        self._backout_names: dict[str, str] = {}
        self._pending = False
        self._closed = False
        self._call("connect", lambda: None)

    # -- the protocol ------------------------------------------------------------------

    def put(
        self,
        queue: str,
        body: bytes,
        *,
        msg_id: bytes | None = None,
        correl_id: bytes | None = None,
    ) -> bytes:
        self._check_open()
        _check_id("msg_id", msg_id)
        _check_id("correl_id", correl_id)
        c = self._c

        def do() -> bytes:
            md = self._mq.MD()
            md.Format = c.MQFMT_STRING
            md.Persistence = c.MQPER_PERSISTENT
            options = c.MQPMO_SYNCPOINT | c.MQPMO_FAIL_IF_QUIESCING
            if msg_id is None:
                options |= c.MQPMO_NEW_MSG_ID
            else:
                md.MsgId = msg_id
            if correl_id is not None:
                md.CorrelId = correl_id
            pmo = self._mq.PMO(Options=options)
            self._open(queue, "output").put(bytes(body), md, pmo)
            self._pending = True
            return bytes(md.MsgId)

        return self._call(f"put to {queue}", do)

    def get(self, queue: str, *, wait: float = 0.0) -> Message | None:
        self._check_open()
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            remaining = max(deadline - time.monotonic(), 0.0)
            had_work = self._pending
            got = self._call(f"get from {queue}", partial(self._get_once, queue, remaining))
            if got is None:
                return None
            md, body = got
            if md.BackoutCount < self._threshold(queue):
                return Message(
                    msg_id=bytes(md.MsgId),
                    correl_id=None if md.CorrelId == self._c.MQCI_NONE else bytes(md.CorrelId),
                    body=body,
                    backout_count=int(md.BackoutCount),
                    put_at=_put_time(md),
                )
            self._move_to_backout_queue(queue, md, body, commit=not had_work)

    def commit(self) -> None:
        self._check_open()
        if self._qmgr is None:
            self._pending = False
            return
        try:
            self._qmgr.commit()
        except self._mq.MQMIError as err:
            if err.reason not in RECONNECT_REASONS:
                raise self._explain(err, "commit") from None
            self._drop()
            raise UnitOfWorkLost(
                f"the connection to queue manager {self.queue_manager} broke during commit "
                f"(MQRC {err.reason}); the unit of work may or may not be committed",
                hint="redo it: receivers drop duplicates by message and bundle id",
            ) from None
        self._pending = False

    def backout(self) -> None:
        self._check_open()
        if self._qmgr is None:
            self._pending = False
            return
        try:
            self._qmgr.backout()
        except self._mq.MQMIError as err:
            if err.reason not in RECONNECT_REASONS:
                raise self._explain(err, "backout") from None
            # The queue manager backs out a broken connection's work by itself.
            self._drop()
        self._pending = False

    def close(self) -> None:
        """Back out what is uncommitted and disconnect; the session then refuses every call
        (it does not connect again). A second close does nothing."""
        if self._closed:
            return
        try:
            if self._qmgr is not None:
                self.backout()
        finally:
            self._drop()
            self._closed = True

    def __enter__(self) -> PymqiQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------

    def _connect(self) -> None:
        qmgr = self._mq.QueueManager(None)
        qmgr.connect_tcp_client(
            self.queue_manager,
            self._mq.CD(),
            self.channel,
            self.conn_name,
            self._user,
            self._password,
        )
        self._qmgr = qmgr

    def _check_open(self) -> None:
        if self._closed:
            raise QueueError(f"the session with queue manager {self.queue_manager} is closed")

    def _drop(self) -> None:
        # The connection may be gone already: closing is best effort.
        for q in self._queues.values():
            with contextlib.suppress(self._mq.MQMIError):
                q.close()
        self._queues.clear()
        if self._qmgr is not None:
            with contextlib.suppress(self._mq.MQMIError, self._mq.PYIFError):
                self._qmgr.disconnect()
        self._qmgr = None
        self._pending = False

    def _call(self, op: str, fn: Callable[[], _T]) -> _T:
        attempt = 0
        while True:
            try:
                if self._qmgr is None:
                    self._connect()
                return fn()
            except self._mq.MQMIError as err:
                if err.reason not in RECONNECT_REASONS:
                    raise self._explain(err, op) from None
                lost = self._pending
                self._drop()
                if lost:
                    raise UnitOfWorkLost(
                        f"{op}: the connection to queue manager {self.queue_manager} broke "
                        f"(MQRC {err.reason}); its uncommitted work was backed out",
                        hint="redo the unit of work from its first get",
                    ) from None
                attempt += 1
                if attempt > self.reconnect_attempts:
                    raise QueueError(
                        f"{op}: queue manager {self.queue_manager} at {self.conn_name} is "
                        f"unreachable (MQRC {err.reason}) after {self.reconnect_attempts} "
                        "reconnects",
                        hint="check the network and the queue manager's listener",
                    ) from None
                time.sleep(self.reconnect_delay)

    def _explain(self, err: Any, op: str) -> QueueError:
        reason = err.reason
        if reason == MQRC_NOT_AUTHORIZED:
            return QueueError(
                f"{op}: not authorized on queue manager {self.queue_manager} "
                "(MQRC 2035 MQRC_NOT_AUTHORIZED)",
                hint=f"check the user and password, the CHLAUTH rules of channel "
                f"{self.channel} and the queue authorities (setmqaut)",
            )
        if reason == MQRC_Q_MGR_NOT_AVAILABLE:
            return QueueError(
                f"{op}: queue manager {self.queue_manager} is not available at "
                f"{self.conn_name} (MQRC 2059 MQRC_Q_MGR_NOT_AVAILABLE)",
                hint=f"check that the queue manager and its listener run and that "
                f"channel {self.channel} exists",
            )
        return QueueError(f"{op}: IBM MQ call failed (MQCC {err.comp}, MQRC {reason})")

    def _open(self, queue: str, mode: str) -> Any:
        handle = self._queues.get((queue, mode))
        if handle is None:
            c = self._c
            if mode == "input":
                options = c.MQOO_INPUT_SHARED | c.MQOO_INQUIRE | c.MQOO_FAIL_IF_QUIESCING
            else:
                options = c.MQOO_OUTPUT | c.MQOO_FAIL_IF_QUIESCING
            handle = self._mq.Queue(self._qmgr, queue, options)
            self._queues[(queue, mode)] = handle
        return handle

    def _get_once(self, queue: str, wait: float) -> tuple[Any, bytes] | None:
        c = self._c
        md = self._mq.MD()
        gmo = self._mq.GMO()
        gmo.Options = c.MQGMO_SYNCPOINT | c.MQGMO_FAIL_IF_QUIESCING | c.MQGMO_WAIT
        # Whole milliseconds, rounded up: truncating made a get wait up to 1 ms less than asked.
        gmo.WaitInterval = math.ceil(wait * 1000)
        try:
            body = self._open(queue, "input").get(None, md, gmo)
        except self._mq.MQMIError as err:
            if err.reason == MQRC_NO_MSG_AVAILABLE:
                return None
            raise
        self._pending = True
        return md, bytes(body)

    def _threshold(self, queue: str) -> int:
        if self.backout_threshold is not None:
            return self.backout_threshold
        if queue not in self._thresholds:
            value = self._call(
                f"inquire {queue}",
                lambda: self._open(queue, "input").inquire(self._c.MQIA_BACKOUT_THRESHOLD),
            )
            self._thresholds[queue] = int(value) or DEFAULT_BACKOUT_THRESHOLD
        return self._thresholds[queue]

    def _backout_queue(self, queue: str) -> str:
        configured = self.backout_queues.get(queue)
        if configured:
            return configured
        if queue not in self._backout_names:
            value = self._call(
                f"inquire {queue}",
                lambda: self._open(queue, "input").inquire(self._c.MQCA_BACKOUT_REQ_Q_NAME),
            )
            text = value.decode("ascii") if isinstance(value, bytes) else str(value)
            self._backout_names[queue] = text.strip().rstrip("\x00") or backout_queue_name(queue)
        return self._backout_names[queue]

    def _move_to_backout_queue(self, queue: str, md: Any, body: bytes, *, commit: bool) -> None:
        # The move joins the current unit of work; alone in it, it is committed at once so a
        # poison message leaves for good even if the caller never commits.
        target = self._backout_queue(queue)
        c = self._c

        def do() -> None:
            pmo = self._mq.PMO(Options=c.MQPMO_SYNCPOINT | c.MQPMO_FAIL_IF_QUIESCING)
            self._open(target, "output").put(body, md, pmo)

        self._call(f"put to {target}", do)
        if commit:
            self.commit()


def _put_time(md: Any) -> float:
    # PutDate YYYYMMDD and PutTime HHMMSSTH, both GMT, as bytes.
    try:
        date = bytes(md.PutDate).decode("ascii").strip()
        clock = bytes(md.PutTime).decode("ascii").strip()
        parsed = time.strptime(date + clock[:6], "%Y%m%d%H%M%S")
    except (ValueError, TypeError, UnicodeDecodeError):
        return 0.0
    return calendar.timegm(parsed) + int(clock[6:8] or 0) / 100
