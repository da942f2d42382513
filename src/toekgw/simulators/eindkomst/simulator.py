"""The eIndkomst simulator: SKAT's side of the income reports, over MQ.

For each delivery on the request queue, under one MQ unit of work:

1. let :class:`~toekgw.simulators.eindkomst.skat.Skat` register it (validated as SKAT would,
   recorded once in the ledger, idempotent by report id) and say what goes back;
2. put the answers - the 7100 receipt message, SKAT's error/advice file when it found
   anything, the tax cards for 2101 orders - correlated to the request;
3. commit the get and the puts together.

A SIGKILL before the ledger's commit leaves the delivery on the queue; between it and 3 the
delivery comes back and is answered from the ledger (the same bytes); after 3 it is done.
The scripted faults are :class:`~toekgw.simulators.eindkomst.skat.SimulatorScript`'s.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

from toekgw.formats.eindkomst import REPLY_QUEUE as EINDKOMST_REPLY_QUEUE
from toekgw.formats.eindkomst import REQUEST_QUEUE as EINDKOMST_REQUEST_QUEUE
from toekgw.gateway.transport.mq import Message, MessageQueue, message_id
from toekgw.simulators._queue_loop import QueueSimulator, utc_now
from toekgw.simulators.eindkomst.ledger import Ledger
from toekgw.simulators.eindkomst.skat import SimulatorScript, SimulatorStats, Skat

__all__ = [
    "DEFAULT_REPLY_QUEUE",
    "DEFAULT_REQUEST_QUEUE",
    "EindkomstSimulator",
    "SimulatorScript",
    "SimulatorStats",
]

DEFAULT_REQUEST_QUEUE = EINDKOMST_REQUEST_QUEUE
DEFAULT_REPLY_QUEUE = EINDKOMST_REPLY_QUEUE
_MESSAGE_KEYS = {"receipt": "eik-receipt", "advice": "eik-advice", "cards": "eik-cards"}


class EindkomstSimulator(QueueSimulator):
    counterpart = "eindkomst"

    def __init__(
        self,
        queue: MessageQueue,
        ledger: Ledger | str | Path,
        script: SimulatorScript | None = None,
        *,
        request_queue: str = DEFAULT_REQUEST_QUEUE,
        reply_queue: str = DEFAULT_REPLY_QUEUE,
        clock: Callable[[], dt.datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            queue, request_queue=request_queue, reply_queue=reply_queue, clock=clock, sleep=sleep
        )
        self.skat = Skat(ledger, script, clock=clock)

    @property
    def ledger(self) -> Ledger:
        return self.skat.ledger

    @property
    def script(self) -> SimulatorScript:
        return self.skat.script

    @property
    def stats(self) -> SimulatorStats:
        return self.skat.stats

    def _handle(self, message: Message) -> None:
        answers = self.skat.register(message.body)
        if self.script.delay:
            self.sleep(self.script.delay)
        for a in answers:
            mid = message_id(f"{_MESSAGE_KEYS[a.kind]}:{a.main_id}")
            self.queue.put(self.reply_queue, a.body, msg_id=mid, correl_id=message.msg_id)
