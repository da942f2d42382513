"""``toekgw status``: the journal's transmissions and their states; ``--item KEY`` one item's
whole history, from the file it came in to its last state; ``--reports`` every eIndkomst report
against its receipts."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from toekgw.adapters.config import load_settings
from toekgw.adapters.eindkomst import (
    ReportLine,
    overdue_after,
    period_reconciliation,
    report_lines,
    reports_dict,
)
from toekgw.adapters.g68 import PaymentInstruction
from toekgw.adapters.monthreport import month as month_span
from toekgw.cli import clock
from toekgw.cli.options import config_option
from toekgw.formats.findings import mask_cpr, mask_cpr_in_text
from toekgw.gateway.config import Settings, did_you_mean
from toekgw.gateway.danish_time import danish_clock, danish_date
from toekgw.gateway.errors import InputError
from toekgw.gateway.journal import ItemHistory, SqliteJournal, Transmission, open_journal
from toekgw.gateway.kinds import transmission_states
from toekgw.gateway.money import kroner
from toekgw.gateway.privacy import subjects_of
from toekgw.gateway.reconcile import Reconciliation


def _m(text: str | None) -> str | None:
    """Free text (file names, keys, reasons) is masked for CPR numbers; hashes and UUIDs are
    not free text and are shown as they are."""
    return None if text is None else mask_cpr_in_text(text)


def _tx_dict(t: Transmission) -> dict[str, object]:
    return {
        "id": t.id,
        "ref": _m(t.ref),
        "counterpart": t.counterpart,
        "kind": t.kind,
        "direction": t.direction.value,
        "state": t.state,
        "file_name": _m(t.file_name),
        "size": t.size,
        "sha256": t.sha256,
        "transfer_id": t.transfer_id,
        "delivery_key": _m(t.delivery_key),
        "remote_path": _m(t.remote_path),
        "local_path": _m(t.local_path),
        "items": t.item_count,
        "total_ore": t.total_ore,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    }


def _history_dict(h: ItemHistory) -> dict[str, object]:
    return {
        "item": {
            "id": h.item.id,
            "business_key": _m(h.item.business_key),
            "counterpart": h.item.counterpart,
            "amount_ore": h.item.amount_ore,
            "seq": h.item.seq,
            "state": h.item.state,
        },
        "payment": _payment(h),
        "transmission": _tx_dict(h.transmission),
        "events": [
            {
                "at": e.at,
                "scope": e.scope,
                "from": e.from_state,
                "to": e.to_state,
                "count": e.count,
                "reason": _m(e.reason),
                "by": e.actor,
            }
            for e in h.events
        ],
    }


def _month(ctx: click.Context, param: click.Parameter, text: str | None) -> str | None:
    """``--month``: read as every command's ``--month`` is (``2026-13`` is refused)."""
    return None if text is None else f"{month_span(text)[0]:%Y-%m}"


def _states(ctx: click.Context, param: click.Parameter, states: tuple[str, ...]) -> tuple[str, ...]:
    """``--state``: each a state some kind's transmissions have (:mod:`toekgw.gateway.kinds`)."""
    known = sorted(transmission_states())
    for state in states:
        if state not in known:
            raise click.BadParameter(
                f"{mask_cpr_in_text(state)!r} is no transmission state"
                f"{did_you_mean(state, known)}; known: "
                f"{', '.join(known)}",
                ctx,
                param,
            )
    return states


