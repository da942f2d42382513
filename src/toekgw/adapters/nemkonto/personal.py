"""Which part of a recipient block's journal payload is personal data (retention:
:mod:`toekgw.gateway.privacy`).

A block (``nemkonto-blocks``) keeps the reason it was placed for in its payload
(``reason``): an operator's free text about the recipient, personal data. Once the block is
``lifted`` nothing reads it (the block list shows each block's last event, its reason masked);
while ``blocked`` it stays in clear. The recipient itself is the block's business key
(``CPR:<number>``, ``ACCOUNT:<reg><account>``, ...), which the hash chain hashes: retention
cannot replace it, and the payload names no citizen the read log could list.
"""

from __future__ import annotations

from toekgw.adapters.nemkonto.settings import BLOCKS_KIND
from toekgw.gateway.privacy import PersonalData, register_personal_data

__all__ = ["BLOCK_DATA"]

BLOCK_DATA = PersonalData(
    fields=("reason",), subjects=lambda data: [], settled=frozenset({"lifted"})
)

register_personal_data(BLOCKS_KIND.name, BLOCK_DATA)
