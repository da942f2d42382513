"""The Beskedfordeler: its envelope read as KOMBIT and real deliveries write it, and TØK's
mailbox consumer (journal first, ack after, route by type, dead-letter what cannot be used)
against the embedded broker and a real RabbitMQ."""

from __future__ import annotations

import base64
import datetime as dt
import os
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.configs import write_config
from tests.conftest import Opener
from tests.crashkit import paused_at, resumed, toekgw_child
from tests.guide import run_example
from toekgw.adapters.beskedfordeler.consumer import BeskedConsumer
from toekgw.adapters.debitor.debitorkonti import DEBITORKONTO_SLETTET, is_deleted
from toekgw.formats.debitor.besked import (
    DebitorkontoSlettet,
    build_debitorkonto_slettet,
    read_debitorkonto_slettet,
)
from toekgw.formats.kombit import besked
from toekgw.gateway.journal import open_journal
from toekgw.gateway.transport.amqp import QueueSpec, dead_letter_name
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker

DELETED = "5d0f6a4e-7c1b-4f51-9a0e-3c4f1e2d9b70"  # ours: the ØiR type is not public
CVR = "29189846"
NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)

# The shape of KOMBIT's sample (raw XML payload, cvr-nr URNs), written by us.
RAW_SAMPLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<k:Haendelsesbesked xmlns="urn:oio:sagdok:3.0.0" xmlns:k="urn:oio:besked:kuvert:1.0">
  <k:BeskedId><UUIDIdentifikator>0f6a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b</UUIDIdentifikator></k:BeskedId>
  <k:BeskedVersion>1.0</k:BeskedVersion>
  <k:Beskedkuvert>
    <k:Filtreringsdata>
      <k:Beskedtype><UUIDIdentifikator>11111111-2222-4333-8444-555555555555</UUIDIdentifikator></k:Beskedtype>
      <k:TilladtModtager><URNIdentifikator>urn:oio:cvr-nr:12345678</URNIdentifikator></k:TilladtModtager>
    </k:Filtreringsdata>
    <k:Leveranceinformation>
      <k:Dannelsestidspunkt><TidsstempelDatoTid>2026-02-13T08:00:00</TidsstempelDatoTid></k:Dannelsestidspunkt>
    </k:Leveranceinformation>
  </k:Beskedkuvert>
  <k:Beskeddata><t:Data xmlns:t="urn:example:test">hello</t:Data></k:Beskeddata>
