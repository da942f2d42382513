"""Deleted debtor accounts: the Beskedfordeler component that records them.

The debtor system announces a deleted debtor account through the Beskedfordeler. The
component records it as an item of the message's transmission, looked up by the account
(``debitorkonto:<CVR>:<id>``), so that :func:`is_deleted` can stop a new claim on it. An
account announced twice (two messages) is recorded once; the second message is noted.
"""

from __future__ import annotations

from toekgw.adapters.beskedfordeler.consumer import Component
from toekgw.adapters.debitor.keys import account_key
from toekgw.adapters.debitor.ledger import claim_ledger
from toekgw.formats.debitor.besked import read_debitorkonto_slettet
from toekgw.formats.kombit.besked import Haendelsesbesked
from toekgw.gateway.journal import Journal, JournalReader, NewItem, Transmission

__all__ = ["DEBITORKONTO_SLETTET", "account_key", "is_deleted"]


def is_deleted(
    journal: JournalReader, cvr: str, account_id: str, *, counterpart: str = "beskedfordeler"
) -> bool:
    """Whether the debtor system has announced this account deleted (no new claim on it)."""
    return bool(journal.items_by_lookup(counterpart, account_key(cvr, account_id)))


def _record(journal: Journal, transmission: Transmission, message: Haendelsesbesked) -> str:
    deleted = read_debitorkonto_slettet(message.payload)
    key = account_key(deleted.myndighed, deleted.debitorkonto_id)
    what = f"debtor account {deleted.debitorkonto_id} of CVR {deleted.myndighed}"
    if journal.existing_items(transmission.counterpart, [key]):
        journal.note(transmission.id, f"{what} was already recorded deleted")
        return f"{what} already deleted"
    journal.add_items(
        transmission.id,
        [
            NewItem(
                business_key=key,
                amount_ore=0,
                lookup=key,
                data={
                    "debitorkonto_id": deleted.debitorkonto_id,
                    "cvr": deleted.myndighed,
                    "slettet": deleted.slettet.isoformat() if deleted.slettet else None,
                },
            )
        ],
        state="recorded",
        reason="the debtor system deleted the account: no new claims on it",
    )
    told = _claims_left_on(journal, deleted.myndighed, deleted.debitorkonto_id)
    return f"{what} deleted: no new claims on it" + (
        f"; {told} claim(s) on it with debt left told to their senders" if told else ""
    )


def _claims_left_on(
    journal: Journal, cvr: str, account_id: str, counterpart: str = "debitor"
) -> int:
    """Move each TØK claim on the account whose remaining debt is not 0 to
    ``account-deleted`` (its sender is told through TØK's status outbox); how many."""
    told = 0
    for entry in journal.items_by_lookup(counterpart, account_key(cvr, account_id)):
        data = entry.data or {}
        if data.get("op") != "KontoFordring" or entry.state != "accepted":
            continue
        ledger = claim_ledger(journal, cvr, str(data["fordring"]), counterpart=counterpart)
        claim_item = data.get("claim_item")
        if ledger is None or ledger.remaining_ore == 0 or claim_item is None:
            continue
        claim = journal.get_item(int(str(claim_item)))
        if claim.state == "sent":
            journal.set_item_state(
                claim.id,
                "account-deleted",
                reason=f"the debtor account was deleted with {ledger.remaining_ore} øre left "
                f"on claim {ledger.fordring_id}",
            )
            told += 1
    return told


DEBITORKONTO_SLETTET = Component("oir.debitorkonto-slettet", _record)
