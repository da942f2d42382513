"""Answers: NemKonto's Kvitteringssvar and Retursvar move the payments through their states.

Answers are got under syncpoint, a batch of them (:data:`ANSWERS_PER_COMMIT`) journaled in
one durable transaction, and only then are their gets committed: a crash in between brings
the answers back, and journaling each again changes nothing. An answer that raises undoes
its batch, and the run goes on one answer at a time, so that it is set aside alone. Within a
batch the next answer is read (parsed, checked against its schema, decoded) on a thread of its
own while this one is journaled: lxml and SQLite work with the interpreter's lock released,
so on two cores the two overlap; the answers are still journaled one after the other, in the
order they were got. An answer is applied once per MsgId (recorded on its bundle); within
it, a payment moves only forward (sent < received < accepted < a final state), so duplicate
and out-of-order answers never move a payment twice or back.

- 0: the bundle could not be read. Its payments go back to ``pending`` (a new bundle, with a
  new id, at the next release) and the bundle goes on the error list.
- 1: the bundle's payments are ``received``; a Kvitteringssvar 1 that rejects the bundle
  (``GrpSts`` RJCT, "Bundt afvist") makes them all ``rejected`` (manual handling).
- A bundle-level Retursvar 2 reject or Retursvar 5 stop that names no payment is about every
  payment of the bundle: ``rejected`` (manual handling) or ``stopped``.
- 5 answering a stop request (:mod:`.stops`): the payment ``stopped``, or the request was too
  late (``TxSts`` ACPT, ``StsRsn`` FORSENT, ours) and the payment goes on; either way the stop
  request is settled.
- 2, 5, 7, 8, 9: per payment ``accepted``, ``rejected``, ``stopped``, ``cheque``,
  ``error-account``, ``at-bank`` or ``bank-error``. A rejected payment (2, 7) and a bank
  error (9) go on the manual-handling list (error list, subject ``manual-handling``): nothing
  is sent again by itself.

An answer that cannot be read, or names no bundle we sent, goes on the error list and is moved
to the error queue (``<reply queue>.BACKOUT``), so nothing is lost.
"""

from __future__ import annotations

import copy
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from toekgw.adapters.g68.payments import HANDLED_STATES
from toekgw.adapters.nemkonto.release import define_kinds
from toekgw.adapters.nemkonto.send import mark_sent
from toekgw.adapters.nemkonto.settings import BUNDLE_KIND, BUNDLE_STATES, FlowSettings
from toekgw.adapters.nemkonto.stops import settle_stop
from toekgw.formats.findings import Finding, Severity
from toekgw.formats.nemkonto import (
    AnswerType,
    BundleAnswer,
    PaymentState,
    PaymentStatuses,
    read_answer,
)
from toekgw.gateway.faults import crash_point
from toekgw.gateway.journal import (
    Item,
    Journal,
    MemberMoveColumns,
    MemberTotal,
    Transmission,
)
from toekgw.gateway.refusals import FailedMessages
from toekgw.gateway.transport.mq import Message, MessageQueue

__all__ = [
    "ACCEPTED_STATES",
    "ANSWERS_PER_COMMIT",
    "FINAL_PAYMENT_STATES",
    "MANUAL_STATES",
    "MANUAL_SUBJECT",
    "RANK",
    "AnswerSummary",
    "receive_answers",
]

MANUAL_SUBJECT = "manual-handling"
STRAY_SUBJECT = "stray-answer"

# How far along a payment is; an answer never moves it to a lower rank.
RANK = {
    "pending": 0,
    "blocked": 0,
    "released": 1,
    "sent": 2,
    "received": 3,
    "accepted": 4,
    "at-bank": 5,
    "cheque": 5,
    "error-account": 5,
    "rejected": 5,
    "stopped": 5,
    "bank-error": 5,
    # handled by an operator after the answer (toekgw payments): no answer moves them back
    **dict.fromkeys(("recalled", "awaiting-approval", "fail-requested", *HANDLED_STATES), 5),
    "failed-after-bank": 5,
}
FINAL_PAYMENT_STATES = frozenset(s for s, r in RANK.items() if r == 5)
ACCEPTED_STATES = frozenset({"accepted", "at-bank", "cheque", "error-account"})
MANUAL_STATES = frozenset({"rejected", "bank-error"})

