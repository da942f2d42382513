"""``toekgw debitor``: TØK's claims to the municipality's debtor system (SF1590_B).

``send`` makes the calls (B_01 claims, B_03 payments from set-offs), ``status`` shows each
call's outcome, ``ledger`` each claim's ledger, ``reconcile`` the ledgers against the debtor
system's balance report.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import click
import requests

from toekgw.adapters.config import load_settings
from toekgw.adapters.debitor import AFSEND_KIND, ClaimLedger, ledgers, reconcile_claims
from toekgw.adapters.debitor.flow import FLOW, send_claims
from toekgw.adapters.debitor.settings import DEBITOR_SECTION
from toekgw.cli import clock
from toekgw.cli.options import AT_LEAST_ONE, config_option
from toekgw.formats.debitor.saldo import BadSaldo, read_saldo
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.danish_time import danish_clock
from toekgw.gateway.errors import InputError
from toekgw.gateway.flowlock import flow_lock, lock_path
from toekgw.gateway.journal import SqliteJournal, open_journal
from toekgw.gateway.money import kroner

__all__ = ["debitor"]


@contextmanager
def _journal(
    config_path: Path | None, *, flow: bool = False
) -> Iterator[tuple[str, SqliteJournal]]:
    settings = load_settings(config_path)
    counterpart = settings.require(DEBITOR_SECTION).counterpart
    if flow:
        with (
            flow_lock(lock_path(settings.staging, FLOW), "debitor send", journal=settings.journal),
            closing(open_journal(settings.journal, verify=True)) as journal,
        ):
            yield counterpart, journal
        return
    with closing(open_journal(settings.journal)) as journal:
        yield counterpart, journal


@click.group()
def debitor() -> None:
    """TØK's claims to the municipality's debtor system (ØiR Debitor, SF1590_B)."""


@debitor.command("send")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@config_option
def send_command(as_json: bool, config_path: Path | None) -> None:
    """Send TØK's received claims (B_01) and applied set-offs (B_03) to the debtor system.

    Calls left unanswered by an earlier run are made again first, with the same message. Exit
    1 when the debtor system refused a call or the gateway refused a claim (see toekgw errors),
    2 when the debtor system could not be reached (the rest waits for the next run).
    """
    settings = load_settings(config_path)
    with _journal(config_path, flow=True) as (_, journal):
        result = send_claims(journal, settings, clock.now)
    data = {"sent": result.sent, "rejected": result.rejected, "refused": result.refused,
            "repeated": result.repeated}  # fmt: skip
    click.echo(
        json.dumps(data)
        if as_json
        else f"{result.sent} calls taken, {result.rejected} refused by the debtor system, "
        f"{result.refused} claims refused here, {result.repeated} made again"
    )
    sys.exit(1 if result.rejected or result.refused else 0)


@debitor.command("status")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of text.")
@click.option(
    "--limit", type=AT_LEAST_ONE, default=50, show_default=True, help="The newest N calls."
)
@config_option
def status_command(as_json: bool, limit: int, config_path: Path | None) -> None:
    """Each call's outcome: claimed (not yet answered), answered or rejected, and why."""
    with _journal(config_path) as (counterpart, journal):
        calls = journal.transmissions(counterpart=counterpart, kind=AFSEND_KIND.name)
        for tx in sorted(calls, key=lambda t: t.id)[-limit:]:
            events = journal.events(tx.id)
            why = events[-1].reason if events else ""
            operations = tx.meta.get("operations") or []
            assert isinstance(operations, list)
            kinds = ", ".join(str(op["type"]) for op in operations)
            if as_json:
                click.echo(json.dumps({"besked_id": tx.delivery_key, "service": tx.meta["service"],
                                       "state": tx.state, "operations": kinds, "why": why,
                                       "at": tx.updated_at}, ensure_ascii=False))  # fmt: skip
            else:
                click.echo(f"{danish_clock(tx.updated_at)}  {tx.state:<9} {tx.meta['service']} "
                           f"{tx.delivery_key} [{kinds}]: {why}")  # fmt: skip


