"""Retention of the kinds beyond the payments: eIndkomst's deliveries, receipts and tax cards,
TØK's claims and effectuations, NemKonto's recipient blocks. Per kind, an item in a settled
state past its period has its personal data replaced (the CPR number gone from the journal's
files), one still to act on stays in clear, the chain verifies, the run lists the kind as
described, and ``status --item`` names the citizen in the read log."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.configs import write_config
from tests.eik_flow_helpers import income
from tests.eik_helpers import SE, build_bytes, cpr
from tests.journals import journal_bytes
from tests.tok_helpers import header
from toekgw.adapters.config import load_settings
from toekgw.adapters.eindkomst.answers import _receipt_data
from toekgw.adapters.eindkomst.items import delivery_items
from toekgw.adapters.eindkomst.kinds import DELIVERY, RECEIPTS, TAXCARDS, card_lookup
from toekgw.adapters.eindkomst.views import card_data
from toekgw.adapters.nemkonto.settings import BLOCKS_KIND
from toekgw.adapters.payments.records import RECORDS_KIND, add_record
from toekgw.adapters.tok.kinds import KINDS
from toekgw.adapters.tok.orders import apply_order_message
from toekgw.cli.main import cli
from toekgw.formats.eindkomst import IncomeReport, TaxCardOrder
from toekgw.formats.eindkomst.advice import ErrorReceipt
from toekgw.formats.eindkomst.taxcards import CardType, TaxCard
from toekgw.formats.tok import (
    CaseEvent,
    CaseReport,
    ClaimAdjustment,
    ClaimCreate,
    Interface,
    Party,
    PartyKind,
)
from toekgw.gateway.journal import NewItem, NewTransmission, SqliteJournal, open_journal
from toekgw.gateway.retention import run_retention
from toekgw.gateway.retention_config import RETENTION_SECTION

CLAIMS, EFFECTUATIONS = KINDS[Interface.CLAIMS], KINDS[Interface.EFFECTUATIONS]
KINDS_DESCRIBED = (DELIVERY, RECEIPTS, TAXCARDS, CLAIMS, EFFECTUATIONS, BLOCKS_KIND, RECORDS_KIND)
RETENTION = (
    '\n[retention]\nkey_file = "pseudonym.key"\nreads = 30\n\n[retention.kinds]\n'
    + "".join(f"{kind.name} = 30\n" for kind in KINDS_DESCRIBED)
)
DAY = dt.date(2026, 10, 1)


@dataclass
class Journaled:
    """What one kind's items hold: the values retention replaces (``gone``), those that stay
    in clear (``kept``), and per item key shown by ``status --item`` the citizen it names."""

    gone: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    shows: dict[str, str] = field(default_factory=dict)


def _transmission(journal: SqliteJournal, kind: str, counterpart: str, ref: str) -> int:
    spec = next(k for k in KINDS_DESCRIBED if k.name == kind)
    journal.define_kind(spec)
    return journal.create_transmission(
        NewTransmission(
            counterpart=counterpart,
            kind=kind,
            state=spec.transmission.initial[0],
            ref=ref,
            reason="a test",
        )
    ).id


def _deliveries(journal: SqliteJournal) -> Journaled:
    """Two deliveries: one handed over (its recipients ``sent``, and a tax-card order, still
    the citizen's subscription), one only journaled."""
    (sent,) = build_bytes(_income(0, 1, key="A"), orders=[_order(cpr(40))])
    (waiting,) = build_bytes(_income(41, key="B"))
    shows = {}
    for number, delivery in enumerate((sent, waiting)):
        tx = _transmission(journal, DELIVERY.name, "skat-eindkomst", f"delivery-{number}")
        items = delivery_items(delivery).items
        journal.add_items(tx, items, state="journaled", reason="delivery journaled")
        if number == 0:  # handed over
            journal.move_items(tx, "journaled", "sent", reason="sent")
            first = next(i for i in journal.items(tx) if (i.data or {}).get("type") == "6000")
            shows[first.business_key] = cpr(0)
    return Journaled(gone=[cpr(0), cpr(1)], kept=[cpr(40), cpr(41)], shows=shows)


def _income(*people: int, key: str) -> IncomeReport:
    return income({cpr(n): {"0013": 100_000} for n in people}, key=key)


def _order(person: str) -> TaxCardOrder:
    return TaxCardOrder(SE, person, DAY, "1", DAY)


def _receipts(journal: SqliteJournal) -> Journaled:
    tx = _transmission(journal, RECEIPTS.name, "skat-eindkomst", "receipts")
    error = ErrorReceipt("0002", 3, "0013", "R-1", SE, "4711", "not allowed", cpr(50), None)
    journal.add_items(
        tx,
        [NewItem("rc:test:1", 0, seq=1, lookup="rc|R-1", data=_receipt_data(error))],
        state="received",
        reason="receipts journaled",
    )
    return Journaled(gone=[cpr(50)], shows={"rc:test:1": cpr(50)})


def _tax_cards(journal: SqliteJournal) -> Journaled:
    tx = _transmission(journal, TAXCARDS.name, "skat-eindkomst", "taxcards")
    card = TaxCard(cpr(60), CardType.MAIN, DAY, withholding_pct=38, se=SE)
    item = NewItem("card:test:1", 0, seq=1, lookup=card_lookup(cpr(60)), data=card_data(card))
    journal.add_items(tx, [item], state="received", reason="tax cards journaled")
    return Journaled(gone=[cpr(60)], shows={"card:test:1": cpr(60)})


def _claims(journal: SqliteJournal) -> Journaled:
    """A claim the debtor system took (``sent``), with a write-down's reason, and one still
    to be sent (``received``)."""
    tx = _transmission(journal, CLAIMS.name, "tok", "claims")
    for n, state in ((70, "sent"), (71, "received")):
        apply_order_message(journal, journal.get_transmission(tx), _claim(n))
        (item,) = journal.find_items(f"KY:claim:C-{n}", "tok")
        if state != "received":
            journal.set_item_state(item.id, state, reason="the debtor system took it")
    down = ClaimAdjustment(header(), "C-70", "down", 100, DAY, f"paid by {cpr(72)}")
    apply_order_message(journal, journal.get_transmission(tx), down)
    (adjustment,) = [i for i in journal.items(tx) if "@" in i.business_key]
    journal.set_item_state(adjustment.id, "sent", reason="the debtor system took it")
    return Journaled(gone=[cpr(70), cpr(72)], kept=[cpr(71)], shows={"KY:claim:C-70": cpr(70)})


def _claim(n: int) -> ClaimCreate:
    return ClaimCreate(
        header(), f"C-{n}", Party(PartyKind.CPR, cpr(n)), "KTH", 50_000, DAY, DAY, DAY, DAY
    )


def _cases(journal: SqliteJournal) -> Journaled:
    """A case report eIndkomst applied, and one it has still to apply (``received``)."""
    tx = _transmission(journal, EFFECTUATIONS.name, "tok", "effectuations")
    for n in (80, 81):
        case = CaseReport(header(), f"S-{n}", Party(PartyKind.CPR, cpr(n)), CaseEvent.CLOSED, DAY)
        apply_order_message(journal, journal.get_transmission(tx), case)
    applied, _ = journal.items(tx)
    journal.set_item_state(applied.id, "applied", reason="nothing to stop")
    return Journaled(gone=[cpr(80)], kept=[cpr(81)], shows={applied.business_key: cpr(80)})


def _blocks(journal: SqliteJournal) -> Journaled:
    """A lifted block and one in force; their reasons are free text (the recipient is the
    business key, which the chain hashes: it stays)."""
    tx = _transmission(journal, BLOCKS_KIND.name, "nemkonto", "blocks")
    for key, reason in (("CPR:1111111118", "lifted-reason-x"), ("CPR:2222222222", "in-force-y")):
        journal.add_items(
            tx, [NewItem(key, 0, data={"reason": reason})], state="blocked", reason="b"
        )
    lifted = journal.find_items("CPR:1111111118", "nemkonto")[0]
    journal.set_item_state(lifted.id, "lifted", reason="lifted", expect="blocked")
    return Journaled(gone=["lifted-reason-x"], kept=["in-force-y"])


def _records(journal: SqliteJournal) -> Journaled:
    """A payment record holds the account paid to and the operator's reason for a stop or a
    failure (free text, which may name the citizen): replaced once the record is settled; a
    record awaiting its second person's approval stays in clear."""
    at = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)
    for n, awaiting in ((1, False), (2, True)):
        add_record(
            journal, "stop-request", f"P-{n}",
            {"account": f"account-{n}-x", "reason": f"operator-reason-{n}-x"},
            awaiting=awaiting, reason="a test", at=at,
        )  # fmt: skip
    return Journaled(
        gone=["account-1-x", "operator-reason-1-x"], kept=["account-2-x", "operator-reason-2-x"]
    )


