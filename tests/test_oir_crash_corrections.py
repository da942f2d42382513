"""SIGKILL while regenerating rejected vouchers and while adding a manual voucher, then at each
step of sending them and applying the ERP's answer: restarted, every voucher is booked exactly
once in the ERP simulator's ledger (a regeneration or a manual voucher run again after a crash
finds what the killed run kept and adds nothing)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.crashkit import paused_at, resumed
from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.oir_data import BANK, EXPENSE, INTERMEDIATE, posting_day
from tests.oir_rig import OirRig
from tests.test_oir_crash import POINTS
from toekgw.adapters.oir import BOOKED_STATES
from toekgw.formats.oir import VoucherStatus


def _kill(rig: OirRig, *args: str, at: str) -> None:
    killed = rig.child("oir", *args, crash_at=at)
    assert killed.returncode == -9, (at, killed.stdout, killed.stderr)


def _send_and_receive_killed_at_each_step(rig: OirRig) -> None:
    for point in POINTS["send"]:
        _kill(rig, "send", at=point)
    rig.exchange()  # what the killed sends uploaded reaches the ERP first
    for _ in range(2):
        rig.run("oir", "send")
        rig.exchange()
    for point in POINTS["receive"]:
        _kill(rig, "receive", at=point)
    assert rig.run("oir", "receive").exit_code == 0


def _ledger_agrees(rig: OirRig) -> None:
    journal = rig.journal()
    balances = rig.ledger.balances()
    for account in (EXPENSE, INTERMEDIATE, BANK):
        ours = sum(s for _, s in journal.account_lines(account, states=BOOKED_STATES))
        assert balances.get(account, 0) == ours, account
    journal.close()


def test_sigkill_while_regenerating_rejected_vouchers_books_each_once(tmp_path: Path) -> None:
    # The day is read when the test starts, not at import: a suite that passes midnight
    # between the two would compare the CLI's new day with yesterday.
    today = posting_day()
    rig = OirRig(tmp_path)
    rig.publish_sortiment()
    assert rig.run("sortiment", "receive").exit_code == 0
    journal = rig.journal()
    journal_delivery(journal, [instruction(n, amount=100 * (n + 1)) for n in range(4)])
    first = next(iter(journal.items(journal.transmissions(kind="g68-delivery")[0].id)))
    for state in ("released", "sent", "received", "accepted", "at-bank"):
        journal.set_item_state(first.id, state, reason="test")
    journal.close()
    # The ERP's period is closed up to today: both vouchers (journaled, effectuated) rejected.
    rig.faults.closed_until = today
    assert rig.run("oir", "build").exit_code == 0
    rig.run("oir", "send")
    rig.exchange()
    assert rig.run("oir", "receive").exit_code == 1
    journal = rig.journal()
    rejected = [v.voucher_id for v in journal.vouchers(states=["rejected"])]
    journal.close()
    assert len(rejected) == 2
    rig.faults.closed_until = None
    later = (today + dt.timedelta(days=1)).isoformat()
    for voucher_id in rejected:
        _kill(rig, "regenerate", voucher_id, "--date", later, at="oir.regenerate.before_commit")
        journal = rig.journal()
        assert journal.voucher(voucher_id).state == "rejected"  # type: ignore[union-attr]
        journal.close()
        _kill(rig, "regenerate", voucher_id, "--date", later, at="oir.regenerate.after_commit")
        again = rig.run("oir", "regenerate", voucher_id, "--date", later)
        assert again.exit_code == 0 and "before (nothing new)" in again.output, again.output
    _send_and_receive_killed_at_each_step(rig)

    journal = rig.journal()
    new = journal.vouchers(states=["accepted"])
    assert len(journal.vouchers()) == 4 and len(new) == 2
    assert {v.day for v in new} == {today + dt.timedelta(days=1)}
    assert {journal.voucher(v).state for v in rejected} == {"superseded"}  # type: ignore[union-attr]
    # Each regenerated voucher booked once; the rejected originals booked never.
    assert sorted(rig.ledger.booked(VoucherStatus.ACCEPTED)) == sorted(v.voucher_id for v in new)
    assert sorted(rig.ledger.booked(VoucherStatus.REJECTED)) == sorted(rejected)
    journal.close()
    _ledger_agrees(rig)
    assert rig.ledger.balances()[INTERMEDIATE] == -(200 + 300 + 400)
    assert rig.run("oir", "balance").exit_code == 0


def _correction(tmp_path: Path, day: dt.date, text: str) -> Path:
    """A balanced manual voucher of 125.00 kr on ``day``: expense debited, intermediate
    credited."""
    csv = tmp_path / "correction.csv"
    csv.write_text(
        "date,account,side,amount,text\n"
        f"{day},{EXPENSE},D,125.00,{text}\n"
        f"{day},{INTERMEDIATE},K,125.00,{text}\n",
        encoding="utf-8",
    )
    return csv


def test_sigkill_while_adding_a_manual_voucher_books_it_once(tmp_path: Path) -> None:
    today = posting_day()  # when the test starts, as above
    rig = OirRig(tmp_path)
    rig.publish_sortiment()
    assert rig.run("sortiment", "receive").exit_code == 0
    csv = _correction(tmp_path, today, "Korrektion sag 4711")
    args = ("manual", str(csv), "--municipality", "101")
    _kill(rig, *args, at="oir.manual.before_commit")
    journal = rig.journal()
    assert journal.vouchers() == []  # killed before the commit: nothing kept
    journal.close()
    _kill(rig, *args, at="oir.manual.after_commit")
    again = rig.run("oir", *args)
    assert again.exit_code == 0 and "added before" in again.output, again.output
    _send_and_receive_killed_at_each_step(rig)

    journal = rig.journal()
    (voucher,) = journal.vouchers()
    assert (voucher.kind, voucher.state) == ("manual", "accepted")
    journal.close()
    assert rig.ledger.booked(VoucherStatus.ACCEPTED) == [voucher.voucher_id]
    balances = rig.ledger.balances()
    assert (balances[EXPENSE], balances[INTERMEDIATE]) == (12_500, -12_500)
    _ledger_agrees(rig)


def test_a_manual_voucher_being_added_holds_off_build_and_regenerate_naming_all_three(
    tmp_path: Path,
) -> None:
    """build, regenerate and manual share one lock; a regeneration or a second manual
    voucher refused while an `oir manual` ran said "another oir build is running"."""
    rig = OirRig(tmp_path)
    rig.publish_sortiment()
    assert rig.run("sortiment", "receive").exit_code == 0
    csv = _correction(tmp_path, posting_day(), "Korrektion sag 4712")
    args = ["oir", "manual", str(csv), "--municipality", "101"]
    held = paused_at(args, rig.config, "oir.manual.before_commit")
    try:
        for other in (args, ["oir", "regenerate", "V-1", "--date", "2026-02-02"]):
            refused = rig.child(*other)
            assert refused.returncode == 2, refused.stderr
            assert "another oir build, regenerate or manual is running" in refused.stderr
    finally:
        done = resumed(held)
    assert done.returncode == 0 and "built" in done.stdout, done.stderr
    journal = rig.journal()
    assert [v.kind for v in journal.vouchers()] == ["manual"]
    journal.close()
