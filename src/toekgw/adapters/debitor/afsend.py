"""Every SF1590_B call journaled before it is made, and its outcome after.

A call (:class:`Call`: a B_01 or B_03 message) is *claimed* in one durable transaction before
it is made: an outbound transmission keyed by the message's ``BeskedId`` (a second claim of
the same message is refused by the journal) with the message itself in its meta, and one item
per operation, looked up by the claim or debtor account it concerns (what the claim ledger,
:mod:`toekgw.adapters.debitor.ledger`, reads). Only then is the call made. Its outcome moves
the transmission and its items in one more durable transaction, with the TØK items the call
carries out (``sources``): ``sent`` when the debtor system took it, ``rejected`` (with the
fault on the error list and in the sender's status) when it answered a SOAP fault.

A call left ``claimed`` (the process died, or the debtor system could not be reached) is
made again by the next run with the same message and ``BeskedId``: the debtor system
recognises the repeat and applies nothing twice. The runs of a flow are single flight (the
caller holds the flow's lock).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from toekgw.adapters.debitor.client import DebitorClient, DebitorRejected
from toekgw.adapters.debitor.keys import account_key, claim_key, payment_key
from toekgw.formats.debitor.registrering import (
    Indbetaling,
    IndbetalingBesked,
    NedskrivFordring,
    Operation,
    OpretDebitorkonto,
    OpretFordring,
    Registrering,
    RetFordringTilstand,
    operation_from_data,
    operation_to_data,
)
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.faults import crash_point
from toekgw.gateway.findings import Finding, Severity
from toekgw.gateway.journal import (
    Direction,
    Journal,
    KindSpec,
    Lifecycle,
    NewItem,
    NewTransmission,
    Transmission,
)
from toekgw.gateway.kinds import register_kind

__all__ = [
    "AFSEND_KIND",
    "B01",
    "B03",
    "Call",
    "Outcome",
    "claim_call",
    "claimed_calls",
    "make_call",
]

B01 = "DebitorRegistreringAfsend"
B03 = "DebitorIndbetalingAfsend"
AFSEND_KIND = KindSpec(
    "debitor-afsend",
    Direction.OUT,
    Lifecycle(
        ("claimed",),
        {"claimed": ("answered", "rejected")},
        {
            "claimed": "journaled before the call; made again with the same BeskedId until "
            "the debtor system answers",
            "answered": "the debtor system took the message (StatusKode 20)",
            "rejected": "the debtor system answered a SOAP fault: on the error list (final)",
        },
    ),
    Lifecycle(
        ("claimed",),
        {"claimed": ("accepted", "rejected")},
        {
            "claimed": "an operation of a call not yet answered",
            "accepted": "taken by the debtor system: counts in the claim ledger (final)",
            "rejected": "refused with its message (final)",
        },
    ),
)
register_kind(AFSEND_KIND)


@dataclasses.dataclass(frozen=True, slots=True)
class Call:
    """One message to the debtor system; ``sources``: the TØK items it carries out, and
    ``claim_items``: per claim id it creates, the TØK item that tells that claim's state."""

    service: str
    cvr: str
    besked_id: str
    operations: tuple[Operation | Indbetaling, ...]
    sources: tuple[int, ...] = ()
    claim_items: tuple[tuple[str, int], ...] = ()
    reason: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    transmission_id: int
    state: str  # answered | rejected
    why: str


def claim_call(journal: Journal, call: Call, counterpart: str) -> Transmission:
    """Journal ``call`` before it is made (raises ``DuplicateTransmission`` if it was)."""
    with journal.transaction(durable=True):
        tx = journal.create_transmission(
            NewTransmission(
                counterpart=counterpart,
                kind=AFSEND_KIND.name,
                state="claimed",
                delivery_key=call.besked_id,
                file_name=f"{call.service} {call.besked_id}",
                meta={
                    "service": call.service,
                    "cvr": call.cvr,
                    "operations": [_op_data(op) for op in call.operations],
                    "sources": list(call.sources),
                },
                reason=call.reason or f"claimed before calling {call.service}",
            )
        )
        claims = dict(call.claim_items)
        journal.add_items(
            tx.id,
            [item for n, op in enumerate(call.operations) for item in _items(call, n, op, claims)],
            state="claimed",
            reason="journaled before the call",
        )
    return tx


