"""The demo's bookkeeping step: TØK's sortiment from Klassifikation, every payment event booked
as vouchers in the ERP simulator over Serviceplatformen, the ERP's answers taken, and the books
compared: the intermediate account equals the outstanding payments, and the ERP's ledger agrees
with the gateway's."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from toekgw.adapters.config import load_settings
from toekgw.adapters.oir import (
    BOOKED_STATES,
    SORTIMENT_KIND,
    STATUS_KIND,
    SortimentProcessor,
    StatusProcessor,
    apply_received,
    build_vouchers,
    konteringskontrol,
    oir_settings,
    send_batches,
)
from toekgw.adapters.serviceplatform import (
    ReceiveSettings,
    open_transport,
    receive_pipeline,
    serviceplatform_settings,
)
from toekgw.gateway.inbound import InboundProcessor
from toekgw.gateway.journal import SqliteJournal
from toekgw.gateway.transport.files import FileTransport
from toekgw.simulators.erp import ErpLedger, ErpSimulator
from toekgw.simulators.klassifikation import KlassifikationSimulator, month_of_deliveries
from toekgw.simulators.serviceplatform import ServiceplatformSimulator

__all__ = ["OIR_CONFIG", "PARTIES", "book_in_erp"]

PARTIES = ("erp", "klassifikation")
SORTIMENT = "0b5b6c1e-2f51-4c5e-8f38-6a3a3b0c9d11"
ACCOUNTS = {
    "expense": "5.57.72/1/5.2",
    "intermediate": "9.52.59/0/9.1",
    "bank": "9.22.05/0/9.1",
    "trivial": "9.52.56/0/9.1",
    "cash": "9.22.01/0/9.1",  # kontante beholdninger: what a cash voucher pays out of
    "own_account": "9.22.05/0/9.2",  # the municipality's own account
}
OIR_CONFIG = f"""
[receive.erp]
senders = ["erp"]

[receive.sortiment]
senders = ["klassifikation"]
counterpart = "klassifikation"

[oir]
sender_system = "5f2c1d7e-0a4b-4c39-9e21-3c0e5b7a8d42"
erp = "erp"
sortiment = "{SORTIMENT}"

[oir.accounts]
{chr(10).join(f'{role} = "{code}"' for role, code in ACCOUNTS.items())}

[oir.municipalities.{{municipality}}]
cvr = "{{cvr}}"
"""


def _take(
    journal: SqliteJournal,
    transport: FileTransport,
    processor: InboundProcessor,
    sender: str,
    staging: Path,
) -> int:
    """Poll until the platform has routed at least one file from ``sender`` to us."""
    deadline = time.monotonic() + 30
    taken = 0
    while not taken and time.monotonic() < deadline:
        pipeline = receive_pipeline(
            journal, transport, processor, party="toek", senders=(sender,), staging=staging
        )
        taken = sum(o.status == "received" for o in pipeline.poll_once())
        if not taken:
            time.sleep(0.2)
    return taken


def book_in_erp(
    journal: SqliteJournal, sim: ServiceplatformSimulator, workdir: Path, today: dt.date
) -> dict[str, Any]:
    """The bookkeeping step of the demo; what it did, and whether the books agree."""
    settings = load_settings(workdir / "toekgw.toml")
    books, sp = oir_settings(settings), serviceplatform_settings(settings)
    start = today.replace(day=1)
    klassifikation = KlassifikationSimulator(
        sim.platform.party_dir("klassifikation"), party="klassifikation", subscriber="toek"
    )
    full, _delta = month_of_deliveries(
        SORTIMENT, list(ACCOUNTS.values()), start=start, close=ACCOUNTS["expense"],
        replacement=ACCOUNTS["expense"], closed_on=start,
    )  # fmt: skip
    klassifikation.publish(full)
    ledger = ErpLedger(workdir / "var" / "erp-ledger.sqlite")
    erp = ErpSimulator(sim.platform.party_dir("erp"), ledger, party="erp")
    staging = settings.staging
    try:
        with open_transport(sp) as transport:
            _take(journal, transport, SortimentProcessor(ReceiveSettings(
                "sortiment", ("klassifikation",), "klassifikation")), "klassifikation",
                staging)  # fmt: skip
            sortiment = apply_received(journal, SORTIMENT_KIND, "klassifikation")
            built = build_vouchers(journal, books)
            sent = send_batches(journal, transport, books, sp, staging / "erp" / "outgoing")
            erp.scan_once()
            _take(journal, transport, StatusProcessor(ReceiveSettings("erp", ("erp",), "erp")),
                  "erp", staging)  # fmt: skip
            answers = apply_received(journal, STATUS_KIND, "erp")
        control = konteringskontrol(journal, books)
        intermediate = ACCOUNTS["intermediate"]
        ours = {
            code: sum(s for _, s in journal.account_lines(code, states=BOOKED_STATES))
            for code in ACCOUNTS.values()
        }
        theirs = ledger.balances()
        return {
            "sortiment": sortiment.messages,
            "vouchers": built.as_dict(),
            "batches": [b.as_dict() for b in sent],
            "erp_answers": answers.as_dict(),
            "konteringskontrol": control.as_dict(),
            "erp_ledger": theirs,
            "erp_agrees": all(theirs.get(code, 0) == ours[code] for code in ours),
            "intermediate_equals_outstanding": control.agrees
            and -theirs.get(intermediate, 0) == control.outstanding_ore,
        }
    finally:
        ledger.close()