BUILDERS: dict[str, Callable[[SqliteJournal], Journaled]] = {
    DELIVERY.name: _deliveries,
    RECEIPTS.name: _receipts,
    TAXCARDS.name: _tax_cards,
    CLAIMS.name: _claims,
    EFFECTUATIONS.name: _cases,
    BLOCKS_KIND.name: _blocks,
    RECORDS_KIND.name: _records,
}


def _run(config: Path, *args: str) -> Result:
    result = CliRunner(env={"TOEKGW_USER": "anna"}).invoke(cli, [*args, "--config", str(config)])
    assert result.exit_code == 0, result.output
    return result


def _files(config: Path) -> bytes:
    return journal_bytes(config.parent / "journal.sqlite")


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_a_settled_item_past_its_period_is_pseudonymised(tmp_path: Path, kind: str) -> None:
    config = write_config(tmp_path, RETENTION)
    (tmp_path / "pseudonym.key").write_bytes(b"k" * 48)
    settings = load_settings(config)
    journal = open_journal(settings.journal)
    journaled = BUILDERS[kind](journal)
    journal.close()
    for key in journaled.shows:  # a read of the item names its citizen
        _run(config, "status", "--item", key)
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    for key, citizen in journaled.shows.items():
        reads = _run(config, "audit", "reads", "--cpr", citizen, "--month", month).stdout
        assert f"item {key}" in reads, (key, reads)
    before = _files(config)
    assert all(value.encode() in before for value in journaled.gone + journaled.kept)

    journal = open_journal(settings.journal)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    report = run_retention(journal, settings.require(RETENTION_SECTION), later)
    chain = journal.verify_chain()
    journal.close()

    assert report.undescribed == [], report.summary()
    assert report.items > 0 and report.log_emptied
    assert chain.problems == [] and chain.rows > 0
    data = _files(config)
    for value in journaled.gone:
        assert value.encode() not in data, f"{value} still in the journal's files"
    for value in journaled.kept:
        assert value.encode() in data, f"{value} replaced, though still needed"


