"""eIndkomst over SF0770_B: deliveries uploaded as files over Serviceplatformen, SKAT's answers
back over SFTP, tax cards over SFTP or through the Beskedfordeler."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.eik_flow_helpers import NOW, income
from tests.eik_helpers import SE, cpr
from toekgw.adapters.beskedfordeler import BeskedConsumer
from toekgw.adapters.beskedfordeler.components import COMPONENTS
from toekgw.adapters.config import load_settings
from toekgw.adapters.eindkomst import (
    COUNTERPART,
    DELIVERY,
    TAXCARDS,
    EindkomstGateway,
    ServiceplatformRoute,
    open_route,
)
from toekgw.formats.eindkomst import Sender, TaxCardOrder
from toekgw.gateway.config import ConfigError
from toekgw.gateway.journal import SqliteJournal, open_journal
from toekgw.gateway.transport import LocalDirTransport
from toekgw.gateway.transport.amqp import QueueSpec
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker
from toekgw.simulators.eindkomst import CardsTo, EindkomstFileSimulator, SimulatorScript
from toekgw.simulators.serviceplatform import Platform

SKAT = "skat-eindkomst"
CARDS_TYPE = "5b0f2e2c-4a8b-4f7e-9a51-2f1b8c3d9e70"  # ours: the tax-card message type
MAILBOX = "toek-mailbox"
NOV_1 = dt.date(2026, 11, 1)


@dataclass
class SpRig:
    journal: SqliteJournal
    platform: Platform
    transport: LocalDirTransport
    gateway: EindkomstGateway
    skat: EindkomstFileSimulator

    def exchange(self) -> None:
        """The platform routes our upload, SKAT answers, the platform routes the answers."""
        self.platform.scan()
        self.skat.scan_once()
        self.platform.scan()


@contextmanager
def sp_rig(
    tmp: Path, script: SimulatorScript | None = None, *, cards_to: CardsTo | None = None
) -> Iterator[SpRig]:
    platform = Platform(tmp / "platform")
    platform.add_party("toek")
    journal = open_journal(tmp / "journal.sqlite")
    transport = LocalDirTransport(platform.party_dir("toek"))
    route = ServiceplatformRoute(
        transport, party="toek", skat_party=SKAT, lock=tmp / "sf.lock", receipt_timeout=0
    )
    gw = EindkomstGateway(
        journal, route, sender=Sender(se=SE, cvr=SE), outbox=tmp / "outbox", clock=lambda: NOW
    )
    skat = EindkomstFileSimulator(
        platform.add_party(SKAT),
        tmp / "ledger.sqlite",
        script,
        party=SKAT,
        cards_to=cards_to,
        clock=lambda: NOW,
    )
    try:
        yield SpRig(journal, platform, transport, gw, skat)
    finally:
        skat.ledger.close()
        journal.close()


def _delivery_state(journal: SqliteJournal) -> list[str]:
    return [t.state for t in journal.transmissions(counterpart=COUNTERPART, kind=DELIVERY.name)]


def test_reports_go_as_files_and_the_answers_come_back_over_sftp(tmp_path: Path) -> None:
    bad = cpr(2)
    with sp_rig(tmp_path, SimulatorScript(reject_cprs=frozenset({bad}))) as r:
        good = r.gateway.send([income({cpr(1): {"0014": 500_000, "0015": 190_000}}, key="a")])
        rejected = r.gateway.send([income({bad: {"0014": 100_000}}, key="b")])
        assert _delivery_state(r.journal) == ["uploaded", "uploaded"]
        out = r.platform.party_dir("toek") / "OUT"
        uploaded = sorted(p.name for p in out.iterdir())
        assert len(uploaded) == 4 and all(n.endswith((".eik", ".eik.trigger")) for n in uploaded)
        r.exchange()
        assert not list(out.iterdir())  # the platform took them
        got = r.gateway.receive()
        assert got.sum_receipts == 2 and got.error_receipts == 1 and got.failed == 0
        assert _delivery_state(r.journal) == ["receipted", "receipted"]
        (ok,) = r.journal.find_items(good.report_ids[0], COUNTERPART)
        (no,) = r.journal.find_items(rejected.report_ids[0], COUNTERPART)
        assert (ok.state, no.state) == ("accepted", "rejected")
        (entry,) = r.journal.errors(counterpart=COUNTERPART)
        assert entry.findings[0].code == "eik.receipt.error"
        assert bad not in entry.findings[0].message and f"{bad[:6]}-****" in str(entry.findings)
        # Every answer file and its metadata was taken; the transfer ids are journaled.
        assert not [p for p in (r.platform.party_dir("toek") / "IN").iterdir()]
        routes = {
            str(t.meta.get("route")) for t in r.journal.transmissions(counterpart=COUNTERPART)
        }
        assert "sftp" in routes
        assert all(
            t.transfer_id for t in r.journal.transmissions(kind=DELIVERY.name)
        )  # from the platform's technical receipts
        assert r.gateway.receive().messages == 0


def test_answers_delivered_twice_apply_once(tmp_path: Path) -> None:
    with sp_rig(tmp_path, SimulatorScript(duplicate_answers=True)) as r:
        sent = r.gateway.send([income({cpr(1): {"0014": 500_000}})])
        r.exchange()
        r.gateway.send_pending()  # nothing left to hand over: no second upload
        r.platform.scan()
        assert len(r.platform.deliveries()) == 1 + 2  # our delivery, SKAT's answer twice
        got = r.gateway.receive()
        assert (got.messages, got.duplicates) == (2, 1)
        (report,) = r.journal.find_items(sent.report_ids[0], COUNTERPART)
        assert report.state == "accepted"
        assert list(r.skat.ledger.deliveries().values()) == [1]


def test_a_refused_upload_is_failed_and_listed_and_can_be_sent_again(tmp_path: Path) -> None:
    with sp_rig(tmp_path) as r:
        r.platform.party_dir(SKAT).rename(tmp_path / "gone")  # the recipient is unknown now
        r.gateway.send([income({cpr(1): {"0014": 500_000}})])
        r.platform.scan()
        r.gateway.receive()
        assert _delivery_state(r.journal) == ["failed"]
        (entry,) = r.journal.errors(counterpart=COUNTERPART)
        assert entry.subject == "upload" and entry.findings[0].code.startswith("SP-RECEIPT-")
        (tmp_path / "gone").rename(r.platform.party_dir(SKAT))
        assert r.gateway.retry_failed() == 1
        r.exchange()
        r.gateway.receive()
        assert _delivery_state(r.journal) == ["receipted"]


def test_tax_cards_over_sftp_are_marked_as_such(tmp_path: Path) -> None:
    person = cpr(7)
    with sp_rig(tmp_path) as r:
        r.gateway.send(
            orders=[TaxCardOrder(SE, person, dt.date(2026, 11, 1), "1", dt.date(2026, 11, 1))]
        )
        r.exchange()
        got = r.gateway.receive()
        assert got.tax_cards == 1
        (cards,) = r.journal.transmissions(counterpart=COUNTERPART, kind=TAXCARDS.name)
        assert cards.meta["route"] == "sftp"
        assert r.gateway.withholding(person, dt.date(2026, 12, 1)).card is not None


def test_tax_cards_through_the_beskedfordeler(tmp_path: Path) -> None:
    person = cpr(8)
    broker = SqliteBroker(tmp_path / "broker.sqlite")
    broker.declare(QueueSpec(MAILBOX))
    script = SimulatorScript(duplicate_answers=True)  # each card message twice, one BeskedId
    with sp_rig(tmp_path, script, cards_to=CardsTo(broker, MAILBOX, CARDS_TYPE, SE)) as r:
        r.gateway.send(
            orders=[TaxCardOrder(SE, person, dt.date(2026, 11, 1), "1", dt.date(2026, 11, 1))]
        )
        r.exchange()
        assert r.gateway.receive().tax_cards == 0  # none over SFTP
        consumer = BeskedConsumer(
            broker,
            r.journal,
            queue=MAILBOX,
            routes={CARDS_TYPE: COMPONENTS["eindkomst-skattekort"]},
        )
        first = consumer.run()
        assert (first.taken, first.duplicates, first.dead_lettered) == (2, 1, 0), first.lines
        (cards,) = r.journal.transmissions(counterpart=COUNTERPART, kind=TAXCARDS.name)
        assert cards.meta["route"] == "beskedfordeler"
        assert r.gateway.withholding(person, dt.date(2026, 12, 1)).card is not None
    broker.close()


def test_serviceplatform_route_needs_skat_party(tmp_path: Path) -> None:
    config = tmp_path / "toekgw.toml"
    config.write_text(
        '[journal]\npath = "j.sqlite"\n[staging]\ndir = "s"\n[eindkomst]\nsender_se = "12345674"\n'
        'route = "serviceplatform"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"\[eindkomst\] skat_party: required"):
        load_settings(config)


def test_tax_cards_from_the_beskedfordeler_need_a_route_to_the_component(tmp_path: Path) -> None:
    base = (
        '[journal]\npath = "j.sqlite"\n[staging]\ndir = "s"\n'
        '[serviceplatform]\nparty = "toek"\ntransport = "localdir"\n'
        '[serviceplatform.localdir]\nroot = "sp"\n'
        '[eindkomst]\nsender_se = "12345674"\nroute = "serviceplatform"\n'
        f'skat_party = "{SKAT}"\ntax_cards = "beskedfordeler"\n'
    )
    config = tmp_path / "toekgw.toml"
    config.write_text(base, encoding="utf-8")
    (tmp_path / "sp").mkdir()
    settings = load_settings(config)
    with pytest.raises(ConfigError, match="eindkomst-skattekort"), open_route(settings):
        pass
    config.write_text(
        base + '[beskedfordeler]\nqueue = "q"\nqueue_db = "b.sqlite"\n'
        f'[beskedfordeler.routes]\n"{CARDS_TYPE}" = "eindkomst-skattekort"\n',
        encoding="utf-8",
    )
    with open_route(load_settings(config)) as route:
        assert route.name == "serviceplatform"
