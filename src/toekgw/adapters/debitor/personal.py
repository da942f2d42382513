"""Which part of a call to the debtor system is personal data (retention:
:mod:`toekgw.gateway.privacy`).

A ``debitor-afsend`` transmission keeps the message it makes in its metadata
(``meta["operations"]``, :mod:`toekgw.adapters.debitor.afsend`) so that a call left
``claimed`` is made again byte for byte. Two of its operations' fields are personal data: an
``OpretDebitorkonto``'s party (``part.number``: the debtor's CPR number, or a company's CVR)
and a ``NedskrivFordring``'s reason (``aarsag``: TØK's free text about the write-down, which
``tok-claims`` replaces in its payload too). Retention replaces them once the call is
answered or rejected (final) and past the period. Nothing needs them then: the message is made
again only while ``claimed``; a later change of a claim reads the claim as the debtor system
took it (``_opret_of`` in :mod:`toekgw.adapters.debitor.claims`: the ``OpretFordring``
operation, which names the debtor account by its id, not the debtor); ``toekgw debitor
status`` shows the operations' types only. The account's id
(:func:`~toekgw.adapters.debitor.claims.konto_id`) is the debtor system's key for the
account and stays. The call's items hold ids and amounts, no citizen: nothing to replace, and
none for the read log.
"""

from __future__ import annotations

from toekgw.adapters.debitor.afsend import AFSEND_KIND
from toekgw.gateway.privacy import PersonalData, register_personal_data

__all__ = ["CALL_DATA"]

CALL_DATA = PersonalData(meta_fields=("operations.*.part.number", "operations.*.aarsag"))

register_personal_data(AFSEND_KIND.name, CALL_DATA)