@click.command()
@click.option("--item", "item_key", default=None, help="Show the whole history of this item.")
@click.option(
    "--reports",
    is_flag=True,
    help="eIndkomst: per report the count and sum sent, the receipt, differences, overdue.",
)
@click.option(
    "--month", callback=_month, default=None, help="With --reports: only this month (YYYY-MM)."
)
@click.option(
    "--bundles", is_flag=True, help="NemKonto bundle reconciliation (per bundle and date)."
)
@click.option("--payments", is_flag=True, help="Payments per state, and the overdue ones.")
@click.option("--counterpart", default=None, help="Only this counterpart's transmissions.")
@click.option(
    "--state",
    "states",
    multiple=True,
    callback=_states,
    help="Only transmissions in this state (one a transmission kind has).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="The newest N only (with --bundles: the first N differences; --json lists all).",
)
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@config_option
def status(
    item_key: str | None,
    reports: bool,
    month: str | None,
    bundles: bool,
    payments: bool,
    counterpart: str | None,
    states: tuple[str, ...],
    limit: int,
    as_json: bool,
    config_path: Path | None,
) -> None:
    """Show transmissions and their states, or one item's history (--item KEY), or the
    NemKonto bundles' reconciliation (--bundles) and the payments' states (--payments)."""
    if month is not None and not reports:
        raise click.UsageError("--month goes with --reports (the eIndkomst reports of a month)")
    settings = load_settings(config_path)
    journal = open_journal(settings.journal, reader=True)
    # Piped output keeps whole file names: nobody reads a truncated transfer id.
    console = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200)
    try:
        if reports:
            _show_reports(settings, journal, console, month=month, limit=limit, as_json=as_json)
        elif bundles or payments:
            from toekgw.cli.status_nemkonto import show_bundles, show_payments

            if bundles:
                show_bundles(settings, journal, console, as_json=as_json, limit=limit)
            if payments:
                show_payments(settings, journal, console, as_json=as_json)
        elif item_key is not None:
            _show_item(settings, journal, console, item_key, counterpart, as_json=as_json)
        else:
            found = journal.transmissions(
                counterpart=counterpart, states=list(states) or None, limit=limit
            )
            if as_json:
                click.echo(json.dumps([_tx_dict(t) for t in found], indent=2))
            else:
                console.print(
                    _transmissions_table(
                        found, title=f"Transmissions in {_m(str(settings.journal))}"
                    )
                )
    finally:
        journal.close()


