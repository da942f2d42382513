"""``toekgw reconcile --month``: the month-end report over a real flow (release, send,
NemKonto's answers with one rejection), its HTML opened in a real headless Chromium (the charts
render, the totals on the page are the journal's), its XLSX read back with numbers as numbers,
its CSV."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from tests.nemkonto_data import cpr
from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.test_nemkonto_flow_cli import CONFIG
from toekgw.cli.main import cli
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.nemkonto import NemKontoSimulator, SimulatorScript

#: .ci/run sets this: there, a missing browser fails the test instead of skipping it.
REQUIRE_BROWSER = "TOEKGW_REQUIRE_BROWSER"


def _browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get(REQUIRE_BROWSER):
        pytest.fail(f"no Chromium on PATH and {REQUIRE_BROWSER} is set")
    pytest.skip("no Chromium on PATH")


def _run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--config", str(config)], catch_exceptions=False)


@pytest.fixture
def month_of_payments(tmp_path: Path) -> Path:
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG, encoding="utf-8")
    journal = open_journal(tmp_path / "var" / "journal.sqlite")
    journal_delivery(journal, [instruction(n, amount=150_000 + n) for n in range(1, 7)])
    journal.close()
    assert _run(config, "nemkonto", "release", "--today", "2026-11-23").exit_code == 0
    assert _run(config, "nemkonto", "send").exit_code == 0
    with SqliteQueue(tmp_path / "var" / "queues.sqlite") as queue:
        sim = NemKontoSimulator(
            queue, tmp_path / "ledger.sqlite", SimulatorScript(reject_cprs=frozenset({cpr(2)}))
        )
        sim.drain()
        sim.ledger.close()
    assert _run(config, "receive", "nemkonto").exit_code == 0
    return config


def _journal_sent(config: Path) -> tuple[int, int]:
    """Count and øre of the payments the journal holds as released or beyond, by SQL."""
    db = sqlite3.connect(config.parent / "var" / "journal.sqlite")
    try:
        count, total = db.execute(
            "SELECT count(*), sum(amount_ore) FROM items WHERE state NOT IN "
            "('pending', 'blocked', 'recall-requested', 'recalled')"
        ).fetchone()
    finally:
        db.close()
    return int(count), int(total)


def test_the_report_opens_in_a_browser_with_the_journals_totals(
    month_of_payments: Path, tmp_path: Path
) -> None:
    browser = _browser()
    from playwright.sync_api import sync_playwright

    out = tmp_path / "reports"
    result = _run(month_of_payments, "reconcile", "--month", "2026-11", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"report: {out / 'toekgw-2026-11.html'}" in result.output
    assert "an action plan is needed" in result.output  # 1,500 kr rejected ≥ 1,000 kr
    count, total = _journal_sent(month_of_payments)
    assert count == 6

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=browser, args=["--no-sandbox"])
        try:
            page = chromium.new_page()
            page.goto((out / "toekgw-2026-11.html").as_uri())
            charts = page.locator("figure.chart")
            assert charts.count() == 4
            for i in range(4):
                bars = charts.nth(i).locator("rect.bar")
                assert bars.count() >= 1
                box = bars.first.bounding_box()
                assert box is not None and box["width"] > 1 and box["height"] > 0
            assert int(page.locator("#total-sent").get_attribute("data-oere") or 0) == total
            assert page.locator("#total-count").inner_text() == str(count)
            per_day = charts.nth(0).locator("rect.bar")
            day_values = [
                float(per_day.nth(i).get_attribute("data-value") or 0)
                for i in range(per_day.count())
            ]
            assert round(sum(day_values) * 100) == total
            rejected = page.locator("#differences tbody tr")
            assert rejected.count() >= 1
            assert cpr(2) not in page.content()
        finally:
            chromium.close()

    book = load_workbook(out / "toekgw-2026-11.xlsx")
    assert book.sheetnames[:3] == ["summary", "municipalities", "days"]
    totals = [row for row in book["municipalities"].iter_rows(values_only=True)][-1]
    assert totals[0] == "total" and totals[1] == count and totals[2] == total
    assert isinstance(book["days"]["A2"].value, dt.datetime)  # a date, not text

    with (out / "toekgw-2026-11-days.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sum(int(r["sent øre"]) for r in rows) == total


def test_an_unfinished_delivery_makes_the_month_incomplete(
    month_of_payments: Path, tmp_path: Path
) -> None:
    # The test delivery stays "journaled" (never finished receiving): this month lists it.
    this_month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    result = _run(month_of_payments, "reconcile", "--month", this_month, "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "INCOMPLETE" in result.output
    bad = _run(month_of_payments, "reconcile", "--month", "2026-13")
    assert bad.exit_code == 2 and "expected YYYY-MM" in bad.output


def test_the_action_plan_is_kept_from_month_to_month(
    month_of_payments: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = month_of_payments
    monkeypatch.setenv("TOEKGW_USER", "anna")
    added = _run(
        config, "reconcile", "action", "add", "--month", "2026-11", "--difference",
        "payment 000000000000000002 rejected", "--kr", "1500.02", "--cause",
        "closed account", "--owner", "bo", "--deadline", "2026-12-15",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert added.output.startswith("#1 2026-11 [open]") and "1,500.02 kr" in added.output

    out = tmp_path / "reports"
    assert _run(config, "reconcile", "--month", "2026-11", "--out", str(out)).exit_code == 0
    book = load_workbook(out / "toekgw-2026-11.xlsx")
    (entry,) = list(book["actions"].iter_rows(min_row=2, values_only=True))
    assert entry[:4] == (1, "2026-11", "payment 000000000000000002 rejected", 150_002)
    assert entry[-2:] == ("open", "anna")

    # Open, it stays on the next month's plan; done, it leaves the plans after this month.
    now = dt.datetime.now(dt.UTC).date()
    this_month = f"{now:%Y-%m}"
    next_month = f"{(now.replace(day=28) + dt.timedelta(days=5)):%Y-%m}"
    listed = _run(config, "reconcile", "action", "list", "--month", next_month, "--json")
    assert [e["id"] for e in json.loads(listed.output)] == [1]
    monkeypatch.setenv("TOEKGW_USER", "bo")
    done = _run(config, "reconcile", "action", "update", "1", "--status", "done")
    assert done.exit_code == 0 and "[done]" in done.output and "by bo" in done.output
    assert json.loads(_run(config, "reconcile", "action", "list", "--month", this_month,
                           "--json").output)[0]["status"] == "done"  # fmt: skip
    later = _run(config, "reconcile", "action", "list", "--month", next_month)
    assert later.output.strip() == "the action plan is empty"

    bad = _run(config, "reconcile", "action", "update", "7", "--status", "done")
    assert bad.exit_code == 2 and "no action-plan entry #7" in bad.output
    worse = _run(
        config, "reconcile", "action", "add", "--month", "2026-11", "--difference", "x",
        "--kr", "12.345", "--cause", "c", "--owner", "o", "--deadline", "2026-12-01",
    )  # fmt: skip
    assert worse.exit_code == 2 and "at most two decimals" in worse.output


@pytest.mark.parametrize("kroner", ["inf", "-inf", "nan", "1e30", "1000000000000"])
def test_an_action_amount_that_is_not_a_sane_number_of_kroner_is_refused(
    tmp_path: Path, kroner: str
) -> None:
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG, encoding="utf-8")
    result = _run(
        config, "reconcile", "action", "add", "--month", "2026-11", "--difference", "x",
        "--kr", kroner, "--cause", "c", "--owner", "o", "--deadline", "2026-12-01",
    )  # fmt: skip
    assert result.exit_code == 2 and "internal error" not in result.stderr, result.output
    assert (
        f"Invalid value for '--kr': {kroner!r}: expected kroner like 1234.56, "
        "at most 999,999,999,999.99" in result.stderr
    )
