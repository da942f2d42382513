"""``toekgw payments``: find and show payments, handle failed ones, the payment controls.

Every action acts as one person (``--as``, else ``$TOEKGW_USER``, else the OS user), journals
an event with who, when and why, and changes nothing when it is refused (one line, exit 1).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from toekgw.adapters.g68 import PAYMENT_ITEM
from toekgw.adapters.nemkonto import recipient
from toekgw.adapters.payments import PaymentDesk, payments_settings
from toekgw.adapters.payments.personal import cpr_of
from toekgw.adapters.payments.query import (
    PaymentQuery,
    find_payments,
    follow_ups,
    records_of,
    shown_recipient,
)
from toekgw.adapters.payments.reconcile import CLASSES, reconcile_payments
from toekgw.adapters.payments.report import (
    OUTSIDE_COLUMNS,
    control_runs,
    duplicate_scan,
    outside_nemkonto,
    sign_off,
)
from toekgw.cli import clock
from toekgw.cli.nemkonto import opened
from toekgw.cli.options import DAY, OutputFile, config_option, kroner_option, period, reason_option
from toekgw.cli.status import print_history
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.danish_time import danish_clock
from toekgw.gateway.identity import acting_identity
from toekgw.gateway.journal import SqliteJournal
from toekgw.gateway.money import kroner

__all__ = ["payments"]

F = TypeVar("F", bound=Callable[..., Any])
_DATE = DAY
_STATES = click.Choice(sorted(PAYMENT_ITEM.descriptions))


def _acting(func: F) -> F:
    func = reason_option(func)
    func = click.option(
        "--as", "actor", default=None, help="Act as this person [default: $TOEKGW_USER, else "
        "the OS user]."
    )(func)  # fmt: skip
    return config_option(click.argument("payment")(func))


@contextmanager
def _desk(
    config_path: Path | None, actor: str | None, *, lock: str | None = None
) -> Iterator[PaymentDesk]:
    """A desk for the acting person; ``lock``: under that flow's single-flight lock."""
    with opened(config_path, moves_money=lock) as (settings, flow, journal):
        who = acting_identity(actor)
        yield PaymentDesk(journal, flow, payments_settings(settings), who, clock.now())


@click.group()
def payments() -> None:
    """Payments: find, show, handle failed ones, the payment controls."""


def _amounts(low: int | None, high: int | None) -> tuple[int | None, int | None]:
    """``--min-amount``/``--max-amount`` in øre; a usage error (exit 2) when the least is more
    than the most: no payment lies between them."""
    if low is not None and high is not None and low > high:
        raise click.UsageError(
            f"--min-amount {kroner(low)} kr is more than --max-amount {kroner(high)} "
            "kr: expected the least amount, then the most"
        )
    return low, high


def _recipient(text: str | None) -> str | None:
    if text is None:
        return None
    kind, sep, number = text.partition(":")
    if not sep:
        raise click.BadParameter(f"{mask_cpr_in_text(text)!r}: expected KIND:NUMBER, e.g. cpr:…")
    return recipient(kind, number)


@payments.command("find")
@click.option("--recipient", "who", default=None, help="KIND:NUMBER (cpr, cvr, se, pnumber, "
              "account), e.g. cvr:12345678.")  # fmt: skip
