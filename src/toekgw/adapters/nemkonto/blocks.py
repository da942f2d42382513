"""The recipient block list: payments to a blocked recipient are held in the journal.

A block is an item of the one ``nemkonto-blocks`` transmission, keyed by the recipient
(``CPR:0101011234``, ``CVR:…``, ``SE:…``, ``PNumber:…``, ``ACCOUNT:<reg><account>``), so that
every block and every lift is an event with its reason in the audit trail. The next release
holds the recipient's pending payments (``blocked``) and returns them to ``pending`` once the
block is lifted. A payment already released is not affected: it has gone to NemKonto.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from toekgw.adapters.nemkonto.orders import ACCOUNT, IDENT_KINDS
from toekgw.adapters.nemkonto.settings import BLOCKS_KIND, FlowSettings
from toekgw.formats.findings import mask_cpr, mask_cpr_in_text
from toekgw.formats.idents import cpr_problem, cvr_problem, pnumber_problem, se_problem
from toekgw.gateway.errors import InputError
from toekgw.gateway.journal import Journal, NewItem, NewTransmission, Transmission

__all__ = ["Block", "block_recipient", "blocks", "lift_block", "recipient"]

_WIDTH = {kind.value.upper(): (kind.value, width) for kind, width in IDENT_KINDS.values()}
# A block may be placed ahead of time: any real birth date will do for a CPR number.
_CHECK: dict[str, Callable[[str], str | None]] = {
    "CPR": lambda number: cpr_problem(number, dt.date.max),
    "CVR": cvr_problem,
    "SE": se_problem,
    "PNUMBER": pnumber_problem,
}


@dataclass(frozen=True, slots=True)
class Block:
    recipient: str
    state: str
    reason: str
    updated_at: str

    @property
    def shown(self) -> str:
        """The recipient as it may be shown: a CPR masked, and whatever else could be one (a
        P-number or an account holding its digits), as ``toekgw nemkonto block`` shows it."""
        kind, _, number = self.recipient.partition(":")
        return f"{kind}:{mask_cpr(number)}" if kind == "CPR" else mask_cpr_in_text(self.recipient)


def recipient(kind: str, number: str) -> str:
    """The block key of a recipient; ``kind`` is cpr, cvr, se, pnumber or account."""
    upper = kind.upper()
    number = number.replace("-", "").replace(" ", "")
    if upper == ACCOUNT:
        if not number.isdigit() or len(number) != 14:
            raise InputError(
                f"account {number!r}: expected 14 digits (registration number, then a "
                "10-digit account number, as in the G68 record)"
            )
        return f"{ACCOUNT}:{number}"
    if upper not in _WIDTH:
        raise InputError(f"recipient kind {kind!r}: expected cpr, cvr, se, pnumber or account")
    name, width = _WIDTH[upper]
    problem = _CHECK[upper](number)
    if problem or len(number) != width:
        shown = mask_cpr(number) if upper == "CPR" else number
        raise InputError(f"{name} {shown!r}: not a valid {name} number ({problem or 'length'})")
    return f"{name}:{number}"


def _list(journal: Journal, settings: FlowSettings) -> Transmission:
    journal.define_kind(BLOCKS_KIND)
    ref = f"{settings.counterpart}:recipient-blocks"
    tx = journal.find_transmission(ref=ref)
    if tx is None:
        tx = journal.create_transmission(
            NewTransmission(
                counterpart=settings.counterpart,
                kind=BLOCKS_KIND.name,
                state="open",
                ref=ref,
                reason="the recipient block list",
            )
        )
    return tx


def block_recipient(journal: Journal, settings: FlowSettings, key: str, reason: str) -> bool:
    """Block ``key`` (from :func:`recipient`); False if it was blocked already."""
    with journal.transaction(durable=True):
        tx = _list(journal, settings)
        found = journal.find_items(key, settings.counterpart)
        why = mask_cpr_in_text(f"blocked: {reason}")
        if not found:
            journal.add_items(
                tx.id, [NewItem(key, 0, data={"reason": reason})], state="blocked", reason=why
            )
            return True
        if found[0].state == "blocked":
            return False
        journal.set_item_state(found[0].id, "blocked", reason=why, expect="lifted")
        return True


def lift_block(journal: Journal, settings: FlowSettings, key: str, reason: str) -> bool:
    """Lift the block of ``key``; False if it was not blocked."""
    with journal.transaction(durable=True):
        _list(journal, settings)
        found = journal.find_items(key, settings.counterpart)
        if not found or found[0].state != "blocked":
            return False
        journal.set_item_state(
            found[0].id, "lifted", reason=mask_cpr_in_text(f"lifted: {reason}"), expect="blocked"
        )
        return True


def blocks(journal: Journal, settings: FlowSettings) -> list[Block]:
    tx = _list(journal, settings)
    result = []
    for item in journal.items(tx.id):
        history = journal.item_history(item.id)
        last = history.events[-1].reason if history.events else ""
        result.append(Block(item.business_key, item.state, last, item.updated_at))
    return result
