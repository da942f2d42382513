"""``toekgw nemkonto ...``, ``toekgw receive nemkonto`` and ``toekgw status --bundles
--payments`` on a configuration with an embedded queue."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.fakes import pymqi as fake
from tests.nemkonto_data import cpr
from tests.nemkonto_flow_data import instruction, journal_delivery
from toekgw.adapters.config import ConfigError, load_settings
from toekgw.adapters.nemkonto.settings import NEMKONTO_SECTION
from toekgw.cli.main import cli
from toekgw.formats.nemkonto import parse_bundle
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport.config import open_queue
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.nemkonto import NemKontoSimulator, SimulatorScript

CONFIG = """
[journal]
path = "var/journal.sqlite"

[staging]
dir = "var/staging"

[serviceplatform]
party = "toek"
transport = "localdir"

[serviceplatform.localdir]
root = "var/sp"

[nemkonto]
overdue_hours = 1

[nemkonto.mq]
queue_db = "var/queues.sqlite"

[nemkonto.authorities.101]
cvr = "29189846"
agreement_number = "4711"
debtor_registration = "1234"
debtor_account = "0001234567"
"""


def _run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--config", str(config)], catch_exceptions=False)


def test_release_send_receive_and_status(tmp_path: Path) -> None:
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG, encoding="utf-8")
    journal = open_journal(tmp_path / "var" / "journal.sqlite")
    journal_delivery(journal, [instruction(n) for n in range(1, 5)])
    journal.close()

    blocked = _run(config, "nemkonto", "block", "cpr", cpr(4), "--reason", "deceased")
    assert blocked.exit_code == 0 and cpr(4) not in blocked.output
    assert cpr(4)[:6] + "-****" in blocked.output
    listed = _run(config, "nemkonto", "blocks")
    assert "CPR:" in listed.output and cpr(4) not in listed.output

    released = _run(config, "nemkonto", "release", "--today", "2026-11-23", "--json")
    assert released.exit_code == 0, released.output
    data = json.loads(released.output)
    assert data["released"]["count"] == 3 and data["blocked"] == 1
    sent = _run(config, "nemkonto", "send")
    assert sent.exit_code == 0 and "sent 1 bundles" in sent.output

    with SqliteQueue(tmp_path / "var" / "queues.sqlite") as queue:
        sim = NemKontoSimulator(
            queue, tmp_path / "ledger.sqlite", SimulatorScript(reject_cprs=frozenset({cpr(2)}))
        )
        sim.drain()
        sim.ledger.close()
    received = _run(config, "receive", "nemkonto")
    assert received.exit_code == 0, received.output
    assert "3 answers: 3 applied" in received.output

    manual = _run(config, "nemkonto", "manual", "--json")
    (entry,) = json.loads(manual.output)
    assert entry["payment"] == instruction(2).business_key

    bundles = _run(config, "status", "--bundles", "--json")
    rec = json.loads(bundles.output)
    assert rec["total"]["received"]["count"] == 3
    assert rec["total"]["accepted"]["count"] + rec["total"]["rejected"]["count"] == 3
    table = _run(config, "status", "--bundles")
    assert "Per disposition date" in table.output and "category 2" in table.output
    payments = _run(config, "status", "--payments", "--json")
    states = json.loads(payments.output)["states"]
    assert states["at-bank"]["count"] == 2 and states["blocked"]["count"] == 1
    text = _run(config, "status", "--payments")
    assert "at-bank" in text.output and "no payment is overdue" in text.output
    # Traceable from its G68 line to the bank, in one history.
    story = _run(config, "status", "--item", instruction(1).business_key).output
    assert "G68_0001.txt' line 3" in story
    assert f"released in NemKonto bundle {data['bundles'][0]['bundle_id']}" in story
    assert "Retursvar 8" in story and "-> at-bank" in story
    for out in (bundles.output, table.output, payments.output, manual.output, story):
        assert all(cpr(n) not in out for n in range(1, 5))


def test_nemkonto_commands_need_the_table(tmp_path: Path) -> None:
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG.split("[nemkonto]")[0], encoding="utf-8")
    result = CliRunner().invoke(cli, ["nemkonto", "release", "--config", str(config)])
    assert result.exit_code != 0 and "no [nemkonto] table" in result.output


def test_a_bad_authority_is_named(tmp_path: Path) -> None:
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG.replace('cvr = "29189846"', 'cvr = "2918"'), encoding="utf-8")
    try:
        load_settings(config)
    except ConfigError as exc:
        assert "[nemkonto.authorities.101] cvr: expected 8 digits" in str(exc)
    else:
        raise AssertionError("a 4-digit CVR was accepted")


@pytest.mark.parametrize("command", ["block", "unblock"])
@pytest.mark.parametrize("reason", ["", "   "])
def test_a_blank_reason_is_refused_before_anything_is_journaled(
    tmp_path: Path, command: str, reason: str
) -> None:
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["nemkonto", command, "cpr", cpr(4), "--reason", reason, "--config", str(config)]
    )
    assert result.exit_code == 2
    assert (
        f"Invalid value for '--reason': expected a reason (it is kept in the audit trail), "
        f"found {reason!r}" in result.output
    )
    assert cpr(4) not in result.output
    assert not (tmp_path / "var" / "journal.sqlite").exists()  # nothing opened, nothing kept


PYMQI = """
[nemkonto.mq]
transport = "pymqi"
queue_manager = "QM1"
channel = "DEV.APP.SVRCONN"
conn_name = "127.0.0.1(1414)"
user = "app"
password_env = "TEST_TOEKGW_MQ_PASSWORD"
"""


def test_the_pymqi_transport_is_chosen_by_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pymqi", fake)
    broker = fake.reset()
    broker.define("NKS.PAYMENT.REQUEST")
    config = tmp_path / "toekgw.toml"
    text = CONFIG.replace('[nemkonto.mq]\nqueue_db = "var/queues.sqlite"\n', PYMQI)
    config.write_text(text, encoding="utf-8")
    settings = load_settings(config)
    nemkonto = settings.section(NEMKONTO_SECTION)
    assert nemkonto is not None
    monkeypatch.delenv("TEST_TOEKGW_MQ_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="TEST_TOEKGW_MQ_PASSWORD"):
        open_queue(nemkonto.mq)
    monkeypatch.setenv("TEST_TOEKGW_MQ_PASSWORD", "secret")
    journal = open_journal(tmp_path / "var" / "journal.sqlite")
    journal_delivery(journal, [instruction(1)])
    journal.close()
    assert _run(config, "nemkonto", "release", "--today", "2026-11-23").exit_code == 0
    sent = _run(config, "nemkonto", "send")
    assert sent.exit_code == 0 and "sent 1 bundles" in sent.output
    (body,) = broker.visible("NKS.PAYMENT.REQUEST")
    assert parse_bundle(body).payments[0].payment_id == instruction(1).business_key
