"""toekgw receive g68: generated deliveries through the Serviceplatformen simulator (asyncssh on
127.0.0.1) into the journal, with the real G68 processor."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.crashkit import Rig
from tests.g68_helpers import header, payment
from tests.g68_receive_helpers import (
    TODAY,
    excluded_lines,
    g68_rig,
    generate,
    receive,
)
from toekgw.adapters.g68 import PaymentInstruction
from toekgw.adapters.serviceplatform import receive_pipeline, receive_profile
from toekgw.cli.main import cli
from toekgw.formats.g68 import G68Delivery, G68Form, encode_delivery
from toekgw.formats.serviceplatform import NS
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport import LocalDirTransport


@pytest.fixture
def grig(tmp_path: Path) -> Iterator[Rig]:
    rig = g68_rig(tmp_path)
    try:
        yield rig
    finally:
        rig.stop()


def _counts(rig: Rig) -> tuple[int, int, int]:
    db = sqlite3.connect(rig.settings.journal)
    return tuple(  # type: ignore[return-value]
        db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("transmissions", "items", "error_findings")
    )


def _lines(data: list[str]) -> bytes:
    return ("\r\n".join(data) + "\r\n").encode("iso-8859-1")


def test_generated_deliveries_journaled_and_error_list_holds_exactly_the_planted(
    grig: Rig, tmp_path: Path
) -> None:
    fast, fast_expected = generate(tmp_path, "fast.g68", count=1500, error_rate=0.03)
    floating, float_expected = generate(
        tmp_path, "float.g68", count=800, error_rate=0.03, form=G68Form.FLOATING,
        delivery_number=2, seed=2,
    )  # fmt: skip
    straks, straks_expected = generate(
        tmp_path, "straks.g68", count=7, straks=True, delivery_number=3, seed=4
    )
    assert straks_expected == Counter()
    grig.deliver("G68_FAST.txt", fast)
    grig.deliver("G68_FLOAT.txt", floating)
    grig.deliver("G68_ZZZ.txt", straks)
    outcomes = receive(grig)
    assert [(o.name, o.status) for o in outcomes] == [
        ("G68_ZZZ.txt", "received"),  # straks first: its start holds only payments of today
        ("G68_FAST.txt", "received"),
        ("G68_FLOAT.txt", "received"),
    ]
    journal = open_journal(grig.settings.journal)
    txs = {t.file_name: t for t in journal.transmissions()}
    assert txs["G68_ZZZ.txt"].meta["straks"] is True
    assert txs["G68_FAST.txt"].meta["straks"] is False
    assert txs["G68_FAST.txt"].delivery_key == "29189846/00001"
    assert all(t.state == "received" and t.kind == "g68-delivery" for t in txs.values())

    entries = {e.file_name: e for e in journal.errors()}
    assert set(entries) == {"G68_FAST.txt", "G68_FLOAT.txt"}
    for name, expected in (("G68_FAST.txt", fast_expected), ("G68_FLOAT.txt", float_expected)):
        entry = entries[name]
        assert entry.subject == "record" and entry.transmission_id == txs[name].id
        assert Counter((f.line, f.code) for f in entry.findings) == expected
        assert any(c == "g68.payment.duplicate" for _, c in expected)
        for f in entry.findings:
            assert f.line is not None and f.file == name
            if f.code == "g68.ident.cpr":
                assert f.found is not None and f.found.endswith("-****")
        # Every record without an error is journaled once, on its own line, with its payload.
        items = list(journal.items(txs[name].id))
        count = 1500 if name == "G68_FAST.txt" else 800
        assert len(items) == count - len(excluded_lines(expected))
        assert {i.seq for i in items}.isdisjoint(excluded_lines(expected))
        for item in items:
            assert item.data is not None
            instr = PaymentInstruction.from_data(item.data)
            assert (item.business_key, item.fingerprint) == (
                instr.business_key,
                instr.fingerprint,
            )
            assert instr.line == item.seq and instr.delivery_number == (
                1 if name == "G68_FAST.txt" else 2
            )
            # Signed in the journal (a recall counts negative), unsigned in the payload.
            assert item.amount_ore == (-instr.amount_ore if instr.recall else instr.amount_ore)
            assert item.state == ("recall-requested" if instr.recall else "pending")
            assert instr.straks is False
    straks_items = list(journal.items(txs["G68_ZZZ.txt"].id))
    assert len(straks_items) == 7
    assert all(i.data and i.data["straks"] is True for i in straks_items)
    assert list(grig.inbox().iterdir()) == []


def test_refused_delivery_goes_whole_to_the_error_list(grig: Rig) -> None:
    lines = list(encode_delivery(G68Delivery(header(G68Form.FAST), [payment(1), payment(2)])))
    slutd = lines[-1]
    lines[-1] = slutd[:13] + "0000003" + slutd[20:]  # SLUTD says 3 records, there are 2
    lines[2] = lines[2][:56] + "32" + lines[2][58:]  # and a record with a bad CPR
    grig.deliver("G68_BAD.txt", _lines(lines))
    (outcome,) = receive(grig)
    assert outcome.status == "rejected"
    journal = open_journal(grig.settings.journal)
    (tx,) = journal.transmissions()
    assert (tx.state, tx.item_count, tx.delivery_key) == ("error-listed", 0, None)
    assert tx.meta["refusal"] == ["line 4: SLUTD says 3 G68 records, the delivery holds 2"]
    (entry,) = journal.errors()
    assert entry.subject == "delivery"
    assert [(f.line, f.code) for f in entry.findings] == [
        (3, "g68.ident.cpr"),
        (4, "g68.slutd.count"),
    ]
    # The rejected delivery did not claim its number: the corrected one is received.
    fixed = list(encode_delivery(G68Delivery(header(G68Form.FAST), [payment(1), payment(2)])))
    grig.deliver("G68_FIXED.txt", _lines(fixed))
    assert [o.status for o in receive(grig)] == ["received"]


def test_same_delivery_again_is_refused_naming_the_first(grig: Rig, tmp_path: Path) -> None:
    first, _ = generate(tmp_path, "a.g68", count=50, seed=4)
    other, _ = generate(tmp_path, "b.g68", count=60, seed=5)  # same supplier and number
    grig.deliver("G68_ONE.txt", first)
    assert [o.status for o in receive(grig)] == ["received"]
    before = _counts(grig)
    grig.deliver("G68_ONE.txt", first)  # the same file again
    grig.deliver("G68_ONE_AGAIN.txt", first)  # the same file under another name
    grig.deliver("G68_TWO.txt", other)  # the same delivery, other content
    outcomes = {o.name: o for o in receive(grig)}
    assert {n: o.status for n, o in outcomes.items()} == {
        "G68_ONE.txt": "duplicate",
        "G68_ONE_AGAIN.txt": "duplicate",
        "G68_TWO.txt": "duplicate",
    }
    assert "already received as transmission #1 'G68_ONE.txt'" in outcomes["G68_ONE.txt"].message
    assert "the same file was already received as transmission #1 'G68_ONE.txt'" in (
        outcomes["G68_ONE_AGAIN.txt"].message
    )
    assert "delivery '29189846/00001' of ksd was already received as transmission #1" in (
        outcomes["G68_TWO.txt"].message
    )
    assert _counts(grig) == before
    assert list(grig.inbox().iterdir()) == []


def test_payment_idents_and_recalls_are_matched_against_the_journal(grig: Rig) -> None:
    paid = [payment(1), payment(2)]
    grig.deliver(
        "G68_1.txt", _lines(list(encode_delivery(G68Delivery(header(G68Form.FAST), paid))))
    )
    assert [o.status for o in receive(grig)] == ["received"]
    # Delivery 18: payment 1 again (same ident), a recall of payment 2, a recall of nothing,
    # and payment 1's paying unit, beneficiary, amount and date under a new ident (a suspect).
    again = [
        payment(1),
        payment(2, sign="-", payment_ident=paid[1].payment_ident),
        payment(3, sign="-", payment_ident="000000000000000999"),
        payment(4),
    ]
    second = encode_delivery(G68Delivery(header(G68Form.FAST, delivery_number=18), again))
    grig.deliver("G68_18.txt", _lines(list(second)))
    (outcome,) = receive(grig)
    assert outcome.status == "received"
    assert (outcome.errors, outcome.warnings) == (2, 1)
    assert outcome.message.endswith("; 2 errors and 1 warning on the error list (toekgw errors)")
    journal = open_journal(grig.settings.journal)
    tx = journal.transmissions()[-1]
    items = {i.seq: i for i in journal.items(tx.id)}
    assert sorted(items) == [3, 5]
    recall = items[3]
    assert recall.state == "recall-requested" and recall.amount_ore == -12345
    assert recall.business_key == f"29189846:{paid[1].payment_ident}:recall:18:3"
    assert items[5].state == "pending"
    (entry,) = [e for e in journal.errors() if e.transmission_id == tx.id]
    assert [(f.line, f.code) for f in entry.findings] == [
        (2, "g68.payment.ident_reused"),
        (4, "g68.recall.unmatched"),
        (5, "g68.payment.suspected_duplicate"),
    ]
    assert "already used by item '29189846:000000000000000001' of transmission #1" in (
        entry.findings[0].message
    )
    assert tx.total_ore == 12345 - 12345  # a payment and a recall: net zero


def test_cli_receive_names_what_went_to_the_error_list_and_exits_1_for_errors(
    grig: Rig, tmp_path: Path
) -> None:
    """A delivery received with records refused says how many findings went to the error
    list, and exits 1 (findings); warnings alone (a suspected duplicate, journaled) exit 0."""
    runner = CliRunner()
    command = [
        "receive",
        "g68",
        "--today",
        TODAY.isoformat(),
        "--json",
        "--config",
        str(grig.config),
    ]
    grig.deliver(
        "G68_SUSPECT.txt",
        _lines(list(encode_delivery(G68Delivery(header(G68Form.FAST), [payment(1), payment(2)])))),
    )
    warned = runner.invoke(cli, command)
    assert warned.exit_code == 0, warned.output
    shown = json.loads(warned.output)
    assert (shown["status"], shown["errors"], shown["warnings"]) == ("received", 0, 1)
    assert (
        shown["message"]
        == "2 items journaled (246.90 kr); 1 warning on the error list (toekgw errors)"
    )
    data, _ = generate(tmp_path, "e.g68", count=200, error_rate=0.05, seed=7)
    grig.deliver("G68_ERRORS.txt", data)
    refused = runner.invoke(cli, command)
    assert refused.exit_code == 1, refused.output
    shown = json.loads(refused.output)
    assert shown["status"] == "received" and shown["errors"] > 0
    journal = open_journal(grig.settings.journal)
    (entry,) = [e for e in journal.errors() if e.transmission_id == shown["transmission"]]
    journal.close()
    listed = Counter(f.severity.value for f in entry.findings)
    assert (shown["errors"], shown["warnings"]) == (listed["error"], listed["warning"])
    assert f"; {shown['errors']} errors" in shown["message"]


def test_cli_receive_status_and_errors(grig: Rig, tmp_path: Path) -> None:
    data, _ = generate(tmp_path, "c.g68", count=20, seed=6)
    grig.deliver("G68_CLI.txt", data)
    runner = CliRunner()
    config = ["--config", str(grig.config)]
    received = runner.invoke(cli, ["receive", "g68", "--today", TODAY.isoformat(), *config])
    assert received.exit_code == 0, received.output
    assert received.output.startswith("G68_CLI.txt: received: ")
    journal = open_journal(grig.settings.journal)
    (tx,) = journal.transmissions()
    item = next(journal.items(tx.id))
    shown = runner.invoke(cli, ["status", "--item", item.business_key, *config])
    assert shown.exit_code == 0, shown.output
    text = shown.output
    assert f"ksd item {item.business_key}: " in text and "state pending" in text
    assert f"came in g68-delivery #1 'G68_CLI.txt' line {item.seq}" in text
    assert f"transfer {tx.transfer_id}, SHA-256 {tx.sha256}" in text
    for step in ("metadata G68_CLI.txt.metadata read", "downloaded IN/G68_CLI.txt", "validated:"):
        assert step in text
    assert "-> pending" in text and "journaled -> received" in text
    payload = PaymentInstruction.from_data(item.data or {})
    assert f"payment {payload.payment_ident} of supplier 29189846 delivery 1" in text
    if payload.ident_code == "02":
        assert payload.beneficiary[4:] not in text and f"{payload.beneficiary[4:10]}-****" in text
    (as_json,) = json.loads(
        runner.invoke(cli, ["status", "--item", item.business_key, "--json", *config]).output
    )
    assert as_json["payment"] == text.splitlines()[2].strip()
    assert as_json["item"]["seq"] == item.seq and as_json["transmission"]["sha256"] == tx.sha256
    # Again: the same file is a duplicate, exit 1, the message names the first.
    grig.deliver("G68_CLI_COPY.txt", data)
    again = runner.invoke(cli, ["receive", "g68", "--json", "--today", "2026-11-23", *config])
    assert again.exit_code == 1
    row = json.loads(again.output)
    assert row["status"] == "duplicate" and "transmission #1 'G68_CLI.txt'" in row["message"]


def test_hostile_input_is_refused_and_changes_nothing(grig: Rig, tmp_path: Path) -> None:
    inbox = grig.inbox()
    (inbox / "EVIL.txt").write_bytes(b"x")
    (inbox / "EVIL.txt.metadata").write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE FileMetadata [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<FileMetadata xmlns="' + NS.encode() + b'"><FileTransferUUID>&e;</FileTransferUUID>'
        b"</FileMetadata>"
    )
    (inbox / "..\\..\\etc.txt").write_bytes(b"x")
    (inbox / "..\\..\\etc.txt.metadata").write_bytes(b"x")
    runner = CliRunner()
    config = ["--config", str(grig.config)]
    result = runner.invoke(cli, ["receive", "g68", "--today", "2026-11-23", *config])
    assert result.exit_code == 1
    assert "EVIL.txt: refused: left in place" in result.output
    assert "DOCTYPE is not allowed" in result.output
    assert "refused remote file name" in result.output and "contains a '\\'" in result.output
    # Nothing journaled or moved; the three refused names are on the error list.
    assert _counts(grig) == (0, 0, 3) and len(list(inbox.iterdir())) == 4
    # An unknown host key: one clear line, exit 2, nothing fetched.
    (grig.base / "keys" / "known_hosts").write_text("")
    grig.deliver("G68_OK.txt", generate(tmp_path, "d.g68", count=3)[0])
    refused = runner.invoke(cli, ["receive", "g68", *config])
    assert refused.exit_code == 2
    assert "host key" in refused.stderr and "is not in" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert _counts(grig) == (0, 0, 3) and (inbox / "G68_OK.txt").exists()


def test_receive_on_a_local_directory(tmp_path: Path, grig: Rig) -> None:
    from functools import partial

    from toekgw.adapters.g68 import G68Processor

    data, expected = generate(tmp_path, "e.g68", count=40, error_rate=0.1, seed=9)
    grig.deliver("G68_LOCAL.txt", data)
    journal = open_journal(tmp_path / "local.sqlite")
    settings = receive_profile(grig.settings, "g68")
    seen: list[tuple[Path, int]] = []

    @contextmanager
    def progress(path: Path) -> Iterator[Callable[[int], None]]:
        yield lambda done: seen.append((path, done))

    pipeline = receive_pipeline(
        journal,
        LocalDirTransport(grig.sim.platform.party_dir("toek")),
        partial(G68Processor, today=TODAY, progress=progress)(settings),
        party="toek",
        senders=["ksd"],
        staging=tmp_path / "staging",
    )
    assert [o.status for o in pipeline.poll_once()] == ["received"]
    (tx,) = journal.transmissions()
    assert tx.item_count == 40 - len(excluded_lines(expected))
    # The validation reported its progress on the staged copy, to the last byte.
    assert seen and seen[-1][1] == len(data) and seen[-1][0].name == tx.transfer_id


def test_priority_by_name_marker_or_a_peek_at_the_start(tmp_path: Path) -> None:
    from toekgw.adapters.g68 import G68Processor
    from toekgw.adapters.serviceplatform import ReceiveSettings
    from toekgw.formats.serviceplatform import FileDescriptor, FileMetadata
    from toekgw.gateway.inbound import Candidate

    straks, _ = generate(tmp_path, "s.g68", count=5, straks=True, seed=4)
    daily, _ = generate(tmp_path, "d.g68", count=500, seed=4)
    files = {"IN/a": straks, "IN/b": daily}

    def candidate(name: str, path: str | None) -> Candidate:
        meta = FileMetadata(
            "0" * 8 + "-0000-0000-0000-" + "0" * 12, FileDescriptor(name, 1, "ksd", ("toek",))
        )
        reader = (lambda p, n: files[p][:n]) if path else None
        return Candidate(name, path or "IN/x", 1, meta, reader=reader)

    profile = ReceiveSettings("g68", ("ksd",), "ksd")
    processor = G68Processor(profile, today=TODAY)
    assert processor.priority(candidate("KSD_straks_17.txt", None)) == 0  # the name says so
    assert processor.priority(candidate("G68_1.txt", "IN/a")) == 0  # all dated today
    assert processor.priority(candidate("G68_2.txt", "IN/b")) == 1
    assert processor.priority(candidate("G68_3.txt", None)) == 1  # nothing to peek at
    later = G68Processor(profile, today=TODAY + dt.timedelta(days=1))
    assert later.priority(candidate("G68_1.txt", "IN/a")) == 1
    off = G68Processor(ReceiveSettings("g68", ("ksd",), "ksd", {"straks_marker": ""}), today=TODAY)
    assert off.priority(candidate("STRAKS.txt", None)) == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_age": 3}, "unknown key 'max_age' (did you mean 'max_age_days'?)"),
        ({"max_age_days": "60"}, "max_age_days: expected an integer from 0 to 36500, found '60'"),
        ({"dagpenge_units": [5110]}, "dagpenge_units: expected a list of 4-digit paying units"),
        ({"straks_marker": 1}, "straks_marker: expected a string, found 1"),
    ],
)
def test_bad_profile_options_are_named(options: dict[str, object], message: str) -> None:
    from toekgw.adapters.g68 import G68Processor
    from toekgw.adapters.serviceplatform import ReceiveSettings
    from toekgw.gateway.config import ConfigError

    with pytest.raises(ConfigError, match=r"\[receive\.g68\]") as caught:
        G68Processor(ReceiveSettings("g68", ("ksd",), "ksd", options))
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("profile", "option", "message"),
    [
        ("erp", 'sender = "erp"', "unknown key 'sender' (did you mean 'senders'?)"),
        (
            "sortiment",
            "max_age_days = 3",
            "unknown key 'max_age_days' (known: senders, counterpart)",
        ),
    ],
)
def test_the_oir_profiles_have_no_options_of_their_own(
    tmp_path: Path, profile: str, option: str, message: str
) -> None:
    """``[receive.erp]`` and ``[receive.sortiment]`` know ``senders`` and ``counterpart`` only:
    a misspelt or misplaced key is refused when the file is loaded, not ignored."""
    from tests.configs import write_config

    config = write_config(tmp_path, f'[receive.{profile}]\nsenders = ["x"]\n{option}\n')
    result = CliRunner().invoke(cli, ["doctor", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"toekgw: error: {config}: [receive.{profile}]: {message}\n"


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("bogus_opt = 1", "[receive.g68]: unknown key 'bogus_opt' (known: senders, counterpart,"),
        (
            "max_age_days = -5",
            "[receive.g68] max_age_days: expected an integer from 0 to 36500, found -5",
        ),
        ('dagpenge_units = ["51"]', "[receive.g68] dagpenge_units: expected a list of 4-digit"),
    ],
)
def test_doctor_refuses_the_profile_options_receive_refuses(
    tmp_path: Path, option: str, message: str
) -> None:
    """The options are checked when the file is loaded, by the receiver's own reading."""
    from tests.configs import write_config

    config = write_config(tmp_path, f'[receive.g68]\nsenders = ["ksd"]\n{option}\n')
    for command in (["doctor"], ["receive", "g68"], ["run", "--once"]):
        result = CliRunner().invoke(cli, [*command, "--config", str(config)])
        assert result.exit_code == 2, (command, result.output)
        assert result.stderr.startswith(f"toekgw: error: {config}: {message}"), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "ok   configuration" not in result.stdout


