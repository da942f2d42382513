"""A changed set-off sent to B_03: the difference as a new payment when it grew, a reversal of
the newest payments when it shrank (ours: B_03 knows payments only); journaled first, made
once, and the claim ledger right after the debtor system's coverings and reversals."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.debitor_rig import CVR, Rig, claim, debtor_rig
from tests.tok_helpers import header, order
from toekgw.adapters.debitor import SendResult, claim_ledger
from toekgw.adapters.debitor.claims import corrections, fordring_id
from toekgw.formats.debitor.registrering import Indbetaling
from toekgw.formats.tok import SetOff
from toekgw.gateway.journal import Item, open_journal

DAY = dt.date(2026, 12, 4)


@pytest.fixture
def rig(tmp_path: Path):  # type: ignore[no-untyped-def]
    with debtor_rig(tmp_path) as made:
        yield made


def wait_for(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_grown_then_shrunk_set_off_is_paid_in_then_reversed(rig: Rig) -> None:
    rig.send_tok(claim("C-9", 400_00, sender="KY"), order("P-9", 1_000_00))
    fid = fordring_id("KY", "C-9")
    journal = open_journal(rig.journal_path)

    def covered(amount: int) -> Callable[[], bool]:
        return lambda: claim_ledger(journal, CVR, fid).coverings_ore == amount  # type: ignore[union-attr]

    try:
        assert rig.sender(journal).run().sent == 1
        rig.send_tok(SetOff(header(), "S-9", "create", "P-9", "C-9", 150_00))
        assert rig.sender(journal).run().sent == 1
        wait_for(covered(150_00))
        rig.send_tok(SetOff(header(), "S-9", "change", "P-9", "C-9", 200_00))
        assert rig.sender(journal).run().sent == 1  # +50.00: a new payment
        wait_for(covered(200_00))
        rig.send_tok(SetOff(header(), "S-9", "change", "P-9", "C-9", 20_00))
        assert rig.sender(journal).run().sent == 1  # -180.00: both payments reversed in part
        wait_for(covered(20_00))
        ledger = claim_ledger(journal, CVR, fid)
        assert ledger is not None and (ledger.paid_in_ore, ledger.remaining_ore) == (20_00, 380_00)
        made = rig.system.claim(CVR, fid)
        assert made is not None and made.remaining_ore == 380_00
        assert rig.sender(journal).run() == SendResult()  # each correction is made once
        rig.send_tok(SetOff(header(), "S-9", "change", "P-9", "C-9", 20_00))
        assert rig.sender(journal).run() == SendResult()  # unchanged: nothing to send
        calls = journal.transmissions(counterpart="debitor", kind="debitor-afsend")
        rows = [op for call in sorted(calls, key=lambda c: c.id)[1:]
                for op in call.meta["operations"]]  # type: ignore[union-attr]  # fmt: skip
        shapes = [
            (r["indbetaling_id"].count("~"), r["beloeb_ore"], r["tilbagefoerer"]) for r in rows
        ]  # type: ignore[index]
        first = "KY-S-9"
        grown = str(rows[1]["indbetaling_id"])  # type: ignore[index]
        assert shapes == [
            (0, 150_00, None),
            (1, 50_00, None),
            (1, 50_00, grown),
            (1, 130_00, first),
        ]
    finally:
        journal.close()


def test_a_set_off_at_half_past_midnight_in_denmark_pays_on_that_day(rig: Rig) -> None:
    """At 23:30 UTC it is 00:30 of the next day in Denmark: the payment a set-off makes on the
    claim is dated that Danish day, not the UTC date before it (the debt collection reckons
    a claim's days in Danish time)."""
    today = dt.datetime.now(dt.UTC).date()
    late = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(23, 30), dt.UTC)
    rig.send_tok(claim("C-7", 400_00, sender="KY"), order("P-7", 1_000_00))
    journal = open_journal(rig.journal_path)
    try:
        sender = rig.sender(journal, now=lambda: late)
        assert sender.run().sent == 1
        rig.send_tok(SetOff(header(), "S-7", "create", "P-7", "C-7", 150_00))
        assert sender.run().sent == 1
        calls = journal.transmissions(counterpart="debitor", kind="debitor-afsend")
        (paid,) = [
            op for call in calls for op in call.meta["operations"]  # type: ignore[union-attr]
            if op.get("type") == "Indbetaling"
        ]  # fmt: skip
        assert paid["dato"] == today.isoformat()
    finally:
        journal.close()


def _paid(n: int, payment: str, amount: int, reverses: str | None = None) -> Item:
    data = {
        "op": "Indbetaling",
        "fordring": "F-1",
        "indbetaling": payment,
        "tilbagefoerer": reverses,
    }
    return Item(n, 1, "debitor", f"b:{n}", amount, None, None, "accepted", "", "", data)


def test_corrections_pay_the_growth_and_reverse_the_newest_payments_first() -> None:
    paid = [_paid(1, "S", 100_00), _paid(2, "S~7", 30_00), _paid(3, "S~8", 10_00, "S~7")]
    assert corrections(paid, "S~9", "F-2", 120_00, DAY) == ()  # 100 + 30 - 10
    assert corrections(paid, "S~9", "F-2", 150_00, DAY) == (Indbetaling("S~9", "F-2", 30_00, DAY),)
    assert corrections(paid, "S~9", "F-2", 50_00, DAY) == (
        Indbetaling("S~9", "F-1", 20_00, DAY, tilbagefoerer="S~7"),
        Indbetaling("S~9.1", "F-1", 50_00, DAY, tilbagefoerer="S"),
    )
    assert corrections([], "S~9", "F-2", 40_00, DAY) == (Indbetaling("S~9", "F-2", 40_00, DAY),)
