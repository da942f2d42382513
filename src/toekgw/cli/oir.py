"""``toekgw oir``: book payments in the municipality's ERP (SF1590_A finance vouchers).

``build`` turns the journal's payment events into balanced vouchers, ``send`` sends them in
batches over Serviceplatformen, ``receive`` takes the ERP's answers, ``regenerate`` re-makes a
held or rejected voucher with a new posting date, ``manual`` adds an operator's correcting
voucher, ``balance`` is the Konteringskontrol, ``export`` the reconciliation lines of a month.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

import click

from toekgw.adapters.config import load_settings
from toekgw.adapters.oir import (
    Difference,
    OirSettings,
    add_manual_voucher,
    flows,
    konteringskontrol,
    oir_settings,
    read_manual_file,
    regenerate,
    write_month,
)
from toekgw.cli.options import DAY, OutputFile, config_option, masked
from toekgw.cli.receive._common import exit_code
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.config import Settings
from toekgw.gateway.flowlock import flow_lock, lock_path
from toekgw.gateway.journal import SqliteJournal, open_journal
from toekgw.gateway.money import kroner

__all__ = ["oir"]

_DATE = DAY


@contextmanager
def opened(
    config_path: Path | None, *, flow: str | None = None
) -> Iterator[tuple[Settings, OirSettings, SqliteJournal]]:
    """The settings and the journal; ``flow`` names a single-flight flow (``"oir-send"``)."""
    settings = load_settings(config_path)
    books = oir_settings(settings)
    with ExitStack() as stack:
        if flow:
            stack.enter_context(
                flow_lock(
                    lock_path(settings.staging, flow),
                    flows.flow_name(flow),
                    journal=settings.journal,
                )
            )
        journal = open_journal(settings.journal, verify=bool(flow))
        stack.enter_context(closing(journal))
        yield settings, books, journal


def _echo(as_json: bool, data: dict[str, object], text: str) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False) if as_json else text)


@click.group()
def oir() -> None:
    """ØiR Finans (SF1590_A): payments booked as vouchers in the municipality's ERP."""


@oir.command("build")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@config_option
def build_command(as_json: bool, config_path: Path | None) -> None:
    """Book every payment event not yet on a voucher (held vouchers: exit 1)."""
    summary = flows.build(load_settings(config_path))
    _echo(
        as_json,
        summary.as_dict(),
        f"{summary.events} new payment events; {summary.built} vouchers built, "
        f"{summary.held} held (see toekgw errors), {summary.postings} postings",
    )
    raise SystemExit(1 if summary.held else 0)


@oir.command("send")
@click.option("--retry-failed", is_flag=True, help="Also send batches the platform refused.")
@click.option("--watch", is_flag=True, help="Build and send every send_interval seconds.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per batch.")
@config_option
def send_command(retry_failed: bool, watch: bool, as_json: bool, config_path: Path | None) -> None:
    """Send the built vouchers in batches (file + trigger + technical receipt)."""
    settings = load_settings(config_path)
    code = 0
    while True:
        if watch:
            flows.build(settings)
        sent = flows.send(settings, retry_failed=retry_failed)
        for batch in sent:
            if as_json:
                click.echo(json.dumps(batch.as_dict(), ensure_ascii=False))
            else:
                click.echo(f"{batch.file_name}: {batch.vouchers} vouchers: {batch.message}")
            code = max(code, 0 if batch.state in ("receipted", "uploaded") else 1)
        if not sent and not as_json:
            click.echo("no vouchers to send")
        if not watch:
            break
        time.sleep(oir_settings(settings).send_interval)
    raise SystemExit(code)


@oir.command("receive")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@config_option
def receive_command(as_json: bool, config_path: Path | None) -> None:
    """Take the ERP's status files ([receive.erp]) and apply them to the vouchers."""
    received = flows.receive(load_settings(config_path), "erp")
    intake = received.intake
    if not as_json:
        for outcome in received.outcomes:
            click.echo(str(outcome))
    _echo(
        as_json,
        {"files": [str(o) for o in received.outcomes], **intake.as_dict()},  # docs/oir.md
        f"{intake.files} answers applied: {intake.accepted} accepted, {intake.rejected} "
        f"rejected, {intake.unchanged} unchanged, {intake.unknown} about unknown vouchers"
        + (f"; {intake.gone} files gone before they were applied" if intake.gone else ""),
    )
    bad = intake.rejected or intake.unknown or intake.gone
    raise SystemExit(max(exit_code(received.outcomes), 1 if bad else 0))


