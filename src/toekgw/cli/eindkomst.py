"""``toekgw eindkomst``: send income reports to SKAT, close a month, take receipts and tax
cards, and ask which withholding rate applies."""

from __future__ import annotations

import datetime as dt
import json
from contextlib import AbstractContextManager
from pathlib import Path

import click

from toekgw.adapters.config import load_settings
from toekgw.adapters.eindkomst import (
    EindkomstGateway,
    SendRefused,
    SendResult,
    load_request,
    open_eindkomst,
)
from toekgw.adapters.eindkomst.casestop import stop_closed_cases
from toekgw.cli import clock
from toekgw.cli.options import DAY, SECONDS, checked_cpr, config_option
from toekgw.formats.eindkomst import ReportError
from toekgw.formats.findings import mask_cpr
from toekgw.gateway.config import Settings
from toekgw.gateway.errors import InputError, UsageError
from toekgw.gateway.findings import render
from toekgw.gateway.flowlock import flow_lock, lock_path


@click.group()
def eindkomst() -> None:
    """eIndkomst: income reports to SKAT (over MQ, or KOMBIT's SF0770_B as configured in
    [eindkomst] route); receipts and tax cards back."""


def _sending(settings: Settings) -> AbstractContextManager[None]:
    """The ``eindkomst send`` flow's lock, which every command that journals deliveries holds
    (as ``run``'s jobs do): two of them at once would both find a month's nil report due."""
    return flow_lock(
        lock_path(settings.staging, "eindkomst-send"), "eindkomst send", journal=settings.journal
    )


def _print_sent(result: SendResult) -> None:
    for t in result.transmissions:
        click.echo(
            f"delivery {t.file_name}: {t.meta.get('recipients')} recipient(s), "
            f"{t.meta.get('amount_sum')} øre, state {t.state}"
        )
    for rid in result.report_ids:
        click.echo(f"  report {rid}")
    click.echo(f"{result.put} delivery(ies) handed over")


@eindkomst.command("send")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Send again the deliveries the platform refused (SF0770_B), once the cause is mended.",
)
@config_option
def send(file: Path | None, retry_failed: bool, config_path: Path | None) -> None:
    """Validate, journal and send FILE: a JSON request (reports, reversals, tax-card orders;
    see docs/eindkomst.md) or, with any other suffix, a delivery already built (1000 … 9999).

    Nothing is journaled or sent if any delivery has an error (exit 1, every finding shown).
    Without FILE, hands over what is still waiting (and with --retry-failed, what the platform
    refused).
    """
    settings = load_settings(config_path)
    with _sending(settings), open_eindkomst(settings, clock=clock.now) as gw:
        if file is None:
            handed = gw.retry_failed() if retry_failed else gw.send_pending()
            click.echo(f"{handed} delivery(ies) handed over")
            return
        try:
            if file.suffix.lower() == ".json":
                result = _send_request(gw, file)
            else:
                try:
                    body = file.read_bytes()
                except OSError as exc:
                    raise InputError(f"cannot read {file}: {exc.strerror or exc}") from exc
                result = gw.send_deliveries([body])
        except SendRefused as refused:
            click.echo(render([f.in_file(str(file)) for f in refused.findings], "text"), err=True)
            raise
    _print_sent(result)


def _send_request(gw: EindkomstGateway, file: Path) -> SendResult:
    """Send the JSON request ``file``: a value no report can hold (a CPR number with a letter,
    an income type or field number that does not exist) is an :class:`InputError` naming
    the file, like a value of the wrong JSON type."""
    request = load_request(file)
    try:
        return gw.send(request.reports, orders=request.orders, reversals=request.reversals)
    except ReportError as exc:
        raise InputError(f"{file}: {exc}") from exc