def test_a_delivery_keeps_its_tax_card_order_and_rewrites_the_recipients_lookup(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, RETENTION)
    (tmp_path / "pseudonym.key").write_bytes(b"k" * 48)
    settings = load_settings(config)
    journal = open_journal(settings.journal)
    _deliveries(journal)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    run_retention(journal, settings.require(RETENTION_SECTION), later)
    tx = journal.find_transmission(ref="delivery-0")
    assert tx is not None
    items = list(journal.items(tx.id))
    journal.close()
    kinds = {str((i.data or {}).get("type")): i for i in items}
    order, recipient = kinds["2101"], kinds["6000"]
    assert order.lookup == f"order|{cpr(40)}" and (order.data or {})["cpr"] == cpr(40)
    who = str((recipient.data or {})["who"])
    assert who.startswith("ps:") and (recipient.data or {})["masked"] != who
    assert recipient.lookup is not None and recipient.lookup.startswith(f"r|{SE}|{who}|")


# Loads only the configuration module: every built-in kind whose payloads name citizens has
# its description registered by then (retention and the read log in every command).
_DESCRIBED = """
import toekgw.adapters.config
from toekgw.gateway.privacy import personal_data
from toekgw.gateway.kinds import kind_names
import json
print(json.dumps(sorted(k for k in kind_names() if personal_data(k) is not None)))
"""


def test_the_configuration_registers_every_description() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _DESCRIBED], capture_output=True, text=True, check=True
    ).stdout
    described = set(json.loads(out))
    assert {kind.name for kind in KINDS_DESCRIBED} | {
        "g68-delivery",
        "payment-follow-up",
        "payment-records",
        "tok-payments",
        "sf1490-report",
    } <= described