@contextmanager
def _read_only(path: Path) -> Iterator[None]:
    """``path`` on a read-only tmpfs (root only: elsewhere the test is skipped)."""
    path.mkdir(parents=True)
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(path)], capture_output=True
        ).returncode
    ):
        pytest.skip("needs root to mount a read-only tmpfs")
    try:
        yield
    finally:
        subprocess.run(["umount", str(path)], check=True)


@pytest.mark.parametrize("kind", ["a-file", "under-a-file", "read-only"])
def test_a_staging_directory_that_cannot_be_used_is_one_line(grig: Rig, kind: str) -> None:
    blocker = grig.base / "var" / "blocker"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    staging, reason = {
        "a-file": (blocker, f"{blocker} is a file, not a directory"),
        "under-a-file": (blocker / "sub", f"{blocker} is a file, not a directory"),
        "read-only": (grig.base / "var" / "ro", "Read-only file system"),
    }[kind]
    text = grig.config.read_text().replace('dir = "var/staging"', f'dir = "{staging}"')
    grig.config.write_text(text)
    config = ["--config", str(grig.config)]
    with ExitStack() as stack:
        if kind == "read-only":
            stack.enter_context(_read_only(staging))
        else:
            blocker.write_text("")
        result = CliRunner().invoke(cli, ["receive", "g68", *config])
        doctor = CliRunner().invoke(cli, ["doctor", *config])
    assert result.exit_code == 2 and "internal error" not in result.stderr, result.output
    assert result.stderr.strip() == (
        f"toekgw: error: staging directory {staging}: cannot make {staging}/ksd/incoming: {reason}"
    )
    assert doctor.exit_code == 2
    assert f"FAIL staging directory {staging}: {reason}\n" in doctor.output, doctor.output
