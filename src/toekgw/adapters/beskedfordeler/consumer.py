"""Consuming TØK's Beskedfordeler mailbox: journal first, ack after, route by message type.

For each delivery: read the envelope (:mod:`toekgw.formats.kombit.besked`); find the
component configured for its ``Beskedtype``; in one durable journal transaction record the
message as an inbound transmission keyed by its ``BeskedId`` and let the component record its
effect; then ack. A crash before the commit redelivers the message and nothing was recorded; a
crash after it redelivers a message the journal already holds, which is acked without a second
effect. A message that cannot be read, or whose type no component takes, or whose payload its
component refuses, is put on the error list and then dead-lettered: it never blocks the next.
A message whose component breaks on it (a fault of ours, not of the message's form) is backed
out, put on the error list once and put back; after
:data:`~toekgw.gateway.refusals.MAX_ATTEMPTS_PER_RUN` attempts in one run it is dead-lettered,
so one such message does not stop every run at the head of the queue. An error of the
environment (journal, disk, broker) puts the message back and stops the run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections.abc import Callable, Mapping

from toekgw.formats.kombit.besked import BeskedError, Haendelsesbesked, read_besked
from toekgw.gateway.errors import is_environmental
from toekgw.gateway.faults import crash_point
from toekgw.gateway.journal import (
    Direction,
    DuplicateTransmission,
    Journal,
    KindSpec,
    Lifecycle,
    NewTransmission,
    Transmission,
)
from toekgw.gateway.kinds import register_kind
from toekgw.gateway.refusals import MAX_ATTEMPTS_PER_RUN, list_dead_letter, list_failed_message
from toekgw.gateway.transport.amqp import BrokerError, Delivery, MessageBroker

__all__ = ["BESKED_KIND", "BeskedConsumer", "Component", "ConsumeResult", "UnknownType"]

BESKED_KIND = KindSpec(
    "beskedfordeler-besked",
    Direction.IN,
    Lifecycle(("received",), {}, {"received": "journaled, its component's effect recorded"}),
    Lifecycle(("recorded",), {}, {"recorded": "an effect of a message (per component)"}),
)
register_kind(BESKED_KIND)


class UnknownType(BeskedError):
    """No component is configured for the message's type."""


@dataclasses.dataclass(frozen=True, slots=True)
class Component:
    """What a message type is routed to: ``handle(journal, transmission, message)`` records
    the message's effect inside the caller's transaction and returns a one-line summary; it
    raises :class:`~toekgw.formats.kombit.besked.BeskedError` for a payload it cannot use."""

    name: str
    handle: Callable[[Journal, Transmission, Haendelsesbesked], str]


@dataclasses.dataclass
class ConsumeResult:
    """What a run did so far. Each message's line goes to ``on_line`` as it is settled (a
    command prints it then, so a run stopped midway has said what it did); without one, the
    lines are kept in ``lines``."""

    taken: int = 0  # settled: journaled, a duplicate, dead-lettered or put back
    duplicates: int = 0
    dead_lettered: int = 0
    failed: int = 0  # broke its component: listed, put back (dead-lettered after many tries)
    lines: list[str] = dataclasses.field(default_factory=list)
    on_line: Callable[[str], None] | None = None

    @property
    def journaled(self) -> int:
        return self.taken - self.duplicates - self.dead_lettered - self.failed

    def say(self, line: str) -> None:
        if self.on_line is None:
            self.lines.append(line)
        else:
            self.on_line(line)

    def summary(self) -> str:
        failed = f", {self.failed} failed and put back" if self.failed else ""
        return (
            f"{self.taken} messages: {self.journaled} journaled, {self.duplicates} duplicates, "
            f"{self.dead_lettered} dead-lettered{failed}"
        )


