"""Send: put each prepared bundle on the NemKonto request queue, then journal it as sent.

The bundle was journaled with its members before anything leaves (:mod:`.release`), and the
bytes the release built and validated were staged with it. Here, per bundle: take those bytes
(or, where none are staged or they do not hash to the journaled SHA-256, build them again from
the journal, refused unless they hash to it), put them under syncpoint with
``MsgId = message_id(bundle id)``, commit, and only then mark the bundle and its payments
``sent`` and drop the staged bytes. A crash between the put and the journal
commit leaves the bundle ``prepared``: the next run puts the same bytes with the same MsgId
again, and NemKonto (the simulator's ledger) drops the second copy by bundle id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from toekgw.adapters.nemkonto.bundling import Authority
from toekgw.adapters.nemkonto.orders import instruction_of, payment_order
from toekgw.adapters.nemkonto.settings import BUNDLE_KIND, FlowSettings
from toekgw.adapters.nemkonto.stops import send_stops
from toekgw.formats.nemkonto import Account, PaymentBundle, build_bundle
from toekgw.gateway.errors import GatewayError
from toekgw.gateway.faults import crash_point
from toekgw.gateway.journal import Journal, StateError, Transmission
from toekgw.gateway.jsonlog import correlation
from toekgw.gateway.transport.mq import MessageQueue, message_id

__all__ = ["SentBundle", "body_of", "bundle_of", "mark_sent", "send_bundles"]


@dataclass(frozen=True, slots=True)
class SentBundle:
    transmission_id: int
    bundle_id: str
    count: int
    total_ore: int
    msg_id: str


def bundle_of(journal: Journal, tx: Transmission) -> PaymentBundle:
    """The bundle of a ``nemkonto-bundle`` transmission, built again from the journal."""
    meta = tx.meta
    authority = Authority(
        str(meta["authority_cvr"]),
        str(meta["agreement_number"]),
        Account(str(meta["debtor_registration"]), str(meta["debtor_account"])),
    )
    orders = []
    for item in journal.members(tx.id):
        orders.append(payment_order(instruction_of(item), authority))
    return PaymentBundle(
        bundle_id=tx.ref,
        created_at=dt.datetime.fromisoformat(str(meta["created_at"])),
        authority_cvr=authority.cvr,
        agreement_number=authority.agreement_number,
        payment_information_id=str(meta["payment_information_id"]),
        disposition_date=dt.date.fromisoformat(str(meta["disposition_date"])),
        debtor_account=authority.debtor_account,
        payments=tuple(orders),
    )


def mark_sent(journal: Journal, tx: Transmission, reason: str, *, at: str | None = None) -> None:
    """The bundle and its payments are on the request queue (one journal transaction)."""
    with journal.transaction(durable=True):
        journal.set_state(tx.id, "sent", expect="prepared", reason=reason)
        journal.update_transmission(
            tx.id,
            reason="send time recorded",
            meta={"sent_at": at or dt.datetime.now(dt.UTC).isoformat()},
        )
        journal.move_members(
            tx.id, "released", "sent", reason=f"in NemKonto bundle {tx.ref} on the request queue"
        )
        journal.drop_staged_body(tx.id)


def send_bundles(journal: Journal, queue: MessageQueue, settings: FlowSettings) -> list[SentBundle]:
    """Put every ``prepared`` bundle, oldest first; one unit of work per bundle. Then every
    prepared stop request (:func:`~toekgw.adapters.nemkonto.stops.send_stops`): after the
    bundles, so NemKonto never gets a stop before the payment it names."""
    journal.define_kind(BUNDLE_KIND)
    sent = []
    for tx in journal.transmissions(
        counterpart=settings.counterpart, kind=BUNDLE_KIND.name, states=["prepared"]
    ):
        with correlation(tx.ref):
            sent.append(_send_one(journal, queue, settings, tx))
    send_stops(journal, queue, settings)
    return sent


def _send_one(
    journal: Journal, queue: MessageQueue, settings: FlowSettings, tx: Transmission
) -> SentBundle:
    """Put one prepared bundle and record it sent: one unit of work."""
    body = body_of(journal, tx)
    mid = message_id(tx.ref)
    queue.put(settings.request_queue, body, msg_id=mid)
    crash_point("nemkonto.send.after_put")
    queue.commit()
    crash_point("nemkonto.send.after_commit")
    try:
        mark_sent(
            journal,
            tx,
            f"put on {settings.request_queue} (MsgId {mid.hex()}, {len(body)} bytes) and committed",
        )
    except StateError:
        # A receiver got an answer first and marked it sent: the put is known either way.
        if journal.get_transmission(tx.id).state == "prepared":
            raise
    return SentBundle(tx.id, tx.ref, tx.item_count, tx.total_ore, mid.hex())  # its members


def body_of(journal: Journal, tx: Transmission) -> bytes:
    """The bytes of a prepared bundle: those the release built, validated and staged, or,
    where none are staged (or they are not those of the journaled SHA-256), the bundle built
    again from the journal. The release validated the bundle before journaling its SHA-256:
    bytes that hash to it are those bytes, so they are not validated a second time."""
    staged = journal.staged_body(tx.id)
    if staged is not None and hashlib.sha256(staged).hexdigest() == tx.sha256:
        return staged
    body = build_bundle(bundle_of(journal, tx), validate=False)
    if hashlib.sha256(body).hexdigest() != tx.sha256:
        raise GatewayError(
            f"{tx.describe()}: built again from the journal it is not the bundle that was "
            "journaled (SHA-256 differs); it is not sent",
            hint="the payment mapping or the journal changed since the release: investigate",
        )
    return body
