"""The acceptance run: a generated delivery of 99,999 payments (the most one delivery holds)
received, validated and journaled through the simulator; then refused when it comes again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.g68_receive_helpers import excluded_lines, g68_rig, generate, receive

COUNT = 99_999


@pytest.mark.slow
def test_99999_payments_received_once_and_refused_again(tmp_path: Path) -> None:
    data, expected = generate(tmp_path, "big.g68", count=COUNT, error_rate=0.001, seed=21)
    rig = g68_rig(tmp_path)
    try:
        rig.deliver("G68_BIG.txt", data)
        (outcome,) = receive(rig)
        assert outcome.status == "received", outcome
        journaled = COUNT - len(excluded_lines(expected))
        assert outcome.message.startswith(f"{journaled} items journaled")
        db = sqlite3.connect(rig.settings.journal)
        keys, distinct = db.execute(
            "SELECT count(*), count(DISTINCT business_key) FROM items"
        ).fetchone()
        assert keys == distinct == journaled
        (findings,) = db.execute("SELECT count(*) FROM error_findings").fetchone()
        assert findings == sum(expected.values())

        rig.deliver("G68_BIG.txt", data)  # the same file again
        rig.deliver("G68_BIG_COPY.txt", data)  # the same delivery under another name
        outcomes = receive(rig)
        assert sorted(o.status for o in outcomes) == ["duplicate", "duplicate"]
        assert all(
            "already received as transmission #1 'G68_BIG.txt'" in o.message for o in outcomes
        )
        counts = db.execute(
            "SELECT (SELECT count(*) FROM transmissions), (SELECT count(*) FROM items), "
            "(SELECT count(*) FROM error_findings)"
        ).fetchone()
        assert counts == (1, journaled, findings)
    finally:
        rig.stop()
