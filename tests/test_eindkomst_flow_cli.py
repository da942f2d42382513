"""``toekgw eindkomst …`` and ``toekgw status --reports`` against the simulator."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.eik_config import write_config, write_request
from tests.eik_helpers import SE, cpr
from tests.fakes import pymqi as fake
from toekgw.adapters.config import ConfigError, load_settings
from toekgw.adapters.eindkomst.settings import EINDKOMST_SECTION
from toekgw.cli.main import cli
from toekgw.formats.eindkomst import REQUEST_QUEUE as EINDKOMST_REQUEST_QUEUE
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.eindkomst import EindkomstSimulator, SimulatorScript


def _simulate(base: Path, script: SimulatorScript | None = None) -> None:
    with SqliteQueue(base / "var" / "queues.sqlite") as q:
        sim = EindkomstSimulator(q, base / "ledger.sqlite", script)
        sim.drain()
        sim.ledger.close()


def test_send_receive_status_reports(tmp_path: Path) -> None:
    config = write_config(tmp_path, companies=(SE, "13585628"))
    bad = cpr(2)
    request = write_request(tmp_path, {cpr(1): 1_000_000, bad: 500_000, cpr(3): 700_000})
    run = CliRunner()
    args = ["--config", str(config)]
    sent = run.invoke(cli, ["eindkomst", "send", str(request), *args])
    assert sent.exit_code == 0, sent.output
    assert "1 delivery(ies) handed over" in sent.output
    _simulate(tmp_path, SimulatorScript(reject_cprs=frozenset({bad})))
    got = run.invoke(cli, ["eindkomst", "receive", *args])
    assert got.exit_code == 0, got.output
    assert "1 sum receipt(s), 1 error/advice receipt(s)" in got.output

    shown = run.invoke(cli, ["status", "--reports", "--json", *args])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    (report,) = data["reports"]
    assert report["status"] == "rejected" and report["count_sent"] == 3
    assert report["sum_sent_ore"] == 2_200_000 + 380_000 + 190_000 + 266_000
    assert any(f"{bad[:6]}-****" in f["message"] for f in report["findings"])
    assert data["reconciliation"]["category"] == 2
    table = run.invoke(cli, ["status", "--reports", *args])
    assert table.exit_code == 0 and "rejected" in table.output and "category 2" in table.output
    assert bad not in shown.output + table.output
    other = run.invoke(cli, ["status", "--reports", "--json", "--month", "2026-10", *args])
    assert json.loads(other.output)["reports"] == []

    closed = run.invoke(cli, ["eindkomst", "close-month", "--month", "2026-11", *args])
    assert closed.exit_code == 0, closed.output
    assert "1 delivery(ies) handed over" in closed.output  # only 13585628 owes one
    again = run.invoke(cli, ["eindkomst", "close-month", "--month", "2026-11", *args])
    assert "no nil report due" in again.output


@pytest.mark.parametrize(
    ("report", "recipient", "expected"),
    [
        ({}, {"cpr": "010150123X"}, "report for SE 12345674, recipient 1: 6000.cpr: "
         "expected a string of digits"),
        ({}, {"amounts": {"0101501234": 5}}, "report for SE 12345674, recipient 1: "
         "6001.field_number: '010150-****' does not fit in 4 characters"),
        ({"income_type": "0101501234"}, {}, "report for SE 12345674: 5000.income_type: "
         "'010150-****' is not one of"),
        ({"company_se": "0101501234"}, {}, "company 010150-****: 2001.company_se: "
         "'010150-****' does not fit in 8 characters"),
    ],
    ids=["cpr", "amount-field", "income-type", "company-se"],
)  # fmt: skip
def test_a_request_value_no_report_can_hold_is_one_line_and_journals_nothing(
    tmp_path: Path, report: dict[str, object], recipient: dict[str, object], expected: str
) -> None:
    config = write_config(tmp_path)
    request = write_request(tmp_path, {cpr(1): 100})
    data = json.loads(request.read_text(encoding="utf-8"))
    data["reports"][0].update(report)
    data["reports"][0]["recipients"][0].update(recipient)
    request.write_text(json.dumps(data), encoding="utf-8")
    run = CliRunner()
    result = run.invoke(cli, ["eindkomst", "send", str(request), "--config", str(config)])
    assert result.exit_code == 2 and "internal error" not in result.stderr, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"toekgw: error: {request}: {expected}"), line
    assert "0101501234" not in line and "010150123X" not in line
    status = run.invoke(cli, ["status", "--json", "--config", str(config)])
    assert json.loads(status.output) == []


def test_refused_send_shows_every_finding_and_journals_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    args = ["--config", str(config)]
    run = CliRunner()
    person = cpr(5)
    ok = run.invoke(cli, ["eindkomst", "send", str(write_request(tmp_path, {person: 100})), *args])
    assert ok.exit_code == 0, ok.output
    minus = write_request(tmp_path, {person: -1000}, key="corr")
    refused = run.invoke(cli, ["eindkomst", "send", str(minus), *args])
    assert refused.exit_code == 1
    assert "eik.correction.negative_total" in refused.output
    assert person not in refused.output
    status = run.invoke(cli, ["status", "--json", *args])
    assert len(json.loads(status.output)) == 1


def test_bad_request_file_names_the_json_path(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text('{"reports": [{"company_se": "12345674", "recipients": []}]}')
    out = CliRunner().invoke(cli, ["eindkomst", "send", str(bad), "--config", str(config)])
    assert out.exit_code == 2
    assert "$.reports[0].disposition_date: missing" in out.output


def test_withholding_without_a_card_is_55_percent(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    person = cpr(9)
    args = ["--cpr", person, "--date", "2026-12-01", "--json", "--config", str(config)]
    out = CliRunner().invoke(cli, ["eindkomst", "withholding", *args])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["rate_pct"] == 55 and data["card"] is None and person not in out.output


def test_withholding_reads_the_cpr_and_date_as_every_command_does(tmp_path: Path) -> None:
    """A dashed CPR number is the same recipient; a bad one or a bad day is one line, exit 2,
    the number masked."""
    config = write_config(tmp_path)
    person = cpr(9)
    base = ["eindkomst", "withholding", "--json", "--config", str(config)]
    dashed = CliRunner().invoke(
        cli, [*base, "--cpr", f"{person[:6]}-{person[6:]}", "--date", "2026-12-01"]
    )
    assert dashed.exit_code == 0, dashed.output
    assert json.loads(dashed.output)["cpr"] == f"{person[:6]}-****"
    for args, message in [
        (["--cpr", person, "--date", "0001-01-01"], "expected a date from 1900-01-01"),
        (["--cpr", person, "--date", "1.12.2026"], "'1.12.2026' does not match the format"),
        (["--cpr", person[:9], "--date", "2026-12-01"], "expected 10 digits"),
        (["--cpr", "3213991234", "--date", "2026-12-01"], "--cpr '321399-****'"),
    ]:
        out = CliRunner().invoke(cli, [*base, *args])
        assert out.exit_code == 2, (args, out.output)
        assert message in out.output and person not in out.output, (args, out.output)


def test_eindkomst_configuration_defaults_and_errors(tmp_path: Path) -> None:
    import pytest

    from toekgw.adapters.config import ConfigError, load_settings

    example = Path(__file__).resolve().parent.parent / "examples" / "toekgw.toml"
    eik = load_settings(example).section(EINDKOMST_SECTION)
    assert eik is not None and eik.request_queue == "SKAT.EINDKOMST.REQUEST"
    assert eik.max_message_bytes == 4 * 1024 * 1024 and eik.companies == ("12345674",)
    config = write_config(tmp_path)
    config.write_text(config.read_text().replace(f'sender_se = "{SE}"', 'sender_se = "12345678"'))
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert "[eindkomst] sender_se" in str(info.value) and "mod-11" in str(info.value)


def test_send_a_delivery_already_built(tmp_path: Path) -> None:
    from tests.eik_helpers import build_bytes, report

    config = write_config(tmp_path)
    args = ["--config", str(config)]
    good = tmp_path / "delivery.txt"
    good.write_bytes(build_bytes(report(3))[0])
    out = CliRunner().invoke(cli, ["eindkomst", "send", str(good), *args])
    assert out.exit_code == 0, out.output
    assert "3 recipient(s)" in out.output and "state sent" in out.output
    broken = tmp_path / "broken.txt"
    broken.write_bytes(build_bytes(report(2, key="other"))[0].replace(b"9999", b"9998"))
    refused = CliRunner().invoke(cli, ["eindkomst", "send", str(broken), *args])
    assert refused.exit_code == 1
    assert "broken.txt" in refused.output and "eik.record.type" in refused.output


def test_a_receipt_for_a_report_never_sent_is_on_the_error_list(tmp_path: Path) -> None:
    import datetime as dt

    from toekgw.formats.eindkomst.codec import encode_record
    from toekgw.formats.eindkomst.records import SumReceipt
    from toekgw.gateway.journal import open_journal

    config = write_config(tmp_path)
    line = encode_record(SumReceipt("0123456789ABCDEF", dt.date(2026, 11, 27), "G", 1, 5, "+"), 1)
    with SqliteQueue(tmp_path / "var" / "queues.sqlite") as q:
        q.put("SKAT.EINDKOMST.REPLY", (line + "\r\n").encode())
        q.commit()
    out = CliRunner().invoke(cli, ["eindkomst", "receive", "--config", str(config)])
    assert out.exit_code == 0 and "1 sum receipt(s)" in out.output
    journal = open_journal(tmp_path / "var" / "journal.sqlite")
    (entry,) = journal.errors()
    assert entry.findings[0].code == "eik.receipt.unknown_report"
    journal.close()


def test_an_unreadable_answer_exits_1(tmp_path: Path) -> None:
    """An answer that could not be read is on the error list, and the command says so by its
    exit code (as receive nemkonto does); it exited 0."""
    config = write_config(tmp_path)
    with SqliteQueue(tmp_path / "var" / "queues.sqlite") as q:
        q.put("SKAT.EINDKOMST.REPLY", b"")
        q.commit()
    out = CliRunner().invoke(cli, ["eindkomst", "receive", "--config", str(config)])
    assert out.exit_code == 1, out.output
    assert "1 message(s):" in out.output and "1 unreadable" in out.output


PYMQI = """
[eindkomst.mq]
transport = "pymqi"
queue_manager = "QM1"
channel = "DEV.APP.SVRCONN"
conn_name = "127.0.0.1(1414)"
user = "app"
password_env = "TEST_TOEKGW_MQ_PASSWORD"
"""


def test_eindkomst_mq_pymqi_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(tmp_path)
    short = load_settings(config).section(EINDKOMST_SECTION)
    assert short is not None and short.mq.transport == "sqlite"
    assert short.mq.queue_db == tmp_path / "var" / "queues.sqlite"

    monkeypatch.setitem(sys.modules, "pymqi", fake)
    broker = fake.reset()
    broker.define(EINDKOMST_REQUEST_QUEUE)
    text = config.read_text(encoding="utf-8").replace('queue_db = "var/queues.sqlite"\n', "")
    config.write_text(text + PYMQI, encoding="utf-8")
    settings = load_settings(config).section(EINDKOMST_SECTION)
    assert settings is not None and settings.mq.transport == "pymqi"
    assert (settings.mq.queue_manager, settings.mq.conn_name) == ("QM1", "127.0.0.1(1414)")
    monkeypatch.setenv("TEST_TOEKGW_MQ_PASSWORD", "secret")
    request = write_request(tmp_path, {cpr(1): 1_000_000})
    sent = CliRunner().invoke(cli, ["eindkomst", "send", str(request), "--config", str(config)])
    assert sent.exit_code == 0, sent.output
    assert "1 delivery(ies) handed over" in sent.output
    (body,) = broker.visible(EINDKOMST_REQUEST_QUEUE)
    assert body[7:11] == b"1000" and cpr(1).encode() in body
    assert not (tmp_path / "var" / "queues.sqlite").exists()

    config.write_text(text.replace("[eindkomst]\n", '[eindkomst]\nqueue_db = "q"\n') + PYMQI)
    with pytest.raises(ConfigError, match=r"\[eindkomst\] queue_db: .*not in both"):
        load_settings(config)


def test_one_eindkomst_receive_at_a_time(tmp_path: Path) -> None:
    """The command takes the lock ``run``'s eindkomst-receive job takes: a second receive
    (the service's, or an operator's) is refused at once, exit 2."""
    from toekgw.adapters.config import load_settings
    from toekgw.gateway.flowlock import flow_lock, lock_path

    config = write_config(tmp_path)
    staging = load_settings(config).staging
    with flow_lock(lock_path(staging, "eindkomst-receive"), "eindkomst receive"):
        out = CliRunner().invoke(cli, ["eindkomst", "receive", "--config", str(config)])
    assert out.exit_code == 2, out.output
    assert "another eindkomst receive is running" in out.output
    free = CliRunner().invoke(cli, ["eindkomst", "receive", "--config", str(config)])
    assert free.exit_code == 0, free.output


def test_an_mq_only_configuration_needs_no_serviceplatform_table(tmp_path: Path) -> None:
    """eIndkomst over MQ has nothing on Serviceplatformen: its configuration had to carry a
    [serviceplatform] table all the same, or every command stopped. Now doctor, send and
    status run without it, and a command that does need it says so in one line."""
    config = write_config(tmp_path)
    text = config.read_text(encoding="utf-8")
    start = text.index("[serviceplatform]")
    config.write_text(text[:start] + text[text.index("[eindkomst]") :], encoding="utf-8")
    run = CliRunner()
    args = ["--config", str(config)]
    doctor = run.invoke(cli, ["doctor", *args])
    assert doctor.exit_code == 0, doctor.output
    assert "ok   no [serviceplatform] table: no Serviceplatformen flow" in doctor.output
    request = write_request(tmp_path, {cpr(1): 100_000})
    sent = run.invoke(cli, ["eindkomst", "send", str(request), *args])
    assert sent.exit_code == 0, sent.output
    assert len(json.loads(run.invoke(cli, ["status", "--json", *args]).output)) == 1
    service = run.invoke(cli, ["run", "--once", *args])
    assert service.exit_code == 0, service.output
    assert "eindkomst-receive: " in service.output
    upload = run.invoke(cli, ["send", str(request), "--to", "erp", *args])
    assert upload.exit_code == 2
    assert upload.stderr.startswith(f"toekgw: error: {config}: no [serviceplatform] table")
