"""A stand-in for ``pymqi`` (tests only): the calls, constants and reason codes PymqiQueue uses.

The IBM MQ client cannot be installed here, so ``PymqiQueue`` is tested against this module,
injected as ``sys.modules["pymqi"]``. It mirrors pymqi's surface - ``QueueManager(None)``,
``connect_tcp_client(name, cd, channel, conn_name, user, password)``, ``Queue(qmgr, name,
open_options)`` with ``put(msg, md, pmo)``, ``get(max_length, md, gmo)``, ``inquire(attr)``,
``close()``; ``qmgr.commit()``, ``backout()``, ``disconnect()``; the MD/GMO/PMO/CD structures
as attribute bags with ``set(**kw)``; ``MQMIError(comp, reason)`` with ``.comp`` and
``.reason`` - and the queue manager behaviour behind it: syncpoint units of work per
connection, BackoutCount raised by a backout or a broken connection, a normal disconnect
committing (as MQDISC does on distributed platforms), MQGMO_WAIT with WaitInterval, and
scripted failures by reason code.

It is not a queue manager: no channels, no persistence, one process.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar


class CMQC:
    MQCC_OK = 0
    MQCC_WARNING = 1
    MQCC_FAILED = 2

    MQRC_NONE = 0
    MQRC_CONNECTION_BROKEN = 2009
    MQRC_HCONN_ERROR = 2018
    MQRC_NO_MSG_AVAILABLE = 2033
    MQRC_NOT_AUTHORIZED = 2035
    MQRC_Q_MGR_NOT_AVAILABLE = 2059
    MQRC_UNKNOWN_OBJECT_NAME = 2085
    MQRC_Q_MGR_QUIESCING = 2161
    MQRC_HOST_NOT_AVAILABLE = 2538

    MQGMO_NO_WAIT = 0x00000000
    MQGMO_WAIT = 0x00000001
    MQGMO_SYNCPOINT = 0x00000002
    MQGMO_NO_SYNCPOINT = 0x00000004
    MQGMO_FAIL_IF_QUIESCING = 0x00002000

    MQPMO_NONE = 0x00000000
    MQPMO_SYNCPOINT = 0x00000002
    MQPMO_NO_SYNCPOINT = 0x00000004
    MQPMO_NEW_MSG_ID = 0x00000040
    MQPMO_FAIL_IF_QUIESCING = 0x00002000

    MQOO_INPUT_SHARED = 0x00000002
    MQOO_OUTPUT = 0x00000010
    MQOO_INQUIRE = 0x00000020
    MQOO_FAIL_IF_QUIESCING = 0x00002000

    MQPER_NOT_PERSISTENT = 0
    MQPER_PERSISTENT = 1
    MQPER_PERSISTENCE_AS_Q_DEF = 2

    MQFMT_NONE = b"        "
    MQFMT_STRING = b"MQSTR   "
    MQMI_NONE = b"\x00" * 24
    MQCI_NONE = b"\x00" * 24

    MQIA_BACKOUT_THRESHOLD = 22
    MQCA_BACKOUT_REQ_Q_NAME = 2019

    MQCHT_CLNTCONN = 6
    MQXPT_TCP = 2


_NAMES = {v: k for k, v in vars(CMQC).items() if k.startswith("MQRC_")}


class Error(Exception):
    pass


class MQMIError(Error):
    def __init__(self, comp: int, reason: int) -> None:
        super().__init__(comp, reason)
        self.comp = comp
        self.reason = reason

    def __str__(self) -> str:
        return f"MQI Error. Comp: {self.comp}, Reason {self.reason}: {self.errorAsString()}"

    def errorAsString(self) -> str:
        return "FAILED: " + _NAMES.get(self.reason, str(self.reason))


class PYIFError(Error):
    def __init__(self, e: str) -> None:
        super().__init__(e)
        self.error = e


def _failed(reason: int) -> MQMIError:
    return MQMIError(CMQC.MQCC_FAILED, reason)


class MQOpts:
    _defaults: ClassVar[dict[str, Any]] = {}
    _bytes_fields: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, **kw: Any) -> None:
        for name, value in self._defaults.items():
            object.__setattr__(self, name, value)
        self.set(**kw)

    def set(self, **kw: Any) -> None:
        for name, value in kw.items():
            setattr(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._defaults:
            raise AttributeError(name)
        if name in self._bytes_fields and isinstance(value, str):
            # pymqi's pack() refuses Python 3 str where MQ wants bytes.
            raise TypeError(f"Python 3 style string found but not allowed here: '{value}'")
        object.__setattr__(self, name, value)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


class MD(MQOpts):
    _defaults: ClassVar[dict[str, Any]] = {
        "MsgType": 8,
        "Expiry": -1,
        "Format": CMQC.MQFMT_NONE,
        "Persistence": CMQC.MQPER_PERSISTENCE_AS_Q_DEF,
        "MsgId": CMQC.MQMI_NONE,
        "CorrelId": CMQC.MQCI_NONE,
        "BackoutCount": 0,
        "PutDate": b"        ",
        "PutTime": b"        ",
    }
    _bytes_fields = frozenset({"Format", "MsgId", "CorrelId", "PutDate", "PutTime"})


class GMO(MQOpts):
    _defaults: ClassVar[dict[str, Any]] = {
        "Options": CMQC.MQGMO_NO_WAIT,
        "WaitInterval": 0,
        "MatchOptions": 3,
    }


class PMO(MQOpts):
    _defaults: ClassVar[dict[str, Any]] = {"Options": CMQC.MQPMO_NONE}


class CD(MQOpts):
    _defaults: ClassVar[dict[str, Any]] = {
        "ChannelName": b"",
        "ConnectionName": b"",
        "ChannelType": 0,
        "TransportType": 0,
    }
    _bytes_fields = frozenset({"ChannelName", "ConnectionName"})


# -- the queue manager behind it ------------------------------------------------------------


@dataclass
class _Msg:
    body: bytes
    msg_id: bytes
    correl_id: bytes
    backout_count: int
    put_date: bytes
    put_time: bytes
    fmt: bytes
    persistence: int
    held_by: int | None = None


@dataclass
class Broker:
    """The stand-in queue manager. Tests configure it and script failures."""

    name: str = "QM1"
    channel: str = "DEV.APP.SVRCONN"
    users: dict[str, str] = field(default_factory=lambda: {"app": "secret"})
    running: bool = True
    queues: dict[str, list[_Msg]] = field(default_factory=dict)
    attributes: dict[str, dict[int, Any]] = field(default_factory=dict)
    faults: list[tuple[str, int]] = field(default_factory=list)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    connects: int = 0
    _uow: dict[int, list[tuple[str, str, _Msg]]] = field(default_factory=dict)
    _broken: set[int] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def define(self, queue: str, *, bothresh: int = 0, boqname: str = "") -> None:
        self.queues.setdefault(queue, [])
        self.attributes[queue] = {
            CMQC.MQIA_BACKOUT_THRESHOLD: bothresh,
            CMQC.MQCA_BACKOUT_REQ_Q_NAME: boqname.encode().ljust(48),
        }

    def fail(self, op: str, reason: int, times: int = 1) -> None:
        """The next ``times`` calls of ``op`` (connect, open, put, get, commit, backout) fail
        with ``reason``; 2009 and 2161 also end the connection as a queue manager would."""
        self.faults.extend([(op, reason)] * times)

    def visible(self, queue: str) -> list[bytes]:
        return [m.body for m in self.queues.get(queue, []) if m.held_by is None]

    # called by the fake client classes
    def _fault(self, op: str, conn: int | None) -> None:
        if conn is not None and conn in self._broken:
            raise _failed(CMQC.MQRC_CONNECTION_BROKEN)
        for i, (fop, reason) in enumerate(self.faults):
            if fop == op:
                del self.faults[i]
                if conn is not None and reason in (
                    CMQC.MQRC_CONNECTION_BROKEN,
                    CMQC.MQRC_Q_MGR_QUIESCING,
                ):
                    self._end(conn, commit=False)
                    self._broken.add(conn)
                raise _failed(reason)

    def _connect(self, name: str, channel: str, user: str | None, password: str | None) -> int:
        with self._lock:
            self._fault("connect", None)
            if not self.running or name != self.name:
                raise _failed(CMQC.MQRC_Q_MGR_NOT_AVAILABLE)
            if channel != self.channel or self.users.get(user or "") != password:
                raise _failed(CMQC.MQRC_NOT_AUTHORIZED)
            conn = next(self._ids)
            self._uow[conn] = []
            self.connects += 1
            return conn

    def _end(self, conn: int, *, commit: bool) -> None:
        with self._lock:
            for kind, queue, msg in self._uow.pop(conn, []):
                if kind == "get":
                    msg.held_by = None
                    if commit:
                        self.queues[queue].remove(msg)
                    else:
                        msg.backout_count += 1
                elif kind == "put" and not commit:
                    self.queues[queue].remove(msg)
                elif kind == "put":
                    msg.held_by = None
            self._uow[conn] = []

    def _put(self, conn: int, queue: str, body: bytes, md: MD, pmo: PMO) -> None:
        with self._lock:
            self._fault("put", conn)
            self.calls.append(("put", (queue, pmo.Options)))
            syncpoint = bool(pmo.Options & CMQC.MQPMO_SYNCPOINT)
            if pmo.Options & CMQC.MQPMO_NEW_MSG_ID or md.MsgId == CMQC.MQMI_NONE:
                md.MsgId = os.urandom(24)
            now = time.gmtime()
            md.PutDate = time.strftime("%Y%m%d", now).encode()
            md.PutTime = time.strftime("%H%M%S", now).encode() + b"00"
            msg = _Msg(
                body,
                md.MsgId,
                md.CorrelId,
                0,
                md.PutDate,
                md.PutTime,
                md.Format,
                md.Persistence,
                held_by=conn if syncpoint else None,
            )
            self.queues[queue].append(msg)
            if syncpoint:
                self._uow[conn].append(("put", queue, msg))

    def _get(self, conn: int, queue: str, md: MD, gmo: GMO) -> bytes:
        deadline = time.monotonic() + (
            gmo.WaitInterval / 1000 if gmo.Options & CMQC.MQGMO_WAIT else 0
        )
        while True:
            with self._lock:
                self._fault("get", conn)
                self.calls.append(("get", (queue, gmo.Options, gmo.WaitInterval)))
                msg = next((m for m in self.queues[queue] if m.held_by is None), None)
                if msg is not None:
                    md.set(
                        MsgId=msg.msg_id,
                        CorrelId=msg.correl_id,
                        BackoutCount=msg.backout_count,
                        PutDate=msg.put_date,
                        PutTime=msg.put_time,
                        Format=msg.fmt,
                        Persistence=msg.persistence,
                    )
                    if gmo.Options & CMQC.MQGMO_SYNCPOINT:
                        msg.held_by = conn
                        self._uow[conn].append(("get", queue, msg))
                    else:
                        self.queues[queue].remove(msg)
                    return msg.body
            if time.monotonic() >= deadline:
                raise _failed(CMQC.MQRC_NO_MSG_AVAILABLE)
            time.sleep(0.01)


BROKER = Broker()


def reset() -> Broker:
    global BROKER
    BROKER = Broker()
    return BROKER


class QueueManager:
    def __init__(self, name: str | None = "", disconnect_on_exit: bool = True) -> None:
        self._conn: int | None = None
        if name is not None:
            raise PYIFError("the stand-in supports client connections only")

    def connect_tcp_client(
        self,
        name: str,
        cd: CD,
        channel: str,
        conn_name: str,
        user: str | None,
        password: str | None,
    ) -> None:
        cd.set(
            ChannelName=channel.encode(),
            ConnectionName=conn_name.encode(),
            ChannelType=CMQC.MQCHT_CLNTCONN,
            TransportType=CMQC.MQXPT_TCP,
        )
        self._conn = BROKER._connect(name, channel, user, password)

    def get_handle(self) -> int:
        if self._conn is None:
            raise PYIFError("not connected")
        return self._conn

    def commit(self) -> None:
        conn = self.get_handle()
        BROKER._fault("commit", conn)
        BROKER._end(conn, commit=True)

    def backout(self) -> None:
        conn = self.get_handle()
        BROKER._fault("backout", conn)
        BROKER._end(conn, commit=False)

    def disconnect(self) -> None:
        conn = self.get_handle()
        if conn not in BROKER._broken:
            BROKER._end(conn, commit=True)  # a normal MQDISC commits
        self._conn = None


class Queue:
    def __init__(self, qmgr: QueueManager, q_desc: str | bytes, open_opts: int) -> None:
        name = q_desc.decode() if isinstance(q_desc, bytes) else q_desc
        conn = qmgr.get_handle()
        BROKER._fault("open", conn)
        if name not in BROKER.queues:
            raise _failed(CMQC.MQRC_UNKNOWN_OBJECT_NAME)
        BROKER.calls.append(("open", (name, open_opts)))
        self._qmgr = qmgr
        self._name = name
        self._opts = open_opts

    def put(self, msg: bytes, md: MD, pmo: PMO) -> None:
        if isinstance(msg, str):
            raise TypeError(f"Python 3 style string found but not allowed here: '{msg}'")
        BROKER._put(self._qmgr.get_handle(), self._name, msg, md, pmo)

    def get(self, max_length: int | None, md: MD, gmo: GMO) -> bytes:
        return BROKER._get(self._qmgr.get_handle(), self._name, md, gmo)

    def inquire(self, attribute: int) -> Any:
        conn = self._qmgr.get_handle()
        BROKER._fault("inquire", conn)
        BROKER.calls.append(("inquire", (self._name, attribute)))
        if not self._opts & CMQC.MQOO_INQUIRE:
            raise _failed(2038)  # MQRC_NOT_OPEN_FOR_INQUIRE
        return BROKER.attributes[self._name][attribute]

    def close(self) -> None:
        pass