class BeskedConsumer:
    """``routes``: message type (UUID) -> component."""

    def __init__(
        self,
        broker: MessageBroker,
        journal: Journal,
        *,
        queue: str,
        routes: Mapping[str, Component],
        counterpart: str = "beskedfordeler",
    ) -> None:
        self.broker = broker
        self.journal = journal
        self.queue = queue
        self.routes = {key.lower(): value for key, value in routes.items()}
        self.counterpart = counterpart
        journal.define_kind(BESKED_KIND)
        self._attempts: dict[str, int] = {}

    def run(
        self,
        *,
        max_messages: int | None = None,
        wait: float = 0.0,
        into: ConsumeResult | None = None,
    ) -> ConsumeResult:
        """Take messages until the queue is empty for ``wait`` seconds (or ``max_messages``),
        counting into ``into`` (a new result without one), which holds what was done so far
        when the run is stopped or breaks."""
        result = ConsumeResult() if into is None else into
        while max_messages is None or result.taken < max_messages:
            delivery = self.broker.get(self.queue, wait=wait)
            if delivery is None:
                break
            try:
                self._one(delivery, result)
            except BaseException:
                # Back for a later run; already settled (the ack itself failed) or the broker
                # gone: it comes back by itself, and the original error is what to report.
                with contextlib.suppress(BrokerError):
                    self.broker.requeue(delivery)
                raise
            result.taken += 1
        return result

    def _one(self, delivery: Delivery, result: ConsumeResult) -> None:
        try:
            message = read_besked(delivery.body)
            component = self.routes.get(message.besked_type)
            if component is None:
                raise UnknownType(f"no component takes message type {message.besked_type}")
            line = self._record(delivery, message, component)
        except BeskedError as exc:
            key = delivery.message_id or f"#{delivery.tag}"
            list_dead_letter(self.journal, self.counterpart, self.queue, key, str(exc))
            crash_point("beskedfordeler.consume.after_listing")
            self.broker.reject(delivery)
            result.dead_lettered += 1
            result.say(f"message {key}: dead-lettered: {exc}")
            return
        except Exception as exc:
            if is_environmental(exc):
                raise
            self._set_aside(delivery, exc, result)
            return
        crash_point("beskedfordeler.consume.after_commit")
        self.broker.ack(delivery)
        if line is None:
            result.duplicates += 1
            result.say(f"message {message.besked_id}: a duplicate, acked again")
        else:
            result.say(f"message {message.besked_id}: {line}")

    def _set_aside(self, delivery: Delivery, exc: Exception, result: ConsumeResult) -> None:
        """A message its component broke on (rolled back): listed once, put back; after
        :data:`MAX_ATTEMPTS_PER_RUN` attempts in this run, dead-lettered."""
        key = delivery.message_id or hashlib.sha256(delivery.body).hexdigest()[:32]
        list_failed_message(
            self.journal, self.counterpart, self.queue, key.encode("utf-8", "replace"), exc
        )
        self._attempts[key] = attempts = self._attempts.get(key, 0) + 1
        if attempts >= MAX_ATTEMPTS_PER_RUN:
            self.broker.reject(delivery)
            result.dead_lettered += 1
            result.say(
                f"message {key}: dead-lettered after {attempts} attempts: {type(exc).__name__}"
            )
        else:
            self.broker.requeue(delivery)
            result.failed += 1

    def _record(
        self, delivery: Delivery, message: Haendelsesbesked, component: Component
    ) -> str | None:
        """Journal the message and its effect; ``None`` when the journal has it already."""
        with self.journal.transaction(durable=True):
            try:
                transmission = self.journal.create_transmission(
                    NewTransmission(
                        counterpart=self.counterpart,
                        kind=BESKED_KIND.name,
                        state="received",
                        size=len(delivery.body),
                        delivery_key=message.besked_id,
                        remote_path=self.queue,
                        meta={"type": message.besked_type, "component": component.name},
                        reason=f"received from {self.queue}",
                    )
                )
            except DuplicateTransmission:
                return None
            return component.handle(self.journal, transmission, message)