_TARGET: dict[tuple[AnswerType, PaymentState], str] = {
    (AnswerType.RECEIVED, PaymentState.REJECTED): "rejected",
    (AnswerType.RECEIVE_CONTROL, PaymentState.ACCEPTED): "accepted",
    (AnswerType.RECEIVE_CONTROL, PaymentState.REJECTED): "rejected",
    (AnswerType.COMPLETION_FAILED, PaymentState.CHEQUE): "cheque",
    (AnswerType.COMPLETION_FAILED, PaymentState.ERROR_ACCOUNT): "error-account",
    (AnswerType.COMPLETION_FAILED, PaymentState.REJECTED): "rejected",
    (AnswerType.STOPPED, PaymentState.STOPPED): "stopped",
    (AnswerType.RECEIVED_BY_BANK, PaymentState.RECEIVED_BY_BANK): "at-bank",
    (AnswerType.BANK_ERROR, PaymentState.BANK_ERROR): "bank-error",
}
# What a bundle-level answer naming no payment does to each payment of the bundle.
_WHOLE_BUNDLE = {
    AnswerType.RECEIVED: PaymentState.REJECTED,
    AnswerType.RECEIVE_CONTROL: PaymentState.REJECTED,
    AnswerType.STOPPED: PaymentState.STOPPED,
}
_BUNDLERANK = {s: n for n, s in enumerate(BUNDLE_STATES)}
_ANSWER_NAME = {
    AnswerType.UNREADABLE: "Kvitteringssvar 0",
    AnswerType.RECEIVED: "Kvitteringssvar 1",
    AnswerType.RECEIVE_CONTROL: "Retursvar 2",
    AnswerType.STOPPED: "Retursvar 5",
    AnswerType.COMPLETION_FAILED: "Retursvar 7",
    AnswerType.RECEIVED_BY_BANK: "Retursvar 8",
    AnswerType.BANK_ERROR: "Retursvar 9",
}


@dataclass(slots=True)
class AnswerSummary:
    messages: int = 0
    applied: int = 0
    duplicates: int = 0
    unusable: int = 0  # to the error list and the error queue
    failed: int = 0  # attempts that raised: listed, backed out, retried or moved aside
    moved: dict[str, int] = field(default_factory=dict)  # payment state -> payments moved to it
    unchanged: int = 0  # payment answers that changed nothing (already there or further)
    returned_bundles: list[str] = field(default_factory=list)
    manual: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "messages": self.messages,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "unusable": self.unusable,
            "failed": self.failed,
            "moved": dict(sorted(self.moved.items())),
            "unchanged": self.unchanged,
            "returned_bundles": list(self.returned_bundles),
            "manual_handling": self.manual,
        }


#: Answers journaled in one durable transaction, their gets committed together: one fsync
#: for them, and the pages of the month's payments that successive answers move are written
#: once (a bundle's payments are spread over most of them).
ANSWERS_PER_COMMIT = 16


def receive_answers(
    journal: Journal,
    queue: MessageQueue,
    settings: FlowSettings,
    *,
    wait: float = 0.0,
    max_messages: int | None = None,
    per_commit: int = ANSWERS_PER_COMMIT,
) -> AnswerSummary:
    """Take every answer waiting on the reply queue (waiting up to ``wait`` seconds for the
    first): up to ``per_commit`` at a time, journaled in one durable transaction, then their
    gets committed. An answer that raises undoes its batch - the journal's transaction and
    the batch's gets, which come back with their backout counts one higher - is listed, and
    the rest of the run goes one answer at a time, so that it is set aside alone."""
    if per_commit < 1:
        raise ValueError(f"per_commit must be at least 1, not {per_commit}")
    define_kinds(journal, settings)
    summary = AnswerSummary()
    failed = FailedMessages(journal, settings.counterpart, settings.reply_queue)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nemkonto-answers") as reader:
        first = True
        while max_messages is None or summary.messages < max_messages:
            message = queue.get(settings.reply_queue, wait=wait if first else 0.0)
            first = False
            if message is None:
                break
            room = (
                per_commit
                if max_messages is None
                else min(per_commit, max_messages - summary.messages)
            )
            before = copy.deepcopy(summary)
            try:
                with journal.transaction(durable=True):
                    _journal_batch(journal, queue, settings, reader, message, room, summary)
            except _Broken as broken:
                queue.backout()
                # What the batch counted is undone with it; the attempt that raised is counted.
                summary = before
                summary.messages += 1
                summary.failed += 1
                # A message that breaks the reader is listed and the others go on; the queue
                # gives it back (counting) and moves it to its error queue at its threshold.
                failed.set_aside(broken.msg_id, broken.error)
                per_commit = 1
                continue
            except BaseException:
                queue.backout()
                raise
            crash_point("nemkonto.answers.after_journal")
            queue.commit()
    return summary


