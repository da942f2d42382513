"""`toekgw run` schedules the ØiR flows: the sortiment, building and sending the vouchers on
[oir] send_interval, and the ERP's answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.oir_rig import OirRig
from toekgw.adapters.config import load_settings
from toekgw.adapters.service import build_jobs


def test_the_service_runs_the_oir_flows(tmp_path: Path) -> None:
    rig = OirRig(tmp_path)
    text = rig.config.read_text().replace("max_vouchers_per_file = 2", "send_interval = 900")
    rig.config.write_text(text)
    jobs = {job.name: job for job in build_jobs(load_settings(rig.config))}
    assert {"sortiment-receive", "oir-send", "oir-receive"} <= set(jobs)
    assert jobs["oir-send"].interval == 900
    now = dt.datetime.now(dt.UTC)
    rig.publish_sortiment()
    assert "version 1 (full, 4 classes) applied" in jobs["sortiment-receive"].action(now).summary
    journal = rig.journal()
    journal_delivery(journal, [instruction(1, amount=500)])
    journal.close()
    report = jobs["oir-send"].action(now)
    assert report.counts == {"built": 1, "held": 0, "batches": 1}
    rig.exchange()
    jobs["oir-send"].action(now)  # collects the receipt
    rig.exchange()
    assert jobs["oir-receive"].action(now).counts == {"answers": 1, "rejected": 0}
    assert len(rig.ledger.booked()) == 1


def test_the_service_with_oir_and_no_serviceplatform_stops_at_the_start(tmp_path: Path) -> None:
    """[serviceplatform] is optional (an MQ-only installation has none), but ØiR's vouchers
    go over it: the service says so when it starts, not in every run of the job."""
    import pytest

    from tests.oir_rig import CONFIG
    from toekgw.adapters.config import ConfigError

    start = CONFIG.index("[serviceplatform]")
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG[:start] + CONFIG[CONFIG.index("[receive.erp]") :], encoding="utf-8")
    with pytest.raises(ConfigError, match=r"no \[serviceplatform\] table"):
        build_jobs(load_settings(config))
