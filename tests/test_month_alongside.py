"""The month-end bench's run of the answering as in operation (``bench/month_alongside.py``).

On a small month the NemKonto simulator and the gateway, two processes at once, must end with
every item where the stages in turn leave it (``bench/month_end.py`` raises otherwise), and
take every answer; a child that fails stops the other instead of leaving it waiting.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from bench import month_alongside, month_end


def test_the_month_alongside_ends_as_the_stages_in_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the month's work directory
    result = month_end.month(3_000, 1_000)
    stages, side = result["stages"], result["alongside"]
    assert isinstance(stages, dict) and isinstance(side, dict)
    released = stages["release"]["count"]
    assert released > 2_000  # the generator plants a few refused payments
    assert side["nemkonto alongside"]["count"] == stages["nemkonto answers"]["count"] == released
    # every answer taken: the same items moved as by the stages in turn
    assert side["send + receive nemkonto"]["count"] == stages["receive nemkonto"]["count"]
    together = side["together"]
    assert together["wall_s"] >= side["nemkonto alongside"]["wall_s"] - 0.01
    assert together["cpu_s"] > side["nemkonto alongside"]["cpu_s"]
    month_alone = sum(stages[s]["wall_s"] for s in ("send", "receive g68", "release"))
    assert result["first_send_to_status_alongside_s"] == pytest.approx(
        month_alone + together["wall_s"] + side["status --bundles"]["wall_s"], abs=0.02
    )
    # the copy ended as the stages in turn (the bench raises otherwise) and is gone
    work = Path(str(result["workdir"]))
    assert (work / "journal.sqlite").exists() and not (work / "alongside").exists()


def test_a_child_that_fails_stops_the_other(tmp_path: Path) -> None:
    script = tmp_path / "children.py"
    script.write_text(
        "import os, sys, time\n"
        "if sys.argv[2] == 'fails':\n"
        "    time.sleep(0.5)\n"
        "    sys.exit('the ledger is gone')\n"
        "open(sys.argv[4] + '/waits.pid', 'w').write(str(os.getpid()))\n"
        "time.sleep(600)\n",
        encoding="utf-8",
    )
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"fails failed \(1\):\n.*the ledger is gone"):
        month_alongside.run_pair(str(script), tmp_path, ("waits", "fails"))
    assert time.monotonic() - start < 60
    waiting = int((tmp_path / "waits.pid").read_text())
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left waiting
        os.kill(waiting, 0)
