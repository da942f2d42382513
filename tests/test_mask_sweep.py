"""No CPR number in clear in what a command prints, wherever the operator's or a
counterpart's input put its bytes: a path, a directory, a queue, a file's or a message's
name, a payment's key (the review's "informational lines with paths")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from toekgw.cli.main import cli

if TYPE_CHECKING:
    from tests.oir_rig import OirRig

CPR = "0101701234"
MASKED = "010170-****"


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj={"debug": False})


def _masked(result: Result, *, also: str = "", joined: bool = False) -> None:
    shown = result.stdout + result.stderr + also
    if joined:  # a rich table's title is wrapped to the table's width
        shown = "".join(shown.split())
    assert CPR not in shown, shown
    assert MASKED in shown, shown


def _pem_pair(directory: Path) -> None:
    from tests.pki import identity

    cert, key = identity("toekgw test").write_pem(directory, "pair")
    cert.rename(directory / "cert.pem")
    key.rename(directory / "key.pem")


# Each simulator told to stop at once, its directories and files under a case's folder named
# with a CPR number: the line it prints on starting (and stopping) names them.
SIMULATORS = [
    f"simulate serviceplatform --root {CPR}/sp --port 0 --max-seconds 0",
    f"simulate nemkonto --queue-db {CPR}/q.sqlite --max-seconds 0",
    f"simulate eindkomst --queue-db {CPR}/q.sqlite --max-seconds 0",
    f"simulate erp --root {CPR}/sp --max-seconds 0",
    f"simulate sts --dir {CPR}/sts --trust cert.pem --cvr 29189846 --port 0 --max-seconds 0",
    f"simulate debitor --dir {CPR}/d --port 0 --max-seconds 0",
    f"simulate beskedfordeler --queue-db {CPR}/b.sqlite --queue tok-{CPR} "
    "--type 0b5b6c1e-2f51-4c5e-8f38-6a3a3b0c9d11 --cvr 29189846 --account 1",
]


@pytest.mark.parametrize("args", SIMULATORS, ids=[a.split()[1] for a in SIMULATORS])
def test_a_simulators_lines_mask_its_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / CPR).mkdir()
    _pem_pair(tmp_path)
    result = _run(*args.split())
    assert result.exit_code == 0, result.output
    _masked(result)


def _case_folder(tmp_path: Path) -> Path:
    """A case's folder named with a CPR number, holding a configuration (its journal,
    staging and platform beside it)."""
    from tests.configs import write_config

    where = tmp_path / CPR
    where.mkdir()
    write_config(where, "")
    return where


def _restore(where: Path) -> Result:
    config = str(where / "toekgw.toml")
    assert _run("status", "--config", config).exit_code == 0  # the journal, made
    assert _run("backup", str(where / "copy.sqlite"), "--config", config).exit_code == 0
    return _run("restore", "--force", str(where / "copy.sqlite"), "--config", config)


def _send(where: Path) -> Result:
    payment = where / f"{CPR}-payment.xml"
    payment.write_text("<payment/>\n")
    for box in ("IN", "OUT"):  # the platform's, where the upload goes; no receipt comes
        (where / "sp" / box).mkdir(parents=True)
    result = _run("send", str(payment), "--to", "erp", "--wait", "0",
                "--config", str(where / "toekgw.toml"))  # fmt: skip
    assert result.exit_code == 1 and "no technical receipt" in result.stdout, result.output
    return result


def _oir(where: Path) -> OirRig:
    from tests.oir_rig import OirRig

    return OirRig(where)


def _config(where: Path) -> str:
    return str(where / "toekgw.toml")


# A command whose line names a path the operator gave (or the configuration's journal): the
# case's folder is in it.
PATH_COMMANDS: dict[str, Callable[[Path], Result]] = {
    "restore": _restore,
    "send": _send,
    "generate": lambda where: _run(
        "generate", "g68", "--count", "2", "--seed", "1", "-o", str(where / "d.g68")
    ),
    "reconcile": lambda where: _run(
        "reconcile", "--month", "2026-01", "--out", str(where / "out"), "--config", _config(where)
    ),
    "oir export": lambda where: _oir(where).run(
        "oir", "export", "--month", "2026-01", "--output", str(where / "postings.csv")
    ),
    "status --reports": lambda where: _run("status", "--reports", "--config", _config(where)),
}


@pytest.mark.parametrize("command", list(PATH_COMMANDS))
def test_a_commands_line_masks_the_path_it_names(tmp_path: Path, command: str) -> None:
    where = _case_folder(tmp_path)
    result = PATH_COMMANDS[command](where)
    assert "internal error" not in result.stderr, result.output
    _masked(result, joined=True)


@pytest.mark.parametrize("command", ["sortiment", "oir"])
def test_a_received_files_name_is_masked_in_the_receive_lines(tmp_path: Path, command: str) -> None:
    """A counterpart names its file after a citizen: ``sortiment receive`` and ``oir
    receive`` print each file's outcome, and the intake's line about a file it applied."""
    from tests.oir_data import BANK, ERP, EXPENSE, SORTIMENT
    from toekgw.formats.oir import build_sortiment
    from toekgw.simulators._upload import upload
    from toekgw.simulators.klassifikation import month_of_deliveries

    rig = _oir(tmp_path)
    if command == "sortiment":  # a delivery it applies: the intake says so, naming the file
        sender = "klassifikation"
        day = dt.date(2026, 1, 1)
        first = month_of_deliveries(
            SORTIMENT, [BANK, EXPENSE], start=day, close=EXPENSE, replacement=BANK, closed_on=day
        )[0]
        data = build_sortiment(first)
    else:  # a status file that does not read: its outcome names it
        sender, data = ERP, b"<not/>"
    upload(rig.platform.party_dir(sender) / "OUT", f"{CPR}-{command}.xml", data,
           sender=sender, recipients=("toek",))  # fmt: skip
    rig.platform.scan()
    result = rig.run(command, "receive")
    assert "internal error" not in result.stderr, result.output
    _masked(result)
    if command == "sortiment":
        assert result.stdout.count(MASKED) == 2, result.stdout  # the outcome and the intake


def test_a_jobs_error_summary_and_name_are_masked_where_the_service_shows_them() -> None:
    """``run --once`` prints each job's last error or summary and /healthz serves the error:
    an exception that is not the gateway's (an OSError quotes its path as is) or a summary
    naming a file showed the CPR number in clear; the JSON log's ``job`` field too."""
    import datetime as dt
    import json
    import logging
    import threading

    from tests.fakeclock import FakeClock
    from toekgw.gateway.jsonlog import JOB_FIELD, JsonFormatter
    from toekgw.gateway.metrics import health
    from toekgw.gateway.scheduler import Job, JobReport, Scheduler

    def broken(now: dt.datetime) -> JobReport:
        raise FileNotFoundError(2, "No such file or directory", f"/data/{CPR}/in.xml")

    def done(now: dt.datetime) -> JobReport:
        return JobReport(f"received {CPR}-payment.xml")

    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    stop = threading.Event()
    clock = FakeClock(start, until=start + dt.timedelta(minutes=30), stop=stop)
    scheduler = Scheduler([Job("broken", broken, 3600, 5), Job("done", done, 3600, 5)], clock)
    scheduler.run(stop)
    failed, fine = scheduler.status["broken"], scheduler.status["done"]
    body = health(scheduler.status, start, 3)[1]
    shown = f"{failed.last_error}\n{fine.last_summary}\n{json.dumps(body)}\n"
    record = logging.LogRecord("toekgw.run", logging.INFO, "x", 1, "ok", None, None)
    setattr(record, JOB_FIELD, f"receive-{CPR}")
    shown += JsonFormatter().format(record)
    assert CPR not in shown, shown
    assert shown.count(MASKED) == 4, shown


