"""``toekgw payments …``: each command once on a configured journal; a refused action is one
line, exit 1, nothing changed; CPR numbers masked."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.nemkonto_data import cpr
from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.test_nemkonto_flow_cli import CONFIG
from toekgw.adapters.g68 import PaymentInstruction
from toekgw.cli.main import cli
from toekgw.gateway.danish_time import danish_today
from toekgw.gateway.journal import Item, SqliteJournal, open_journal
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.nemkonto import NemKontoSimulator, SimulatorScript

POLICY = """
[payments.municipalities.101]
alternative_account = "approval"
own_registration = "1234"
own_account = "7654321"
trivial_account = "9.99.99.99"

[payments.municipalities.101.benefit_types.kontanthjaelp]
paying_units = ["1234"]
lower_ore = 1000
upper_ore = 5000000
"""
K = {n: instruction(n).business_key for n in range(1, 9)}


def _run(config: Path, *args: str, who: str = "anna") -> Result:
    return CliRunner(env={"TOEKGW_USER": who}).invoke(cli, [*args, "--config", str(config)])


def payments_config(
    tmp_path: Path, payments: Iterable[PaymentInstruction], extra: str = ""
) -> tuple[Path, int]:
    """``toekgw.toml`` with NemKonto, the payment policy and ``extra``, and a journal holding
    one G68 delivery of ``payments``: the file and the delivery's transmission id."""
    path = tmp_path / "toekgw.toml"
    path.write_text(CONFIG + POLICY + extra, encoding="utf-8")
    journal = open_journal(tmp_path / "var" / "journal.sqlite")
    tx = journal_delivery(journal, payments)
    journal.close()
    return path, tx


@pytest.fixture
def config(tmp_path: Path) -> Path:
    payments = [instruction(n) for n in range(1, 8)] + [instruction(8, amount=5)]
    return payments_config(tmp_path, payments)[0]


def _answer(tmp_path: Path, rejected: tuple[int, ...]) -> None:
    with SqliteQueue(tmp_path / "var" / "queues.sqlite") as queue:
        script = SimulatorScript(reject_cprs=frozenset(cpr(n) for n in rejected))
        sim = NemKontoSimulator(queue, tmp_path / "ledger.sqlite", script)
        sim.drain()
        sim.ledger.close()


def _cycle(config: Path, tmp_path: Path, rejected: tuple[int, ...] = ()) -> None:
    _run(config, "nemkonto", "release", "--today", "2026-11-23")
    assert _run(config, "nemkonto", "send").exit_code == 0
    _answer(tmp_path, rejected)
    assert _run(config, "receive", "nemkonto").exit_code == 0


def test_every_command_once(config: Path, tmp_path: Path) -> None:
    def ok(*args: str, who: str = "anna") -> str:
        result = _run(config, "payments", *args, who=who)
        assert result.exit_code == 0, result.output
        return result.output

    ok("block", K[7], "--reason", "the caseworker asked")
    ok("own-account", K[6], "--reason", "the recipient died")
    _cycle(config, tmp_path, rejected=(1, 2, 3, 4))
    assert "trivial-amount" in ok("find", "--state", "trivial-amount")
    ok("resend", K[1], "--reason", "account registered")
    assert "waits for a second person" in ok(
        "pay-alternative", K[2], "--registration", "5678", "--account", "123456", "--reason", "g"
    )
    ok("approve", K[2], "--reason", "checked", who="bo")
    ok("cash", K[3], "--voucher", "KB-7", "--reason", "paid at the desk")
    ok("recall", K[4], "--reason", "case closed")
    ok("unblock", K[7], "--reason", "cleared")
    ok("fail", K[5], "--reason", "the bank phoned")
    ok("approve", K[5], "--reason", "confirmed", who="bo")
    _cycle(config, tmp_path)
    found = ok("find", "--recipient", f"cpr:{cpr(1)}")
    assert f"{K[1]}:r1  at-bank" in found and cpr(1) not in found
    assert f"{cpr(1)[:6]}-****" in found
    shown = ok("show", K[1])
    assert f"follow-up {K[1]}:r1" in shown and "resent by anna: account registered" in shown
    assert "record cash-voucher" in ok("show", K[3])
    lines = [json.loads(x) for x in ok("find", "--min-amount", "100.03", "--json").splitlines()]
    assert {x["oere"] for x in lines} >= {10_003} and min(x["oere"] for x in lines) >= 10_003
    report = ok("outside-nemkonto", "--csv", str(tmp_path / "outside.csv"))
    assert "2 payments, 0 on an account with several beneficiaries; signed" in report
    rows = (tmp_path / "outside.csv").read_text().splitlines()
    assert rows[0].startswith("registration,account,payment,kind")
    assert rows[1].startswith(f"1234,0007654321,{K[6]},own account,")
    assert rows[2].startswith(f"5678,0000123456,{K[2]}:r1,alternative account,at-bank")
    rec = json.loads(ok("reconcile", "--json"))
    assert rec["balanced"] and rec["received"]["count"] == 8
    assert "outside-nemkonto" in ok("controls") and "by anna" in ok("controls")


