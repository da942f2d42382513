"""The ØiR flow through the commands, against a local platform, the ERP simulator and
Klassifikation: payments are booked, the ERP's ledger agrees with the gateway."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.oir_data import (
    BANK,
    EXPENSE,
    EXPENSE_NEW,
    INTERMEDIATE,
    SORTIMENT,
    TRIVIAL,
    posting_day,
)
from tests.oir_rig import OirRig
from toekgw.cli.main import cli
from toekgw.formats.oir import VoucherStatus


def _payments(rig: OirRig, count: int = 3, *, paid: int = 1) -> list[str]:
    journal = rig.journal()
    journal_delivery(journal, [instruction(n, amount=1_000 * (n + 1)) for n in range(count)])
    keys = []
    for tx in journal.transmissions(kind="g68-delivery"):
        for item in journal.items(tx.id):
            keys.append(item.business_key)
            if len(keys) <= paid:
                for state in ("released", "sent", "received", "accepted", "at-bank"):
                    journal.set_item_state(item.id, state, reason="test")
    journal.close()
    return keys


def test_payments_are_booked_in_the_erp_and_the_books_agree(tmp_path: Path) -> None:
    rig = OirRig(tmp_path)
    rig.publish_sortiment()
    result = rig.run("sortiment", "receive")
    assert result.exit_code == 0, result.output
    assert "version 1 (full, 4 classes) applied" in result.output
    _payments(rig, 3, paid=1)
    assert rig.run("oir", "build").exit_code == 0
    first = rig.run("oir", "send")
    assert first.exit_code == 0 and "no technical receipt" in first.output, first.output
    rig.exchange()
    second = rig.run("oir", "send")
    assert second.exit_code == 0 and "the platform took it" in second.output, second.output
    received = rig.run("oir", "receive", "--json")
    assert received.exit_code == 0, received.output
    shown = json.loads(received.stdout)
    assert shown["accepted"] == 2  # journaled + effectuated vouchers
    # Each file's outcome and the count applied, both: the count overwrote the list, before.
    assert shown["applied"] == len(shown["files"]) >= 1, shown
    assert all(isinstance(line, str) and ": received: " in line for line in shown["files"])
    journal = rig.journal()
    assert {v.state for v in journal.vouchers()} == {"accepted"}
    journal.close()
    balance = rig.run("oir", "balance", "--json")
    assert balance.exit_code == 0, balance.output
    control = json.loads(balance.output)
    assert control["agrees"] and control["outstanding_ore"] == 2_000 + 3_000
    # The ERP's ledger: the intermediate account's credit is the outstanding payments.
    assert rig.ledger.balances()[INTERMEDIATE] == -control["intermediate_balance_ore"]
    export = rig.run("oir", "export", "--month", posting_day().strftime("%Y-%m"))
    assert export.exit_code == 0
    lines = export.output.splitlines()
    assert lines[0].startswith("posting_date,voucher_id") and len(lines) == 1 + 2 * 4


def test_a_rejected_voucher_is_listed_then_regenerated_and_booked(tmp_path: Path) -> None:
    rig = OirRig(tmp_path)
    rig.publish_sortiment(closed_on=posting_day() + dt.timedelta(days=1))
    assert rig.run("sortiment", "receive").exit_code == 0
    rig.faults.unknown_accounts.add(EXPENSE)
    _payments(rig, 1, paid=0)
    assert rig.run("oir", "build").exit_code == 0
    rig.run("oir", "send")
    rig.exchange()
    rig.run("oir", "send")
    received = rig.run("oir", "receive")
    assert received.exit_code == 1 and "1 rejected" in received.output, received.output
    errors = rig.run("errors")
    assert "ukendt konto 5.57.72/1/5.2" in errors.output, errors.output
    journal = rig.journal()
    (rejected,) = journal.vouchers(states=["rejected"])
    journal.close()
    # Tomorrow the sortiment's replacement account opens; the [oir] accounts name it.
    text = rig.config.read_text().replace(f'expense = "{EXPENSE}"', f'expense = "{EXPENSE_NEW}"')
    rig.config.write_text(text)
    tomorrow = (posting_day() + dt.timedelta(days=1)).isoformat()
    result = rig.run("oir", "regenerate", rejected.voucher_id, "--date", tomorrow)
    assert result.exit_code == 0, result.output
    rig.run("oir", "send")
    rig.exchange()
    rig.run("oir", "send")
    assert rig.run("oir", "receive").exit_code == 0
    assert rig.ledger.balances()[EXPENSE_NEW] == 1_000
    assert len(rig.ledger.booked(VoucherStatus.ACCEPTED)) == 1


def test_sortiment_commands(tmp_path: Path) -> None:
    rig = OirRig(tmp_path)
    rig.publish_sortiment(closed_on=dt.date(2026, 11, 15))
    empty = rig.run("sortiment", "show", EXPENSE)  # nothing received: cannot run, no finding
    assert empty.exit_code == 2, empty.output
    assert f"the replica holds no version of sortiment {SORTIMENT} yet" in empty.output
    assert rig.run("sortiment", "receive").exit_code == 0
    status = rig.run("sortiment", "status")
    assert "version    1  FULD" in status.output and "version    2  DELTA" in status.output
    shown = rig.run("sortiment", "show", EXPENSE)
    assert "valid 2026-01-01..2026-11-14" in shown.output, shown.output
    changed = rig.run("sortiment", "diff")
    assert f"changed  {EXPENSE}  valid 2026-01-01.. -> 2026-01-01..2026-11-14" in changed.output
    assert f"added    {EXPENSE_NEW}" in changed.output
    assert rig.run("sortiment", "show", "1.11.11/1/1").exit_code == 1
    unknown = rig.run("sortiment", "diff", "--from", "9")  # a version the replica lacks: usage
    assert unknown.exit_code == 2, unknown.output
    assert f"the replica holds no version 9 of sortiment {SORTIMENT}" in unknown.output


def test_a_closed_account_is_a_finding_before_sending_and_the_re_send_books_the_replacement(
    tmp_path: Path,
) -> None:
    rig = OirRig(tmp_path)
    today = posting_day()
    rig.publish_sortiment(closed_on=today - dt.timedelta(days=2))  # the delta closes EXPENSE
    assert rig.run("sortiment", "receive").exit_code == 0
    _payments(rig, 1, paid=0)
    built = rig.run("oir", "build")
    assert built.exit_code == 1 and "1 held" in built.output, built.output
    assert "no vouchers to send" in rig.run("oir", "send").output  # held: never sent
    assert "5.57.72/1/5.2: not valid on" in rig.run("errors").output
    journal = rig.journal()
    (held,) = journal.vouchers(states=["held"])
    journal.close()
    text = rig.config.read_text().replace(f'expense = "{EXPENSE}"', f'expense = "{EXPENSE_NEW}"')
    rig.config.write_text(text)
    later = today + dt.timedelta(days=3)
    assert rig.run("oir", "regenerate", held.voucher_id, "--date", later.isoformat()).exit_code == 0
    rig.run("oir", "send")
    rig.exchange()
    rig.run("oir", "send")
    assert rig.run("oir", "receive").exit_code == 0
    assert rig.ledger.balances() == {EXPENSE_NEW: 1_000, INTERMEDIATE: -1_000}
    assert rig.ledger.booked_days() == [later.isoformat()]


def test_the_simulator_removes_a_class_and_the_commands_say_so(tmp_path: Path) -> None:
    rig = OirRig(tmp_path)
    published = CliRunner().invoke(cli, [
        "simulate", "klassifikation", "--root", str(tmp_path / "platform"),
        "--sortiment", SORTIMENT, "--start", "2026-01-01",
        "--code", EXPENSE, "--code", INTERMEDIATE, "--code", BANK, "--code", TRIVIAL,
        "--close", EXPENSE, "--replacement", EXPENSE_NEW, "--closed-on", "2026-11-15",
        "--remove", EXPENSE_NEW,
    ])  # fmt: skip
    assert published.exit_code == 0 and published.output.count("published") == 3
    rig.platform.scan()
    received = rig.run("sortiment", "receive")
    assert received.exit_code == 0 and "1 removed" in received.output, received.output
    assert "REMOVED in version 3" in rig.run("sortiment", "show", EXPENSE_NEW).output
    assert f"removed  {EXPENSE_NEW}" in rig.run("sortiment", "diff").output
    bad = CliRunner().invoke(cli, ["simulate", "klassifikation", "--root",
                                   str(tmp_path / "platform"), "--sortiment", SORTIMENT,
                                   "--start", "2026-01-01", "--code", EXPENSE,
                                   "--remove", "1.11.11/1/1"])  # fmt: skip
    assert bad.exit_code == 2 and "not a code of the sortiment: 1.11.11/1/1" in bad.output


def test_balance_lists_every_difference_as_it_streams_them(tmp_path: Path) -> None:
    rig = OirRig(tmp_path)
    rig.publish_sortiment()
    assert rig.run("sortiment", "receive").exit_code == 0
    keys = _payments(rig, 3, paid=0)  # journaled, not yet booked: three differences
    as_json = rig.run("oir", "balance", "--json")
    assert as_json.exit_code == 1
    control = json.loads(as_json.output)
    assert control["difference_count"] == 3 and not control["agrees"]
    assert sorted(d["business_key"] for d in control["differences"]) == sorted(keys)
    assert control["outstanding_ore"] == 1_000 + 2_000 + 3_000
    tomorrow = (posting_day() + dt.timedelta(days=1)).isoformat()
    text = rig.run("oir", "balance", "--date", tomorrow)
    assert text.exit_code == 1 and "3 differences" in text.output
    assert all(f"{key}: booked 0.00" in text.output for key in keys), text.output


@pytest.mark.parametrize("zone", ["Mars/Phobos", "../../etc/passwd"])
def test_a_time_zone_the_system_does_not_know_is_a_configuration_error(
    tmp_path: Path, zone: str
) -> None:
    rig = OirRig(tmp_path)
    text = rig.config.read_text().replace("[oir]\n", f'[oir]\ntime_zone = "{zone}"\n')
    rig.config.write_text(text)
    for command in (("oir", "build"), ("doctor",)):
        result = rig.run(*command)
        assert result.exit_code == 2, result.output
        assert "internal error" not in result.stderr, result.stderr
        assert result.stderr.strip() == (
            f"toekgw: error: {rig.config.resolve()}: [oir] time_zone: not a time zone this "
            f"system knows, found {zone!r} (expected an IANA time zone such as "
            "Europe/Copenhagen)"
        )


def test_export_into_a_missing_directory_is_refused(tmp_path: Path) -> None:
    rig = OirRig(tmp_path)
    output = tmp_path / "missing" / "postings.csv"
    result = rig.run("oir", "export", "--month", "2026-01", "--output", str(output))
    assert result.exit_code == 2 and "internal error" not in result.stderr, result.output
    assert (
        f"Invalid value for '--output': {output}: no directory {output.parent} "
        "(expected a file in an existing directory)" in result.stderr
    )


def test_a_received_file_whose_copy_is_gone_before_it_was_applied_is_listed_not_skipped(
    tmp_path: Path,
) -> None:
    """A receive killed before it applied a delivery, then days with no receive, and retention
    deleted the staging copy: the next receive skipped the file in silence (no copy path) or
    stopped with an internal error (a path to nothing). Now the error list says so, once."""
    rig = OirRig(tmp_path)
    rig.publish_sortiment()
    killed = rig.child("sortiment", "receive", crash_at="oir.intake.before_commit")
    assert killed.returncode == -9, killed.stderr
    journal = rig.journal()
    (tx,) = journal.transmissions(kind="sf7002-sortiment")
    journal.close()
    assert tx.state == "received" and tx.local_path
    Path(tx.local_path).unlink()  # what retention does to an old staging copy
    again = rig.run("sortiment", "receive")
    assert again.exit_code == 1, again.output
    assert "the staging copy of this received file is gone before it was applied" in again.output
    journal = rig.journal()
    (entry,) = [e for e in journal.errors() if e.transmission_id == tx.id]
    assert [f.code for f in entry.findings] == ["oir.intake.copy_gone"]
    assert journal.class_versions(SORTIMENT) == []  # nothing of it in the replica
    journal.close()
    third = rig.run("sortiment", "receive")
    assert third.exit_code == 0 and "gone" not in third.output, third.output
