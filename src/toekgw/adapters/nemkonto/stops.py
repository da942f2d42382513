"""Stop requests: ask NemKonto to stop a payment already sent, before its disposition date.

A stop is journaled before anything leaves, as a ``nemkonto-stop`` transmission (``prepared``,
its document built again from the journal when it is sent), then put on the request queue
under syncpoint with ``MsgId = message_id(stop id)`` and only then marked ``sent``
(:func:`send_stops`, run by :func:`~toekgw.adapters.nemkonto.send.send_bundles` under the
send's flow lock, so one process at a time puts). A crash between the put and the journal puts
the same request with the same id again; NemKonto answers it once.

NemKonto answers with Retursvar 5 (:func:`settle_stop`, called by the answers): the payment
``stopped`` (it is then handled like any failed payment) or, when the request came too late,
the payment goes ahead and the stop ends ``too-late`` with a finding on the error list.
"""

from __future__ import annotations

import datetime as dt

from toekgw.adapters.nemkonto.settings import BUNDLE_KIND, FlowSettings
from toekgw.formats.findings import Finding, Severity
from toekgw.formats.nemkonto import PaymentState, PaymentStatus, StopRequest, build_stop
from toekgw.gateway.errors import GatewayError
from toekgw.gateway.faults import crash_point
from toekgw.gateway.journal import (
    Direction,
    Item,
    Journal,
    KindSpec,
    Lifecycle,
    NewTransmission,
    StateError,
    Transmission,
)
from toekgw.gateway.kinds import register_kind
from toekgw.gateway.transport.mq import MessageQueue, message_id

__all__ = [
    "STOP_KIND",
    "STOP_SUBJECT",
    "StopRefused",
    "open_stop",
    "request_stop",
    "send_stops",
    "settle_stop",
    "stop_request_of",
]

STOP_SUBJECT = "stop-request"
_OPEN = ("prepared", "sent")
STOP_KIND = KindSpec(
    "nemkonto-stop",
    Direction.OUT,
    Lifecycle(
        initial=("prepared",),
        transitions={"prepared": ("sent",), "sent": ("stopped", "too-late")},
        descriptions={
            "prepared": "stop request journaled; not yet known to be on the request queue",
            "sent": "put on the NemKonto request queue and committed; waits for Retursvar 5",
            "stopped": "NemKonto stopped the payment (Retursvar 5)",
            "too-late": "NemKonto could not stop it (Retursvar 5, too late): the payment goes on",
        },
    ),
    None,
)
register_kind(STOP_KIND)


class StopRefused(GatewayError):
    """The payment cannot be stopped this way (no bundle, a stop already on its way)."""

    exit_code = 1


def open_stop(journal: Journal, settings: FlowSettings, payment_id: str) -> Transmission | None:
    """The stop request of ``payment_id`` not yet answered, if any."""
    journal.define_kind(STOP_KIND)
    for tx in journal.transmissions(
        counterpart=settings.counterpart, kind=STOP_KIND.name, states=_OPEN
    ):
        if tx.meta.get("payment_id") == payment_id:
            return tx
    return None


