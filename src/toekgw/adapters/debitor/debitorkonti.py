"""Deleted debtor accounts: the Beskedfordeler component that records them.

The debtor system announces a deleted debtor account through the Beskedfordeler. The
component records it as an item of the message's transmission, looked up by the account
(``debitorkonto:<CVR>:<id>``), so that :func:`is_deleted` can stop a new claim on it. An
account announced twice (two messages) is recorded once; the second message is noted.
"""

from __future__ import annotations

from toekgw.adapters.beskedfordeler.consumer import Component
from toekgw.formats.debitor.besked import read_debitorkonto_slettet
from toekgw.formats.kombit.besked import Haendelsesbesked
from toekgw.gateway.journal import Journal, JournalReader, NewItem, Transmission

__all__ = ["DEBITORKONTO_SLETTET", "account_key", "is_deleted"]


def account_key(cvr: str, account_id: str) -> str:
    return f"debitorkonto:{cvr}:{account_id}"


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
    return f"{what} deleted: no new claims on it"


DEBITORKONTO_SLETTET = Component("oir.debitorkonto-slettet", _record)
