"""``toekgw reconcile action add|update|list``: the action plan, kept in the journal from month
to month (docs/reconciliation.md). Every change records the acting identity."""

from __future__ import annotations

import datetime as dt
import json
from contextlib import closing
from dataclasses import asdict
from pathlib import Path

import click

from toekgw.adapters.config import load_settings
from toekgw.adapters.monthreport import month
from toekgw.cli.options import AT_LEAST_ONE, DAY, config_option, kroner_option
from toekgw.gateway.danish_time import danish_date_of
from toekgw.gateway.identity import acting_identity
from toekgw.gateway.journal import ACTION_STATUSES, ActionEntry, open_journal
from toekgw.gateway.money import kroner

_DATE = DAY


def _show(entry: ActionEntry) -> str:
    return (
        f"#{entry.id} {entry.month} [{entry.status}] {entry.difference}: "
        f"{kroner(entry.amount_oere)} kr; cause: {entry.cause}; owner {entry.owner}, "
        f"by {entry.deadline}; last changed {danish_date_of(entry.updated_at)} "
        f"by {entry.updated_by}"
    )


@click.group("action")
def action() -> None:
    """The action plan: one entry per difference of 1,000 kr gross or more."""


@action.command("add")
@click.option("--month", "month_text", required=True, help="The month it belongs to, YYYY-MM.")
@click.option("--difference", required=True, help="What differs (bundle, payment, day …).")
@click.option("--kr", "oere", required=True, callback=kroner_option, metavar="KRONER",
              help="The amount in kroner, 1234.56.")  # fmt: skip
@click.option("--cause", required=True, help="Why it differs, as far as known.")
@click.option("--owner", required=True, help="Who acts on it.")
@click.option("--deadline", required=True, type=_DATE, help="By when, YYYY-MM-DD.")
@config_option
def add(
    month_text: str,
    difference: str,
    oere: int,
    cause: str,
    owner: str,
    deadline: dt.datetime,
    config_path: Path | None,
) -> None:
    """Add an entry (status open)."""
    first, _last = month(month_text)
    settings = load_settings(config_path)
    with closing(open_journal(settings.journal)) as journal:
        entry_id = journal.add_action(
            month=f"{first:%Y-%m}",
            difference=difference,
            amount_oere=oere,
            cause=cause,
            owner=owner,
            deadline=deadline.date(),
            by=acting_identity(),
        )
        click.echo(_show(journal.action(entry_id)))


@action.command("update")
@click.argument("entry", type=AT_LEAST_ONE)
@click.option("--status", type=click.Choice(ACTION_STATUSES), default=None)
@click.option("--cause", default=None, help="A new cause.")
@click.option("--owner", default=None, help="A new owner.")
@click.option("--deadline", type=_DATE, default=None, help="A new deadline, YYYY-MM-DD.")
@config_option
def update(
    entry: int,
    status: str | None,
    cause: str | None,
    owner: str | None,
    deadline: dt.datetime | None,
    config_path: Path | None,
) -> None:
    """Change ENTRY's status, cause, owner or deadline."""
    settings = load_settings(config_path)
    with closing(open_journal(settings.journal)) as journal:
        changed = journal.update_action(
            entry,
            by=acting_identity(),
            status=status,
            cause=cause,
            owner=owner,
            deadline=deadline.date() if deadline else None,
        )
    click.echo(_show(changed))


@action.command("list")
@click.option("--month", "month_text", default=None, help="As on this month's report.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@config_option
def list_(month_text: str | None, as_json: bool, config_path: Path | None) -> None:
    """Every entry; with --month, those on that month's report (raised up to it and not done
    before it)."""
    label = f"{month(month_text)[0]:%Y-%m}" if month_text else None
    settings = load_settings(config_path)
    with closing(open_journal(settings.journal)) as journal:
        entries = journal.actions(month=label)
    if as_json:
        rows = [{**asdict(e), "deadline": e.deadline.isoformat()} for e in entries]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not entries:
        click.echo("the action plan is empty")
    for e in entries:
        click.echo(_show(e))
