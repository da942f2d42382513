"""The acceptance run: a delivery of 99,999 payments through the simulator, then again."""

from __future__ import annotations

import sqlite3

import pytest

from tests.crashkit import LineProcessor, Rig, delivery_bytes
from toekgw.cli.receive._common import receive_once

COUNT = 99_999


@pytest.mark.slow
def test_99999_payments_received_once_and_refused_again(rig: Rig) -> None:
    data = delivery_bytes("S1/09999", COUNT)
    rig.deliver("G68_BIG.txt", data)
    (outcome,) = receive_once(rig.settings, "lines", LineProcessor)
    assert outcome.status == "received", outcome
    db = sqlite3.connect(rig.settings.journal)
    total = sum(100 + i % 5000 for i in range(COUNT))
    assert db.execute("SELECT count(*), sum(amount_ore) FROM items").fetchone() == (COUNT, total)

    rig.deliver("G68_BIG.txt", data)  # the same file again
    rig.deliver("G68_BIG_COPY.txt", data)  # the same delivery under another name
    outcomes = receive_once(rig.settings, "lines", LineProcessor)
    assert sorted(o.status for o in outcomes) == ["duplicate", "duplicate"]
    assert all("already received as transmission #1 'G68_BIG.txt'" in o.message for o in outcomes)
    counts = db.execute(
        "SELECT (SELECT count(*) FROM transmissions), (SELECT count(*) FROM items)"
    ).fetchone()
    assert counts == (1, COUNT)
