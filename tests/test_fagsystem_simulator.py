"""The case-system simulator against the intake: everything answered, and its check can fail."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.tok_helpers import MUNICIPALITY, NOW, PLACES, Names, clock
from toekgw.adapters.tok import Intake, StatusPublisher
from toekgw.cli.main import cli
from toekgw.formats.tok import Interface, Status, build_status
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker
from toekgw.simulators.fagsystem import CaseSystem, Mix


def world(tmp_path: Path) -> tuple[CaseSystem, Intake, StatusPublisher]:
    names = Names()
    broker = SqliteBroker(tmp_path / "broker.sqlite")
    journal = open_journal(tmp_path / "journal.sqlite")
    intake = Intake(journal, broker, registration_places=PLACES, now=clock, queues=names.queues)
    publisher = StatusPublisher(journal, journal, broker, now=clock, reply_queue=names.reply)
    case_system = CaseSystem(
        SqliteBroker(tmp_path / "broker.sqlite"), sender="KY", municipality=MUNICIPALITY,
        queues=names.queues, reply_queue=names.reply_of("KY"), now=clock, seed=7,
    )  # fmt: skip
    return case_system, intake, publisher


def test_every_message_is_answered_as_the_case_system_expects(tmp_path: Path) -> None:
    case_system, intake, publisher = world(tmp_path)
    case_system.send(150, Mix(straks=0.2, claims=0.2, recalls=0.1, broken=0.05))
    result = intake.take()
    assert result.messages == 150 and result.refused > 0 and result.taken > 100
    publisher.publish_due()
    report = case_system.check(wait=0.2)
    assert report.errors == [] and report.ok
    assert report.answered == report.sent == 150


def test_the_check_fails_on_a_status_it_cannot_account_for(tmp_path: Path) -> None:
    case_system, intake, publisher = world(tmp_path)
    case_system.send(20, Mix(broken=0.0))
    intake.take()
    publisher.publish_due()
    first = case_system.check(wait=0.2)
    assert first.ok
    stray = Status("999.1", "6f0c1d4e-2b7a-4c55-9a51-3f6d2e1a9b10", Interface.PAYMENTS,
                   MUNICIPALITY, "P-x", "pending", NOW)  # fmt: skip
    (some_id, some_status) = next(iter(case_system.seen.items()))
    changed = dataclasses.replace(some_status, state="rejected")
    for status in (stray, changed):
        case_system.broker.publish(case_system.reply_queue, build_status(status),
                                   message_id=status.event_id)  # fmt: skip
    case_system.send(1, Mix(broken=0.0, claims=0.0, recalls=0.0))  # never taken: unanswered
    report = case_system.check(wait=0.2)
    assert not report.ok
    assert any("never sent" in e for e in report.errors)
    assert any(f"event {some_id} told twice, differently" in e for e in report.errors)
    assert any("unanswered" in e for e in report.errors)


@pytest.mark.parametrize(
    ("municipality", "why"),
    [
        ("1503851234", "a CVR/SE number is 8 digits"),
        ("101", "a CVR/SE number is 8 digits"),
        ("29189847", "a CVR/SE number must pass the mod-11 check"),
    ],
)
def test_the_command_refuses_a_municipality_that_is_no_cvr_number(
    tmp_path: Path, municipality: str, why: str
) -> None:
    args = ["simulate", "fagsystem", "--queue-db", str(tmp_path / "broker.sqlite")]
    result = CliRunner().invoke(cli, [*args, "--municipality", municipality, "--count", "1"])
    assert result.exit_code == 2 and "internal error" not in result.stderr, result.output
    shown = "150385-****" if municipality == "1503851234" else municipality
    assert (
        f"Invalid value for '--municipality': {shown!r}: expected the municipality's CVR "
        f"number, e.g. 29189846 ({why})" in result.stderr
    )
    assert "1503851234" not in result.stderr
    assert not (tmp_path / "broker.sqlite").exists()
