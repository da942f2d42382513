"""SF1490 Ydelsesindeks: each effectuated payment reported once to the benefit index
simulator, over real HTTP, signed with an SF1514 token, validated against KOMBIT's schema."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from prometheus_client import CollectorRegistry, generate_latest

from tests.guide import run_example
from tests.nemkonto_flow_data import cpr
from tests.ydelsesindeks_rig import CVR, index_rig, pay
from toekgw.adapters.config import load_settings
from toekgw.adapters.service import build_jobs
from toekgw.adapters.ydelsesindeks import REPORT_KIND, report_effectuated
from toekgw.cli.main import cli
from toekgw.formats.xmlcheck import load_schema
from toekgw.formats.ydelsesindeks import OPERATIONS_XSD, SERVICE_ENTITY_ID, effektuering_id
from toekgw.gateway.metrics import Figures, ServiceCollector
from toekgw.simulators.ydelsesindeks import IndexFaults

PLACES = {"101": CVR}
NO_SLEEP = lambda seconds: None  # noqa: E731 - tenacity's backoff, not waited in tests


def _report(rig, **settings):  # type: ignore[no-untyped-def]
    client, tokens = rig.clients(dataclasses.replace(rig.settings, **settings))
    with rig.journal() as journal:
        return report_effectuated(journal, client, tokens, client.settings, PLACES, sleep=NO_SLEEP)


def test_reports_each_effectuated_payment_once_with_one_token(tmp_path: Path) -> None:
    with index_rig(tmp_path) as rig:
        with rig.journal() as journal:
            keys = pay(journal, 4, paid=3)
        run = _report(rig)
        assert (run.reported, run.refused, run.unreachable) == (3, 0, 0), run.problems
        ledger = rig.index.ledger.reported()
        assert [(r.key, r.cvr, r.deliveries) for r in ledger] == [(k, CVR, 1) for k in keys[:3]]
        assert [r.object_id for r in ledger] == [effektuering_id(k) for k in keys[:3]]
        assert rig.sts.issued == 1  # one token for the three calls
        again = _report(rig)
        assert (again.reported, rig.index.calls) == (0, 3)
        with rig.journal() as journal:
            states = [t.state for t in journal.transmissions(kind=REPORT_KIND.name)]
        assert states == ["reported"] * 3


def test_a_soap_fault_is_a_finding_and_the_rest_goes_on(tmp_path: Path) -> None:
    with index_rig(tmp_path) as rig:
        with rig.journal() as journal:
            keys = pay(journal, 3)
        rig.index.faults.refuse_keys = frozenset({keys[1]})
        run = _report(rig)
        assert (run.reported, run.refused) == (2, 1)
        with rig.journal() as journal:
            errors = journal.errors()
            refused = journal.find_transmission(ref=f"sf1490:{keys[1]}")
        assert refused is not None and refused.state == "refused"
        assert [(e.subject, e.business_key) for e in errors] == [("sf1490-refused", keys[1])]
        assert errors[0].findings[0].code == "ydelsesindeks.InvalidInput"
        text = repr(errors)
        assert all(cpr(n) not in text for n in range(1, 4))  # no CPR in clear
        assert _report(rig).reported == 0 and rig.index.calls == 3  # never sent again


def test_a_payment_retention_pseudonymised_first_is_listed_once_not_sent(tmp_path: Path) -> None:
    """Paid longer ago than its retention period and never reported (the report set up
    later): its recipient is a pseudonym, which must not reach the index as a CPR number."""
    from toekgw.gateway.retention import run_retention
    from toekgw.gateway.retention_config import RetentionSettings

    with index_rig(tmp_path) as rig:
        (tmp_path / "pseudonym.key").write_bytes(b"k" * 48)
        retention = RetentionSettings(tmp_path / "pseudonym.key", kinds={"g68-delivery": 1})
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
        with rig.journal() as journal:
            (old,) = pay(journal, 1)
            assert run_retention(journal, retention, later).items == 1
            (new,) = pay(journal, 1, delivery=2)
        run = _report(rig)
        assert (run.reported, run.refused, run.unreachable) == (1, 1, 0)
        assert [r.key for r in rig.index.ledger.reported()] == [new]
        assert rig.index.calls == 1
        with rig.journal() as journal:
            refused = journal.find_transmission(ref=f"sf1490:{old}")
            errors = journal.errors()
        assert refused is not None and refused.state == "refused"
        assert [(e.business_key, e.findings[0].code) for e in errors] == [
            (old, "ydelsesindeks.pseudonymised")
        ]
        again = _report(rig)  # listed once, never sent
        assert (again.reported, again.refused, rig.index.calls, len(errors)) == (0, 0, 1, 1)


def test_a_report_answered_long_ago_has_its_recipient_pseudonymised(tmp_path: Path) -> None:
    """A report's payload names the recipient's CPR number: past its [retention.kinds] period
    and answered, retention replaces it (it kept the CPR number in clear for ever)."""
    from toekgw.gateway.privacy import is_pseudonym
    from toekgw.gateway.retention import run_retention
    from toekgw.gateway.retention_config import RetentionSettings

    with index_rig(tmp_path) as rig:
        with rig.journal() as journal:
            (key,) = pay(journal, 1)
        assert _report(rig).reported == 1
        (tmp_path / "pseudonym.key").write_bytes(b"k" * 48)
        retention = RetentionSettings(tmp_path / "pseudonym.key", kinds={"sf1490-report": 1})
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
        with rig.journal() as journal:
            assert run_retention(journal, retention, later).items == 1
            report = journal.find_transmission(ref=f"sf1490:{key}")
            assert report is not None
            (item,) = journal.items(report.id)
        recipient = (item.data or {})["recipient"]
        assert is_pseudonym(recipient) and "cpr-nr" not in recipient
        assert item.state == "reported" and item.amount_ore > 0  # the rest stays


def test_a_lost_answer_is_sent_again_and_taken_once(tmp_path: Path) -> None:
    with index_rig(tmp_path, faults=IndexFaults(lose_answers=1)) as rig:
        with rig.journal() as journal:
            pay(journal, 2)
        run = _report(rig)
        assert (run.reported, rig.index.calls, rig.index.taken, rig.index.repeats) == (2, 3, 2, 1)
        assert sorted(r.deliveries for r in rig.index.ledger.reported()) == [1, 2]


def test_a_late_answer_times_out_and_its_repeat_is_recognised(tmp_path: Path) -> None:
    with index_rig(tmp_path, faults=IndexFaults(late=1, late_seconds=1.5)) as rig:
        with rig.journal() as journal:
            pay(journal, 1)
        run = _report(rig, timeout_seconds=0.5)
        assert run.reported == 1
        deadline = time.monotonic() + 10
        while rig.index.repeats == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # the late call is taken after the caller gave up on it
        assert (rig.index.taken, rig.index.repeats) == (1, 1)
        assert [r.deliveries for r in rig.index.ledger.reported()] == [2]


def test_an_unreachable_index_leaves_the_claims_for_the_next_run(tmp_path: Path) -> None:
    with index_rig(tmp_path) as rig:
        with rig.journal() as journal:
            pay(journal, 2)
        gone = dataclasses.replace(rig.settings, url="http://127.0.0.1:9/ydelseindeks/6")
        client, tokens = rig.clients(gone)
        with rig.journal() as journal:
            run = report_effectuated(journal, client, tokens, gone, PLACES, sleep=NO_SLEEP)
            assert (run.reported, run.unreachable) == (0, 2)
            assert "cannot reach the benefit index" in run.text()
            claimed = journal.transmissions(kind=REPORT_KIND.name, states=("claimed",))
            assert len(claimed) == 2
        assert _report(rig).reported == 2  # the claims are sent first, nothing claimed twice
        assert [r.deliveries for r in rig.index.ledger.reported()] == [1, 1]


def test_a_token_the_index_refuses_is_fetched_again_once(tmp_path: Path) -> None:
    with index_rig(tmp_path, index_trusts="another-sts") as rig:
        with rig.journal() as journal:
            pay(journal, 1)
        run = _report(rig)
        assert (run.reported, run.unreachable, rig.sts.issued) == (0, 1, 2)
        assert "refused a fresh token" in run.problems[0]
        assert rig.index.ledger.reported() == []


def test_a_message_not_signed_by_the_tokens_holder_is_refused(tmp_path: Path) -> None:
    from tests.pki import identity
    from toekgw.adapters.kombit.settings import Credentials

    with index_rig(tmp_path) as rig:
        with rig.journal() as journal:
            pay(journal, 1)
        client, tokens = rig.clients()
        other = identity("somebody-else")
        client._security.credentials = Credentials(other.certificate, other.key)
        with rig.journal() as journal:
            run = report_effectuated(journal, client, tokens, rig.settings, PLACES, sleep=NO_SLEEP)
        assert run.unreachable == 1 and rig.index.refused == 2
        assert rig.index.ledger.reported() == []


def test_what_is_sent_is_valid_against_kombits_schema(tmp_path: Path) -> None:
    """The request as zeep puts it on the wire, checked with KOMBIT's XSD here too (the
    simulator refuses anything else, so the other tests check it on every call)."""
    with index_rig(tmp_path) as rig:
        with rig.journal() as journal:
            pay(journal, 1)
        seen: list[bytes] = []
        client, tokens = rig.clients()
        session = client._zeep.transport.session
        original = session.post

        def spy(url, data=None, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(data)
            return original(url, data=data, **kwargs)

        session.post = spy
        with rig.journal() as journal:
            report_effectuated(journal, client, tokens, rig.settings, PLACES, sleep=NO_SLEEP)
    envelope = etree.fromstring(seen[0])
    body = envelope.find("{http://www.w3.org/2003/05/soap-envelope}Body")
    assert body is not None
    assert load_schema(OPERATIONS_XSD).validate(body[0])
    header = envelope.find("{http://www.w3.org/2003/05/soap-envelope}Header")
    assert header is not None
    names = {etree.QName(child).localname for child in header}
    assert {"RequestHeader", "Action", "MessageID", "To", "ReplyTo", "Security"} <= names
    security = next(child for child in header if etree.QName(child).localname == "Security")
    assert [etree.QName(c).localname for c in security] == ["Timestamp", "Assertion", "Signature"]


def test_the_command_reports_and_says_so(tmp_path: Path) -> None:
    with index_rig(tmp_path) as rig:
        with rig.journal() as journal:
            pay(journal, 2)
        config = rig.config()
        result = CliRunner().invoke(cli, ["ydelsesindeks", "report", "--config", str(config)])
        assert result.exit_code == 0, result.output
        assert "2 reported, 0 refused" in result.output
        with rig.journal() as journal:
            (key,) = pay(journal, 1, delivery=2)
        rig.index.faults.refuse_keys = frozenset({key})
        again = CliRunner().invoke(cli, ["ydelsesindeks", "report", "--config", str(config)])
        assert again.exit_code == 1 and "0 reported, 1 refused" in again.output
        # An index that cannot be reached is the environment's problem: exit 2 (it was 1),
        # and the reason on stderr; the report is left for the next run.
        with rig.journal() as journal:
            pay(journal, 1, delivery=3)
        gone = config.read_text().replace(rig.settings.url, "http://127.0.0.1:9/ydelseindeks/6")
        config.write_text(gone)
        left = CliRunner().invoke(cli, ["ydelsesindeks", "report", "--config", str(config)])
        assert left.exit_code == 2, left.output
        assert "1 left for the next run" in left.stdout
        assert left.stderr.startswith("toekgw: error: cannot reach the benefit index")


@pytest.mark.parametrize("point", ["ydelsesindeks.claimed", "ydelsesindeks.answered"])
def test_sigkill_between_journaling_and_the_answer(tmp_path: Path, point: str) -> None:
    with index_rig(tmp_path) as rig:
        with rig.journal() as journal:
            keys = pay(journal, 3)
        killed = rig.child("ydelsesindeks", "report", crash_at=point)
        assert killed.returncode == -9, (killed.stdout, killed.stderr)
        done = rig.child("ydelsesindeks", "report")
        assert done.returncode == 0, done.stderr
        ledger = rig.index.ledger.reported()
        assert sorted(r.key for r in ledger) == sorted(keys)  # each payment reported once
        with rig.journal() as journal:
            states = sorted(t.state for t in journal.transmissions(kind=REPORT_KIND.name))
        assert states == ["reported"] * 3
        repeats = 1 if point == "ydelsesindeks.answered" else 0
        assert sum(r.deliveries for r in ledger) == 3 + repeats


def test_the_run_job_reports_and_metrics_show_the_tokens_lifetime(tmp_path: Path) -> None:
    with index_rig(tmp_path) as rig:
        with rig.journal() as journal:
            pay(journal, 2)
        figures = Figures()
        jobs = {job.name: job for job in build_jobs(load_settings(rig.config()), figures)}
        assert figures.live_values() == []  # no token fetched yet
        report = jobs["ydelsesindeks-report"].action(dt.datetime.now(dt.UTC))
        assert report.counts == {"reported": 2, "refused": 0, "left": 0}
        (token,) = figures.live_values()
        assert token.labels == {"token": "saml", "service": SERVICE_ENTITY_ID, "cvr": CVR}
        assert 8 * 3600 - 60 < token.value <= 8 * 3600  # what the STS issued: 8 hours
        collector = ServiceCollector({}, figures, lambda: dt.datetime.now(dt.UTC), 3)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(collector)
        scraped = generate_latest(registry).decode()
        assert f'toekgw_kombit_token_remaining_seconds{{cvr="{CVR}",service=' in scraped


def test_the_developers_guide_example_runs() -> None:
    assert run_example("A runnable SF1490 example") == [
        "1 reported, 0 refused",
        "0 reported, 0 refused",
        "[('12345678:000000000000000001', 12345)]",
    ]


def test_the_simulator_command_serves_and_reports_what_it_took(tmp_path: Path) -> None:
    from tests.pki import identity

    sts_cert, _ = identity("sts-simulator").write_pem(tmp_path, "sts")
    args = ["simulate", "ydelsesindeks", "--dir", str(tmp_path / "index"), "--port", "0"]
    args += ["--trust-sts", str(sts_cert), "--max-seconds", "1", "--refuse", "K:1"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert re.search(
        r"benefit index simulator on http://127\.0\.0\.1:[1-9]\d*/ydelseindeks/6", result.output
    )
    assert "calls 0, taken 0, repeats 0, refused 0" in result.output
    assert (tmp_path / "index" / "ledger.sqlite").exists()


def test_a_message_whose_timestamp_has_expired_is_refused(tmp_path: Path) -> None:
    with index_rig(tmp_path) as rig:
        with rig.journal() as journal:
            pay(journal, 1)
        client, tokens = rig.clients()
        late = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)  # Expires = Created + 5 min
        client._security.clock = lambda: late
        with rig.journal() as journal:
            run = report_effectuated(journal, client, tokens, rig.settings, PLACES, sleep=NO_SLEEP)
        assert run.unreachable == 1 and "MessageExpired" in run.problems[0]
        assert rig.index.ledger.reported() == []


def test_a_receiver_fault_is_not_now_and_a_sender_fault_is_a_refusal() -> None:
    """SOAP 1.2's Receiver fault (1.1: Server) is the index unable to process a report now: it
    is tried again by the next run, not put on the error list as refused for good."""
    import zeep.exceptions

    from toekgw.adapters.ydelsesindeks.client import IndexRefused, IndexUnavailable, _refusal

    busy = _refusal(zeep.exceptions.Fault("the index is busy", code="s:Receiver"))
    assert isinstance(busy, IndexUnavailable) and "could not process the report now" in str(busy)
    assert isinstance(_refusal(zeep.exceptions.Fault("down", code="soap:Server")), IndexUnavailable)
    invalid = etree.QName("http://example.invalid/ns", "InvalidInput")
    refused = _refusal(zeep.exceptions.Fault("no", code="s:Sender", subcodes=[invalid]))
    assert isinstance(refused, IndexRefused) and "InvalidInput" in str(refused)


def test_the_simulator_reads_a_value_with_a_comment_inside_whole(tmp_path: Path) -> None:
    """A comment inside a signed value leaves the signature valid (exclusive c14n without
    comments); the simulator read only the part before it, as the debtor simulator did."""
    with index_rig(tmp_path) as rig:
        with rig.journal() as journal:
            pay(journal, 1, paid=1)
        bodies: list[bytes] = []
        check = rig.index._check
        rig.index._check = lambda body: bodies.append(body) or check(body)  # type: ignore[method-assign]
        assert _report(rig).reported == 1
        rig.index._check = check  # type: ignore[method-assign]
        sent = bodies[0]
        amount = re.search(rb"<([\w:]*)BeloebUdbetalt>(\d+)\.(\d\d)<", sent)
        assert amount is not None
        whole = int(amount.group(2) + amount.group(3))
        assert whole >= 100  # at least two digits to put the comment between
        commented = sent.replace(
            amount.group(0),
            b"<%sBeloebUdbetalt>%s<!---->%s.%s<"
            % (amount.group(1), amount.group(2)[:1], amount.group(2)[1:], amount.group(3)),
            1,
        )
        _, read = rig.index._check(commented)  # still validly signed: comments are not signed
        assert [e.amount_ore for e in read] == [whole]