</k:Haendelsesbesked>"""


def _message(account: str, besked_id: str | None = None, kind: str = DELETED) -> bytes:
    payload = build_debitorkonto_slettet(DebitorkontoSlettet(account, CVR, NOW))
    return besked.build_besked(
        besked_type=kind, payload=payload, recipient_cvr=CVR, created=NOW, besked_id=besked_id
    )


def test_reads_our_envelope_with_a_base64_payload() -> None:
    message = besked.read_besked(_message("D-1", besked_id="8d3c1d5e-0b7a-4c2f-9e61-5a4b3c2d1e0f"))
    assert message.besked_id == "8d3c1d5e-0b7a-4c2f-9e61-5a4b3c2d1e0f"
    assert (message.besked_type, message.recipients, message.created) == (DELETED, (CVR,), NOW)
    assert message.payload is not None and b"<DebitorkontoId>D-1<" in message.payload


def test_reads_the_sample_shape_raw_payload_and_push_wrapper() -> None:
    message = besked.read_besked(RAW_SAMPLE)
    assert message.recipients == ("12345678",)
    assert message.payload is not None and b"hello" in message.payload
    assert message.created == dt.datetime(2026, 2, 13, 8, 0, tzinfo=dt.UTC)
    inner = RAW_SAMPLE.split(b"?>", 1)[1]
    wrapped = (
        b'<s:ModtagBeskedInput xmlns:s="urn:oio:sts:1.0.0">' + inner + b"</s:ModtagBeskedInput>"
    )
    assert besked.read_besked(wrapped).besked_id == message.besked_id


PUBLIC = Path(__file__).parent / "data" / "public"
MIRRORS = Path(os.environ.get("TOEKGW_PUBLIC_MIRRORS", "/work/.mirror"))
COPIED = [  # committed under tests/data/public (MIT): always read
    PUBLIC / "itk-dev+beskedfordeler-drupal" / "resources/messages/sf1601" / name
    for name in ("PostStatusBeskedModtag.success.xml", "PostStatusBeskedModtag.error.xml")
]
KOMBIT_SAMPLE = (  # no licence stated: read from a fetched copy only
    "kombit+bfo_infrastructureSamples-java",
    "bf-client-example-app/src/main/resources/example_messages/externTestBesked.xml",
)


def _check_public(data: bytes) -> None:
    message = besked.read_besked(data)
    uuid.UUID(message.besked_id)
    assert message.recipients and message.payload


@pytest.mark.parametrize("path", COPIED, ids=lambda p: p.name)
def test_reads_real_deliveries(path: Path) -> None:
    """Two real deliveries from itk-dev/beskedfordeler-drupal (tests/data/public)."""
    _check_public(path.read_bytes())


def test_reads_kombits_sample() -> None:
    """KOMBIT's sample, from a fetched copy (its licence is not stated, so it is not
    committed: tests/data/public/kombit+bfo_infrastructureSamples-java/README.md)."""
    repo, path = KOMBIT_SAMPLE
    git = MIRRORS / repo / "repo"
    if not git.exists():
        pytest.skip(f"{repo} has not been fetched here (see tests/data/public/{repo}/README.md)")
    data = subprocess.run(
        ["git", "-C", str(git), "show", f"HEAD:{path}"], capture_output=True, check=True
    ).stdout
    _check_public(data)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"<x", besked.NotAnEnvelope),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            besked.NotAnEnvelope,
        ),
        (b"<Other/>", besked.NotAnEnvelope),
        (
            RAW_SAMPLE.replace(b"0f6a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b", b"not-a-uuid"),
            besked.MissingField,
        ),
        (
            RAW_SAMPLE.replace(
                b'<t:Data xmlns:t="urn:example:test">hello</t:Data>',
                b'<Base64 xmlns="urn:besked:kuvert:1.0">!!!</Base64>',
            ),
            besked.BadPayload,
        ),
    ],
)
def test_refusals_are_precise(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        besked.read_besked(data)


def _consumer(open_broker: Opener, tmp_path: Path, queue: str) -> tuple[BeskedConsumer, object]:
    broker = open_broker()
    broker.declare(QueueSpec(queue))
    journal = open_journal(tmp_path / "journal.sqlite")
    consumer = BeskedConsumer(broker, journal, queue=queue, routes={DELETED: DEBITORKONTO_SLETTET})
    return consumer, journal


def test_deleted_accounts_are_journaled_once_and_acked(open_broker: Opener, tmp_path: Path) -> None:
    queue = f"dueslag.{uuid.uuid4()}"
    consumer, _ = _consumer(open_broker, tmp_path, queue)
    publisher = open_broker()
    same_id = str(uuid.uuid4())
    publisher.publish(queue, _message("D-1", besked_id=same_id))
    publisher.publish(queue, _message("D-1", besked_id=same_id))  # the broker delivers twice
    publisher.publish(queue, _message("D-2"))
    publisher.publish(queue, _message("D-2"))  # another message on the same account
    result = consumer.run(wait=1.0)
    assert (result.taken, result.duplicates, result.dead_lettered) == (4, 1, 0)
    journal = consumer.journal
    assert is_deleted(journal, CVR, "D-1") and is_deleted(journal, CVR, "D-2")
    assert not is_deleted(journal, CVR, "D-3")
    assert len(journal.items_by_lookup("beskedfordeler", f"debitorkonto:{CVR}:D-2")) == 1
    assert consumer.broker.get(queue, wait=0.3) is None


def test_unusable_messages_are_listed_and_dead_lettered(
    open_broker: Opener, tmp_path: Path
) -> None:
    queue = f"dueslag.{uuid.uuid4()}"
    consumer, _ = _consumer(open_broker, tmp_path, queue)
    publisher = open_broker()
    publisher.publish(queue, b"<garbage", message_id="m-garbage")
    publisher.publish(queue, _message("D-9", kind=str(uuid.uuid4())), message_id="m-unknown")
    bad_payload = besked.build_besked(
        besked_type=DELETED,
        payload=b'<DebitorkontoSlettet xmlns="urn:toekgw:oir:besked:1"/>',
        recipient_cvr=CVR,
        created=NOW,
    )
    publisher.publish(queue, bad_payload, message_id="m-bad-payload")
    publisher.publish(queue, _message("D-10"), message_id="m-good")
    result = consumer.run(wait=1.0)
    assert (result.taken, result.dead_lettered) == (4, 3)
    journal = consumer.journal
    assert is_deleted(journal, CVR, "D-10") and not is_deleted(journal, CVR, "D-9")
    listed = {
        e.file_name: e.findings[0].message for e in journal.errors(counterpart="beskedfordeler")
    }
    assert set(listed) == {f"{queue} message m-{n}" for n in ("garbage", "unknown", "bad-payload")}
    assert "no component takes message type" in listed[f"{queue} message m-unknown"]
    assert "DebitorkontoId" in listed[f"{queue} message m-bad-payload"]
    assert len(journal.transmissions(counterpart="beskedfordeler")) == 1  # only the good one
    dead = []
    while (got := publisher.get(dead_letter_name(queue), wait=1.0)) is not None:
        dead.append(got.message_id)
        publisher.ack(got)
    assert sorted(dead) == ["m-bad-payload", "m-garbage", "m-unknown"]


def test_base64_payload_decodes_to_the_account() -> None:
    body = _message("D-77")
    text = body.split(b"<Base64", 1)[1].split(b">", 1)[1].split(b"<", 1)[0]
    assert b"D-77" in base64.b64decode(text)


def _config(tmp_path: Path, queue: str, broker_toml: str) -> Path:
    config = write_config(
        tmp_path,
        f"""[beskedfordeler]