@debitor.command("ledger")
@click.option("--claim", "claim", default=None, help="Only this claim (its debtor-system id).")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of text.")
@config_option
def ledger_command(claim: str | None, as_json: bool, config_path: Path | None) -> None:
    """Each claim's ledger: original, write-downs, coverings, write-offs, remaining debt.
    Exit 2 when --claim names no claim in the journal."""
    shown = 0
    with _journal(config_path) as (counterpart, journal):
        for ledger in ledgers(journal, counterpart=counterpart):
            if claim is None or ledger.fordring_id == claim:
                shown += 1
                click.echo(json.dumps(_ledger_dict(ledger)) if as_json else _ledger_line(ledger))
        if claim is not None and not shown:
            raise InputError(f"no claim {claim!r} in the journal {journal.location}")


def _ledger_dict(ledger: ClaimLedger) -> dict[str, object]:
    return {"cvr": ledger.cvr, "claim": ledger.fordring_id, "original_ore": ledger.original_ore,
            "write_downs_ore": ledger.write_downs_ore, "coverings_ore": ledger.coverings_ore,
            "write_offs_ore": ledger.write_offs_ore, "remaining_ore": ledger.remaining_ore,
            "released": ledger.released, "created": ledger.created,
            "replaces": ledger.erstatter or None,
            "replaced_by": ledger.erstattet_af or None}  # fmt: skip


def _ledger_line(ledger: ClaimLedger) -> str:
    return (
        f"{ledger.cvr} {ledger.fordring_id}: original {kroner(ledger.original_ore)}, "
        f"written down {kroner(ledger.write_downs_ore)}, covered {kroner(ledger.coverings_ore)}, "
        f"written off {kroner(ledger.write_offs_ore)}, remaining {kroner(ledger.remaining_ore)}"
        + ("" if ledger.created else " (never created by us)")
        + (f" (replaces {ledger.erstatter})" if ledger.erstatter else "")
        + (f" (replaced by {ledger.erstattet_af})" if ledger.erstattet_af else "")
    )


@debitor.command("reconcile")
@click.option(
    "--report", required=True, help="The debtor system's balance report: a file or an http(s) URL."
)
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@config_option
def reconcile_command(report: str, as_json: bool, config_path: Path | None) -> None:
    """Reconcile the claim ledgers with the debtor system's balances (categories 1/2/3).

    Exit 0 in category 1 or 2, 1 in category 3 (a difference that cannot be specified).
    Memory grows with the number of claims: the report and the ledgers are matched by claim,
    both sides held while they are.
    """
    lines = _report_lines(report)
    with _journal(config_path) as (counterpart, journal):
        try:
            result = reconcile_claims(journal, read_saldo(lines), as_of=clock.today(),
                                      counterpart=counterpart)  # fmt: skip
        except BadSaldo as exc:
            raise InputError(f"{report}: {exc}") from exc
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(f"category {int(result.category)}: {result.category.title}; "
                   f"{result.sent_count} claims, {result.settled_count} agree, "
                   f"{result.follow_up_count} not reported yet")  # fmt: skip
        for difference in result.unexplained:
            # A claim's id is the debtor system's: it can hold a CPR number's digits.
            click.echo(
                mask_cpr_in_text(
                    f"  {difference.key}: {difference.reason} ({kroner(difference.amount_oere)})"
                )
            )
    sys.exit(1 if int(result.category) == 3 else 0)


def _report_lines(report: str) -> list[str]:
    if report.startswith(("http://", "https://")):
        try:
            answer = requests.get(report, timeout=30)
            answer.raise_for_status()
        except requests.RequestException as exc:
            raise InputError(f"cannot fetch the report {report}: {exc}") from exc
        return answer.text.splitlines()
    try:
        return Path(report).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the report {report}: {exc}") from exc
