"""``toekgw simulate erp`` and ``toekgw simulate klassifikation``: the ØiR counterparts as
parties of a local Serviceplatformen (``toekgw simulate serviceplatform --root ROOT``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid
from pathlib import Path

import click

from toekgw.cli.options import DAY, SECONDS, masked
from toekgw.cli.simulate._common import party_names
from toekgw.simulators.erp import ErpFaults, ErpLedger, ErpSimulator
from toekgw.simulators.klassifikation import (
    KlassifikationSimulator,
    month_of_deliveries,
    removal,
)

_ROOT = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The platform's directory tree (as given to `toekgw simulate serviceplatform`).",
)
_DATE = DAY


def _uuid(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """The sortiment's id, a UUID as Klassifikation gives it (the deliveries' file names
    and the ``[oir] sortiment`` the gateway matches them by carry it)."""
    try:
        uuid.UUID(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected a UUID", ctx, param) from None
    return value


@click.command()
@_ROOT
@click.option(
    "--party", default="erp", show_default=True, callback=party_names, help="The ERP's party name."
)
@click.option(
    "--ledger",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The ERP's ledger (SQLite) [default: ROOT/erp-ledger.sqlite].",
)
@click.option(
    "--unknown-account", "unknown", multiple=True, help="Fault: an account the ERP rejects."
)
@click.option("--closed-until", type=_DATE, default=None, help="Fault: periods closed to here.")
@click.option("--delay", type=SECONDS, default=0.0, help="Fault: seconds before each answer.")
@click.option("--max-seconds", type=SECONDS, default=None, help="Stop after this many seconds.")
def erp(
    root: Path,
    party: str,
    ledger: Path | None,
    unknown: tuple[str, ...],
    closed_until: dt.datetime | None,
    delay: float,
    max_seconds: float | None,
) -> None:
    """The municipality's ERP behind SF1590_A: books voucher files, answers with status files."""
    home = root / "parties" / party
    books = ErpLedger(ledger or root / "erp-ledger.sqlite")
    faults = ErpFaults(set(unknown), closed_until.date() if closed_until else None, delay)
    sim = ErpSimulator(home, books, party=party, faults=faults)
    click.echo(
        f"ERP simulator: party {masked(party)} at {masked(home)}; ledger {masked(books.path)}"
    )
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    try:
        while deadline is None or time.monotonic() < deadline:
            if sim.scan_once():
                click.echo(f"balances: {books.balances()}")
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        books.close()


@click.command()
@_ROOT
@click.option(
    "--party",
    default="klassifikation",
    show_default=True,
    callback=party_names,
    help="Klassifikation's party name.",
)
@click.option(
    "--to",
    "subscriber",
    default="toek",
    show_default=True,
    callback=party_names,
    help="The subscriber.",
)
@click.option(
    "--sortiment", "sortiment_id", required=True, callback=_uuid, help="The sortiment's UUID."
)
@click.option("--code", "codes", multiple=True, required=True, help="An account code (repeat).")
@click.option("--start", type=_DATE, required=True, help="Version 1 is valid from this day.")
@click.option("--close", default=None, help="A code the delta closes (then --replacement).")
@click.option("--replacement", default=None, help="The code that replaces it.")
@click.option("--closed-on", type=_DATE, default=None, help="The day the replacement starts.")
@click.option(
    "--remove",
    "removed",
    multiple=True,
    help="A code a last delta takes out of the sortiment (repeat).",
)
def klassifikation(
    root: Path,
    party: str,
    subscriber: str,
    sortiment_id: str,
    codes: tuple[str, ...],
    start: dt.datetime,
    close: str | None,
    replacement: str | None,
    closed_on: dt.datetime | None,
    removed: tuple[str, ...],
) -> None:
    """Klassifikation (SF7002): publish a full sortiment delivery, then (with --close) a delta
    that closes one class mid-month and opens its replacement, then (with --remove) a delta
    that takes classes out of the sortiment."""
    sim = KlassifikationSimulator(root / "parties" / party, party=party, subscriber=subscriber)
    if close and not (replacement and closed_on):
        raise click.UsageError("--close needs --replacement and --closed-on")
    deliveries = month_of_deliveries(
        sortiment_id,
        codes,
        start=start.date(),
        close=close or codes[0],
        replacement=replacement or codes[0],
        closed_on=(closed_on or start).date(),
    )
    deliveries = deliveries if close else deliveries[:1]
    if removed:
        # Removal names a class by its id: the newest of each code the deliveries made.
        latest = dataclasses.replace(
            deliveries[-1], classes=tuple(k for d in deliveries for k in d.classes)
        )
        try:
            deliveries.append(removal(latest, removed, on=(closed_on or start).date()))
        except LookupError as exc:
            raise click.UsageError(f"--remove: {exc}") from None
    for delivery in deliveries:
        click.echo(f"published {sim.publish(delivery)}")