@click.option("--payment", default=None, help="The payment id.")
@click.option("--bundle", default=None, help="A NemKonto bundle id.")
@click.option(
    "--min-amount", callback=kroner_option, metavar="KRONER", help="At least this many kroner."
)
@click.option(
    "--max-amount", callback=kroner_option, metavar="KRONER", help="At most this many kroner."
)
@click.option("--from", "date_from", type=_DATE, default=None, help="Disposition date from.")
@click.option("--to", "date_to", type=_DATE, default=None, help="Disposition date to.")
@click.option("--state", type=_STATES, default=None, help="In this state.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of text.")
@config_option
def find_command(
    who: str | None,
    payment: str | None,
    bundle: str | None,
    min_amount: int | None,
    max_amount: int | None,
    date_from: dt.datetime | None,
    date_to: dt.datetime | None,
    state: str | None,
    as_json: bool,
    config_path: Path | None,
) -> None:
    """Find payments (received and follow-ups); recipients are shown masked."""
    query = PaymentQuery(
        _recipient(who), payment, bundle, *_amounts(min_amount, max_amount),
        *period(date_from, date_to), state,
    )  # fmt: skip
    count = 0
    seen: set[str] = set()
    with opened(config_path) as (_settings, flow, journal), _read_logged(journal, "payments find",
                                                                         query, seen):  # fmt: skip
        for found in find_payments(journal, flow, query):
            count += 1
            seen.update(cpr_of(found.item.data or {}))
            i, p = found.item, found.instruction
            date = p.disposition_date.isoformat() if p.disposition_date else "-"
            shown_key = mask_cpr_in_text(i.business_key)  # as payments show heads it
            if as_json:
                line = {"payment": shown_key, "state": i.state, "oere": i.amount_ore,
                        "disposition_date": date, "recipient": found.recipient,
                        "follows": p.follows}  # fmt: skip
                click.echo(json.dumps(line, ensure_ascii=False))
            else:
                click.echo(f"{shown_key}  {i.state:<19} {kroner(p.amount_ore):>14} kr  "
                           f"{date}  {found.recipient}")  # fmt: skip
    if not as_json:
        click.echo(f"{count} payments", err=True)


@payments.command("show")
@click.argument("payment")
@config_option
def show_command(payment: str, config_path: Path | None) -> None:
    """A payment's whole history, its follow-ups and its records."""
    with _desk(config_path, None) as desk:
        item = desk.payment(payment)
        shown = [*follow_ups(desk.journal, desk.flow, payment)]
        people = {s for i in (item, *(f.item for f in shown)) for s in cpr_of(i.data or {})}
        desk.journal.record_read("payments show", f"payment {payment}", people)
        print_history(Console(), desk.journal.item_history(item.id))
        for found in shown:
            f = found.item
            click.echo(f"  follow-up {mask_cpr_in_text(f.business_key)} "
                       f"(follows {mask_cpr_in_text(found.instruction.follows or '')}): "
                       f"{f.state}, to {shown_recipient(found.instruction)}")  # fmt: skip
        for record in records_of(desk.journal, payment):
            r = record.item
            click.echo(f"  record {mask_cpr_in_text(r.business_key)}: {record.type}, {r.state}, by "
                       f"{record.text('by')} at {danish_clock(record.text('at'))}")  # fmt: skip


@contextmanager
def _read_logged(
    journal: SqliteJournal, action: str, query: PaymentQuery, seen: set[str]
) -> Iterator[None]:
    """Log the search in the read log when it ends (also when the reader stops early), with
    every citizen whose payment it showed."""
    asked = ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(query).items() if v is not None)
    try:
        yield
    finally:
        journal.record_read(action, asked or "all payments", seen)


def _done(text: str) -> None:
    click.echo(mask_cpr_in_text(text))


@payments.command("resend")
@_acting
def resend_command(payment: str, reason: str, actor: str | None, config_path: Path | None) -> None:
    """Pay a rejected or failed payment again to NemKonto (a new, linked payment)."""
    with _desk(config_path, actor) as desk:
        new = desk.resend(payment, reason)
    _done(f"{payment}: resent as {new}")


@payments.command("pay-alternative")
@click.option("--registration", required=True, help="The registration number (4 digits).")
@click.option("--account", required=True, help="The account number (up to 10 digits).")
@_acting
def alternative_command(
    payment: str, registration: str, account: str, reason: str, actor: str | None,
    config_path: Path | None,
) -> None:  # fmt: skip
    """Pay a rejected or failed payment to another account (may need a second person)."""
    with _desk(config_path, actor) as desk:
        new = desk.pay_alternative(payment, registration, account, reason)
    if new:
        _done(f"{payment}: paid to {registration} {account} as {new}")
    else:
        _done(f"{payment}: waits for a second person (toekgw payments approve {payment})")