def _show_reports(
    settings: Settings,
    journal: SqliteJournal,
    console: Console,
    *,
    month: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """``--reports``: the eIndkomst reports and the period's reconciliation."""
    now = clock.now()
    lines = report_lines(
        journal, now=now, overdue_after=overdue_after(settings), month=month, limit=limit
    )
    rec = period_reconciliation(lines, as_of=danish_date(now))
    if as_json:
        click.echo(json.dumps(reports_dict(lines, rec), indent=2))
        return
    console.print(reports_table(lines, title=f"eIndkomst reports in {_m(str(settings.journal))}"))
    _print_reconciliation(rec)


def _show_item(
    settings: Settings,
    journal: SqliteJournal,
    console: Console,
    item_key: str,
    counterpart: str | None,
    *,
    as_json: bool,
) -> None:
    """``--item KEY``: each item of that key with its whole history (a read of personal
    data, recorded in the audit trail)."""
    items = journal.find_items(item_key, counterpart)
    if not items:
        raise InputError(f"no item {item_key!r} in the journal {settings.journal}")
    histories = [journal.item_history(i.id) for i in items]
    journal.record_read(
        "status --item",
        f"item {item_key}",
        (s for h in histories for s in subjects_of(h.transmission.kind, h.item.data)),
    )
    if as_json:
        click.echo(json.dumps([_history_dict(h) for h in histories], indent=2))
        return
    for h in histories:
        print_history(console, h)


def _transmissions_table(found: Sequence[Transmission], *, title: str) -> Table:
    table = Table(title=title)
    for column in ("#", "counterpart", "kind", "dir", "state", "file", "items", "kr", "updated"):
        table.add_column(column, justify="right" if column in ("#", "items", "kr") else "left")
    for t in found:
        table.add_row(
            *(
                mask_cpr_in_text(cell)
                for cell in (
                    str(t.id),
                    t.counterpart,
                    t.kind,
                    t.direction.value,
                    t.state,
                    t.file_name or t.ref,
                    str(t.item_count),
                    kroner(t.total_ore),
                    danish_clock(t.updated_at),
                )
            )
        )
    return table


def print_history(console: Console, h: ItemHistory) -> None:
    # Plain lines, not a table: an operator greps them and pastes them into a case.
    t, i = h.transmission, h.item
    click.echo(
        f"{i.counterpart} item {_m(i.business_key)}: {kroner(i.amount_ore)} kr, state {i.state}"
    )
    click.echo(
        f"  came in {t.kind} #{t.id} {_m(t.file_name or t.ref)!r}"
        f"{f' line {i.seq}' if i.seq is not None else ''} ({t.direction.value}bound, "
        f"transmission state {t.state})"
    )
    payment = _payment(h)
    if payment:
        click.echo(f"  {payment}")
    click.echo(f"  transfer {t.transfer_id or '-'}, SHA-256 {t.sha256 or '-'}")
    click.echo(f"  kept as {_m(t.local_path) or '-'}")
    for e in h.events:
        what = {"transmission": "file", "items": "items", "item": "item"}[e.scope]
        move = f"{e.from_state or ''} -> {e.to_state}".lstrip() if e.to_state else ""
        label = f"{what} ({e.count})" if e.count else what
        by = f" (by {e.actor})" if e.actor else ""
        click.echo(
            f"  {danish_clock(e.at, precise=True)}  {label:<14} {move:<24} {_m(e.reason)}{by}"
        )


_PAYMENT_FIELDS = frozenset(f.name for f in dataclasses.fields(PaymentInstruction))
_FOLLOW_UP_FIELDS = frozenset({"follow_up_key", "follows"})


def _payment(h: ItemHistory) -> str | None:
    """What the payload of a payment says, the beneficiary's CPR masked."""
    data = h.item.data
    if not data or not _PAYMENT_FIELDS - _FOLLOW_UP_FIELDS <= set(data) <= _PAYMENT_FIELDS:
        return None
    p = PaymentInstruction.from_data(data)
    # ident 02 is a CPR number; a P-number or an account can hold the digits of one, and are
    # shown as payments find shows them.
    beneficiary = (
        mask_cpr(p.beneficiary) if p.ident_code == "02" else mask_cpr_in_text(p.beneficiary)
    )
    what = "recall of payment" if p.recall else "payment"
    if p.follows:
        what = f"follow-up of payment {_m(p.follows)}: payment"
    date = p.disposition_date.isoformat() if p.disposition_date else "-"
    return (
        f"{what} {_m(p.payment_ident)} of supplier {p.supplier_id} "
        f"delivery {p.delivery_number}: "
        f"{kroner(p.amount_ore)} kr to ident {p.ident_code} {beneficiary}, dated {date}"
        f"{' (straks)' if p.straks else ''}, posting reference {_m(p.posting_reference)}"
    )


def reports_table(lines: list[ReportLine], *, title: str) -> Table:
    """One row per report: sent, received, difference, status (findings masked)."""
    table = Table(title=title)
    numeric = ("sent", "sent kr", "received", "received kr", "diff kr", "findings")
    for column in ("report", "kind", "SE", "month", *numeric[:2], "status", *numeric[2:]):
        table.add_column(column, justify="right" if column in numeric else "left")
    for line in lines:
        r = line.result
        table.add_row(
            line.report_id,
            line.kind,
            line.company_se,
            line.month,
            str(r.count_sent),
            kroner(r.sum_sent),
            r.status.value + ("" if line.sent_at else " (not sent)"),
            "-" if r.count_received is None else str(r.count_received),
            "-" if r.sum_received is None else kroner(r.sum_received),
            kroner(r.sum_difference) if r.sum_received is not None else "-",
            str(len(line.findings)),
        )
    return table


def _print_reconciliation(rec: Reconciliation) -> None:
    click.echo(
        f"category {int(rec.category)} ({rec.category.title}): {rec.sent_count} report(s), "
        f"{kroner(rec.sent_oere)} kr sent; settled {rec.settled_count}, follow-up "
        f"{rec.follow_up_count} ({kroner(rec.follow_up_oere)} kr), unexplained "
        f"{len(rec.unexplained)}"
    )
    for d in rec.unexplained:
        click.echo(f"  {_m(d.key)}: {_m(d.reason)} ({kroner(d.amount_oere)} kr)")