class _Broken(Exception):
    """Journaling the answer ``msg_id`` raised ``error`` (its batch is undone)."""

    def __init__(self, msg_id: bytes, error: Exception) -> None:
        super().__init__(msg_id, error)
        self.msg_id = msg_id
        self.error = error


def _journal_batch(
    journal: Journal,
    queue: MessageQueue,
    settings: FlowSettings,
    reader: ThreadPoolExecutor,
    message: Message,
    room: int,
    summary: AnswerSummary,
) -> None:
    """Journal ``message`` and the answers after it, up to ``room`` in all (in the caller's
    transaction and unit of work); an unusable answer is put on the error queue. Each next
    answer is got, and handed to ``reader`` to read, before this one is journaled."""
    pending: tuple[Message, Future[_Read]] | None = (message, reader.submit(_read, message.body))
    for taken in range(room):
        if pending is None:
            return
        got, reading = pending
        following = queue.get(settings.reply_queue) if taken + 1 < room else None
        pending = None if following is None else (following, reader.submit(_read, following.body))
        crash_point("nemkonto.answers.read_ahead")
        summary.messages += 1
        _journal_read(journal, queue, settings, got, reading, summary)


def _journal_read(
    journal: Journal,
    queue: MessageQueue,
    settings: FlowSettings,
    message: Message,
    reading: Future[_Read],
    summary: AnswerSummary,
) -> None:
    """Journal ``message`` once ``reading`` has read it (the answer lives in this frame only:
    with the one read ahead, two answers are in memory at a time, not three)."""
    try:
        answer, findings = reading.result()
        if not _journal_answer(journal, settings, message, answer, findings, summary):
            queue.put(
                settings.error_queue,
                message.body,
                msg_id=message.msg_id,
                correl_id=message.correl_id,
            )
    except Exception as exc:
        raise _Broken(message.msg_id, exc) from exc


_Read = tuple[BundleAnswer | None, list[Finding]]


def _read(body: bytes) -> _Read:
    # The payments move by their ids: what NemKonto echoes of each (amount, recipient, account)
    # is checked by the schema and not needed to apply the answer.
    return read_answer(body, originals=False)


def _journal_answer(
    journal: Journal,
    settings: FlowSettings,
    message: Message,
    answer: BundleAnswer | None,
    findings: list[Finding],
    summary: AnswerSummary,
) -> bool:
    mid = message.msg_id.hex()
    with journal.transaction(durable=True):
        if answer is None:
            _unusable(journal, settings, mid, "the answer is not a valid NemKonto answer", findings)
            summary.unusable += 1
            return False
        tx = (
            journal.find_transmission(ref=answer.bundle_id, counterpart=settings.counterpart)
            if answer.bundle_id
            else None
        )
        if tx is None or tx.kind != BUNDLE_KIND.name:
            what = f"bundle {answer.bundle_id}" if answer.bundle_id else "an unnamed bundle"
            text = f"{_ANSWER_NAME[answer.answer_type]} about {what}, which we never sent"
            extra = [answer.error_text] if answer.error_text else []
            _unusable(journal, settings, mid, "; ".join([text, *extra]), [])
            summary.unusable += 1
            return False
        seen = [str(m) for m in _list(tx.meta.get("answers"))]
        name = _ANSWER_NAME[answer.answer_type]
        if mid in seen:
            journal.note(tx.id, f"{name} (MsgId {mid}) again: a duplicate, changes nothing")
            summary.duplicates += 1
            return True
        if tx.state == "prepared":
            # The put was committed, the journal did not learn it before a crash: the answer
            # is the proof that the bundle went.
            mark_sent(journal, tx, f"{name} proves the bundle was put (MsgId {mid})")
            tx = journal.get_transmission(tx.id)
        _apply(journal, settings, tx, answer, mid, summary)
        journal.update_transmission(
            tx.id, reason=f"{name} (MsgId {mid}) journaled", meta={"answers": [*seen, mid]}
        )
        summary.applied += 1
        return True


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _unusable(
    journal: Journal,
    settings: FlowSettings,
    mid: str,
    message: str,
    findings: list[Finding],
) -> None:
    name = f"MsgId {mid}"
    known = journal.iter_errors(include_resolved=True, counterpart=settings.counterpart)
    if any(e.subject == "answer" and e.file_name == name for e in known):
        return  # listed before a crash undid the get: list it once
    journal.add_error(
        counterpart=settings.counterpart,
        subject="answer",
        file_name=name,
        findings=[
            Finding(
                "nemkonto.answer.unusable",
                Severity.ERROR,
                f"{message}; moved to {settings.error_queue}",
            ),
            *findings,
        ],
    )


