"""How deliveries reach SKAT and its answers come back: the route, chosen in configuration.

Two real routes exist (``[eindkomst] route``):

- ``mq`` (:class:`MqRoute`, the solution description's): each delivery is put on the request
  queue under syncpoint, the answers are got from the reply queue under syncpoint;
- ``serviceplatform`` (:class:`~toekgw.adapters.eindkomst.sf0770.ServiceplatformRoute`,
  KOMBIT's SF0770_B): each delivery is uploaded as a file over Serviceplatformen, the answers
  come back as files over SFTP, tax cards through the Beskedfordeler.

A route only moves bytes and says when a delivery is with the counterpart; the journal, the
outbox, the validation and the answers' meaning are :class:`~toekgw.adapters.eindkomst.flow.
EindkomstGateway`'s, the same for both. A route hands over only a delivery already journaled
(claimed before it is sent), and hands it over again with the same bytes and ids after a
crash: SKAT drops the copy by report id. One process at a time hands over (the route's lock),
and only a delivery the journal still has waiting once it holds it: a ``receive`` or a
``close-month`` that hands over what waits while a ``send`` runs never puts it a second time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from toekgw.adapters.eindkomst.answers import ReceiveResult
from toekgw.adapters.eindkomst.kinds import COUNTERPART
from toekgw.gateway.faults import crash_point
from toekgw.gateway.flowlock import flow_lock
from toekgw.gateway.journal import Journal, JournalLocation, Transmission
from toekgw.gateway.refusals import FailedMessages
from toekgw.gateway.transport.mq import MessageQueue, message_id

__all__ = ["Apply", "MqRoute", "ReportRoute", "mark_sent"]

#: Journal one answer (its bytes, the route's name for where it came from) durably and apply
#: it; raises if it could not be taken (nothing journaled then).
Apply = Callable[[bytes, str], None]


class ReportRoute(Protocol):
    #: ``mq`` or ``serviceplatform``, as configured.
    name: ClassVar[str]
    #: The delivery states in which a delivery still waits for this route.
    pending_states: ClassVar[Sequence[str]]

    def hand_over(self, journal: Journal, tx: Transmission, body: bytes, stamp: str) -> bool:
        """Send one journaled delivery (``body``, checked against the journal's SHA-256);
        whether it was handed over by this call (not when the journal no longer has it
        waiting). Raises :class:`~toekgw.gateway.flowlock.FlowBusy` while another process
        hands over on this route."""
        ...

    def settle(self, journal: Journal, transmission_ids: Sequence[int]) -> None:
        """Wait (as configured) for the route's confirmation of the deliveries just handed
        over; a delivery still unconfirmed is confirmed by a later send or receive."""
        ...

    def take(
        self, journal: Journal, apply: Apply, result: ReceiveResult, *, wait: float, limit: int
    ) -> None:
        """Take up to ``limit`` answers (the first waits up to ``wait`` seconds), each one
        journaled by ``apply`` before the route lets go of it."""
        ...


def mark_sent(journal: Journal, tx_id: int, *, expect: str, reason: str, stamp: str) -> bool:
    """In the caller's transaction: the delivery is with SKAT (``sent``, its items too), if it
    is still in ``expect``; whether it was."""
    if journal.get_transmission(tx_id).state != expect:
        return False  # another process got there first: SKAT drops the copy by report id
    journal.update_transmission(tx_id, reason=reason, meta={"sent_at": stamp})
    journal.set_state(tx_id, "sent", reason=reason, expect=expect)
    journal.move_items(tx_id, "journaled", "sent", reason="sent")
    return True


@dataclass(slots=True)
class MqRoute:
    """The MQ route: one request queue out, one reply queue back, both under syncpoint. A
    re-put after a crash has the same message id (``eindkomst:<main report id>``).

    ``lock``: the lock file under which one process at a time puts (with ``shared``, a
    PostgreSQL journal, the lock is taken there too); ``None`` only where one process is all
    there is (the demo, tests)."""

    queue: MessageQueue
    request_queue: str
    reply_queue: str
    lock: Path | None = None
    shared: JournalLocation | None = None
    name: ClassVar[str] = "mq"
    pending_states: ClassVar[Sequence[str]] = ("journaled",)

    def hand_over(self, journal: Journal, tx: Transmission, body: bytes, stamp: str) -> bool:
        with self._handing_over():
            if journal.get_transmission(tx.id).state != "journaled":
                return False  # another process handed it over since it was read
            main_id = str(tx.meta["main_report_id"])
            self.queue.put(self.request_queue, body, msg_id=message_id(f"eindkomst:{main_id}"))
            crash_point("eindkomst.send.after_put")
            self.queue.commit()
            crash_point("eindkomst.send.after_mq_commit")
            with journal.transaction():
                return mark_sent(
                    journal, tx.id, expect="journaled", reason="MQ put committed", stamp=stamp
                )

    def _handing_over(self) -> AbstractContextManager[None]:
        if self.lock is None:
            return nullcontext()
        return flow_lock(self.lock, "hand-over of eIndkomst deliveries", journal=self.shared)

    def settle(self, journal: Journal, transmission_ids: Sequence[int]) -> None:
        return None  # the MQ commit is the confirmation

    def take(
        self, journal: Journal, apply: Apply, result: ReceiveResult, *, wait: float, limit: int
    ) -> None:
        failed = FailedMessages(journal, COUNTERPART, self.reply_queue)
        taken = 0
        while taken < limit:
            message = self.queue.get(self.reply_queue, wait=wait if not taken else 0)
            if message is None:
                break
            taken += 1
            result.messages += 1
            try:
                apply(message.body, self.name)
            except Exception as exc:
                self.queue.backout()
                # A message that breaks the reader is listed and the others go on (the queue
                # moves it to its error queue at its backout threshold).
                failed.set_aside(message.msg_id, exc)
                result.failed += 1
                continue
            except BaseException:
                self.queue.backout()
                raise
            crash_point("eindkomst.receive.after_journal")
            self.queue.commit()
