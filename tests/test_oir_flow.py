"""The ØiR flow through the commands, against a local platform, the ERP simulator and
Klassifikation: payments are booked, the ERP's ledger agrees with the gateway."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.oir_data import EXPENSE, EXPENSE_NEW, INTERMEDIATE
from tests.oir_rig import OirRig
from toekgw.formats.oir import VoucherStatus


def _payments(rig: OirRig, count: int = 3, *, paid: int = 1) -> list[str]:
    journal = rig.journal()
    journal_delivery(journal, [instruction(n, amount=1_000 * (n + 1)) for n in range(count)])
    keys = []
    for tx in journal.transmissions(kind="g68-delivery"):
        for item in journal.items(tx.id):
            keys.append(item.business_key)
            if len(keys) <= paid:
                for state in ("released", "sent", "received", "accepted", "at-bank"):
                    journal.set_item_state(item.id, state, reason="test")
    journal.close()
    return keys


def test_payments_are_booked_in_the_erp_and_the_books_agree(tmp_path: Path) -> None:
    rig = OirRig(tmp_path)
    rig.publish_sortiment()
    result = rig.run("sortiment", "receive")
    assert result.exit_code == 0, result.output
    assert "version 1 (full, 4 classes) applied" in result.output
    _payments(rig, 3, paid=1)
    assert rig.run("oir", "build").exit_code == 0
    first = rig.run("oir", "send")
    assert first.exit_code == 0 and "no technical receipt" in first.output, first.output
    rig.exchange()
    second = rig.run("oir", "send")
    assert second.exit_code == 0 and "the platform took it" in second.output, second.output
    received = rig.run("oir", "receive")
    assert received.exit_code == 0, received.output
    assert "2 accepted" in received.output  # journaled + effectuated vouchers
    journal = rig.journal()
    assert {v.state for v in journal.vouchers()} == {"accepted"}
    journal.close()
    balance = rig.run("oir", "balance", "--json")
    assert balance.exit_code == 0, balance.output
    control = json.loads(balance.output)
    assert control["agrees"] and control["outstanding_ore"] == 2_000 + 3_000
    # The ERP's ledger: the intermediate account's credit is the outstanding payments.
    assert rig.ledger.balances()[INTERMEDIATE] == -control["intermediate_balance_ore"]
    export = rig.run("oir", "export", "--month", dt.date.today().strftime("%Y-%m"))
    assert export.exit_code == 0
    lines = export.output.splitlines()
    assert lines[0].startswith("posting_date,voucher_id") and len(lines) == 1 + 2 * 4


def test_a_rejected_voucher_is_listed_then_regenerated_and_booked(tmp_path: Path) -> None:
    rig = OirRig(tmp_path)
    rig.publish_sortiment(closed_on=dt.date.today() + dt.timedelta(days=1))
    assert rig.run("sortiment", "receive").exit_code == 0
    rig.faults.unknown_accounts.add(EXPENSE)
    _payments(rig, 1, paid=0)
    assert rig.run("oir", "build").exit_code == 0
    rig.run("oir", "send")
    rig.exchange()
    rig.run("oir", "send")
    received = rig.run("oir", "receive")
    assert received.exit_code == 1 and "1 rejected" in received.output, received.output
    errors = rig.run("errors")
    assert "ukendt konto 5.57.72/1/5.2" in errors.output, errors.output
    journal = rig.journal()
    (rejected,) = journal.vouchers(states=["rejected"])
    journal.close()
    # Tomorrow the sortiment's replacement account opens; the [oir] accounts name it.
    text = rig.config.read_text().replace(f'expense = "{EXPENSE}"', f'expense = "{EXPENSE_NEW}"')
    rig.config.write_text(text)
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    result = rig.run("oir", "regenerate", rejected.voucher_id, "--date", tomorrow)
    assert result.exit_code == 0, result.output
    rig.run("oir", "send")
    rig.exchange()
    rig.run("oir", "send")
    assert rig.run("oir", "receive").exit_code == 0
    assert rig.ledger.balances()[EXPENSE_NEW] == 1_000
    assert len(rig.ledger.booked(VoucherStatus.ACCEPTED)) == 1


def test_sortiment_commands(tmp_path: Path) -> None:
    rig = OirRig(tmp_path)
    rig.publish_sortiment(closed_on=dt.date(2026, 11, 15))
    assert rig.run("sortiment", "receive").exit_code == 0
    status = rig.run("sortiment", "status")
    assert "version    1  FULD" in status.output and "version    2  DELTA" in status.output
    shown = rig.run("sortiment", "show", EXPENSE)
    assert "valid 2026-01-01..2026-11-14" in shown.output, shown.output
    changed = rig.run("sortiment", "diff")
    assert f"changed  {EXPENSE}  valid 2026-01-01.. -> 2026-01-01..2026-11-14" in changed.output
    assert f"added    {EXPENSE_NEW}" in changed.output
    assert rig.run("sortiment", "show", "1.11.11/1/1").exit_code == 1
