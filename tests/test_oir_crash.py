"""SIGKILL between building vouchers, claiming a batch, writing it, journaling the send, the
upload, the receipt and applying the ERP's status: every voucher is booked exactly once in
the ERP simulator's ledger, and the ledger agrees with the gateway's books.

Each step's crash points are hit one after another on one rig: each killed run leaves the
state the next one resumes from (a claimed batch, a written file, a journaled send, an
uploaded file), so every point is reached with real leftovers of the ones before.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.oir_data import BANK, EXPENSE, INTERMEDIATE
from tests.oir_rig import OirRig
from toekgw.adapters.oir import BOOKED_STATES
from toekgw.formats.oir import VoucherStatus

POINTS = {
    "build": ["oir.build.after_voucher"],
    "send": [
        "oir.send.after_claim",
        "oir.send.after_write",
        "outbound.after_journal",
        "outbound.after_upload",
    ],
    "receive": ["inbound.after_commit", "oir.intake.before_commit"],
}


def _journal_payments(rig: OirRig) -> None:
    journal = rig.journal()
    journal_delivery(journal, [instruction(n, amount=100 * (n + 1)) for n in range(6)])
    for n, item in enumerate(
        i for tx in journal.transmissions(kind="g68-delivery") for i in journal.items(tx.id)
    ):
        if n % 2 == 0:
            for state in ("released", "sent", "received", "accepted", "at-bank"):
                journal.set_item_state(item.id, state, reason="test")
    journal.close()


def _kill(rig: OirRig, step: str, point: str) -> None:
    killed = rig.child("oir", step, crash_at=point)
    assert killed.returncode == -9, (point, killed.stdout, killed.stderr)


@pytest.mark.parametrize("step", sorted(POINTS))
def test_sigkill_books_every_voucher_exactly_once(tmp_path: Path, step: str) -> None:
    rig = OirRig(tmp_path)
    rig.publish_sortiment()
    assert rig.run("sortiment", "receive").exit_code == 0
    _journal_payments(rig)
    if step == "build":
        _kill(rig, "build", POINTS["build"][0])
    assert rig.run("oir", "build").exit_code == 0
    if step == "send":
        for point in POINTS["send"]:
            _kill(rig, "send", point)
        rig.exchange()  # what the killed sends uploaded reaches the ERP first
    for _ in range(2):
        rig.run("oir", "send")
        rig.exchange()
    if step == "receive":
        for point in POINTS["receive"]:
            _kill(rig, "receive", point)
    assert rig.run("oir", "receive").exit_code == 0

    journal = rig.journal()
    vouchers = journal.vouchers()
    assert len(vouchers) == 2 and {v.state for v in vouchers} == {"accepted"}
    booked = rig.ledger.booked(VoucherStatus.ACCEPTED)
    assert sorted(booked) == sorted(v.voucher_id for v in vouchers)  # each once, none missing
    balances = rig.ledger.balances()
    for account in (EXPENSE, INTERMEDIATE, BANK):
        ours = sum(s for _, s in journal.account_lines(account, states=BOOKED_STATES))
        assert balances.get(account, 0) == ours, account
    # Six payments of 100..600 øre: three paid, three outstanding on the intermediate.
    assert balances[INTERMEDIATE] == -(200 + 400 + 600)
    assert rig.run("oir", "balance").exit_code == 0
    journal.close()
