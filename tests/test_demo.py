"""The month-end demo runs the whole path and its reconciliation adds up."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from toekgw.cli.main import cli

# Not inside a longer run of letters and digits: a uuid's hex group may hold ten digits.
CPR_IN_CLEAR = re.compile(r"(?<![0-9A-Za-z])[0-3][0-9][01][0-9]{3}-?[0-9]{4}(?![0-9A-Za-z])")


def test_month_end_demo_reconciles_and_pays_each_payment_once(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    args = ["demo", "--workdir", str(workdir), "--today", "2026-11-27", "--count", "400"]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    run = json.loads(result.output)
    total = run["payments"]["total"]
    for measure in ("count", "oere"):
        assert total["received"][measure] == (
            total["accepted"][measure] + total["rejected"][measure] + total["outstanding"][measure]
        )
    assert total["sent"]["count"] > 0 and total["rejected"]["count"] > 0
    # NemKonto's ledger: every payment at the bank was paid exactly once.
    states = run["payments_by_state"]
    assert run["nemkonto_ledger"]["paid_payments"] == states["at-bank"]["count"]
    assert run["nemkonto_ledger"]["paid_ore"] == states["at-bank"]["oere"]
    # The planted errors reached the error list; the paid benefits were reported and reconciled.
    assert run["error_list"]["findings"] > 0
    assert run["eindkomst"]["reconciliation"]["category"] == 1
    # ØiR: every payment booked; intermediate account = outstanding; the ERP's ledger agrees.
    books = run["oir"]
    assert books["vouchers"]["held"] == 0 and books["vouchers"]["built"] > 0
    assert books["erp_answers"]["accepted"] == books["vouchers"]["built"]
    assert books["konteringskontrol"]["agrees"] and books["intermediate_equals_outstanding"]
    assert books["erp_agrees"]
    assert CPR_IN_CLEAR.search(result.output) is None
    # It ends with the month-end report: HTML, XLSX and one CSV per section, no CPR in clear.
    html, xlsx, *csvs = (Path(p) for p in run["month_report"])
    assert html.name == "toekgw-2026-11.html" and xlsx.exists() and len(csvs) == 10
    assert any(p.name.endswith("-oir.csv") for p in csvs)
    _check_oir_section(workdir, tmp_path / "reports")
    # Its toekgw.toml serves the eIndkomst commands too: the demo took every answer.
    config = str(workdir / "toekgw.toml")
    received = CliRunner().invoke(cli, ["eindkomst", "receive", "--config", config])
    assert received.exit_code == 0 and received.output.startswith("0 message(s)"), received.output
    page = html.read_text(encoding="utf-8")
    november = sum(
        d["sent"]["count"]
        for d in run["payments"]["dates"]
        if d["disposition_date"].startswith("2026-11")
    )
    assert november > 0 and f'id="total-count">{november}<' in page
    assert CPR_IN_CLEAR.search(page) is None
    # Payment operations: one rejected payment resent and paid, one paid by cash voucher, one
    # suspected duplicate held and released (and paid), one payment below the lower limit.
    ops = run["payment_operations"]
    assert ops["resent"]["state"] == "at-bank" and ops["resent"]["as"].endswith(":r1")
    assert ops["cash_voucher"]["state"] == "cash-voucher"
    assert ops["suspected_duplicate"]["held_as"] == "suspected-duplicate"
    assert ops["suspected_duplicate"]["state"] == "at-bank"
    assert ops["below_lower_limit"]["state"] == "trivial-amount"
    assert ops["reconciliation"]["balanced"] and ops["reconciliation"]["follow_ups"] == 1

    # The plain rendering runs again in the same workdir (a demo wipes its own run only).
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert "received" in again.output and "category" in again.output
    assert f"report: {html}" in again.output
    assert CPR_IN_CLEAR.search(again.output) is None


def _check_oir_section(workdir: Path, out: Path) -> None:
    """ØiR: booked = accepted + awaiting + rejected + held, and the total booked is the
    journal's own sum of the month's debit postings (read with SQL). The vouchers carry the
    day they were booked (today), so the report is of the month they are in."""
    db = sqlite3.connect(workdir / "var" / "journal.sqlite")
    (day,) = db.execute("SELECT min(day) FROM vouchers").fetchone()
    (debits,) = db.execute(
        "SELECT sum(p.amount_ore) FROM vouchers v JOIN voucher_postings p ON p.voucher_row = v.id "
        "WHERE substr(v.day, 1, 7) = ? AND v.state != 'superseded' AND p.side = 'D'",
        (day[:7],),
    ).fetchone()
    db.close()
    config = workdir / "toekgw.toml"
    args = ["reconcile", "--month", day[:7], "--out", str(out), "--config", str(config)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 1), result.output
    with (out / f"toekgw-{day[:7]}-oir.csv").open(encoding="utf-8") as fh:
        rows = {row["municipality"]: row for row in csv.DictReader(fh)}
    total = {k: int(v) for k, v in rows.pop("total").items() if k != "municipality"}
    for measure in ("count", "øre"):
        parts = ("accepted", "awaiting", "rejected", "held")
        assert total[f"booked {measure}"] == sum(total[f"{p} {measure}"] for p in parts)
    assert total["accepted count"] > 0 and rows
    assert total["booked øre"] == debits


def test_demo_never_wipes_a_directory_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    result = CliRunner().invoke(cli, ["demo", "--workdir", str(tmp_path)])
    assert result.exit_code == 2
    assert "not made by `toekgw demo`" in result.output
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_a_day_at_the_ends_of_the_calendar_is_refused(tmp_path: Path) -> None:
    for day in ("9999-12-31", "0001-01-31"):
        args = ["demo", "--workdir", str(tmp_path / "demo"), "--today", day]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2 and "internal error" not in result.stderr, result.output
        assert (
            f"Invalid value for '--today': {day}: expected a date from 1900-01-01 to 9000-12-31"
            in result.stderr
        )
    assert not (tmp_path / "demo").exists()


def test_too_few_payments_for_the_second_delivery_is_one_line(tmp_path: Path) -> None:
    args = ["demo", "--workdir", str(tmp_path / "demo"), "--today", "2026-11-27", "--count", "1"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "internal error" not in result.stderr, result.output
    assert result.stderr.strip().splitlines()[-1] == (
        "toekgw: error: demo: the second delivery repeats two of the first delivery's payments "
        "to a CPR number due by 2026-11-27, and 1 of them passed the rules (expected a larger "
        "--count, or a --today after the generated birth dates of 1940 to 2004)"
    )