@eindkomst.command("close-month")
@click.option("--month", required=True, help="The month to close, YYYY-MM.")
@config_option
def close_month(month: str, config_path: Path | None) -> None:
    """Send a 3101 nil report for each configured company with no A-tax or AM-contribution
    reported for MONTH (by disposition date) and no nil report yet."""
    try:
        first = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        raise UsageError(f"--month {month!r}: expected YYYY-MM") from None
    settings = load_settings(config_path)
    with _sending(settings), open_eindkomst(settings, clock=clock.now) as gw:
        result = gw.close_month(first)
    if not result.report_ids:
        click.echo(f"{month}: no nil report due")
        return
    _print_sent(result)


@eindkomst.command("stop-cases")
@config_option
def stop_cases(config_path: Path | None) -> None:
    """Stop the tax-card subscription of every case a case system reported closed or deleted
    (TØK's effectuation interface): a 2101 with the employment end for the citizen's tax-card
    order, sent as configured; the case system is told through TØK's status outbox."""
    settings = load_settings(config_path)
    with _sending(settings), open_eindkomst(settings, clock=clock.now) as gw:
        result = stop_closed_cases(gw)
    for line in result.lines:
        click.echo(line)
    click.echo(
        f"{result.stopped} stopped, {result.nothing_to_stop} with nothing to stop, "
        f"{result.rejected} rejected"
    )


@eindkomst.command("receive")
@click.option("--wait", type=SECONDS, default=0.0, show_default=True, help="Seconds to wait.")
@config_option
def receive(wait: float, config_path: Path | None) -> None:
    """Take SKAT's answers from the route (the reply queue, or IN/ on Serviceplatformen):
    7100 receipts, SKAT's error/advice file and tax cards. Exit 1 when an answer could not be
    read (it is on the error list) or an attempt failed. One receive at a time (the lock
    `toekgw run`'s eindkomst-receive job takes): a second is refused, exit 2."""
    settings = load_settings(config_path)
    lock = flow_lock(
        lock_path(settings.staging, "eindkomst-receive"),
        "eindkomst receive",
        journal=settings.journal,
    )
    with lock, open_eindkomst(settings, clock=clock.now) as gw:
        r = gw.receive(wait=wait)
    click.echo(
        f"{r.messages} message(s): {r.sum_receipts} sum receipt(s), {r.error_receipts} "
        f"error/advice receipt(s), {r.tax_cards} tax card(s), {r.duplicates} duplicate(s), "
        f"{r.unreadable} unreadable"
        + (f", {r.failed} failed (see the error list)" if r.failed else "")
    )
    if r.failed or r.unreadable:
        raise SystemExit(1)


@eindkomst.command("withholding")
@click.option("--cpr", required=True, help="The recipient's CPR number.")
@click.option("--date", "day", type=DAY, required=True, help="The day, YYYY-MM-DD.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@config_option
def withholding(cpr: str, day: dt.datetime, as_json: bool, config_path: Path | None) -> None:
    """Which tax card applies to CPR on DATE, and the withholding rate (no card: 55 %).
    CPR may be written with a dash (DDMMYY-NNNN); one born after DATE is refused."""
    on = day.date()
    cpr = checked_cpr("--cpr", cpr, on)
    settings = load_settings(config_path)
    with open_eindkomst(settings, clock=clock.now) as gw:
        w = gw.withholding(cpr, on)
    card = w.card
    if as_json:
        click.echo(
            json.dumps(
                {
                    "cpr": mask_cpr(cpr),
                    "date": on.isoformat(),
                    "rate_pct": w.rate_pct,
                    "reason": w.reason,
                    "card": None
                    if card is None
                    else {
                        "kort_type": int(card.kort_type),
                        "valid_from": card.valid_from.isoformat(),
                        "withholding_pct": card.withholding_pct,
                        "deduction_month_ore": card.deduction_month,
                        "free_amount_ore": card.free_amount,
                    },
                }
            )
        )
        return
    where = f" (KORT_TYPE {int(card.kort_type)}, valid from {card.valid_from})" if card else ""
    click.echo(f"{mask_cpr(cpr)} on {on}: {w.rate_pct} % - {w.reason}{where}")
