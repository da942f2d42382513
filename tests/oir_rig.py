"""A local Serviceplatformen (directories) with the gateway, the ERP and Klassifikation as
parties, a toekgw.toml for them, and helpers to run the ØiR commands in-process or as a child
process (the crash tests kill the child at a named crash point)."""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result

from tests.crashkit import toekgw_child
from tests.oir_data import (
    BANK,
    ERP,
    EXPENSE,
    EXPENSE_NEW,
    INTERMEDIATE,
    SENDER_SYSTEM,
    SORTIMENT,
    TRIVIAL,
)
from toekgw.cli.main import cli
from toekgw.gateway.journal import SqliteJournal, open_journal
from toekgw.simulators.erp import ErpFaults, ErpLedger, ErpSimulator
from toekgw.simulators.klassifikation import KlassifikationSimulator, month_of_deliveries
from toekgw.simulators.serviceplatform import Platform

CONFIG = f"""
[journal]
path = "var/journal.sqlite"

[staging]
dir = "var/staging"

[serviceplatform]
party = "toek"
transport = "localdir"
receipt_timeout = 0.2

[serviceplatform.localdir]
root = "platform/parties/toek"

[receive.erp]
senders = ["{ERP}"]

[receive.sortiment]
senders = ["klassifikation"]
counterpart = "klassifikation"

[oir]
sender_system = "{SENDER_SYSTEM}"
erp = "{ERP}"
sortiment = "{SORTIMENT}"
max_vouchers_per_file = 2

[oir.accounts]
expense = "{EXPENSE}"
intermediate = "{INTERMEDIATE}"
bank = "{BANK}"
trivial = "{TRIVIAL}"

[oir.municipalities.101]
cvr = "29189846"
"""


@dataclass
class OirRig:
    root: Path

    def __post_init__(self) -> None:
        self.config = self.root / "toekgw.toml"
        self.config.write_text(CONFIG, encoding="utf-8")
        self.platform = Platform(self.root / "platform")
        for party in ("toek", ERP, "klassifikation"):
            self.platform.add_party(party)
        self.ledger = ErpLedger(self.root / "erp-ledger.sqlite")
        self.erp = ErpSimulator(self.platform.party_dir(ERP), self.ledger, party=ERP)
        self.klassifikation = KlassifikationSimulator(
            self.platform.party_dir("klassifikation"), party="klassifikation", subscriber="toek"
        )

    @property
    def faults(self) -> ErpFaults:
        return self.erp.faults

    def journal(self) -> SqliteJournal:
        return open_journal(self.root / "var" / "journal.sqlite")

    def publish_sortiment(self, closed_on: dt.date | None = None) -> None:
        deliveries = month_of_deliveries(
            SORTIMENT,
            [EXPENSE, INTERMEDIATE, BANK, TRIVIAL],
            start=dt.date(2026, 1, 1),
            close=EXPENSE,
            replacement=EXPENSE_NEW,
            closed_on=closed_on or dt.date(2026, 1, 1),
        )
        for delivery in deliveries if closed_on else deliveries[:1]:
            self.klassifikation.publish(delivery)
        self.platform.scan()

    def exchange(self) -> None:
        """The platform routes what was uploaded; the ERP answers; the answers are routed."""
        self.platform.scan()
        self.erp.scan_once()
        self.platform.scan()

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(cli, [*args, "--config", str(self.config)])

    def child(self, *args: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
        return toekgw_child(list(args), self.config, cwd=self.root, crash_at=crash_at, timeout=60)
