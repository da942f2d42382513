"""The demo's eIndkomst step has the same outcome over MQ and over SF0770_B."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import pytest

from tests.eik_flow_helpers import NOW
from tests.eik_helpers import PERIOD, SE, cpr
from toekgw.adapters.config import load_settings
from toekgw.adapters.eindkomst import (
    COUNTERPART,
    DELIVERY,
    RECEIPTS,
    PaidBenefit,
    eindkomst_settings,
)
from toekgw.cli.demo_eindkomst import ROUTES, SKAT_PARTY, eindkomst_config, report_income
from toekgw.formats.eindkomst import Sender
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport import LocalDirTransport
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.serviceplatform import Platform

D1, D2 = dt.date(2026, 11, 20), dt.date(2026, 11, 27)
BENEFITS = [
    *(PaidBenefit(cpr(i), 500_000 + 1_000 * i, D1, tax_ore=100_000) for i in range(30)),
    *(PaidBenefit(cpr(i), 400_000, D2) for i in range(10, 45)),  # A-tax from the card: 55 %
]


def _run(base: Path, route: Literal["mq", "serviceplatform"]) -> tuple[dict[str, Any], list[str]]:
    var = base / "var"
    var.mkdir(parents=True)
    platform = Platform(base / "platform")
    platform.add_party("toek")
    journal = open_journal(var / "journal.sqlite")
    queues = (SqliteQueue(var / "queues.sqlite"), SqliteQueue(var / "queues.sqlite"))
    try:
        summary = report_income(
            journal,
            BENEFITS,
            PERIOD,
            route=route,
            var=var,
            sender=Sender(se=SE, cvr=SE),
            seed=2026,
            queues=queues,
            platform=platform,
            transport=LocalDirTransport(platform.party_dir("toek")),
            clock=lambda: NOW,
        )
        states = [
            t.state
            for kind in (DELIVERY, RECEIPTS)
            for t in journal.transmissions(counterpart=COUNTERPART, kind=kind.name)
        ]
        return summary.as_dict(), states
    finally:
        for q in queues:
            q.close()
        journal.close()


def test_the_demo_step_has_the_same_outcome_on_both_routes(tmp_path: Path) -> None:
    over_mq, mq_states = _run(tmp_path / "mq", "mq")
    over_sp, sp_states = _run(tmp_path / "sp", "serviceplatform")
    assert over_mq == over_sp
    assert mq_states == sp_states == ["receipted", "received"]
    assert over_mq["recipients"] == 65 and len(over_mq["report_ids"]) == 2
    assert over_mq["reconciliation"]["category"] == 1  # type: ignore[index]
    assert {r["status"] for r in over_mq["reports"]} == {"accepted"}  # type: ignore[union-attr]


@pytest.mark.parametrize("route", ROUTES)
def test_the_demos_eindkomst_table_names_what_its_step_uses(
    tmp_path: Path, route: Literal["mq", "serviceplatform"]
) -> None:
    """`toekgw demo` writes an [eindkomst] table, so `toekgw eindkomst … --config` works on
    what the demo reported: the route, sender, queue and outbox report_income used."""
    config = tmp_path / "toekgw.toml"
    base = '[journal]\npath = "var/journal.sqlite"\n\n[staging]\ndir = "var/staging"\n'
    config.write_text(base + eindkomst_config(route, SE), encoding="utf-8")
    eik = eindkomst_settings(load_settings(config))
    assert (eik.route, eik.sender_se, eik.companies) == (route, SE, (SE,))
    assert eik.outbox == tmp_path / "var" / "eindkomst-outbox"
    assert (eik.mq.transport, eik.mq.queue_db) == ("sqlite", tmp_path / "var" / "queues.sqlite")
    assert eik.skat_party == (SKAT_PARTY if route == "serviceplatform" else None)