@payments.command("approve")
@_acting
def approve_command(payment: str, reason: str, actor: str | None, config_path: Path | None) -> None:
    """Approve the request waiting on a payment (not the person who asked)."""
    with _desk(config_path, actor) as desk:
        done = desk.approve(payment, reason)
    _done(f"{payment}: approved; {done}")


@payments.command("deny")
@_acting
def deny_command(payment: str, reason: str, actor: str | None, config_path: Path | None) -> None:
    """Deny the request waiting on a payment: it is back where it was."""
    with _desk(config_path, actor) as desk:
        desk.deny(payment, reason)
    _done(f"{payment}: denied")


@payments.command("cash")
@click.option("--voucher", required=True, help="The cash voucher (kontantbilag) number.")
@_acting
def cash_command(
    payment: str, voucher: str, reason: str, actor: str | None, config_path: Path | None
) -> None:
    """Record a rejected or failed payment as paid by cash voucher."""
    with _desk(config_path, actor) as desk:
        desk.cash(payment, voucher, reason)
    _done(f"{payment}: paid by cash voucher {voucher}")


def _simple(name: str, method: str, text: str, doc: str) -> None:
    def command(payment: str, reason: str, actor: str | None, config_path: Path | None) -> None:
        with _desk(config_path, actor) as desk:
            getattr(desk, method)(payment, reason)
        _done(f"{payment}: {text}")

    command.__doc__ = doc
    payments.command(name)(_acting(command))


_simple(
    "own-account",
    "own_account",
    "paid to the municipality's own account",
    "Pay to the municipality's own account (deaths, bankruptcies, refunds): never sent.",
)
_simple("recall", "recall", "recalled", "Recall a payment not sent, or one rejected or failed.")


@payments.command("block")
@_acting
def block_command(payment: str, reason: str, actor: str | None, config_path: Path | None) -> None:
    """Hold one payment until unblocked: before release, or after release until its bundle is
    sent (the bundle is withdrawn, never sent, and its other payments bundled again). Takes
    the send's lock: refused while a send runs."""
    with _desk(config_path, actor, lock="nemkonto-send") as desk:
        done = desk.block(payment, reason)
    _done(f"{payment}: {done}")


_simple("unblock", "unblock", "unblocked: goes with the next release", "Let a held payment go.")
_simple(
    "clear",
    "clear",
    "released from the control hold: goes with the next release",
    "Release a payment the controls held (suspected duplicate, over the limit).",
)
_simple(
    "fail",
    "fail",
    "registered as failed after the bank: waits for a second person",
    "Register a payment at the bank as failed (the bank told the municipality).",
)
_simple(
    "stop",
    "stop",
    "stop request journaled: the next 'toekgw nemkonto send' puts it to NemKonto",
    "Ask NemKonto to stop a payment already sent (before its disposition date).",
)


@payments.command("outside-nemkonto")
@click.option("--csv", "csv_path", type=OutputFile(allow_dash=True), default=None,
              help="Also write the report as CSV (- for standard output).")  # fmt: skip
@click.option("--as", "actor", default=None, help="Sign the control run as this person.")
@config_option
def outside_command(csv_path: Path | None, actor: str | None, config_path: Path | None) -> None:
    """Payments outside NemKonto, by registration and account; an account paid for several
    beneficiaries is flagged. The run is journaled (control sign-off).

    Memory grows with the payments outside NemKonto: they are sorted by account and an
    account's flag needs all its payments, so the rows are held until the end (not the other
    payments: those are read and passed over)."""
    with opened(config_path) as (_settings, flow, journal):
        rows = outside_nemkonto(journal, flow)
        flagged = sum(r.several for r in rows)
        run = sign_off(journal, "outside-nemkonto", acting_identity(actor),
                       clock.now(), flagged, "all payments")  # fmt: skip
    if csv_path is not None:
        with _csv_out(csv_path) as handle:
            writer = csv.writer(handle)
            writer.writerow(OUTSIDE_COLUMNS)
            writer.writerows(r.as_row() for r in rows)
    table = Table(title="Payments outside NemKonto")
    for column in OUTSIDE_COLUMNS:
        table.add_column(column, justify="right" if column == "oere" else "left")
    for r in rows:
        table.add_row(*r.as_row())
    Console(stderr=csv_path == Path("-")).print(table)
    click.echo(f"{len(rows)} payments, {flagged} on an account with several beneficiaries; "
               f"signed {run.item.business_key}", err=True)  # fmt: skip


