"""The month-end hook: kontanthjælp reported as income type 06, receipts reconciled."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from rich.console import Console

from tests.eik_flow_helpers import NOW, rig
from tests.eik_helpers import SE, cpr
from toekgw.adapters.eindkomst.demo import PaidBenefit, render_summary, report_paid_benefits
from toekgw.formats.eindkomst import TaxCardOrder
from toekgw.gateway.reconcile import Category
from toekgw.simulators.eindkomst import SimulatorScript

D1, D2 = dt.date(2026, 11, 2), dt.date(2026, 11, 16)
PERIOD = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def test_paid_benefits_reported_and_reconciled(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        carded = cpr(1)
        r.gateway.send(orders=[TaxCardOrder(SE, carded, D1, "1", dt.date(2026, 11, 1))])
        r.round_trip()
        card = r.gateway.withholding(carded, D1)
        payments = [
            PaidBenefit(carded, 600_000, D1),
            PaidBenefit(carded, 600_000, D2),
            PaidBenefit(cpr(2), 1_000_000, D1, tax_ore=250_000),
            PaidBenefit(cpr(2), 500_000, D1, tax_ore=125_000),
            PaidBenefit(cpr(3), 800_000, D2),  # no card: 55 %
        ]
        summary = report_paid_benefits(
            r.journal,
            r.gateway.route,
            payments,
            PERIOD,
            sender=r.gateway.sender,
            outbox=tmp_path / "outbox",
            answer=r.sim.drain,
            clock=lambda: NOW,
        )
        assert len(summary.report_ids) == 2  # one per disposition date
        assert summary.income_ore == 3_500_000
        assert card.card is not None
        deduction = card.card.deduction_month or 0
        carded_tax = max(0, 600_000 - deduction) * card.rate_pct // 100
        assert summary.tax_ore == 2 * carded_tax + 375_000 + 800_000 * 55 // 100
        assert [line.result.status.value for line in summary.lines] == ["accepted"] * 2
        assert summary.reconciliation is not None
        assert summary.reconciliation.category is Category.RECONCILED
        data = summary.as_dict()
        assert data["income_type"] == "06"
        out = io.StringIO()
        Console(file=out, width=160).print(render_summary(summary))
        assert "category 1" in out.getvalue() and carded not in out.getvalue()


def test_a_rejected_recipient_shows_in_the_summary(tmp_path: Path) -> None:
    bad = cpr(4)
    with rig(tmp_path, SimulatorScript(reject_cprs=frozenset({bad}))) as r:
        payments = [PaidBenefit(bad, 100_000, D1, 0), PaidBenefit(cpr(5), 200_000, D1, 0)]
        summary = report_paid_benefits(
            r.journal,
            r.gateway.route,
            payments,
            PERIOD,
            sender=r.gateway.sender,
            outbox=tmp_path / "outbox",
            answer=r.sim.drain,
        )
        assert summary.reconciliation is not None
        assert summary.reconciliation.category is Category.FOLLOW_UP
        out = io.StringIO()
        Console(file=out, width=200).print(render_summary(summary))
        text = out.getvalue()
        assert f"{bad[:6]}-****" in text and bad not in text
