"""``toekgw nemkonto``: release payments into bundles, send them, block recipients, and the
manual-handling list. Answers come in with ``toekgw receive nemkonto``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

import click

from toekgw.adapters.config import load_settings
from toekgw.adapters.nemkonto import (
    MANUAL_SUBJECT,
    NEMKONTO_SECTION,
    FlowSettings,
    block_recipient,
    blocks,
    flow_settings,
    lift_block,
    recipient,
    release,
    send_bundles,
)
from toekgw.adapters.payments import PaymentControls, payments_settings
from toekgw.cli import clock
from toekgw.cli.options import DAY, config_option, reason_option
from toekgw.formats.findings import mask_cpr_in_text
from toekgw.gateway.config import Settings
from toekgw.gateway.danish_time import danish_clock
from toekgw.gateway.flowlock import flow_lock, lock_path
from toekgw.gateway.journal import SqliteJournal, open_journal
from toekgw.gateway.money import kroner
from toekgw.gateway.transport.config import open_queue

__all__ = ["flow_settings", "nemkonto", "opened"]

_KINDS = click.Choice(["cpr", "cvr", "se", "pnumber", "account"], case_sensitive=False)


@contextmanager
def opened(
    config_path: Path | None, *, moves_money: str | None = None, per_machine: bool = False
) -> Iterator[tuple[Settings, FlowSettings, SqliteJournal]]:
    """The settings and the journal. ``moves_money`` names a flow (``"nemkonto-send"``) that
    runs single-flight under its lock, on a journal that passes its integrity check; with
    ``per_machine`` the lock holds on this machine only (a flow whose workers claim its items,
    so that every machine sharing the journal runs it at once)."""
    settings = load_settings(config_path)
    flow = flow_settings(settings)
    with ExitStack() as stack:
        if moves_money:
            what = moves_money.replace("-", " ")
            stack.enter_context(
                flow_lock(
                    lock_path(settings.staging, moves_money),
                    what,
                    journal=None if per_machine else settings.journal,
                )
            )
        journal = open_journal(settings.journal, verify=bool(moves_money))
        stack.enter_context(closing(journal))
        yield settings, flow, journal


@click.group()
def nemkonto() -> None:
    """NemKonto payment bundles: release, send, recipient blocks, manual handling."""


@nemkonto.command("release")
@click.option(
    "--today",
    type=DAY,
    default=None,
    help="Release as on this date (YYYY-MM-DD) [default: today].",
)
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@config_option
def release_command(today: dt.datetime | None, as_json: bool, config_path: Path | None) -> None:
    """Apply recalls, blocks and the payment controls (duplicates, amount limits, accounts),
    then bundle and journal every payment that is due."""
    day = today.date() if today else clock.today()
    with opened(config_path, moves_money="nemkonto-release") as (settings, flow, journal):
        now = clock.now()
        controls = PaymentControls(payments_settings(settings), now)
        result = release(journal, flow, day, now=now, controls=controls)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    click.echo(
        f"released {result.released} payments ({kroner(result.released_ore)} kr) in "
        f"{len(result.bundles)} bundles; {result.waiting} waiting for their release date, "
        f"{result.blocked} newly blocked, {result.unblocked} unblocked, {result.recalled} "
        f"recalled, {result.recalls_refused} recalls refused"
    )
    for state, n in sorted(result.held.items()):
        click.echo(f"  payment controls: {n} payments moved to {state} (toekgw payments find "
                   f"--state {state})")  # fmt: skip
    for b in result.bundles:
        click.echo(
            f"  bundle {b.bundle_id}: {b.count} payments, {kroner(b.total_ore)} kr, "
            f"municipality {b.municipality}, disposition date {b.disposition_date.isoformat()}"
        )
    for municipality, n in sorted(result.no_agreement.items()):
        click.echo(
            f"  held: {n} payments of municipality {municipality}: no NemKonto agreement in "
            "[nemkonto.authorities]",
            err=True,
        )
    findings = set(result.held) & {"suspected-duplicate", "over-limit"}
    if result.recalls_refused or result.no_agreement or findings:
        raise SystemExit(1)


@nemkonto.command("send")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@config_option
def send_command(as_json: bool, config_path: Path | None) -> None:
    """Put every prepared bundle on the NemKonto request queue."""
    with opened(config_path, moves_money="nemkonto-send") as (settings, flow, journal):
        queue = open_queue(settings.require(NEMKONTO_SECTION).mq)
        try:
            sent = send_bundles(journal, queue, flow)
        finally:
            queue.close()
    if as_json:
        click.echo(
            json.dumps(
                [{"bundle_id": s.bundle_id, "count": s.count, "oere": s.total_ore} for s in sent],
                indent=2,
            )
        )
        return
    click.echo(f"sent {len(sent)} bundles to {flow.request_queue}")
    for s in sent:
        click.echo(f"  bundle {s.bundle_id}: {s.count} payments, {kroner(s.total_ore)} kr")


@nemkonto.command("block")
@click.argument("kind", type=_KINDS)
@click.argument("number")
@reason_option
@config_option
def block_command(kind: str, number: str, reason: str, config_path: Path | None) -> None:
    """Hold every payment to a recipient (KIND: cpr, cvr, se, pnumber or account)."""
    key = recipient(kind, number)
    with opened(config_path) as (_settings, flow, journal):
        done = block_recipient(journal, flow, key, reason)
    shown = mask_cpr_in_text(key)
    click.echo(f"{shown} blocked" if done else f"{shown} was already blocked")


@nemkonto.command("unblock")
@click.argument("kind", type=_KINDS)
@click.argument("number")
@reason_option
@config_option
def unblock_command(kind: str, number: str, reason: str, config_path: Path | None) -> None:
    """Lift a recipient's block: the next release lets its payments go."""
    key = recipient(kind, number)
    with opened(config_path) as (_settings, flow, journal):
        done = lift_block(journal, flow, key, reason)
    shown = mask_cpr_in_text(key)
    click.echo(f"{shown}: block lifted" if done else f"{shown} was not blocked")
    if not done:
        raise SystemExit(1)


@nemkonto.command("blocks")
@config_option
def blocks_command(config_path: Path | None) -> None:
    """List the recipient blocks (CPR numbers masked)."""
    with opened(config_path) as (_settings, flow, journal):
        found = blocks(journal, flow)
    if not found:
        click.echo("no recipient is blocked")
    for b in found:
        click.echo(
            f"{b.shown}  {b.state}  {danish_clock(b.updated_at)}  {mask_cpr_in_text(b.reason)}"
        )


@nemkonto.command("manual")
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved entries.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@config_option
def manual_command(include_resolved: bool, as_json: bool, config_path: Path | None) -> None:
    """The manual-handling list: rejected payments and bank errors. Nothing on it is sent
    again by itself."""
    with opened(config_path) as (_settings, flow, journal):
        entries = [
            e
            for e in journal.errors(include_resolved=include_resolved, counterpart=flow.counterpart)
            if e.subject == MANUAL_SUBJECT
        ]
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "entry": e.id,
                        "at": e.at,
                        "payment": e.business_key and mask_cpr_in_text(e.business_key),
                        "bundle_transmission": e.transmission_id,
                        "state": e.state,
                        "findings": [f.as_dict() for f in e.findings],
                    }
                    for e in entries
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not entries:
        click.echo("the manual-handling list is empty")
    for e in entries:
        text = e.findings[0].message if e.findings else ""
        click.echo(
            f"#{e.id} {danish_clock(e.at)} {mask_cpr_in_text(e.business_key or '')} ({e.state}): "
            f"{mask_cpr_in_text(text)}"
        )