@contextmanager
def _csv_out(path: Path) -> Iterator[Any]:
    if path == Path("-"):
        yield sys.stdout
        return
    with path.open("w", newline="", encoding="utf-8") as handle:
        yield handle


@payments.command("duplicates")
@click.option("--from", "date_from", type=_DATE, required=True, help="Disposition date from.")
@click.option("--to", "date_to", type=_DATE, required=True, help="Disposition date to.")
@click.option("--as", "actor", default=None, help="Sign the control run as this person.")
@config_option
def duplicates_command(
    date_from: dt.datetime, date_to: dt.datetime, actor: str | None, config_path: Path | None
) -> None:
    """The duplicate-payment scan over a disposition period; the run is journaled.

    Memory grows with the period: each payment's control key is kept until the whole period
    is read (a group can gather at any point), and the groups are listed at the end. Scan a
    month at a time."""
    first, last = period(date_from, date_to)
    assert first is not None and last is not None  # both options are required
    scope = f"{first.isoformat()}..{last.isoformat()}"
    with opened(config_path) as (_settings, flow, journal):
        groups = duplicate_scan(journal, flow, first, last)
        run = sign_off(journal, "duplicates", acting_identity(actor), clock.now(),
                       len(groups), scope)  # fmt: skip
    for g in groups:
        date = g.disposition_date.isoformat() if g.disposition_date else "-"
        click.echo(f"{kroner(g.amount_ore)} kr on {date} to {g.beneficiary}: " + ", ".join(
            f"{mask_cpr_in_text(key)} ({state})" for key, state in g.payments))  # fmt: skip
    click.echo(f"{len(groups)} groups of suspected duplicates; signed {run.item.business_key}")
    if groups:
        raise SystemExit(1)


@payments.command("controls")
@config_option
def controls_command(config_path: Path | None) -> None:
    """The control runs: which control, who ran it, when, over what, and what it found."""
    with opened(config_path) as (_settings, _flow, journal):
        runs = list(control_runs(journal))
    if not runs:
        click.echo("no control has been run")
    for r in runs:
        click.echo(f"{danish_clock(r.text('at'))}  {r.text('control'):<17} by {r.text('by')}  "
                   f"{r.text('scope')}: {r.text('found')} to look at")  # fmt: skip


@payments.command("reconcile")
@click.option("--from", "date_from", type=_DATE, default=None, help="Disposition date from.")
@click.option("--to", "date_to", type=_DATE, default=None, help="Disposition date to.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@config_option
def reconcile_command(
    date_from: dt.datetime | None, date_to: dt.datetime | None, as_json: bool,
    config_path: Path | None,
) -> None:  # fmt: skip
    """received = paid + handled + outstanding, each krone once (follow-ups with their
    original)."""
    first, last = period(date_from, date_to)
    with opened(config_path) as (_settings, flow, journal):
        rec = reconcile_payments(journal, flow, date_from=first, date_to=last)
    if as_json:
        click.echo(json.dumps(rec.as_dict(), indent=2))
    else:
        for c in CLASSES:
            click.echo(f"{c:<12} {rec.counts[c]:>8} {kroner(rec.sums[c]):>18} kr")
        click.echo(f"{rec.follow_ups} follow-up payments; "
                   f"{'balanced' if rec.balanced else 'NOT BALANCED'}")  # fmt: skip
    if not rec.balanced:
        raise SystemExit(1)