def _apply(
    journal: Journal,
    settings: FlowSettings,
    tx: Transmission,
    answer: BundleAnswer,
    mid: str,
    summary: AnswerSummary,
) -> None:
    name = f"{_ANSWER_NAME[answer.answer_type]} (MsgId {mid})"
    if tx.state == "returned":
        # Its payments were returned by an answer 0 and go in a new bundle: a late answer
        # about the old one must not touch them.
        journal.note(tx.id, f"{name} on a bundle already returned: changes nothing")
        summary.unchanged += 1
        return
    if answer.answer_type is AnswerType.UNREADABLE:
        _returned(journal, settings, tx, answer, name, summary)
        return
    statuses = PaymentStatuses.of(answer.payments)
    if answer.whole_bundle:
        # about every payment of the bundle on its way
        ids = [
            i.business_key for i in journal.members(tx.id, current_only=True, states=_ON_THEIR_WAY)
        ]
        statuses = PaymentStatuses(
            ids,
            [_WHOLE_BUNDLE[answer.answer_type]] * len(ids),
            error_codes=[answer.error_code] * len(ids),
            error_texts=[answer.error_text] * len(ids),
        )
    elif answer.answer_type is AnswerType.RECEIVED:
        # Only payments on their way: one returned to pending, or not yet marked sent, is not
        # moved by an answer.
        on_their_way = sum(
            t.count for t in _current_totals(journal, settings, tx) if t.state in _ON_THEIR_WAY
        )
        moved = journal.move_members(
            tx.id, "sent", "received", reason=f"{name}: NemKonto received the bundle"
        )
        if moved:
            summary.moved["received"] = summary.moved.get("received", 0) + moved
        summary.unchanged += on_their_way - moved
    manual: dict[str, str] = {}  # payment id -> why, for those that go to manual handling
    moves = _member_moves(answer.answer_type, statuses, name, manual)
    result = journal.apply_member_moves(
        tx.id, moves, eligible=_ON_THEIR_WAY, sources=_SOURCES, report=MANUAL_STATES
    )
    unknown = set(result.unknown)
    if unknown or len(moves) < len(statuses) or answer.answer_type is AnswerType.STOPPED:
        _settle_each(journal, settings, tx, answer, statuses, name, unknown)
    for target, count in result.moved.items():
        summary.moved[target] = summary.moved.get(target, 0) + count
    summary.unchanged += result.unchanged
    for item, _reason in result.reported:
        _manual(journal, settings, tx, name, item, manual[item.business_key])
        summary.manual += 1
    _advance_bundle(journal, settings, tx, answer, name)


def _settle_each(
    journal: Journal,
    settings: FlowSettings,
    tx: Transmission,
    answer: BundleAnswer,
    statuses: PaymentStatuses,
    name: str,
    unknown: set[str],
) -> None:
    """Per payment, in the answer's order: a stop request settled (Retursvar 5), a payment
    the answer cannot move or that is not in the bundle listed as a stray."""
    for status in statuses:
        target = _TARGET.get((answer.answer_type, status.status))
        if answer.answer_type is AnswerType.STOPPED:
            settle_stop(journal, settings, status, name)
            if status.status is PaymentState.STOP_REFUSED:
                continue  # too late: the payment goes on, the stop request says so
        if target is None:
            item = journal.member(tx.id, status.payment_id)
            known = item is not None and item.carrier_id == tx.id and item.state in _ON_THEIR_WAY
            why = f"cannot be {status.status.value}" if known else "is not in the bundle"
            _stray(journal, settings, tx, name, status.payment_id, why)
        elif status.payment_id in unknown:
            _stray(journal, settings, tx, name, status.payment_id, "is not in the bundle")


# Payments an answer may move: those sent, and not yet in a final state.
_ON_THEIR_WAY = frozenset(s for s, r in RANK.items() if r >= RANK["sent"])
# target state -> the states a payment may reach it from (an answer never moves one back)
_SOURCES = {
    target: frozenset(s for s in _ON_THEIR_WAY if RANK[s] < RANK[target])
    for target in set(_TARGET.values())
}


