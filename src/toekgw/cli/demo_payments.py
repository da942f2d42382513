"""The payment operations of ``toekgw demo``: KSD sends a second, small delivery with a
suspected duplicate and an amount below the lower limit; the release's controls hold the one
and move the other to the trivial-amounts account; operators resend one rejected payment, pay
another by cash voucher and release the suspect; NemKonto pays the second round; and each
krone received is counted once (``received = paid + handled + outstanding``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from toekgw.adapters.g68 import PaymentInstruction
from toekgw.adapters.nemkonto import FlowSettings, receive_answers, release, send_bundles
from toekgw.adapters.nemkonto.orders import instruction_of
from toekgw.adapters.payments import PaymentControls, PaymentDesk, PaymentsSettings
from toekgw.adapters.payments.reconcile import reconcile_payments
from toekgw.formats.g68 import G68Delivery, G68Form, G68Header, G68Payment, encode_delivery
from toekgw.gateway.banking_days import release_date
from toekgw.gateway.errors import UsageError
from toekgw.gateway.journal import Journal
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.nemkonto import NemKontoSimulator
from toekgw.simulators.nemkonto import SimulatorScript as NemKontoScript

__all__ = ["POLICY_TOML", "TRIVIAL_ORE", "operate", "write_second_delivery"]

TRIVIAL_ORE = 1_250  # 12.50 kr: below the demo's lower limit of 20 kr
POLICY_TOML = """
[payments.municipalities.{municipality}]
alternative_account = "approval"
own_registration = "1234"
own_account = "0007654321"
trivial_account = "5.99.99.99"

[payments.municipalities.{municipality}.benefit_types.kontanthjaelp]
paying_units = ["4410", "4420"]
lower_ore = 2000
upper_ore = 3000000
"""


def _due(journal: Journal, flow: FlowSettings, today: dt.date) -> list[PaymentInstruction]:
    found = []
    for item in journal.items_of_kind(flow.payment_kind, "pending"):
        instr = instruction_of(item)
        date = instr.disposition_date
        if date is not None and release_date(date) <= today and instr.ident_code == "02":
            found.append(instr)
    return found


def write_second_delivery(
    journal: Journal, flow: FlowSettings, today: dt.date, path: Path, supplier: str
) -> dict[str, str]:
    """KSD's delivery 2: payment A again under a new ident, and 12.50 kr of kontanthjælp."""
    due = _due(journal, flow, today)
    if len(due) < 2:
        raise UsageError(
            f"demo: the second delivery repeats two of the first delivery's payments to a CPR "
            f"number due by {today}, and {len(due)} of them passed the rules (expected a larger "
            "--count, or a --today after the generated birth dates of 1940 to 2004)"
        )
    first, other = due[:2]

    def g68(instr: PaymentInstruction, sequence: int, **changes: Any) -> G68Payment:
        payment = G68Payment(
            instr.municipality, sequence, instr.transaction_type, instr.paying_unit, None,
            f"{999_000 + sequence:06d}{2:05d}{sequence:07d}", instr.amount_ore, "+",
            instr.ident_code, instr.beneficiary, instr.disposition_date,
            instr.posting_reference, instr.texts,
        )  # fmt: skip
        return dataclasses.replace(payment, **changes)

    duplicate = g68(first, 1)
    trivial = g68(other, 2, amount=TRIVIAL_ORE, paying_unit="4410")
    header = G68Header(supplier, today, dt.time(7, 0), 2, G68Form.FAST)
    lines = encode_delivery(G68Delivery(header, [duplicate, trivial]))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("iso-8859-1"))
    return {
        "duplicate_of": first.business_key,
        "duplicate": f"{supplier}:{duplicate.payment_ident}",
        "trivial": f"{supplier}:{trivial.payment_ident}",
    }


def operate(
    journal: Journal,
    flow: FlowSettings,
    policy: PaymentsSettings,
    queues: tuple[SqliteQueue, SqliteQueue],
    ledger: Path,
    *,
    today: dt.date,
    now: dt.datetime,
    second: dict[str, str],
) -> dict[str, Any]:
    """Handle the rejected payments and the suspect, pay them in a second round."""
    anna = PaymentDesk(journal, flow, policy, "anna", now)
    rejected = sorted(i.business_key for i in journal.items_of_kind(flow.payment_kind, "rejected"))
    facts: dict[str, Any] = {"rejected_before": len(rejected)}
    if rejected:
        facts["resent"] = {"payment": rejected[0], "as": anna.resend(rejected[0], "demo: "
                           "the recipient registered a NemKonto account")}  # fmt: skip
    if len(rejected) > 1:
        anna.cash(rejected[1], "KB-0001", "demo: paid at the citizen service desk")
        facts["cash_voucher"] = {"payment": rejected[1], "voucher": "KB-0001"}
    held = journal.find_items(second["duplicate"])[0].state
    anna.clear(second["duplicate"], "demo: checked the case, a second payment was due")
    gateway, simulator = queues
    again = release(journal, flow, today, controls=PaymentControls(policy, now))
    send_bundles(journal, gateway, flow)
    nemkonto = NemKontoSimulator(
        simulator, ledger, NemKontoScript(), request_queue=flow.request_queue,
        reply_queue=flow.reply_queue,
    )  # fmt: skip
    nemkonto.drain()
    nemkonto.send_bank_answers()
    nemkonto.ledger.close()
    receive_answers(journal, gateway, flow)

    def state(key: str) -> str:
        return journal.find_items(key)[0].state

    if "resent" in facts:
        facts["resent"]["state"] = state(facts["resent"]["as"])
    if "cash_voucher" in facts:
        facts["cash_voucher"]["state"] = state(rejected[1])
    facts["suspected_duplicate"] = {
        "payment": second["duplicate"], "of": second["duplicate_of"], "held_as": held,
        "released_by": "anna", "state": state(second["duplicate"]),
    }  # fmt: skip
    facts["below_lower_limit"] = {"payment": second["trivial"], "state": state(second["trivial"])}
    facts["second_release"] = again.as_dict()["released"]
    rec = reconcile_payments(journal, flow)
    facts["reconciliation"] = rec.as_dict()
    facts["summary"] = _summary(facts, rec.balanced)
    return facts


def _summary(facts: dict[str, Any], balanced: bool) -> list[str]:
    lines = []
    if "resent" in facts:
        r = facts["resent"]
        lines.append(f"rejected {r['payment']} resent as {r['as']}: {r['state']}")
    if "cash_voucher" in facts:
        c = facts["cash_voucher"]
        lines.append(f"rejected {c['payment']} paid by cash voucher {c['voucher']}")
    d = facts["suspected_duplicate"]
    lines.append(
        f"{d['payment']} held as {d['held_as']} (same as {d['of']}), released by "
        f"{d['released_by']}: {d['state']}"
    )
    t = facts["below_lower_limit"]
    lines.append(
        f"{t['payment']} of {TRIVIAL_ORE / 100:.2f} kr below the lower limit: {t['state']}"
    )
    lines.append(
        "received = paid + handled + outstanding: " + ("balanced" if balanced else "NOT BALANCED")
    )
    return lines
