"""The journal lookups of the debtor route: a claim's and a debtor account's entries."""

from __future__ import annotations

__all__ = ["account_key", "claim_key", "payment_key"]


def claim_key(cvr: str, fordring_id: str) -> str:
    """The lookup of everything journaled about one claim (calls and registrations)."""
    return f"fordring:{cvr}:{fordring_id}"


def account_key(cvr: str, account_id: str) -> str:
    """The lookup of a debtor account: its creation, its claims, its deletion."""
    return f"debitorkonto:{cvr}:{account_id}"


def payment_key(cvr: str, indbetaling_id: str) -> str:
    """The lookup of a payment and its corrections (their ids are ``<payment id>~<n>``)."""
    return f"indbetaling:{cvr}:{indbetaling_id.split('~', 1)[0]}"