def test_a_csv_in_a_missing_directory_is_refused_before_the_run_is_signed(
    config: Path, tmp_path: Path
) -> None:
    output = tmp_path / "missing" / "outside.csv"
    result = _run(config, "payments", "outside-nemkonto", "--csv", str(output))
    assert result.exit_code == 2 and "internal error" not in result.stderr, result.output
    assert (
        f"Invalid value for '--csv': {output}: no directory {output.parent} "
        "(expected a file in an existing directory)" in result.stderr
    )
    controls = _run(config, "payments", "controls")
    assert controls.exit_code == 0 and "outside-nemkonto" not in controls.output


@pytest.mark.parametrize(
    ("kroner", "expected"),
    [
        ("nan", "expected kroner like 1234.56, at most 999,999,999,999.99"),
        ("inf", "expected kroner like 1234.56, at most 999,999,999,999.99"),
        ("1e30", "expected kroner like 1234.56, at most 999,999,999,999.99"),
        ("ten", "expected kroner like 1234.56"),
        ("1.005", "at most two decimals (øre)"),
    ],
)
def test_find_refuses_an_amount_that_is_not_kroner(
    config: Path, kroner: str, expected: str
) -> None:
    for option in ("--min-amount", "--max-amount"):
        result = _run(config, "payments", "find", option, kroner)
        assert result.exit_code == 2 and "internal error" not in result.stderr, result.output
        assert f"Invalid value for '{option}': {kroner!r}: {expected}" in result.stderr


def test_refused_actions_are_one_line_exit_1_and_change_nothing(config: Path) -> None:
    journal = open_journal(config.parent / "var" / "journal.sqlite")
    before = journal.integrity_problems(), [(i.business_key, i.state) for i in _items(journal)]
    journal.close()
    cases = [
        (("resend", "12345678:1", "--reason", "x"), "no payment '12345678:1'"),
        (("resend", K[1], "--reason", "x"), "is pending: resend needs"),
        (("approve", K[1], "--reason", "x"), "has no request waiting for approval"),
        (("stop", K[1], "--reason", "x"), "is pending: stop needs"),
    ]
    for args, message in cases:
        result = _run(config, "payments", *args)
        assert result.exit_code == 1, result.output
        assert message in result.output and len(result.output.strip().splitlines()) == 1
    journal = open_journal(config.parent / "var" / "journal.sqlite")
    after = journal.integrity_problems(), [(i.business_key, i.state) for i in _items(journal)]
    assert after == before
    journal.close()


@pytest.mark.parametrize("action", ["block", "recall", "own-account"])
def test_a_blank_reason_is_refused_exit_2_and_changes_nothing(config: Path, action: str) -> None:
    journal = open_journal(config.parent / "var" / "journal.sqlite")
    before = [(i.business_key, i.state) for i in _items(journal)]
    journal.close()
    result = _run(config, "payments", action, K[1], "--reason", " ")
    assert result.exit_code == 2
    assert "Invalid value for '--reason': expected a reason" in result.output
    journal = open_journal(config.parent / "var" / "journal.sqlite")
    assert [(i.business_key, i.state) for i in _items(journal)] == before
    journal.close()


