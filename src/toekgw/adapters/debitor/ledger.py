"""The claim ledger: per claim its original amount, write-downs, coverings, write-offs and the
remaining debt, and its reconciliation against the debtor system's balances.

The ledger is read from the journal, never kept beside it: the operations the debtor system
took (``accepted`` items of :data:`~toekgw.adapters.debitor.afsend.AFSEND_KIND`) and the
registrations its callback told (items of
:data:`~toekgw.adapters.debitor.callback.CALLBACK_KIND`), both looked up by the claim
(:func:`~toekgw.adapters.debitor.callback.claim_key`). A covering told twice is one item
(the callback keys each registration by its id), so it counts once.

remaining = original - write-downs - coverings - write-offs (+ their reversals).

A change of a claim's type or founding date replaces it (a full write-down and a new claim,
the solution description 2.5.16): the new claim's ledger names the one it replaces
(``erstatter``) and the old one's names its successor (``erstattet_af``), so the chain can be
followed both ways (:func:`chain`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator

from toekgw.adapters.debitor.afsend import AFSEND_KIND
from toekgw.adapters.debitor.callback import CALLBACK_KIND
from toekgw.adapters.debitor.keys import claim_key
from toekgw.formats.debitor.saldo import Saldo
from toekgw.gateway.danish_time import danish_date_of
from toekgw.gateway.journal import Item, JournalReader
from toekgw.gateway.reconcile import (
    Answer,
    Difference,
    Expected,
    ItemClass,
    Reconciliation,
    reconcile,
)

__all__ = ["ClaimLedger", "chain", "claim_ledger", "ledgers", "reconcile_claims"]


@dataclasses.dataclass(frozen=True, slots=True)
class ClaimLedger:
    cvr: str
    fordring_id: str
    original_ore: int = 0
    write_downs_ore: int = 0
    coverings_ore: int = 0
    write_offs_ore: int = 0
    paid_in_ore: int = 0  # B_03 payments taken, told back as coverings by the debtor system
    released: bool = False
    created: bool = False  # False: only the debtor system's callback told of it
    created_on: str = ""
    erstatter: str = ""  # the claim this one replaced after a change
    erstattet_af: str = ""  # the claim that replaced this one

    @property
    def remaining_ore(self) -> int:
        return self.original_ore - self.write_downs_ore - self.coverings_ore - self.write_offs_ore


_CALLBACK_FIELDS = {
    "DAEKNING": ("coverings_ore", 1),
    "DAEKNING_TILBAGEFOERT": ("coverings_ore", -1),
    "AFSKRIVNING": ("write_offs_ore", 1),
    "AFSKRIVNING_TILBAGEFOERT": ("write_offs_ore", -1),
}


def _fold(cvr: str, fordring_id: str, items: Iterable[Item]) -> ClaimLedger | None:
    ledger = ClaimLedger(cvr, fordring_id)
    known = False
    for item in items:
        data = item.data or {}
        if "op" in data and item.state == "accepted":
            op = data["op"]
            if op == "OpretFordring":
                known = True
                ledger = dataclasses.replace(
                    ledger,
                    original_ore=item.amount_ore,
                    created=True,
                    created_on=danish_date_of(item.created_at).isoformat(),
                    released=ledger.released or bool(data.get("aktiv")),
                    erstatter=str(data.get("erstatter") or ""),
                )
            elif op == "Erstattet":
                ledger = dataclasses.replace(ledger, erstattet_af=str(data["erstattet_af"]))
            elif op == "NedskrivFordring":
                ledger = dataclasses.replace(
                    ledger, write_downs_ore=ledger.write_downs_ore + item.amount_ore
                )
            elif op == "RetFordringTilstand":
                ledger = dataclasses.replace(ledger, released=True)
            elif op == "Indbetaling":  # a reversal (ours) gives back to the claim
                paid = -item.amount_ore if data.get("tilbagefoerer") else item.amount_ore
                ledger = dataclasses.replace(ledger, paid_in_ore=ledger.paid_in_ore + paid)
        elif "type" in data and str(data["type"]) in _CALLBACK_FIELDS:
            known = True  # a registration the debtor system told: shown even if never created
            name, sign = _CALLBACK_FIELDS[str(data["type"])]
            total = getattr(ledger, name) + sign * item.amount_ore
            ledger = dataclasses.replace(ledger, **{name: total})
    return ledger if known else None


def claim_ledger(
    journal: JournalReader, cvr: str, fordring_id: str, *, counterpart: str = "debitor"
) -> ClaimLedger | None:
    """The claim's ledger (``None``: nothing journaled about it)."""
    return _fold(
        cvr, fordring_id, journal.items_by_lookup(counterpart, claim_key(cvr, fordring_id))
    )


