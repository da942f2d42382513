"""TØK's claims to the municipality's debtor system over SF1590_B.

The TØK intake journals each claim message ``received`` with its fields; a run
(:meth:`ClaimSender.run`, ``toekgw debitor send`` and the ``debitor-send`` job) first makes
again every call left claimed, then turns each received message, oldest first, into one
call:

- ``ClaimCreate``: B_01 create the debtor account (the first time) and the claim with its
  sub-claims, collected later (passive) until released; refused here when the debtor system
  has announced the account deleted;
- ``ClaimAdjustment``: a write-down is B_01 ``NedskrivFordring``; a write-up is refused
  (SF1590_B has no write-up: a new claim is made for the difference);
- ``ClaimChange`` (claim type, founding date): a full write-down of the remaining debt and a
  new claim with the changed attributes (the solution description, 2.5.16), in one message;
  the new claim is the old one as the debtor system took it (account, period, due date,
  active), for the remaining debt, with the old one's sub-claims scaled to it
  (:func:`prorated`) and a link to the claim it replaces (``ErstatterFordringId``), which the
  claim ledger shows both ways;
- ``CollectionRelease``: B_01 ``RetFordringTilstand`` FRIGIVET;
- a set-off applied to a payment: B_03 ``Indbetaling`` of its amount on the claim; a change
  of it (``action`` change, its new amount) is the difference (:func:`corrections`): a new
  payment ``<id>~<n>`` when it grew, a reversal of the newest payments when it shrank (ours:
  B_03 knows payments only; ``TilbagefoererIndbetalingId`` names the payment reversed).

The debtor system's answer moves the TØK item (``sent`` or ``rejected``), which its sender
is told through TØK's status outbox. The claim's id in the debtor system is
``<sender>-<claim id>`` (``~<n>`` for the n-th after a change); a debtor account's id is
derived from the sender and the debtor (:func:`konto_id`) and shows no CPR number.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from toekgw.adapters.debitor.afsend import (
    AFSEND_KIND,
    B01,
    B03,
    Call,
    Outcome,
    claim_call,
    claimed_calls,
    make_call,
)
from toekgw.adapters.debitor.client import DebitorClient
from toekgw.adapters.debitor.debitorkonti import is_deleted
from toekgw.adapters.debitor.keys import account_key, claim_key, payment_key
from toekgw.adapters.debitor.ledger import claim_ledger
from toekgw.formats.debitor.registrering import (
    Delfordring,
    Indbetaling,
    NedskrivFordring,
    Operation,
    OpretDebitorkonto,
    OpretFordring,
    Part,
    RetFordringTilstand,
    operation_from_data,
)
from toekgw.gateway.danish_time import danish_date
from toekgw.gateway.findings import Finding, Severity
from toekgw.gateway.journal import Item, Journal, Transmission

__all__ = [
    "ClaimSender",
    "SendResult",
    "besked_id",
    "corrections",
    "fordring_id",
    "konto_id",
    "prorated",
]

TOK = "tok"
TOK_CLAIMS = "tok-claims"
TOK_EFFECTUATIONS = "tok-effectuations"
_NAMESPACE = uuid.UUID("6f1b3c52-1d0e-4c1e-9a57-5f2d2b7e0c11")
CHANGE_REASON = "ændring af fordringens stamdata: fuld nedskrivning og ny fordring"


def besked_id(source_item_id: int) -> str:
    """The call's ``BeskedId`` (its idempotency key), derived from the TØK item it carries
    out: however often the call is planned or made, it is one message."""
    return str(uuid.uuid5(_NAMESPACE, f"tok-item:{source_item_id}"))


def fordring_id(sender: str, claim_id: str, version: int = 1) -> str:
    return f"{sender}-{claim_id}" + (f"~{version}" if version > 1 else "")


def konto_id(sender: str, kind: str, number: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"debitorkonto:{sender}:{kind}:{number}"))


class Refused(Exception):
    """A claim message the gateway does not send on (the text says why)."""


@dataclasses.dataclass
class SendResult:
    sent: int = 0
    rejected: int = 0
    refused: int = 0
    repeated: int = 0  # calls left claimed by an earlier run, made again


class ClaimSender:
    def __init__(
        self,
        journal: Journal,
        client: DebitorClient,
        *,
        now: Callable[[], dt.datetime],
        counterpart: str = "debitor",
        beskedfordeler: str = "beskedfordeler",
    ) -> None:
        self.journal = journal
        self.client = client
        self.now = now
        self.counterpart = counterpart
        self.beskedfordeler = beskedfordeler

    def run(self) -> SendResult:
        """Make every claimed call, then every received claim and applied set-off; stops
        with ``DebitorUnavailable`` when the debtor system cannot be reached."""
        self.journal.define_kind(AFSEND_KIND)
        result = SendResult()
        for tx in claimed_calls(self.journal, self.counterpart):
            self._make(tx, result)
            result.repeated += 1
        for item in list(self.journal.items_of_kind(TOK_CLAIMS, "received")):
            self._carry_out(item, result)
        for item in list(self.journal.items_of_kind(TOK_EFFECTUATIONS, "applied")):
            if (item.data or {}).get("message") == "SetOff":
                self._carry_out(item, result)
        return result

    def _carry_out(self, item: Item, result: SendResult) -> None:
        key = besked_id(item.id)
        if self.journal.find_transmission(counterpart=self.counterpart, delivery_key=key):
            return  # claimed before: made above
        try:
            call = self._plan(item, key)
        except Refused as exc:
            if item.state == "received":
                self._refuse(item, str(exc))
                result.refused += 1
            return
        self._make(claim_call(self.journal, call, self.counterpart), result)

    def _make(self, tx: Transmission, result: SendResult) -> None:
        outcome = make_call(self.journal, self.client, tx, on_outcome=self._tell)
        if outcome.state == "answered":
            result.sent += 1
        else:
            result.rejected += 1

    def _tell(self, journal: Journal, tx: Transmission, outcome: Outcome) -> None:
        """Move the TØK items the call carried out (in the outcome's transaction)."""
        sources = tx.meta.get("sources") or []
        assert isinstance(sources, list)
        for source in sources:
            item = journal.get_item(int(source))
            if item.state != "received":
                continue  # a set-off (applied) stays as it is
            if outcome.state == "answered":
                journal.set_item_state(
                    item.id, "sent", reason=f"the debtor system took it: {outcome.why}"
                )
            else:
                self._reject(item, f"the debtor system refused it: {outcome.why}")

    def _refuse(self, item: Item, why: str) -> None:
        with self.journal.transaction(durable=True):
            self._reject(item, why)
            self.journal.add_error(
                counterpart=TOK,
                subject="claim",
                findings=[Finding("debitor.claim.refused", Severity.ERROR, why)],
                transmission_id=item.transmission_id,
                business_key=item.business_key,
            )

    def _reject(self, item: Item, why: str) -> None:
        self.journal.set_item_state(item.id, "rejected", reason=why, expect="received")
        tx = self.journal.get_transmission(item.transmission_id)
        finding = {"code": "debitor.claim.refused", "where": None, "message": why}
        self.journal.update_transmission(
            tx.id,
            reason="the claim's refusal, for its status",
            meta={**tx.meta, "findings": [finding]},
        )

    # --- planning -------------------------------------------------------------------

    def _plan(self, item: Item, key: str) -> Call:
        tx = self.journal.get_transmission(item.transmission_id)
        cvr, sender = str(tx.meta.get("municipality") or ""), str(tx.meta["sender"])
        data: Mapping[str, Any] = item.data or {}
        message = data.get("message")
        if not message or not cvr:
            raise Refused(
                "journaled without the claim's fields (before the debtor route): send it again"
            )
        call = _CallMaker(cvr, key, item)
        if message == "ClaimCreate":
            return self._create(call, sender, data)
        if message == "SetOff":
            return self._set_off(call, sender, data)
        fid, version = self._current(cvr, sender, str(data["claim_id"]))
        if message == "CollectionRelease":
            return call(B01, (RetFordringTilstand(fid),), "release for collection")
        if message == "ClaimAdjustment":
            if data["direction"] != "down":
                raise Refused("SF1590_B has no write-up: create a new claim for the difference")
            down = NedskrivFordring(fid, int(data["amount_ore"]), _date(data["effective_date"]),
                                    str(data["reason"])[:200])  # fmt: skip
            return call(B01, (down,), "write-down")
        return self._change(call, cvr, sender, data, fid, version)

    def _create(self, call: _CallMaker, sender: str, data: Mapping[str, Any]) -> Call:
        cvr = call.cvr
        debtor = data["debtor"]
        part = Part(str(debtor["kind"]), str(debtor["number"]))
        konto = konto_id(sender, part.kind, part.number)
        if is_deleted(self.journal, cvr, konto, counterpart=self.beskedfordeler):
            raise Refused("the debtor system has deleted the debtor account: no new claim on it")
        fid = fordring_id(sender, str(data["claim_id"]))
        claim = _opret(fid, konto, data)
        ops: list[Operation] = (
            [] if self._account_known(cvr, konto) else [OpretDebitorkonto(konto, part)]
        )
        return call(B01, (*ops, claim), "create the claim", claim_items=((fid, call.item.id),))

    def _change(
        self,
        call: _CallMaker,
        cvr: str,
        sender: str,
        data: Mapping[str, Any],
        fid: str,
        version: int,
    ) -> Call:
        if not data.get("claim_type") and not data.get("founding_date"):
            raise Refused(f"the change of claim {data['claim_id']} changes nothing")
        ledger = claim_ledger(self.journal, cvr, fid, counterpart=self.counterpart)
        remaining = ledger.remaining_ore if ledger else 0
        if remaining <= 0:
            raise Refused(f"claim {data['claim_id']} has no debt left to move to a changed claim")
        created = self._create_item(sender, str(data["claim_id"]))
        old = _opret_of(self.journal, self.counterpart, cvr, fid)
        new_fid = fordring_id(sender, str(data["claim_id"]), version + 1)
        founding = data.get("founding_date")
        new = dataclasses.replace(
            old,
            fordring_id=new_fid,
            fordring_type=str(data.get("claim_type") or old.fordring_type),
            stiftelses_dato=_date(founding) if founding else old.stiftelses_dato,
            beloeb_ore=remaining,
            aktiv=old.aktiv or bool(ledger and ledger.released),
            delfordringer=prorated(old.delfordringer, remaining),
            erstatter=fid,
        )
        down = NedskrivFordring(fid, remaining, danish_date(self.now()), CHANGE_REASON)
        return call(B01, (down, new), "change: full write-down and a new claim",
                    claim_items=((new_fid, created.id),))  # fmt: skip

    def _set_off(self, call: _CallMaker, sender: str, data: Mapping[str, Any]) -> Call:
        fid, _ = self._current(call.cvr, sender, str(data["claim_id"]))
        first, amount = f"{sender}-{data['set_off_id']}", int(data["amount_ore"])
        if data["action"] == "create":
            payment = Indbetaling(first, fid, amount, danish_date(self.now()))
            return call(B03, (payment,), "payment from a set-off")
        paid = [
            i for i in self.journal.items_by_lookup(self.counterpart, payment_key(call.cvr, first))
            if i.state == "accepted"
        ]  # fmt: skip
        rows = corrections(paid, f"{first}~{call.item.id}", fid, amount, danish_date(self.now()))
        if not rows:
            raise Refused(f"set-off {data['set_off_id']} is as the debtor system has it")
        return call(B03, rows, "correction of a changed set-off")

    def _current(self, cvr: str, sender: str, claim_id: str) -> tuple[str, int]:
        """The claim's id in the debtor system now (its latest version) and the version."""
        version, found = 1, None
        while claim_ledger(self.journal, cvr, fordring_id(sender, claim_id, version),
                           counterpart=self.counterpart) is not None:  # fmt: skip
            found, version = version, version + 1
        if found is None:
            raise Refused(f"claim {claim_id} is not in the debtor system (not created, or refused)")
        return fordring_id(sender, claim_id, found), found

    def _create_item(self, sender: str, claim_id: str) -> Item:
        for item in self.journal.find_items(f"{sender}:claim:{claim_id}", TOK):
            if (item.data or {}).get("message") == "ClaimCreate":
                return item
        raise Refused(f"no ClaimCreate for claim {claim_id}")

    def _account_known(self, cvr: str, konto: str) -> bool:
        return any(
            (i.data or {}).get("op") == "OpretDebitorkonto" and i.state == "accepted"
            for i in self.journal.items_by_lookup(self.counterpart, account_key(cvr, konto))
        )


@dataclasses.dataclass(frozen=True, slots=True)
class _CallMaker:
    cvr: str
    key: str
    item: Item

    def __call__(
        self,
        service: str,
        operations: tuple[Operation | Indbetaling, ...],
        what: str,
        *,
        claim_items: tuple[tuple[str, int], ...] = (),
    ) -> Call:
        why = f"claimed before calling {service}: {what} ({self.item.business_key})"
        return Call(service, self.cvr, self.key, operations, (self.item.id,), claim_items, why)


def _date(text: object) -> dt.date:
    return dt.date.fromisoformat(str(text))


def _opret(fid: str, konto: str, data: Mapping[str, Any]) -> OpretFordring:
    """The claim of a TØK ``ClaimCreate``, collected later until released."""
    return OpretFordring(
        fordring_id=fid,
        debitorkonto_id=konto,
        fordring_type=str(data["claim_type"]),
        beloeb_ore=int(data["amount_ore"]),
        periode_fra=_date(data["period_from"]),
        periode_til=_date(data["period_to"]),
        stiftelses_dato=_date(data["founding_date"]),
        forfalds_dato=_date(data["due_date"]),
        aktiv=False,
        delfordringer=tuple(
            Delfordring(str(s["sub_claim_id"]), str(s["claim_type"]), int(s["amount_ore"]))
            for s in data["sub_claims"]
        ),
    )


def corrections(
    paid: Sequence[Item], new_id: str, fordring: str, amount: int, day: dt.date
) -> tuple[Indbetaling, ...]:
    """The B_03 rows that make a set-off's payments in the debtor system (``paid``: the
    accepted payments and reversals of it, oldest first) add up to ``amount``: the difference
    as a payment ``new_id`` on ``fordring`` (the claim's current version) when it grew; when it
    shrank, reversals of the newest payments first (each on its payment's claim, at most what
    is left of it), ids ``new_id`` and ``new_id.<k>``; none when it is unchanged."""
    left: dict[str, tuple[str, int]] = {}  # payment id -> (claim, what it still covers)
    for item in paid:
        data = item.data or {}
        reversed_id = data.get("tilbagefoerer")
        if reversed_id:
            claim, net = left[str(reversed_id)]
            left[str(reversed_id)] = (claim, net - item.amount_ore)
        else:
            left[str(data["indbetaling"])] = (str(data["fordring"]), item.amount_ore)
    difference = amount - sum(net for _, net in left.values())
    if difference >= 0:
        return (Indbetaling(new_id, fordring, difference, day),) if difference else ()
    rows: list[Indbetaling] = []
    for payment_id, (claim, net) in reversed(left.items()):
        take = min(net, -difference)
        if take > 0:
            row_id = f"{new_id}.{len(rows)}" if rows else new_id
            rows.append(Indbetaling(row_id, claim, take, day, tilbagefoerer=payment_id))
            difference += take
    return tuple(rows)


def _opret_of(journal: Journal, counterpart: str, cvr: str, fid: str) -> OpretFordring:
    """The claim as the debtor system took it (the journaled call's operation)."""
    for item in journal.items_by_lookup(counterpart, claim_key(cvr, fid)):
        if (item.data or {}).get("op") == "OpretFordring" and item.state == "accepted":
            operations = journal.get_transmission(item.transmission_id).meta["operations"]
            assert isinstance(operations, list) and item.seq is not None
            found = operation_from_data(operations[item.seq])
            assert isinstance(found, OpretFordring)
            return found
    raise Refused(f"claim {fid}: its creation is not journaled")


def prorated(parts: tuple[Delfordring, ...], total: int) -> tuple[Delfordring, ...]:
    """``parts`` scaled to add up to ``total`` øre exactly (ours: which sub-claim a covering
    or write-down reduced is not told, so the remaining debt is spread over them in
    proportion, the øre left over by rounding down going to the largest remainders, first
    ones first); a sub-claim left at 0 is dropped."""
    whole = sum(part.beloeb_ore for part in parts)
    if whole <= 0:
        return ()
    shares = [divmod(part.beloeb_ore * total, whole) for part in parts]
    left = total - sum(share for share, _ in shares)
    extra = set(sorted(range(len(parts)), key=lambda n: -shares[n][1])[:left])
    scaled = (
        dataclasses.replace(part, beloeb_ore=share + (n in extra))
        for n, (part, (share, _)) in enumerate(zip(parts, shares, strict=True))
    )
    return tuple(part for part in scaled if part.beloeb_ore > 0)