REVERSED = "--from 2026-04-30 is after --to 2026-04-01: expected a period from its first day"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("duplicates", "--from", "2026-04-30", "--to", "2026-04-01"), REVERSED),
        (("find", "--from", "2026-04-30", "--to", "2026-04-01"), REVERSED),
        (("reconcile", "--from", "2026-04-30", "--to", "2026-04-01"), REVERSED),
        (
            ("find", "--min-amount", "10", "--max-amount", "5"),
            "--min-amount 10.00 kr is more than --max-amount 5.00 kr",
        ),
        (("find", "--min-amount", "nan"), "Invalid value for '--min-amount': 'nan': expected kr"),
        (("find", "--max-amount", "1.005"), "'--max-amount': '1.005': at most two decimals"),
    ],
)
def test_a_reversed_range_is_a_usage_error_and_journals_nothing(
    config: Path, args: tuple[str, ...], line: str
) -> None:
    result = _run(config, "payments", *args)
    assert result.exit_code == 2, result.output
    assert line in result.output and "Traceback" not in result.output
    assert _run(config, "payments", "controls").output == "no control has been run\n"
    month = danish_today().strftime("%Y-%m")
    assert _run(config, "audit", "reads", "--month", month, "--json").stdout == ""  # no read


def test_a_one_day_period_and_equal_amounts_are_a_range(config: Path) -> None:
    day = ("--from", "2026-11-23", "--to", "2026-11-23")
    assert _run(config, "payments", "duplicates", *day).exit_code == 0
    found = _run(config, "payments", "find", "--min-amount", "5", "--max-amount", "5,00")
    assert found.exit_code == 0, found.output


def _items(journal: SqliteJournal) -> list[Item]:
    return [i for tx in journal.transmissions() for i in journal.items(tx.id)]


def test_block_after_release_and_stop_after_send(config: Path, tmp_path: Path) -> None:
    from toekgw.gateway.flowlock import flow_lock, lock_path

    assert _run(config, "nemkonto", "release", "--today", "2026-11-23").exit_code == 0
    with flow_lock(lock_path(tmp_path / "var" / "staging", "nemkonto-send"), "nemkonto send"):
        busy = _run(config, "payments", "block", K[7], "--reason", "hold it")
    assert busy.exit_code == 2 and "another nemkonto send is running" in busy.output
    blocked = _run(config, "payments", "block", K[7], "--reason", "hold it")
    assert blocked.exit_code == 0 and "taken out of bundle" in blocked.output
    assert _run(config, "nemkonto", "send").exit_code == 0
    stop = _run(config, "payments", "stop", K[1], "--reason", "paid twice")
    assert stop.exit_code == 0 and "stop request journaled" in stop.output
    assert _run(config, "nemkonto", "send").exit_code == 0
    with SqliteQueue(tmp_path / "var" / "queues.sqlite") as queue:
        sim = NemKontoSimulator(queue, tmp_path / "ledger.sqlite")
        assert sim.drain() == 2 and sim.stats.stops_too_late == 1  # its date has passed
        sim.ledger.close()
    assert _run(config, "receive", "nemkonto").exit_code == 0
    shown = _run(config, "payments", "show", K[7]).output
    assert "released -> held" in shown and "taken out of bundle" in shown


def test_digits_that_could_be_a_cpr_number_are_masked_in_every_view(tmp_path: Path) -> None:
    """A P-number, an account and a payment ident can hold a CPR number's digits (a case
    worker's slip, or by chance): payments find masked them, payments show, outside-nemkonto
    and nemkonto blocks printed them in clear."""
    hidden = "0201854002"  # a valid date: could be a CPR number
    by_pnumber = instruction(1, ident_code="12", beneficiary="0000" + hidden)
    on_account = instruction(2, ident_code="01", beneficiary="1234" + hidden)
    ident = dataclasses.replace(instruction(3), payment_ident=hidden + "00000000")
    config, _ = payments_config(tmp_path, [by_pnumber, on_account, ident])
    outputs = [
        _run(config, "payments", "find").output,
        _run(config, "payments", "find", "--json").output,
        _run(config, "payments", "show", by_pnumber.business_key).output,
        _run(config, "payments", "show", on_account.business_key).output,
        _run(config, "payments", "show", ident.business_key).output,
        _run(config, "payments", "outside-nemkonto", "--csv", "-").output,
    ]
    assert _run(config, "nemkonto", "block", "pnumber", hidden, "--reason", "r").exit_code == 0
    outputs.append(_run(config, "nemkonto", "blocks").output)
    for output in outputs:
        assert hidden not in output, output
    assert "to ident 12 0000020185****" in outputs[2]
    assert "to ident 01 1234020185****" in outputs[3]
    assert "payment 020185****00000000 of supplier" in outputs[4]
    assert "PNumber:020185-****" in outputs[-1]