def test_the_manual_handling_list_masks_a_payments_key(tmp_path: Path) -> None:
    """A payment's key holds the case system's payment id (``supplier:ident``), which can be
    a citizen's CPR number: ``nemkonto manual --json`` masked it, the text lines did not."""
    from tests.test_nemkonto_flow_cli import CONFIG
    from toekgw.adapters.nemkonto.answers import MANUAL_SUBJECT
    from toekgw.formats.findings import Finding, Severity
    from toekgw.gateway.journal import open_journal

    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG, encoding="utf-8")
    journal = open_journal(tmp_path / "var" / "journal.sqlite")
    journal.add_error(counterpart="nemkonto", subject=MANUAL_SUBJECT,
                      findings=[Finding("nemkonto.rejected", Severity.ERROR, "rejected")],
                      business_key=f"12345678:{CPR}")  # fmt: skip
    journal.close()
    for fmt in ([], ["--json"]):
        result = _run("nemkonto", "manual", *fmt, "--config", str(config))
        assert result.exit_code == 0, result.output
        _masked(result)


def test_the_duplicate_scan_masks_a_groups_payment_keys(tmp_path: Path) -> None:
    """A payment's key (``supplier:payment_ident``) can hold a citizen's CPR number:
    ``payments find`` masked it, ``payments duplicates`` listed each group's keys in clear."""
    import dataclasses

    from tests.nemkonto_flow_data import instruction
    from tests.test_payments_cli import payments_config

    first = instruction(1)
    again = dataclasses.replace(first, payment_ident=CPR, line=first.line + 1)
    config, _ = payments_config(tmp_path, [first, again])
    day = first.disposition_date
    assert day is not None
    result = CliRunner(env={"TOEKGW_USER": "anna"}).invoke(
        cli, ["payments", "duplicates", "--from", day.isoformat(), "--to", day.isoformat(),
              "--config", str(config)],
    )  # fmt: skip
    assert result.exit_code == 1 and "1 groups of suspected duplicates" in result.stdout, (
        result.output
    )
    _masked(result)


