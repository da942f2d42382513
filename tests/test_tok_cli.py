"""``toekgw receive tok`` and ``toekgw simulate fagsystem`` with a configuration, end to end."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner, Result

from tests.test_nemkonto_flow_cli import CONFIG
from toekgw.adapters.config import load_settings
from toekgw.adapters.service import build_jobs
from toekgw.adapters.tok import DEFAULT_QUEUES, DEFAULT_REPLY_QUEUE
from toekgw.cli.main import cli
from toekgw.gateway.config import ConfigError
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker
from toekgw.simulators.fagsystem import CaseSystem, Mix

TOK = """
[tok.amqp]
queue_db = "var/broker.sqlite"
"""


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--config", str(config)], catch_exceptions=False)


def test_receive_tok_takes_what_a_case_system_sent_and_answers_it(tmp_path: Path) -> None:
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG + TOK, encoding="utf-8")
    (tmp_path / "var").mkdir(exist_ok=True)
    case_system = CaseSystem(
        SqliteBroker(tmp_path / "var" / "broker.sqlite"), sender="KP", municipality="29189846",
        queues=dict(DEFAULT_QUEUES), reply_queue=DEFAULT_REPLY_QUEUE.format(sender="KP"),
        now=lambda: dt.datetime.now(dt.UTC), seed=3,
    )  # fmt: skip
    case_system.send(40, Mix(broken=0.1))
    first = run(config, "receive", "tok")
    assert first.exit_code == 1  # some were refused: findings
    assert "40 messages:" in first.output and "refused (answered, dead-lettered" in first.output
    again = run(config, "receive", "tok", "--json")
    assert again.exit_code == 0 and '"taken": 0' in again.output
    report = case_system.check(wait=0.2)
    assert report.ok, report.errors
    errors = run(config, "errors")
    assert "tok" in errors.output


def test_a_tok_section_without_a_broker_or_with_a_bad_reply_queue_is_one_clear_line(
    tmp_path: Path,
) -> None:
    config = tmp_path / "toekgw.toml"
    for text, expected in (
        ("[tok]\n", "[tok.amqp] missing (required)"),
        ('[tok]\nreply_queue = "status"\n' + TOK, "must contain {sender}"),
    ):
        config.write_text(CONFIG + text, encoding="utf-8")
        try:
            load_settings(config)
        except ConfigError as exc:
            assert expected in str(exc)
        else:
            raise AssertionError(f"accepted: {text!r}")


def test_the_service_takes_the_interfaces_every_ten_seconds_and_releases_at_once(
    tmp_path: Path,
) -> None:
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG + TOK, encoding="utf-8")
    (tmp_path / "var").mkdir(exist_ok=True)
    settings = load_settings(config)
    (job,) = [j for j in build_jobs(settings) if j.name == "tok-intake"]
    assert job.interval == 10.0 and job.then == ("nemkonto-release", "nemkonto-send")
    case_system = CaseSystem(
        SqliteBroker(tmp_path / "var" / "broker.sqlite"), sender="KY", municipality="29189846",
        queues=dict(DEFAULT_QUEUES), reply_queue=DEFAULT_REPLY_QUEUE.format(sender="KY"),
        now=lambda: dt.datetime.now(dt.UTC), seed=5,
    )  # fmt: skip
    case_system.send(10, Mix(broken=0.0, claims=0.0, recalls=0.0, straks=1.0))
    report = job.action(dt.datetime.now(dt.UTC))
    assert report.trigger and report.counts["taken"] == 10 and report.counts["statuses"] == 10
    assert case_system.check(wait=0.2).ok