queue = "{queue}"
{broker_toml}
[beskedfordeler.routes]
"{DELETED}" = "oir.debitorkonto-slettet"
""",
    )
    return config


def _receive(config: Path, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    args = ["receive", "beskedfordeler", "--wait", "0.5"]
    password = {"TOEKGW_TEST_RABBIT_PASSWORD": "guest"}
    return toekgw_child(args, config, crash_at=crash_at, env=password)


@pytest.mark.parametrize(
    "point", ["beskedfordeler.consume.after_commit", "beskedfordeler.consume.after_listing"]
)
def test_sigkill_between_journal_and_ack_loses_and_doubles_nothing(
    open_broker: Opener, tmp_path: Path, request: pytest.FixtureRequest, point: str
) -> None:
    queue = f"dueslag.{uuid.uuid4()}"
    publisher = open_broker()
    publisher.declare(QueueSpec(queue))
    if isinstance(publisher, SqliteBroker):
        broker_toml = f'transport = "sqlite"\nqueue_db = "{publisher.path}"'
    else:
        node = request.getfixturevalue("rabbitmq")
        broker_toml = (
            'transport = "rabbitmq"\n[beskedfordeler.rabbitmq]\nhost = "127.0.0.1"\n'
            f'port = {node.port}\nvirtual_host = "/"\nlogin = "password"\ntls = false\n'
            'username = "guest"\npassword_env = "TOEKGW_TEST_RABBIT_PASSWORD"'
        )
    config = _config(tmp_path, queue, broker_toml)
    publisher.publish(queue, b"<garbage", message_id="m-garbage")
    for account in ("D-1", "D-2", "D-3"):
        publisher.publish(queue, _message(account), message_id=account)
    killed = _receive(config, crash_at=point)
    assert killed.returncode == -9, killed.stderr
    done = _receive(config)
    # Killed after listing the garbage message: the restart dead-letters it (exit 1); killed
    # after the first commit: the garbage was dead-lettered before the kill (exit 0).
    assert done.returncode == (1 if point.endswith("after_listing") else 0), done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    journal = open_journal(tmp_path / "journal.sqlite")
    for account in ("D-1", "D-2", "D-3"):
        assert len(journal.items_by_lookup("beskedfordeler", f"debitorkonto:{CVR}:{account}")) == 1
    assert len(journal.transmissions(counterpart="beskedfordeler")) == 3
    assert len(journal.errors(counterpart="beskedfordeler")) == 1  # listed once
    assert publisher.get(queue, wait=0.5) is None
    dead = publisher.get(dead_letter_name(queue), wait=2.0)
    assert dead is not None and dead.message_id == "m-garbage"
    publisher.ack(dead)
    assert publisher.get(dead_letter_name(queue), wait=0.3) is None


@pytest.mark.parametrize(("how", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_stopped_receive_says_what_it_settled_and_the_next_run_finishes(
    tmp_path: Path, how: str, code: int
) -> None:
    """Stopped midway, the receive printed only "terminated": the lines of the messages it had
    journaled and acked were kept to print at the end."""
    broker = SqliteBroker(tmp_path / "broker.sqlite")
    queue = "dueslag"
    broker.declare(QueueSpec(queue))
    ids = [str(uuid.UUID(int=n)) for n in (1, 2, 3)]
    for n, besked_id in enumerate(ids, start=1):
        broker.publish(queue, _message(f"D-{n}", besked_id=besked_id), message_id=f"D-{n}")
    broker.close()
    config = _config(tmp_path, queue, f'transport = "sqlite"\nqueue_db = "{broker.path}"')
    args = ["receive", "beskedfordeler", "--wait", "0.5"]
    child = paused_at(args, config, "beskedfordeler.consume.after_commit:2")
    child.send_signal(getattr(signal, how))
    stopped = resumed(child)
    assert stopped.returncode == code, stopped.stderr
    assert stopped.stdout.splitlines() == [
        f"message {ids[0]}: " + _line_of(stopped.stdout, ids[0]),
        "1 messages: 1 journaled, 0 duplicates, 0 dead-lettered; stopped, the message in hand "
        "put back",
    ]
    assert "Traceback" not in stopped.stderr

    done = _receive(config)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"message {ids[1]}: a duplicate, acked again"
    assert done.stdout.splitlines()[-1] == (
        "2 messages: 1 journaled, 1 duplicates, 0 dead-lettered"
    )
    journal = open_journal(tmp_path / "journal.sqlite")
    try:
        assert len(journal.transmissions(counterpart="beskedfordeler")) == 3
    finally:
        journal.close()


def _line_of(stdout: str, besked_id: str) -> str:
    """What the first message's line says after its id (the component's words)."""
    first = stdout.splitlines()[0]
    assert first.startswith(f"message {besked_id}: ") and "D-1" in first, stdout
    return first.removeprefix(f"message {besked_id}: ")


def test_the_developers_guide_example_runs() -> None:
    printed = run_example("A runnable Beskedfordeler example")
    assert printed == ["2 taken, 1 duplicate", "D-1 deleted: True"]


def test_a_journal_failure_puts_the_message_back_and_stops(
    open_broker: Opener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    queue = f"dueslag.{uuid.uuid4()}"
    consumer, _ = _consumer(open_broker, tmp_path, queue)
    publisher = open_broker()
    publisher.publish(queue, _message("D-5"), message_id="m-5")

    def broken(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(consumer.journal, "create_transmission", broken)
    with pytest.raises(sqlite3.OperationalError):
        consumer.run(wait=1.0)
    monkeypatch.undo()
    again = consumer.run(wait=1.0)  # the message came back; now it is taken
    assert (again.taken, again.dead_lettered) == (1, 0)
    assert is_deleted(consumer.journal, CVR, "D-5")


def test_a_comment_inside_a_value_of_the_payload_does_not_cut_it() -> None:
    deleted = DebitorkontoSlettet("K-12345", CVR, NOW)
    payload = build_debitorkonto_slettet(deleted)
    commented = payload.replace(b">K-12345<", b">K-12<!-- -->345<").replace(
        b">29189846<", b"><?tool x?>29189846<"
    )
    assert commented != payload
    assert read_debitorkonto_slettet(commented) == deleted


def test_a_cvr_in_full_width_digits_is_refused_not_recorded_under_a_key_nothing_matches() -> None:
    from toekgw.formats.debitor.besked import BadPayload as DebitorBadPayload

    payload = build_debitorkonto_slettet(DebitorkontoSlettet("K-1", CVR, NOW))
    wide = "".join(chr(0xFF10 + int(d)) for d in CVR).encode()  # '２９１８９８４６'
    with pytest.raises(DebitorBadPayload, match="expected a CVR"):
        read_debitorkonto_slettet(payload.replace(CVR.encode(), wide))


def test_the_simulators_duplicates_count_once_and_its_garbage_is_listed_each(
    tmp_path: Path,
) -> None:
    """`toekgw simulate beskedfordeler --duplicate --garbage 2`, run twice (the faults of its
    --help): each account is journaled once, every copy acked; each unreadable message of
    either run is dead-lettered and on the error list on its own."""
    from click.testing import CliRunner

    from toekgw.cli.main import cli

    db = tmp_path / "broker.sqlite"
    args = ["simulate", "beskedfordeler", "--queue", "dueslag", "--type", DELETED, "--cvr", CVR,
            "--account", "D-1", "--account", "D-2", "--queue-db", str(db), "--duplicate",
            "--garbage", "2"]  # fmt: skip
    for _ in range(2):
        published = CliRunner().invoke(cli, args)
        assert published.exit_code == 0, published.output
        assert "published 4 messages and 2 unreadable ones to dueslag" in published.output
    broker = SqliteBroker(db)
    journal = open_journal(tmp_path / "journal.sqlite")
    try:
        consumer = BeskedConsumer(broker, journal, queue="dueslag",
                                  routes={DELETED: DEBITORKONTO_SLETTET})  # fmt: skip
        result = consumer.run(wait=0.5)
        assert (result.taken, result.duplicates, result.dead_lettered) == (12, 4, 4)
        assert is_deleted(journal, CVR, "D-1") and is_deleted(journal, CVR, "D-2")
        for account in ("D-1", "D-2"):
            lookup = f"debitorkonto:{CVR}:{account}"
            assert len(journal.items_by_lookup("beskedfordeler", lookup)) == 1
        assert len(journal.transmissions(counterpart="beskedfordeler")) == 4  # 2 runs x 2
        listed = [e.file_name for e in journal.errors(counterpart="beskedfordeler")]
        assert len(listed) == 4 and len(set(listed)) == 4, listed
        dead = []
        while (got := broker.get(dead_letter_name("dueslag"), wait=0.2)) is not None:
            dead.append(got.message_id)
            broker.ack(got)
        assert sorted(dead) == sorted(name.rsplit(" ", 1)[-1] for name in listed)
    finally:
        journal.close()
        broker.close()


def test_a_message_its_component_breaks_on_does_not_block_the_ones_behind_it(
    open_broker: Opener, tmp_path: Path
) -> None:
    """A poison message: its form is fine, its component fails on it (a fault of ours). It is
    backed out, listed once and dead-lettered after repeated attempts; the rest is taken."""
    from toekgw.adapters.beskedfordeler.consumer import Component
    from toekgw.gateway.refusals import MAX_ATTEMPTS_PER_RUN

    def breaks_on_d_bug(journal, transmission, message):  # type: ignore[no-untyped-def]
        if b"D-BUG" in (message.payload or b""):
            raise KeyError("fordring")
        return DEBITORKONTO_SLETTET.handle(journal, transmission, message)

    queue = f"dueslag.{uuid.uuid4()}"
    broker = open_broker()
    broker.declare(QueueSpec(queue))
    journal = open_journal(tmp_path / "journal.sqlite")
    component = Component("test.breaks", breaks_on_d_bug)
    consumer = BeskedConsumer(broker, journal, queue=queue, routes={DELETED: component})
    publisher = open_broker()
    for account in ("D-1", "D-BUG", "D-2"):
        publisher.publish(queue, _message(account), message_id=f"m-{account}")
    result = consumer.run(wait=1.0)
    assert (result.dead_lettered, result.failed) == (1, MAX_ATTEMPTS_PER_RUN - 1)
    assert is_deleted(journal, CVR, "D-1") and is_deleted(journal, CVR, "D-2")
    assert not is_deleted(journal, CVR, "D-BUG")
    assert len(journal.transmissions(counterpart="beskedfordeler")) == 2  # rolled back
    (listed,) = journal.errors(counterpart="beskedfordeler")  # once, not per attempt
    assert "KeyError" in listed.findings[0].message
    assert publisher.get(queue, wait=0.3) is None
    dead = publisher.get(dead_letter_name(queue), wait=2.0)
    assert dead is not None and dead.message_id == "m-D-BUG"
    publisher.ack(dead)