def _member_moves(
    answer_type: AnswerType,
    statuses: PaymentStatuses,
    name: str,
    manual: dict[str, str],
) -> MemberMoveColumns:
    """The moves the payments' statuses ask for, as columns (a payment whose status moves it
    nowhere has none); those to a manual state noted in ``manual`` with why."""
    # (state, code, text) -> target, why and the event's reason: a few per answer
    said: dict[tuple[PaymentState, str | None, str | None], tuple[str | None, str, str]] = {}
    keys: list[str] = []
    targets: list[str] = []
    reasons: list[str] = []
    columns = (statuses.statuses, statuses.error_codes, statuses.error_texts)
    for payment_id, key in zip(statuses.payment_ids, zip(*columns, strict=True), strict=True):
        if (known := said.get(key)) is None:
            known = said[key] = _said(answer_type, *key, name)
        target, why, reason = known
        if target is None:
            continue
        if target in MANUAL_STATES:
            manual.setdefault(payment_id, why)
        keys.append(payment_id)
        targets.append(target)
        reasons.append(reason)
    return MemberMoveColumns(keys, targets, reasons)


def _said(
    answer_type: AnswerType,
    status: PaymentState,
    error_code: str | None,
    error_text: str | None,
    name: str,
) -> tuple[str | None, str, str]:
    """What a payment's status does: its target state (``None``: none), why, the reason."""
    code = f" {error_code}" if error_code else ""
    text = f": {error_text}" if error_text else ""
    why = f"{status.value}{code}{text}"
    return _TARGET.get((answer_type, status)), why, f"{name}: {why}"


def _manual(
    journal: Journal, settings: FlowSettings, tx: Transmission, name: str, item: Item, why: str
) -> None:
    target = item.state
    journal.add_error(
        counterpart=settings.counterpart,
        subject=MANUAL_SUBJECT,
        transmission_id=tx.id,
        business_key=item.business_key,
        findings=[
            Finding(
                f"nemkonto.payment.{target}",
                Severity.ERROR,
                f"payment {item.business_key} of {item.amount_ore} øre in bundle {tx.ref}: "
                f"{name} says {why}; handle it by hand (pay again, cash voucher or the "
                "municipality's own account): it is not sent again by itself",
                field="PaymentId",
                found=item.business_key,
            )
        ],
    )


def _current_totals(
    journal: Journal, settings: FlowSettings, tx: Transmission
) -> list[MemberTotal]:
    return journal.member_totals(
        settings.counterpart, BUNDLE_KIND.name, transmission_id=tx.id, current_only=True
    )


def _returned(
    journal: Journal,
    settings: FlowSettings,
    tx: Transmission,
    answer: BundleAnswer,
    name: str,
    summary: AnswerSummary,
) -> None:
    if tx.state not in ("sent", "received"):
        journal.note(tx.id, f"{name} on a bundle already {tx.state}: changes nothing")
        summary.unchanged += 1
        return
    why = f"{answer.error_code or '-'}: {answer.error_text or 'the bundle could not be read'}"
    moved = journal.move_members(
        tx.id,
        "sent",
        "pending",
        reason=f"{name}: NemKonto could not read bundle {tx.ref}; pending again",
    )
    journal.set_state(tx.id, "returned", reason=f"{name}: {why}")
    journal.add_error(
        counterpart=settings.counterpart,
        subject="bundle",
        transmission_id=tx.id,
        file_name=tx.file_name,
        findings=[
            Finding(
                "nemkonto.bundle.unreadable",
                Severity.ERROR,
                f"NemKonto could not read bundle {tx.ref} ({why}); its {moved} payments "
                "are pending again and go in a new bundle at the next release",
                found=answer.error_code,
            )
        ],
    )
    summary.moved["pending"] = summary.moved.get("pending", 0) + moved
    summary.returned_bundles.append(tx.ref)


def _stray(
    journal: Journal,
    settings: FlowSettings,
    tx: Transmission,
    name: str,
    payment_id: str,
    why: str,
) -> None:
    journal.add_error(
        counterpart=settings.counterpart,
        subject=STRAY_SUBJECT,
        transmission_id=tx.id,
        business_key=payment_id,
        findings=[
            Finding(
                "nemkonto.answer.stray_payment",
                Severity.ERROR,
                f"{name} names payment {payment_id}, which {why} {tx.ref}",
                field="PaymentId",
                found=payment_id,
            )
        ],
    )


def _advance_bundle(
    journal: Journal, settings: FlowSettings, tx: Transmission, answer: BundleAnswer, name: str
) -> None:
    current = journal.get_transmission(tx.id)
    if current.state not in _BUNDLERANK:
        return
    states = [t.state for t in _current_totals(journal, settings, tx)]
    if states and all(s in FINAL_PAYMENT_STATES for s in states):
        target = "settled"
    elif answer.answer_type is AnswerType.RECEIVED:
        target = "received"
    else:
        target = "controlled"
    if _BUNDLERANK[target] > _BUNDLERANK[current.state]:
        journal.set_state(tx.id, target, reason=f"{name}")