def request_stop(
    journal: Journal, settings: FlowSettings, item: Item, reason: str, now: dt.datetime
) -> Transmission:
    """Journal a request to stop the sent payment ``item`` (inside the caller's transaction)."""
    journal.define_kind(STOP_KIND)
    bundle = journal.get_transmission(item.carrier_id) if item.carrier_id else None
    if bundle is None or bundle.kind != BUNDLE_KIND.name:
        raise StopRefused(f"payment {item.business_key} is in no NemKonto bundle: nothing to stop")
    earlier = open_stop(journal, settings, item.business_key)
    if earlier is not None:
        raise StopRefused(
            f"payment {item.business_key} has a stop request on its way ({earlier.ref}, "
            f"{earlier.state}): wait for NemKonto's answer"
        )
    number = 1 + sum(
        1
        for tx in journal.transmissions(counterpart=settings.counterpart, kind=STOP_KIND.name)
        if tx.meta.get("payment_id") == item.business_key
    )
    meta = bundle.meta
    return journal.create_transmission(
        NewTransmission(
            counterpart=settings.counterpart,
            kind=STOP_KIND.name,
            state="prepared",
            ref=f"STOP-{bundle.ref}-{item.id}-{number}"[:70],
            meta={
                "payment_id": item.business_key,
                "amount_ore": item.amount_ore,
                "bundle_id": bundle.ref,
                "disposition_date": str(meta["disposition_date"]),
                "authority_cvr": str(meta["authority_cvr"]),
                "agreement_number": str(meta["agreement_number"]),
                "created_at": now.isoformat(),
                "reason": reason[:250] or "stop",
            },
            reason=f"stop of payment {item.business_key} in bundle {bundle.ref} requested",
        )
    )


def stop_request_of(tx: Transmission) -> StopRequest:
    """The request a ``nemkonto-stop`` transmission holds, built again from the journal."""
    meta = tx.meta
    return StopRequest(
        stop_id=tx.ref,
        created_at=dt.datetime.fromisoformat(str(meta["created_at"])),
        authority_cvr=str(meta["authority_cvr"]),
        agreement_number=str(meta["agreement_number"]),
        bundle_id=str(meta["bundle_id"]),
        disposition_date=dt.date.fromisoformat(str(meta["disposition_date"])),
        payments=((str(meta["payment_id"]), int(str(meta["amount_ore"]))),),
        reason=str(meta["reason"]),
    )


def send_stops(journal: Journal, queue: MessageQueue, settings: FlowSettings) -> list[str]:
    """Put every ``prepared`` stop request, oldest first; the ids of those sent."""
    journal.define_kind(STOP_KIND)
    sent = []
    for tx in journal.transmissions(
        counterpart=settings.counterpart, kind=STOP_KIND.name, states=["prepared"]
    ):
        mid = message_id(tx.ref)
        queue.put(settings.request_queue, build_stop(stop_request_of(tx)), msg_id=mid)
        crash_point("nemkonto.stop.after_put")
        queue.commit()
        crash_point("nemkonto.stop.after_commit")
        try:
            with journal.transaction(durable=True):
                journal.set_state(
                    tx.id, "sent", expect="prepared",
                    reason=f"put on {settings.request_queue} (MsgId {mid.hex()}) and committed",
                )  # fmt: skip
        except StateError:
            # An answer came first and settled it: the put is known either way.
            if journal.get_transmission(tx.id).state == "prepared":
                raise
        sent.append(tx.ref)
    return sent


def settle_stop(
    journal: Journal, settings: FlowSettings, status: PaymentStatus, answer: str
) -> bool:
    """Apply a Retursvar 5 payment status to the payment's open stop request (inside the
    answer's transaction); whether there was one."""
    tx = open_stop(journal, settings, status.payment_id)
    if tx is None:
        return False
    if tx.state == "prepared":  # the answer proves the put
        journal.set_state(tx.id, "sent", expect="prepared", reason=f"{answer} proves the put")
    if status.status is PaymentState.STOPPED:
        journal.set_state(tx.id, "stopped", expect="sent", reason=f"{answer}: stopped")
        return True
    why = status.error_text or "too late"
    journal.set_state(tx.id, "too-late", expect="sent", reason=f"{answer}: {why}")
    journal.add_error(
        counterpart=settings.counterpart,
        subject=STOP_SUBJECT,
        transmission_id=tx.id,
        business_key=status.payment_id,
        findings=[
            Finding(
                "nemkonto.stop.too_late",
                Severity.ERROR,
                f"NemKonto could not stop payment {status.payment_id} ({why}): it goes ahead; "
                "recover the amount from the recipient if it must not be paid",
                found=status.payment_id,
                expected="a stop before the disposition date",
            )
        ],
    )
    return True