def test_status_json_masks_a_transmissions_ref_and_a_payments_follows(tmp_path: Path) -> None:
    """A transmission's ``ref`` can hold a sender's message id (``tok:{sender}:{message_id}``)
    or a payment's key (``sf1490:{business_key}``), and a follow-up names the payment it
    follows by its key: the table and ``--item`` masked the ref, ``--json`` did not; the
    payment line of ``--item`` (and its ``--json``) showed what it follows in clear."""
    import dataclasses

    from tests.nemkonto_flow_data import instruction
    from tests.test_payments_cli import payments_config
    from toekgw.gateway.journal import NewTransmission, open_journal

    follow_up = dataclasses.replace(
        instruction(2), follow_up_key="12345678:000000000000000002:r1", follows=f"12345678:{CPR}"
    )
    config, _ = payments_config(tmp_path, [follow_up])
    journal = open_journal(tmp_path / "var" / "journal.sqlite")
    with journal.transaction(durable=True):
        journal.create_transmission(NewTransmission(
            counterpart="ksd", kind="g68-delivery", state="journaled", ref=f"tok:fag:{CPR}"
        ))  # fmt: skip
    journal.close()
    for args in (["--json"], ["--item", follow_up.business_key, "--json"],
                 ["--item", follow_up.business_key]):  # fmt: skip
        result = _run("status", *args, "--config", str(config))
        assert result.exit_code == 0, result.output
        _masked(result)


def test_the_benefit_index_reports_lines_mask_a_key_and_a_problem(tmp_path: Path) -> None:
    """``ydelsesindeks report`` prints a payment it cannot report by its key, and why the index
    could not be reached (the transport's text quotes the URL): both in clear, before."""
    import dataclasses

    from tests.nemkonto_flow_data import instruction, journal_delivery
    from tests.ydelsesindeks_rig import index_rig, pay

    with index_rig(tmp_path) as rig:
        with rig.journal() as journal:
            pay(journal, 1)
            nowhere = dataclasses.replace(instruction(2, delivery=2), municipality="999",
                                          payment_ident=CPR)  # fmt: skip
            tid = journal_delivery(journal, [nowhere], delivery=2)
            for item in journal.items(tid):
                for state in ("released", "sent", "received", "accepted", "at-bank"):
                    journal.set_item_state(item.id, state, reason="test")
        config = rig.config()
        gone = f"http://127.0.0.1:9/{CPR}/6"
        config.write_text(config.read_text().replace(rig.settings.url, gone))
        result = _run("ydelsesindeks", "report", "--config", str(config))
    assert result.exit_code == 2, result.output
    assert "not reportable: " in result.stderr and "cannot reach" in result.stderr, result.output
    _masked(result)
    assert result.stdout.count(MASKED) == 1 and result.stderr.count(MASKED) == 2, result.output


@pytest.mark.parametrize("fmt", [[], ["--json"]], ids=["text", "json"])
def test_the_demo_masks_its_workdir(tmp_path: Path, fmt: list[str]) -> None:
    """``demo`` names its workdir (``--json``'s ``workdir`` and ``month_report``, the text's
    "look around with" line): in clear, before."""
    work = tmp_path / CPR / "demo"
    result = _run("demo", "--workdir", str(work), "--today", "2026-11-27", "--count", "20", *fmt)
    assert result.exit_code == 0, result.output
    _masked(result)


def test_the_bundles_and_payments_views_mask_a_payments_key(tmp_path: Path) -> None:
    """``status --bundles`` lists each unsettled payment by its key and ``status --payments``
    each overdue one: both views and their ``--json`` showed the key in clear."""
    import dataclasses

    from tests.nemkonto_flow_data import instruction
    from tests.test_payments_cli import payments_config

    config, _ = payments_config(tmp_path, [dataclasses.replace(instruction(1), payment_ident=CPR)])
    runner = CliRunner(env={"TOEKGW_USER": "anna"})
    for args in (["nemkonto", "release", "--today", "2026-11-23"], ["nemkonto", "send"]):
        done = runner.invoke(cli, [*args, "--config", str(config)])
        assert done.exit_code == 0, done.output
    later = CliRunner(env={"TOEKGW_USER": "anna", "TOEKGW_CLOCK": "2027-01-04T12:00:00+01:00"})
    for args in (["--bundles"], ["--bundles", "--json"], ["--payments"], ["--payments", "--json"]):
        result = later.invoke(cli, ["status", *args, "--config", str(config)])
        assert result.exit_code == 0, result.output
        _masked(result, joined=True)


def test_a_reconciliations_unexplained_key_is_masked_in_its_dict() -> None:
    """An answer about a key never sent (a payment's, a debtor system's claim): ``status
    --bundles --json``, ``status --reports --json`` and ``debitor reconcile --json`` print
    the reconciliation's dict, which held the key in clear."""
    import json

    from toekgw.gateway.reconcile import Difference, Reconciliation

    rec = Reconciliation(dt.date(2026, 11, 30))
    rec.unexplained.append(Difference(f"12345678:{CPR}", f"answer about {CPR}, never sent", 5))
    shown = json.dumps(rec.as_dict())
    assert CPR not in shown and shown.count(MASKED) == 2, shown
