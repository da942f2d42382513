"""Which part of a recipient block's journal payload is personal data (retention:
:mod:`toekgw.gateway.privacy`).

A block (``nemkonto-blocks``) keeps the reason it was placed for in its payload
(``reason``): an operator's free text about the recipient, personal data. Once the block is
``lifted`` nothing reads it (the block list shows each block's last event, its reason masked);
while ``blocked`` it stays in clear. The recipient itself is the block's business key
(``CPR:<number>``, ``ACCOUNT:<reg><account>``, ...), which the hash chain hashes: retention
cannot replace it, and the payload names no citizen the read log could list.

A stop request (``nemkonto-stop``) keeps the operator's reason for it in its metadata
(``meta["reason"]``, CPR numbers masked when written, but free text that may name the
recipient). It is read to build the request while ``prepared`` (:func:`~toekgw.adapters.
nemkonto.stops.stop_request_of`) and by nothing once NemKonto answered it (``stopped``,
``too-late``: final), when retention replaces it past the period. A stop has no items.
"""

from __future__ import annotations

from toekgw.adapters.nemkonto.settings import BLOCKS_KIND
from toekgw.adapters.nemkonto.stops import STOP_KIND
from toekgw.gateway.privacy import PersonalData, register_personal_data

__all__ = ["BLOCK_DATA", "STOP_DATA"]

BLOCK_DATA = PersonalData(
    fields=("reason",), subjects=lambda data: [], settled=frozenset({"lifted"})
)
STOP_DATA = PersonalData(meta_fields=("reason",))

register_personal_data(BLOCKS_KIND.name, BLOCK_DATA)
register_personal_data(STOP_KIND.name, STOP_DATA)
