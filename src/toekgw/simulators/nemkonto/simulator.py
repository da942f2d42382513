"""The NemKonto simulator: consumes payment bundles from the request queue and answers.

For each message on the request queue, under one MQ unit of work:

1. validate the XML against the NKSBetaling schema, the header's count and control sum, the
   bundle cap; an invalid message gets Kvitteringssvar 0 and nothing else;
2. record the bundle in the ledger (one SQLite transaction, idempotent by bundle id: a bundle
   seen before is answered again from the ledger and paid once);
3. put Kvitteringssvar 1, Retursvar 2 (every payment accepted or rejected) and, when a
   recipient has no NemKonto account, Retursvar 7 - all correlated to the request's MsgId;
4. commit the get and the puts together.

A stop request (``NKSStop``) on the same queue stops each payment it names that is accepted,
not yet at the bank and before its disposition date (by the simulator's clock), and is answered
with Retursvar 5: stopped, or too late (``StsRsn`` FORSENT). Once per stop id, like bundles.

A SIGKILL before 2 leaves the bundle on the queue (the get is backed out); between 2 and 4 the
bundle comes back and is answered from the ledger; after 4 it is done. Retursvar 8 follows
for each payment at the bank once ``bank_delay`` has passed, always after the step's request
is committed: put, commit, then marked in the ledger - a crash in between sends that 8 again
with the same MsgId (at least once; the gateway drops duplicates by id).

Decisions are deterministic, so a replay gives the same answers: scripted CPRs are rejected,
a seeded share is rejected at random by a hash of seed and payment id, and scripted recipients
without a NemKonto account get Retursvar 7 (cheque, error account or rejected by agreement).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from toekgw.formats.findings import Finding, Severity
from toekgw.formats.nemkonto import (
    AnswerType,
    BundleAnswer,
    OriginalTransaction,
    PaymentBundle,
    PaymentOrder,
    PaymentState,
    PaymentStatus,
    RecipientKind,
    build_answer,
    is_stop,
    payment_findings,
    read_bundle,
    read_stop,
)
from toekgw.gateway.danish_time import danish_date
from toekgw.gateway.transport.mq import Message, MessageQueue, message_id
from toekgw.simulators._queue_loop import QueueSimulator, utc_now
from toekgw.simulators.nemkonto.ledger import Decision, Ledger, RecordedBundle

__all__ = [
    "DEFAULT_REPLY_QUEUE",
    "DEFAULT_REQUEST_QUEUE",
    "NemKontoSimulator",
    "PoisonMessage",
    "SimulatorScript",
    "SimulatorStats",
]

log = logging.getLogger(__name__)

DEFAULT_REQUEST_QUEUE = "NKS.PAYMENT.REQUEST"
DEFAULT_REPLY_QUEUE = "NKS.PAYMENT.REPLY"

NO_ACCOUNT_ACTIONS = {
    "cheque": PaymentState.CHEQUE,
    "error-account": PaymentState.ERROR_ACCOUNT,
    "reject": PaymentState.REJECTED,
}


class PoisonMessage(Exception):
    """The simulator cannot process this message (a scripted fault): it is backed out."""


@dataclasses.dataclass(frozen=True)
class SimulatorScript:
    """Behaviour and faults. Every decision is a function of the script and the payment."""

    reject_cprs: frozenset[str] = frozenset()
    reject_share: float = 0.0
    seed: int = 0
    no_account: frozenset[str] = frozenset()
    no_account_action: str = "reject"
    bank_delay: float = 0.0
    max_payments: int = 10_000
    # faults
    delay: float = 0.0
    duplicate_answers: bool = False
    out_of_order: bool = False
    poison_bundles: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not 0.0 <= self.reject_share <= 1.0:
            raise ValueError("reject_share must be between 0 and 1")
        if self.no_account_action not in NO_ACCOUNT_ACTIONS:
            raise ValueError(f"no_account_action must be one of {', '.join(NO_ACCOUNT_ACTIONS)}")


@dataclasses.dataclass
class SimulatorStats:
    bundles: int = 0
    duplicates: int = 0
    unreadable: int = 0
    poisoned: int = 0
    accepted: int = 0
    rejected: int = 0
    completion_failed: int = 0
    answers: int = 0
    bank_answers: int = 0
    stops: int = 0
    stops_too_late: int = 0


class NemKontoSimulator(QueueSimulator):
    counterpart = "nemkonto"

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
        self.ledger = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
        self.script = script or SimulatorScript()
        self.stats = SimulatorStats()

    # -- the loop ------------------------------------------------------------------------

    def step(self, *, wait: float = 0.0) -> bool:
        """Handle at most one request, then send due bank answers; whether one was handled.

        Requests come first: after a crash between the ledger write and the commit, the
        replayed bundle (the oldest message) is answered with 1 and 2 before its 8 can go.
        """
        handled = super().step(wait=wait)
        self.send_bank_answers()
        return handled

    def _unit_of_work(self, message: Message) -> None:
        try:
            super()._unit_of_work(message)
        except PoisonMessage:  # already backed out: it returns until the error queue takes it
            self.stats.poisoned += 1
            log.warning("poison message %s backed out", message.msg_id.hex())

    def send_bank_answers(self) -> int:
        """Put Retursvar 8 for every payment whose bank delay has passed."""
        now = self.clock().timestamp()
        due = self.ledger.bank_due(now)
        for bundle_id, payment_ids in due.items():
            answer = BundleAnswer(
                AnswerType.RECEIVED_BY_BANK,
                bundle_id,
                self.clock(),
                payments=tuple(
                    PaymentStatus(p, PaymentState.RECEIVED_BY_BANK) for p in payment_ids
                ),
            )
            digest = hashlib.sha256("\x00".join(payment_ids).encode()).hexdigest()
            self._put_answers([(answer, message_id(f"{bundle_id}:8:{digest}"))], None)
            self.queue.commit()
            self.ledger.mark_bank_answered(bundle_id, now)
            self.stats.bank_answers += 1
        return len(due)

    # -- one request ---------------------------------------------------------------------

    def _handle(self, message: Message) -> None:
        if is_stop(message.body):
            self._handle_stop(message)
            return
        bundle, findings = read_bundle(message.body)
        if bundle is not None and bundle.number_of_payments > self.script.max_payments:
            bundle, findings = None, [_cap_finding(self.script.max_payments)]
        if bundle is None:
            self._answer_unreadable(message, findings)
            return
        if bundle.bundle_id in self.script.poison_bundles:
            raise PoisonMessage(bundle.bundle_id)
        recorded = self.ledger.record(
            bundle,
            self._decider(bundle),
            now=self.clock().timestamp(),
            bank_delay=self.script.bank_delay,
        )
        if self.script.delay:
            self.sleep(self.script.delay)
        self._count(recorded)
        self._put_answers(self._answers(bundle, recorded), message.msg_id)

    def _handle_stop(self, message: Message) -> None:
        """A stop request: stop what is not paid out yet, answer Retursvar 5 (once per id)."""
        request, findings = read_stop(message.body)
        if request is None:
            self._answer_unreadable(message, findings)
            return
        outcomes = self.ledger.stop(request, danish_date(self.clock()))
        self.stats.stops += sum(o.stopped for o in outcomes)
        self.stats.stops_too_late += sum(not o.stopped for o in outcomes)
        stopped = any(o.stopped for o in outcomes)
        answer = BundleAnswer(
            AnswerType.STOPPED,
            request.bundle_id,
            self.clock(),
            ref_to_message_id=request.stop_id,
            bundle_rejected=stopped,
            error_text="BETALING(ER) STANDSET" if stopped else None,
            payments=tuple(
                PaymentStatus(
                    o.payment_id,
                    PaymentState.STOPPED if o.stopped else PaymentState.STOP_REFUSED,
                    error_text=None if o.stopped else o.text,
                )
                for o in outcomes
            ),
        )
        self._put_answers([(answer, message_id(f"{request.stop_id}:5"))], message.msg_id)

    def _answer_unreadable(self, message: Message, findings: Sequence[Finding]) -> None:
        self.stats.unreadable += 1
        first = findings[0] if findings else None
        text = "the bundle could not be read"
        if first is not None:
            text = f"{first.where() or '-'}: {first.message}"[:250]
        bundle_id = _bundle_id_of(message.body)
        answer = BundleAnswer(
            AnswerType.UNREADABLE,
            bundle_id,
            self.clock(),
            ref_to_message_id=bundle_id,
            error_code=first.code[:35] if first else "UNREADABLE",
            error_text=text,
        )
        key = hashlib.sha256(message.body).hexdigest()
        self._put_answers([(answer, message_id(f"unreadable:{key}"))], message.msg_id)

    def _decider(self, bundle: PaymentBundle) -> Callable[[PaymentOrder], Decision]:
        problems = payment_findings(bundle.payments, danish_date(self.clock()))
        script = self.script
        completion = NO_ACCOUNT_ACTIONS[script.no_account_action]
        draw = _drawer(script.seed)

        def decide(p: PaymentOrder) -> Decision:
            if p.payment_id in problems:
                return Decision(
                    PaymentState.REJECTED,
                    "INVALID_RECIPIENT",
                    problems[p.payment_id][0].message[:250],
                )
            if p.recipient.kind is RecipientKind.CPR and p.recipient.number in script.reject_cprs:
                return Decision(PaymentState.REJECTED, "CPR_REJECTED", "rejected by script")
            if script.reject_share and draw(p.payment_id) < script.reject_share:
                return Decision(PaymentState.REJECTED, "RANDOM_REJECT", "rejected at random")
            if not p.complete and p.recipient.number in script.no_account:
                return Decision(
                    PaymentState.ACCEPTED,
                    completion=completion,
                    # Cheque and error account are marked by their own StsRsn in Retursvar 7.
                    completion_code="NO_NEMKONTO" if completion is PaymentState.REJECTED else None,
                    completion_text="the recipient has no NemKonto account",
                )
            return Decision(PaymentState.ACCEPTED)

        return decide

    def _answers(
        self, bundle: PaymentBundle, recorded: RecordedBundle
    ) -> list[tuple[BundleAnswer, bytes]]:
        now = self.clock()
        bid = bundle.bundle_id
        originals = {p.payment_id: _original(p) for p in bundle.payments}

        def status(
            payment_id: str, state: PaymentState, code: str | None, text: str | None
        ) -> PaymentStatus:
            return PaymentStatus(payment_id, state, code, text, originals.get(payment_id))

        answers = [
            (
                BundleAnswer(AnswerType.RECEIVED, bid, now, ref_to_message_id=bid),
                message_id(f"{bid}:1"),
            ),
            (
                BundleAnswer(
                    AnswerType.RECEIVE_CONTROL,
                    bid,
                    now,
                    ref_to_message_id=bid,
                    payments=tuple(
                        status(
                            o.payment_id,
                            o.decision.control,
                            o.decision.control_code,
                            o.decision.control_text,
                        )
                        for o in recorded.outcomes
                    ),
                ),
                message_id(f"{bid}:2"),
            ),
        ]
        failed = tuple(
            status(
                o.payment_id,
                o.decision.completion,
                o.decision.completion_code,
                o.decision.completion_text,
            )
            for o in recorded.outcomes
            if o.decision.completion is not None
        )
        if failed:
            answers.append(
                (
                    BundleAnswer(AnswerType.COMPLETION_FAILED, bid, now, payments=failed),
                    message_id(f"{bid}:7"),
                )
            )
        return answers

    def _put_answers(
        self, answers: list[tuple[BundleAnswer, bytes]], correl_id: bytes | None
    ) -> None:
        if self.script.out_of_order:
            answers = answers[::-1]
        copies = 2 if self.script.duplicate_answers else 1
        for answer, mid in answers:
            body = build_answer(answer)
            for _ in range(copies):
                self.queue.put(self.reply_queue, body, msg_id=mid, correl_id=correl_id)
                self.stats.answers += 1

    def _count(self, recorded: RecordedBundle) -> None:
        if recorded.duplicate:
            self.stats.duplicates += 1
            return
        self.stats.bundles += 1
        for o in recorded.outcomes:
            if o.decision.control is PaymentState.ACCEPTED:
                self.stats.accepted += 1
            else:
                self.stats.rejected += 1
            if o.decision.completion is not None:
                self.stats.completion_failed += 1


def _original(p: PaymentOrder) -> OriginalTransaction:
    return OriginalTransaction(p.amount_ore, not p.complete, p.recipient, p.account)


def _drawer(seed: int) -> Callable[[str], float]:
    """A payment's number in [0, 1): the first 53 bits of the SHA-256 of ``"{seed}:{id}"``
    (UTF-8), as a fraction of 2**53 - the resolution of a float, as :func:`random.random`.

    Per payment, not a sequence: a replay after a crash, or another process, draws the same
    number, whoever else seeds what."""
    prefix = f"{seed}:".encode()

    def draw(payment_id: str) -> float:
        digest = hashlib.sha256(prefix + payment_id.encode()).digest()
        return (int.from_bytes(digest[:8]) >> 11) / _DRAW_RANGE

    return draw


_DRAW_RANGE = float(1 << 53)


def _cap_finding(cap: int) -> Finding:
    return Finding(
        "nemkonto.bundle.too_many_payments",
        Severity.ERROR,
        f"the bundle holds more than {cap} payments",
        path="/NKSBetaling/GrpHdr/NbOfTxs",
        expected=f"at most {cap} payments",
    )


_BUNDLE_ID = re.compile(rb"<(?:\w+:)?GrpId>([0-9A-Za-z\-]{1,36})</(?:\w+:)?GrpId>")


def _bundle_id_of(body: bytes) -> str | None:
    """The bundle id of an invalid message if it can be read at all (for answer 0)."""
    m = _BUNDLE_ID.search(body[:4096])
    return m.group(1).decode("ascii") if m else None