def make_call(
    journal: Journal,
    client: DebitorClient,
    tx: Transmission,
    *,
    on_outcome: Callable[[Journal, Transmission, Outcome], None] = lambda *_: None,
) -> Outcome:
    """Make the claimed call ``tx`` and journal its outcome; a transport fault after the
    client's retries propagates (``DebitorUnavailable``) and leaves it claimed."""
    crash_point("debitor.afsend.before_call")
    try:
        status = _send(client, tx)
        state, why = "answered", f"StatusKode {status}"
        findings: list[Finding] = []
    except DebitorRejected as fault:
        # The counterpart's text may name the debtor: the events, and the TØK claim's
        # findings (its meta: ClaimSender._reject), keep it masked like every finding.
        state, why = "rejected", mask_cpr_in_text(str(fault))
        findings = [
            Finding(
                f"debitor.fault.{code or fault.code}",
                Severity.ERROR,
                mask_cpr_in_text(text or fault.text),  # the counterpart's text may name one
            )
            for code, text in (fault.errors or [("", "")])
        ]
    crash_point("debitor.afsend.after_call")
    outcome = Outcome(tx.id, state, why)
    with journal.transaction(durable=True):
        journal.set_state(tx.id, state, reason=why, expect="claimed")
        journal.move_items(
            tx.id, "claimed", "accepted" if state == "answered" else "rejected", reason=why
        )
        if findings:
            journal.add_error(
                counterpart=tx.counterpart,
                subject="call",
                findings=findings,
                transmission_id=tx.id,
                file_name=tx.file_name,
            )
        on_outcome(journal, tx, outcome)
    return outcome


def _send(client: DebitorClient, tx: Transmission) -> int:
    meta = tx.meta
    cvr, besked_id = str(meta["cvr"]), str(tx.delivery_key)
    data = meta["operations"]
    assert isinstance(data, list)
    if meta["service"] == B03:
        payments = tuple(Indbetaling(**_indbetaling(d)) for d in data)
        return client.indbetal(IndbetalingBesked(besked_id, cvr, payments))
    operations = tuple(operation_from_data(d) for d in data)
    return client.registrer(Registrering(besked_id, cvr, operations))


def _op_data(op: Operation | Indbetaling) -> dict[str, Any]:
    if isinstance(op, Indbetaling):
        return {
            "type": "Indbetaling",
            "indbetaling_id": op.indbetaling_id,
            "fordring_id": op.fordring_id,
            "beloeb_ore": op.beloeb_ore,
            "dato": op.dato.isoformat(),
            "tilbagefoerer": op.tilbagefoerer,
        }
    return operation_to_data(op)


def _indbetaling(data: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in data.items() if k != "type"}
    values["dato"] = dt.date.fromisoformat(values["dato"])
    return values


def _items(
    call: Call, n: int, op: Operation | Indbetaling, claims: dict[str, int]
) -> Iterator[NewItem]:
    """The operation's items: what the claim ledger and the account's claims are read from."""
    key = f"{call.besked_id}:{n}"
    kind = type(op).__name__
    if isinstance(op, OpretDebitorkonto):
        konto = op.debitorkonto_id
        yield NewItem(
            key, 0, seq=n, lookup=account_key(call.cvr, konto), data={"op": kind, "konto": konto}
        )
        return
    assert isinstance(op, OpretFordring | NedskrivFordring | RetFordringTilstand | Indbetaling)
    amount = op.beloeb_ore if not isinstance(op, RetFordringTilstand) else 0
    data: dict[str, object] = {"op": kind, "fordring": op.fordring_id}
    if isinstance(op, OpretFordring):
        data["konto"] = op.debitorkonto_id
        data["claim_item"] = claims.get(op.fordring_id)
        data["aktiv"] = op.aktiv
        data["erstatter"] = op.erstatter
    if isinstance(op, Indbetaling):
        data["indbetaling"] = op.indbetaling_id
        data["tilbagefoerer"] = op.tilbagefoerer
    yield NewItem(key, amount, seq=n, lookup=claim_key(call.cvr, op.fordring_id), data=data)
    if isinstance(op, Indbetaling):  # the payment with its corrections, for the next one
        yield NewItem(
            f"{key}:indbetaling", amount, lookup=payment_key(call.cvr, op.indbetaling_id), data=data
        )
    if isinstance(op, OpretFordring) and op.erstatter:  # the old claim's link to this one
        yield NewItem(
            f"{key}:erstattet",
            0,
            lookup=claim_key(call.cvr, op.erstatter),
            data={"op": "Erstattet", "fordring": op.erstatter, "erstattet_af": op.fordring_id},
        )
    if isinstance(op, OpretFordring):  # the account's claims, for a deleted account
        yield NewItem(
            f"{key}:konto",
            0,
            lookup=account_key(call.cvr, op.debitorkonto_id),
            data={
                "op": "KontoFordring",
                "fordring": op.fordring_id,
                "claim_item": data["claim_item"],
            },
        )


def claimed_calls(journal: Journal, counterpart: str) -> Sequence[Transmission]:
    """Calls journaled and not yet answered, oldest first."""
    found = journal.transmissions(
        counterpart=counterpart, kind=AFSEND_KIND.name, states=["claimed"]
    )
    return sorted(found, key=lambda t: t.id)
