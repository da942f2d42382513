"""Take one released payment out of its bundle before the bundle is sent.

A released payment sits in a ``prepared`` bundle whose bytes and SHA-256 are journaled; the
send puts exactly those bytes. To hold the payment (``toekgw payments block``) the bundle is
not edited: in one durable journal transaction it is **withdrawn** (``prepared`` ->
``withdrawn``: it is never sent, and the send takes only ``prepared`` bundles), the payment
moves to the caller's state, and the bundle's other payments are bundled again at once, under
new bundle ids (the next attempt's namespace), each new bundle journaled ``prepared`` with its
own SHA-256 exactly as a release journals one.

The caller must hold the send's flow lock (``nemkonto-send``): a send that had read the old
bundle before the withdrawal would otherwise still put it. The CLI does.
"""

from __future__ import annotations

import datetime as dt

from toekgw.adapters.nemkonto.bundling import ReleasedPayment, attempt_namespace, make_bundles
from toekgw.adapters.nemkonto.orders import instruction_of, payment_order
from toekgw.adapters.nemkonto.release import ReleaseResult, _journal_bundle
from toekgw.adapters.nemkonto.settings import BUNDLE_KIND, FlowSettings
from toekgw.formats.nemkonto import Account
from toekgw.gateway.danish_time import danish_date
from toekgw.gateway.errors import GatewayError
from toekgw.gateway.journal import Item, Journal

__all__ = ["NotWithdrawable", "withdraw_payment"]


class NotWithdrawable(GatewayError):
    """The payment's bundle has gone (or is going) to NemKonto: it cannot be taken out."""

    exit_code = 1


def withdraw_payment(
    journal: Journal, settings: FlowSettings, item: Item, to_state: str, reason: str,
    now: dt.datetime,
) -> ReleaseResult:  # fmt: skip
    """Take the released payment ``item`` out of its prepared bundle (inside the caller's
    transaction): it moves to ``to_state``; the new bundles of the others are returned."""
    bundle = journal.get_transmission(item.carrier_id) if item.carrier_id else None
    if bundle is None or bundle.kind != BUNDLE_KIND.name or bundle.state != "prepared":
        where = f"bundle {bundle.ref} is {bundle.state}" if bundle else "it is in no bundle"
        raise NotWithdrawable(f"payment {item.business_key} cannot be taken out: {where}")
    meta = bundle.meta
    journal.set_state(
        bundle.id, "withdrawn", expect="prepared",
        reason=f"withdrawn before sending: payment {item.business_key} taken out ({reason})",
    )  # fmt: skip
    journal.drop_staged_body(bundle.id)  # never sent
    journal.set_item_state(
        item.id, to_state, expect="released",
        reason=f"{reason}; taken out of bundle {bundle.ref} (withdrawn, never sent)",
    )  # fmt: skip
    journal.move_members(
        bundle.id, "released", "pending", reason=f"bundle {bundle.ref} withdrawn: bundled again"
    )
    others = list(journal.members(bundle.id, current_only=True, states=["pending"]))
    attempt = int(str(meta.get("attempt", 0))) + 1
    authority = settings.authorities[str(meta["municipality"])]
    account = Account(str(meta["debtor_registration"]), str(meta["debtor_account"]))
    date = dt.date.fromisoformat(str(meta["disposition_date"]))
    item_of = {o.business_key: (o.id, str(meta["municipality"])) for o in others}
    payments = [
        ReleasedPayment(
            str(meta["municipality"]),
            date,
            payment_order(instruction_of(o), authority),
            None if account == authority.debtor_account else account,
        )
        for o in others
    ]
    result = ReleaseResult(danish_date(now))
    for new in make_bundles(
        payments,
        settings.authorities,
        created_at=now.astimezone(dt.UTC).replace(microsecond=0),
        max_payments=settings.max_payments,
        max_bytes=settings.max_bytes,
        namespace=attempt_namespace(attempt),
    ):
        _journal_bundle(journal, settings, new, attempt, item_of, result)
    return result