@oir.command("regenerate")
@click.argument("voucher_id")
@click.option("--date", "posting_date", type=_DATE, required=True, help="The new posting date.")
@config_option
def regenerate_command(
    voucher_id: str, posting_date: dt.datetime, config_path: Path | None
) -> None:
    """Re-make a held or rejected voucher from the current sortiment and [oir] accounts, with
    a new posting date, linked to the original (send it with `toekgw oir send`). Run again
    with the same date, it finds the voucher made before and changes nothing."""
    with opened(config_path, flow="oir-build") as (_s, books, journal):
        new, summary = regenerate(journal, books, voucher_id, posting_date.date())
    again = "" if summary.built else " before (nothing new)"
    click.echo(
        f"voucher {voucher_id} regenerated{again} as {new.voucher_id} dated {new.day} ({new.state})"
    )


@oir.command("manual")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--municipality", required=True, help="Whose books (the registration place).")
@config_option
def manual_command(file: Path, municipality: str, config_path: Path | None) -> None:
    """Add a correcting voucher from FILE (CSV: date,account,D|K,amount,text). It must
    balance and use only sortiment accounts valid on its date; only members of the
    configured manual_group may add one. The same lines again add nothing (a re-run after a
    crash); two identical corrections need different texts."""
    with opened(config_path, flow="oir-build") as (_s, books, journal):
        voucher, new = add_manual_voucher(journal, books, municipality, read_manual_file(file))
    if new:
        click.echo(f"manual voucher {voucher.voucher_id} dated {voucher.day} built")
    else:
        click.echo(
            f"manual voucher {voucher.voucher_id} dated {voucher.day} was added before "
            f"({voucher.state}): nothing new (two identical corrections need different texts)"
        )


@oir.command("balance")
@click.option("--date", "as_of", type=_DATE, default=None, help="As of the end of this day.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@config_option
def balance_command(as_of: dt.datetime | None, as_json: bool, config_path: Path | None) -> None:
    """Konteringskontrol: the intermediate account against the outstanding payments, with
    every difference payment by payment (exit 1 when they differ). With --date, each payment
    counts by the state it had at the end of that day."""
    day = as_of.date() if as_of else None
    if as_json:
        # Streamed: the differences as they are found, the totals after them.
        first = True

        def show(d: Difference) -> None:
            nonlocal first
            shown = d.as_dict() | {"business_key": mask_cpr_in_text(d.business_key)}
            click.echo(("" if first else ",\n") + "    " + json.dumps(shown), nl=False)
            first = False

        click.echo('{\n  "differences": [')
    else:
        when = f"as of {day}" if day else "now"
        click.echo(f"Konteringskontrol {when}")

        def show(d: Difference) -> None:
            click.echo(
                f"    {mask_cpr_in_text(d.business_key)}: booked {kroner(d.booked_ore)}, "
                f"outstanding {kroner(d.outstanding_ore)}, difference {kroner(d.difference_ore)}"
            )

    with opened(config_path) as (_s, books, journal):
        control = konteringskontrol(journal, books, as_of=day, keep=0, on_difference=show)
    if as_json:
        totals = json.dumps({k: v for k, v in control.as_dict().items() if k != "differences"})
        click.echo(f"\n  ],\n  {totals[1:-1]}\n}}")
    else:
        click.echo(f"  intermediate accounts ({', '.join(control.accounts)})")
        click.echo(f"  intermediate account balance  {kroner(control.balance_ore):>18} kr")
        click.echo(
            f"  outstanding payments ({control.outstanding_count:>6}) "
            f"{kroner(control.outstanding_ore):>18} kr"
        )
        click.echo("  agrees" if control.agrees else f"  {control.difference_count} differences")
    raise SystemExit(0 if control.agrees else 1)


@oir.command("export")
@click.option("--month", required=True, help="YYYY-MM")
@click.option(
    "--output",
    type=OutputFile(),
    default=None,
    help="The CSV file (default: standard output).",
)
@config_option
def export_command(month: str, output: Path | None, config_path: Path | None) -> None:
    """The month's postings with their NemKonto bundle and payment ids, as CSV, for the ERP's
    reconciliation of NemKonto lines."""
    try:
        first = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        raise click.UsageError(f"--month {month!r}: expected YYYY-MM") from None
    with opened(config_path) as (_s, _b, journal):
        if output is None:
            count = write_month(journal, first, sys.stdout)
        else:
            with output.open("w", encoding="utf-8", newline="") as out:
                count = write_month(journal, first, out)
            click.echo(f"{count} postings written to {masked(output)}")
