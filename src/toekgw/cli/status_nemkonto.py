"""``toekgw status --bundles`` and ``--payments``: NemKonto's side of the status command."""

from __future__ import annotations

import json
from collections import Counter

import click
from rich.console import Console
from rich.table import Table

from toekgw.adapters.g68 import PAYMENT_ITEM
from toekgw.adapters.g68.payments import FOLLOW_UP_KIND
from toekgw.adapters.nemkonto import (
    flow_settings,
    overdue_payments,
    reconcile_bundles,
    render_bundles,
)
from toekgw.cli import clock
from toekgw.cli.options import masked
from toekgw.gateway.config import Settings
from toekgw.gateway.danish_time import danish_clock
from toekgw.gateway.journal import SqliteJournal
from toekgw.gateway.money import kroner

__all__ = ["show_bundles", "show_payments"]


def show_bundles(
    settings: Settings, journal: SqliteJournal, console: Console, *, as_json: bool, limit: int
) -> None:
    flow = flow_settings(settings)
    rec = reconcile_bundles(journal, flow, clock.today())
    if as_json:
        click.echo(json.dumps(rec.as_dict(), indent=2, ensure_ascii=False))
        return
    for table in render_bundles(rec, differences=limit):
        console.print(table)
    total = rec.total
    if total.reconciliation is not None:
        click.echo(
            f"category {int(total.reconciliation.category)}: {total.reconciliation.category.title}"
        )


def show_payments(
    settings: Settings, journal: SqliteJournal, console: Console, *, as_json: bool
) -> None:
    flow = flow_settings(settings)
    count: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for kind in (flow.payment_kind, FOLLOW_UP_KIND):  # received and follow-up payments
        for t in journal.state_totals(kind):
            count[t.state] += t.count
            total[t.state] += t.total_ore
    late = overdue_payments(journal, flow, clock.now())
    if as_json:
        click.echo(
            json.dumps(
                {
                    "states": {s: {"count": count[s], "oere": total[s]} for s in sorted(count)},
                    "overdue": [
                        {
                            "bundle_id": o.bundle_id,
                            "payment": masked(o.payment),
                            "state": o.state,
                            "oere": o.amount_ore,
                            "since": o.since.isoformat(),
                        }
                        for o in late
                    ],
                },
                indent=2,
            )
        )
        return
    table = Table(title="Payments by state")
    for column in ("state", "payments", "kr", "meaning"):
        table.add_column(column, justify="right" if column in ("payments", "kr") else "left")
    for state in sorted(count):
        table.add_row(
            state, str(count[state]), kroner(total[state]), PAYMENT_ITEM.descriptions.get(state, "")
        )
    console.print(table)
    if late:
        overdue = Table(title=f"Overdue (no answer within {flow.overdue})")
        for column in ("bundle", "payment", "state", "kr", "due since"):
            overdue.add_column(column, justify="right" if column == "kr" else "left")
        for o in late:
            overdue.add_row(
                o.bundle_id,
                masked(o.payment),
                o.state,
                kroner(o.amount_ore),
                danish_clock(o.since),
            )
        console.print(overdue)
    else:
        click.echo("no payment is overdue")