def chain(
    journal: JournalReader, cvr: str, fordring_id: str, *, counterpart: str = "debitor"
) -> list[ClaimLedger]:
    """The chain of changes ``fordring_id`` is part of, first claim first (``[]``: nothing
    journaled about it)."""

    def step(link: str, seen: set[str]) -> ClaimLedger | None:
        if not link or link in seen:
            return None
        seen.add(link)
        return claim_ledger(journal, cvr, link, counterpart=counterpart)

    ledger = claim_ledger(journal, cvr, fordring_id, counterpart=counterpart)
    if ledger is None:
        return []
    back = {fordring_id}
    while (before := step(ledger.erstatter, back)) is not None:
        ledger = before
    found, forward = [ledger], {ledger.fordring_id}
    while (after := step(found[-1].erstattet_af, forward)) is not None:
        found.append(after)
    return found


def ledgers(journal: JournalReader, *, counterpart: str = "debitor") -> Iterator[ClaimLedger]:
    """Every claim the debtor system took or told about, in the order first journaled."""
    seen: dict[str, tuple[str, str]] = {}
    for kind, state in ((AFSEND_KIND.name, "accepted"), (CALLBACK_KIND.name, "recorded")):
        for item in journal.items_of_kind(kind, state):
            data = item.data or {}
            if item.counterpart != counterpart or item.lookup is None or item.lookup in seen:
                continue
            if data.get("op") in ("OpretFordring",) or "type" in data:
                _, cvr, fordring_id = item.lookup.split(":", 2)
                seen[item.lookup] = (cvr, fordring_id)
    for cvr, fordring_id in seen.values():
        found = claim_ledger(journal, cvr, fordring_id, counterpart=counterpart)
        if found is not None:
            yield found


def reconcile_claims(
    journal: JournalReader,
    reported: Iterable[Saldo],
    *,
    as_of: dt.date,
    counterpart: str = "debitor",
) -> Reconciliation:
    """Our ledgers against the debtor system's balances: a claim it reports with our
    remaining debt is settled; one it does not report yet is follow-up (category 2); a
    different remaining debt, or a claim only it knows, cannot be specified (category 3)."""
    ours = list(ledgers(journal, counterpart=counterpart))
    expected = [
        Expected(_key(ledger), ledger.remaining_ore, dt.date.fromisoformat(ledger.created_on))
        for ledger in ours
        if ledger.created
    ]
    answers = [Answer(f"{s.cvr}:{s.fordring_id}", "reported", s.restgaeld_ore) for s in reported]
    result = reconcile(
        expected,
        answers,
        lambda state: ItemClass.SETTLED if state == "reported" else ItemClass.FOLLOW_UP,
        as_of=as_of,
        no_answer_state="not reported",
    )
    result.unexplained.extend(
        Difference(
            _key(ledger),
            "coverings or write-offs told for a claim never created",
            ledger.remaining_ore,
        )
        for ledger in ours
        if not ledger.created
    )
    return result


def _key(ledger: ClaimLedger) -> str:
    return f"{ledger.cvr}:{ledger.fordring_id}"
