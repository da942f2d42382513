"""``toekgw reconcile --month YYYY-MM``: the month-end report as HTML, XLSX and CSV."""

from __future__ import annotations

import datetime as dt
from contextlib import closing
from pathlib import Path

import click

from toekgw.adapters.config import load_settings
from toekgw.adapters.monthreport import (
    MonthReport,
    build_report,
    month,
    write_csv,
    write_html,
    write_xlsx,
)
from toekgw.cli import clock
from toekgw.cli.actions import action
from toekgw.cli.options import config_option, masked
from toekgw.gateway.config import Settings
from toekgw.gateway.errors import UsageError
from toekgw.gateway.journal import open_journal
from toekgw.gateway.money import kroner


@click.group("reconcile", invoke_without_command=True)
@click.option("--month", "month_text", default=None, help="The month, YYYY-MM.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="The directory the report files go to.",
)
@config_option
@click.pass_context
def reconcile(
    ctx: click.Context, month_text: str | None, out_dir: Path, config_path: Path | None
) -> None:
    """The month-end report (--month YYYY-MM): payments per municipality from sent to paid,
    per day, the categories 1/2/3, ageing, differences (an action plan at 1,000 kr gross),
    the action plan, the completeness control; eIndkomst reports by receipt. Writes a
    self-contained HTML page with charts, an XLSX workbook and CSV files to --out, and prints
    where. Exit 0 when the month is complete and in category 1 or 2, 1 otherwise.

    `toekgw reconcile action add|update|list`: the action plan (docs/reconciliation.md)."""
    if ctx.invoked_subcommand is not None:
        return
    if month_text is None:
        raise UsageError("toekgw reconcile: give --month YYYY-MM (or a subcommand: action)")
    first, last = month(month_text)
    settings = load_settings(config_path)
    report, files = write_month_report(settings, first, last, out_dir)
    click.echo(
        f"{report.label}: category {int(report.category)} ({report.category.title}); "
        f"{report.total.counts['sent']} payments, {kroner(report.total.sums['sent'])} kr sent; "
        f"differences {kroner(report.gross_differences_oere)} kr gross"
        + ("; an action plan is needed" if report.needs_action_plan else "")
        + ("" if report.complete else "; INCOMPLETE: a delivery is not accounted for")
    )
    print_where(files)
    if not report.complete or int(report.category) == 3:
        raise SystemExit(1)


reconcile.add_command(action)


def write_month_report(
    settings: Settings, first: dt.date, last: dt.date, out_dir: Path
) -> tuple[MonthReport, list[Path]]:
    """Build the month's report from the journal and write it: HTML, XLSX, then the CSVs."""
    now = clock.now()
    with closing(open_journal(settings.journal, reader=True)) as journal:
        actions = journal.actions(month=f"{first:%Y-%m}")
        report = build_report(journal, settings, first, last, now, actions)
    base = out_dir / f"toekgw-{report.label}"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_html(report, base.with_suffix(".html"), generated=now)
        write_xlsx(report, base.with_suffix(".xlsx"))
        csvs = write_csv(report, base)
    except OSError as exc:
        raise UsageError(f"cannot write the report to {out_dir}: {exc.strerror or exc}") from exc
    return report, [base.with_suffix(".html"), base.with_suffix(".xlsx"), *csvs]


def print_where(files: list[Path]) -> None:
    click.echo(f"report: {masked(files[0])}")
    click.echo(f"workbook: {masked(files[1])}")
    click.echo(f"csv: {len(files) - 2} files {masked(files[2].parent)}/*.csv")
