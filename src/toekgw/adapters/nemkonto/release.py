"""Release: pending payments that are due leave the journal in bundles.

In one durable journal transaction:

1. recalls (``recall-requested`` items) are applied to their pending or blocked payment
   (payment -> ``recalled``, recall -> ``recall-applied``); a recall of a payment already
   released is refused (``recall-refused``) and goes on the error list;
2. payments to a blocked recipient are held (``blocked``); held payments whose block was
   lifted are pending again; then the payment ``controls``, when given
   (:mod:`toekgw.adapters.payments`), hold suspected duplicates, route amounts outside their
   limits and choose each payment's debtor account;
3. pending payments that are due (straks, or from ``banking_days_before`` banking days before
   their disposition date) are bundled per municipality and disposition date, each bundle is
   journaled (``prepared``, with its members, its SHA-256, its validated bytes staged for the
   send, and everything needed to build it again byte for byte), and the payments move to
   ``released``. The journal streams the
   pending payments in bundle order and each bundle is journaled as soon as it is full, so
   memory holds one bundle however many payments the month has.

Nothing is put on a queue here: :func:`toekgw.adapters.nemkonto.send.send_bundles` does that.
A crash before the commit leaves everything as it was, and a re-run makes the same bundles with the
same ids.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from toekgw.adapters.g68.payments import FOLLOW_UP_KIND, PAYMENT_ITEM, PaymentInstruction
from toekgw.adapters.nemkonto.bundling import ReleasedPayment, attempt_namespace, stream_bundles
from toekgw.adapters.nemkonto.orders import instruction_of, payment_order, recipient_key
from toekgw.adapters.nemkonto.settings import BLOCKS_KIND, BUNDLE_KIND, FlowSettings
from toekgw.adapters.tok.kinds import TOK_PAYMENTS
from toekgw.formats.findings import Finding, Severity
from toekgw.formats.nemkonto import Account, PaymentBundle, build_bundle
from toekgw.gateway.journal import Item, Journal, JournalError, NewTransmission

__all__ = [
    "PreparedBundle",
    "ReleaseControls",
    "ReleaseResult",
    "active_blocks",
    "define_kinds",
    "release",
]

Pending = list[tuple[Item, PaymentInstruction]]


class ReleaseControls(Protocol):
    """The payment controls a release runs before it bundles (``toekgw.adapters.payments``):
    which pending payments to hold or route elsewhere, and which debtor account pays each."""

    def hold(
        self, journal: Journal, pending: Pending, today: dt.date
    ) -> tuple[Pending, dict[str, int]]:
        """The payments that go on, and how many moved to each other state."""
        ...

    def debtor_account(self, instr: PaymentInstruction) -> Account | None:
        """The account that pays ``instr``; None: the municipality's agreement's account."""
        ...


@dataclass(frozen=True, slots=True)
class PreparedBundle:
    transmission_id: int
    bundle_id: str
    municipality: str
    disposition_date: dt.date
    count: int
    total_ore: int


@dataclass(slots=True)
class ReleaseResult:
    today: dt.date
    bundles: list[PreparedBundle] = field(default_factory=list)
    released: int = 0
    released_ore: int = 0
    recalled: int = 0
    recalls_refused: int = 0
    blocked: int = 0
    unblocked: int = 0
    waiting: int = 0  # pending, not yet due
    held: dict[str, int] = field(default_factory=dict)  # by the payment controls, per state
    # pending and due, but no NemKonto agreement is configured for the municipality
    no_agreement: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "today": self.today.isoformat(),
            "released": {"count": self.released, "oere": self.released_ore},
            "recalled": self.recalled,
            "recalls_refused": self.recalls_refused,
            "blocked": self.blocked,
            "unblocked": self.unblocked,
            "waiting": self.waiting,
            "held": dict(sorted(self.held.items())),
            "no_agreement": dict(sorted(self.no_agreement.items())),
            "bundles": [
                {
                    "transmission": b.transmission_id,
                    "bundle_id": b.bundle_id,
                    "municipality": b.municipality,
                    "disposition_date": b.disposition_date.isoformat(),
                    "count": b.count,
                    "oere": b.total_ore,
                }
                for b in self.bundles
            ],
        }


def define_kinds(journal: Journal, settings: FlowSettings | None = None) -> None:
    """Define the flow's kinds, and make sure the payments' kind allows every move of
    :data:`~toekgw.adapters.g68.PAYMENT_ITEM` (a journal written by an older receiver may
    hold fewer)."""
    journal.define_kind(BUNDLE_KIND)
    journal.define_kind(BLOCKS_KIND)
    if settings is None:
        return
    try:
        spec = journal.kind(settings.payment_kind)
    except JournalError:
        return  # no payment journaled yet
    if spec.item is not None and any(
        not spec.item.allows(source, target)
        for source, targets in PAYMENT_ITEM.transitions.items()
        for target in targets
    ):
        journal.define_kind(
            dataclasses.replace(spec, item=spec.item.extended(PAYMENT_ITEM.transitions))
        )


def release(
    journal: Journal,
    settings: FlowSettings,
    today: dt.date,
    *,
    now: dt.datetime | None = None,
    controls: ReleaseControls | None = None,
) -> ReleaseResult:
    """Apply recalls and blocks, then the payment ``controls`` (holds, limits, accounts), then
    bundle and journal every payment due on ``today``: the pending payments are streamed from
    the journal in bundle order, and each bundle is journaled as soon as it is full."""
    created_at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    define_kinds(journal, settings)
    result = ReleaseResult(today)
    # G68's payments, their follow-ups, and those ordered over TØK's payments interface.
    kinds = (settings.payment_kind, FOLLOW_UP_KIND, TOK_PAYMENTS)
    with journal.transaction(durable=True):
        _apply_recalls(journal, settings, result)
        _apply_blocks(journal, settings, kinds, today, controls, result)
        # payment id -> item id and municipality, for the bundles being filled
        item_of: dict[str, tuple[int, str]] = {}
        due = _due(journal, settings, kinds, today, controls, item_of, result)
        for attempt, payments in itertools.groupby(due, key=lambda d: d[0]):
            for bundle in stream_bundles(
                (p for _, p in payments),
                settings.authorities,
                created_at=created_at,
                max_payments=settings.max_payments,
                max_bytes=settings.max_bytes,
                namespace=attempt_namespace(attempt),
            ):
                _journal_bundle(journal, settings, bundle, attempt, item_of, result)
    return result


def _apply_recalls(journal: Journal, settings: FlowSettings, result: ReleaseResult) -> None:
    for recall in journal.items_of_kind(settings.payment_kind, "recall-requested"):
        instr = instruction_of(recall)
        key = f"{instr.supplier_id}:{instr.payment_ident}"
        targets = [
            i
            for i in journal.find_items(key, recall.counterpart)
            if i.data is not None and not i.data.get("recall")
        ]
        target = targets[0] if targets else None
        where = f"delivery {instr.delivery_number} line {instr.line}"
        if target is not None and target.state in ("pending", "blocked"):
            journal.set_item_state(
                target.id,
                "recalled",
                reason=f"recalled by the '-' record of {where}",
                expect=target.state,
            )
            journal.set_item_state(
                recall.id, "recall-applied", reason=f"payment {key} recalled before release"
            )
            result.recalled += 1
            continue
        if target is None:
            why = f"no payment with ident {instr.payment_ident} from supplier {instr.supplier_id}"
        else:
            why = f"payment {key} is already {target.state}: it has gone to NemKonto"
        journal.set_item_state(recall.id, "recall-refused", reason=f"recall refused: {why}")
        journal.add_error(
            counterpart=recall.counterpart,
            subject="recall",
            transmission_id=recall.transmission_id,
            business_key=recall.business_key,
            findings=[
                Finding(
                    "nemkonto.recall.refused",
                    Severity.ERROR,
                    f"the recall in {where} was refused: {why}",
                    line=instr.line,
                    field="payment_ident",
                    expected="a payment not yet released",
                )
            ],
        )
        result.recalls_refused += 1


def active_blocks(journal: Journal, settings: FlowSettings) -> set[str]:
    """The recipient keys (``CPR:…``) that are blocked now."""
    tx = journal.find_transmission(ref=_blocks_ref(settings))
    if tx is None:
        return set()
    return {i.business_key for i in journal.items(tx.id, state="blocked")}


def _blocks_ref(settings: FlowSettings) -> str:
    return f"{settings.counterpart}:recipient-blocks"


def _apply_blocks(
    journal: Journal,
    settings: FlowSettings,
    kinds: tuple[str, ...],
    today: dt.date,
    controls: ReleaseControls | None,
    result: ReleaseResult,
) -> None:
    """Lift and apply recipient blocks, then run the payment controls over what is pending,
    oldest first, a page at a time."""
    blocked = active_blocks(journal, settings)
    lifted = [
        i.id
        for kind in kinds
        for i in journal.items_of_kind(kind, "blocked")
        if recipient_key(instruction_of(i)) not in blocked
    ]
    result.unblocked = len(
        journal.set_items_state(lifted, "blocked", "pending", reason="the recipient's block lifted")
    )
    if not blocked and controls is None:
        return
    hold: list[int] = []
    pending = (i for kind in kinds for i in journal.items_of_kind(kind, "pending"))
    while page := list(itertools.islice(pending, _PAGE)):
        free: Pending = []
        for item in page:
            instr = instruction_of(item)
            if blocked and recipient_key(instr) in blocked:
                hold.append(item.id)
            else:
                free.append((item, instr))
        if controls is not None:
            _, held = controls.hold(journal, free, today)
            for state, count in held.items():
                result.held[state] = result.held.get(state, 0) + count
    result.blocked = len(
        journal.set_items_state(hold, "pending", "blocked", reason="the recipient is blocked")
    )


_PAGE = 2_000


def _due(
    journal: Journal,
    settings: FlowSettings,
    kinds: tuple[str, ...],
    today: dt.date,
    controls: ReleaseControls | None,
    item_of: dict[str, tuple[int, str]],
    result: ReleaseResult,
) -> Iterator[tuple[int, ReleasedPayment]]:
    """``(attempt, payment)`` for each pending payment due today, in bundle order; those
    waiting and those without an agreement are counted."""
    due_on: dict[tuple[dt.date, bool], bool] = {}
    for attempt, item in journal.items_to_carry(kinds, "pending", floor=today):
        instr = instruction_of(item)
        date = instr.disposition_date or today
        key = (date, instr.straks)
        if key not in due_on:
            due_on[key] = settings.calendar.is_due_for_release(
                date,
                today,
                banking_days_before=settings.banking_days_before,
                immediate=instr.straks,
            )
        if not due_on[key]:
            result.waiting += 1
        elif instr.municipality not in settings.authorities:
            result.no_agreement[instr.municipality] = (
                result.no_agreement.get(instr.municipality, 0) + 1
            )
        else:
            authority = settings.authorities[instr.municipality]
            account = controls.debtor_account(instr) if controls is not None else None
            item_of[instr.business_key] = (item.id, instr.municipality)
            order = payment_order(instr, authority)
            yield attempt, ReleasedPayment(instr.municipality, max(date, today), order, account)


def _journal_bundle(
    journal: Journal,
    settings: FlowSettings,
    bundle: PaymentBundle,
    attempt: int,
    item_of: dict[str, tuple[int, str]],
    result: ReleaseResult,
) -> None:
    """Journal one bundle (``prepared``, with its SHA-256 and everything needed to build it
    again byte for byte), make its payments its members and move them to ``released``."""
    municipality = item_of[bundle.payments[0].payment_id][1]
    body = build_bundle(bundle)
    tx = journal.create_transmission(
        _bundle_transmission(settings, bundle, body, municipality, attempt)
    )
    # The validated bytes, for the send to put as they are (checked by their SHA-256).
    journal.stage_body(tx.id, body)
    journal.add_members(
        tx.id,
        ((item_of.pop(p.payment_id)[0], p.payment_id) for p in bundle.payments),
        move=("pending", "released"),
        reason=f"released in NemKonto bundle {bundle.bundle_id}",
    )
    result.bundles.append(
        PreparedBundle(
            tx.id,
            bundle.bundle_id,
            municipality,
            bundle.disposition_date,
            bundle.number_of_payments,
            bundle.control_sum_ore,
        )
    )
    result.released += bundle.number_of_payments
    result.released_ore += bundle.control_sum_ore


def _bundle_transmission(
    settings: FlowSettings, bundle: PaymentBundle, body: bytes, municipality: str, attempt: int
) -> NewTransmission:
    """The bundle as the journal keeps it: ``prepared``, its SHA-256, and in ``meta`` what
    builds it again byte for byte."""
    return NewTransmission(
        counterpart=settings.counterpart,
        kind=BUNDLE_KIND.name,
        state="prepared",
        ref=bundle.bundle_id,
        file_name=f"NKSBetaling-{bundle.bundle_id}.xml",
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        meta={
            "municipality": municipality,
            "disposition_date": bundle.disposition_date.isoformat(),
            "created_at": bundle.created_at.isoformat(),
            "authority_cvr": bundle.authority_cvr,
            "agreement_number": bundle.agreement_number,
            "debtor_registration": bundle.debtor_account.registration,
            "debtor_account": bundle.debtor_account.number,
            "payment_information_id": bundle.payment_information_id,
            "attempt": attempt,
            "count": bundle.number_of_payments,
            "control_sum_ore": bundle.control_sum_ore,
        },
        reason=(
            f"bundle of {bundle.number_of_payments} payments, "
            f"{bundle.control_sum_ore} øre, for {municipality} on "
            f"{bundle.disposition_date.isoformat()}"
        ),
    )
