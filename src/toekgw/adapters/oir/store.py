"""What the ØiR adapter needs of the journal: the journal itself and its books."""

from __future__ import annotations

from typing import Protocol

from toekgw.gateway.journal import Journal
from toekgw.gateway.journal.books import Books

__all__ = ["COUNTERPART", "HELD_SUBJECT", "BooksJournal"]

#: Vouchers, their batches and the ERP's answers are journaled under this counterpart.
COUNTERPART = "erp"
#: The error-list subject of a voucher held back from sending (regenerate it).
HELD_SUBJECT = "voucher-held"


class BooksJournal(Journal, Books, Protocol):
    """A journal with books (:class:`~toekgw.gateway.journal.SqliteJournal` is one)."""
