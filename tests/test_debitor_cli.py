"""``toekgw debitor`` and the ``debitor-send`` job of ``toekgw run`` over the real servers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.configs import write_config
from tests.debitor_rig import claim as tok_claim
from tests.debitor_rig import debtor_rig
from toekgw.adapters.config import load_settings
from toekgw.adapters.debitor.claims import fordring_id
from toekgw.adapters.service import build_jobs
from toekgw.cli.main import cli
from toekgw.simulators.debitor import ScriptStep


def test_the_job_sends_and_the_commands_show_status_ledger_and_reconciliation(
    tmp_path: Path,
) -> None:
    with debtor_rig(tmp_path) as rig:
        config = rig.write_config()
        rig.send_tok(tok_claim("C-1", 700_00), tok_claim("C-2", 300_00))
        (job,) = [j for j in build_jobs(load_settings(config)) if j.name == "debitor-send"]
        report = job.action(dt.datetime.now(dt.UTC))
        assert report.counts == {"sent": 2, "rejected": 0, "refused": 0}
        rig.simulator.run_script([ScriptStep(fordring_id("KP", "C-1"), "DAEKNING", 100_00)])
        runner = CliRunner()
        status = runner.invoke(cli, ["debitor", "status", "--json", "--config", str(config)])
        assert status.exit_code == 0, status.output
        calls = [json.loads(line) for line in status.output.splitlines()]
        assert [c["state"] for c in calls] == ["answered", "answered"]
        assert calls[0]["operations"] == "OpretDebitorkonto, OpretFordring"
        ledger = runner.invoke(cli, ["debitor", "ledger", "--claim", fordring_id("KP", "C-1"),
                                     "--config", str(config)])  # fmt: skip
        assert ledger.exit_code == 0 and "covered 100.00" in ledger.output
        assert "remaining 600.00" in ledger.output
        report_url = rig.debtor_url + "/report"
        agreed = runner.invoke(cli, ["debitor", "reconcile", "--report", report_url,
                                     "--config", str(config)])  # fmt: skip
        assert agreed.exit_code == 0 and agreed.output.startswith("category 1"), agreed.output
        saldo = tmp_path / "saldo.csv"
        saldo.write_text("cvr;fordring_id;restgaeld_ore\n29189846;KP-C-1;1\n", encoding="utf-8")
        differs = runner.invoke(cli, ["debitor", "reconcile", "--report", str(saldo),
                                      "--config", str(config)])  # fmt: skip
        assert differs.exit_code == 1 and differs.output.startswith("category 3")
        saldo.write_text("cvr;fordring_id\n", encoding="utf-8")
        bad = runner.invoke(cli, ["debitor", "reconcile", "--report", str(saldo),
                                  "--config", str(config)])  # fmt: skip
        assert bad.exit_code == 2 and "line 1: expected the header" in bad.output
        assert "Traceback" not in bad.output


def _debitor(tmp_path: Path, *args: str) -> Result:
    """``toekgw debitor ARGS`` on a configuration with a [debitor] table and an empty journal."""
    config = write_config(tmp_path, "[debitor]\n")
    return CliRunner().invoke(cli, ["debitor", *args, "--config", str(config)])


def test_a_claim_not_in_the_journal_is_one_line_exit_2(tmp_path: Path) -> None:
    result = _debitor(tmp_path, "ledger", "--claim", "nosuch")
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"toekgw: error: no claim 'nosuch' in the journal {tmp_path / 'journal.sqlite'}"
    )
    assert _debitor(tmp_path, "ledger").exit_code == 0  # no --claim: every claim, here none


@pytest.mark.parametrize("text", ["", "\n"])
def test_an_empty_report_is_refused_like_a_wrong_header(tmp_path: Path, text: str) -> None:
    saldo = tmp_path / "saldo.csv"
    saldo.write_text(text, encoding="utf-8")
    result = _debitor(tmp_path, "reconcile", "--report", str(saldo))
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        f"toekgw: error: {saldo}: line 1: expected the header 'cvr;fordring_id;restgaeld_ore'"
        + (", found an empty report" if not text else "")
    )
    assert "category" not in result.output
