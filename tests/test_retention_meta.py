"""Retention of personal data in transmissions' metadata: a call to the debtor system keeps
its message (a new debtor account's CPR number, a write-down's reason), a NemKonto stop
request its operator's reason. Per kind, a transmission in a final state past its period has
them replaced (gone from the journal's files), one not final or changed recently keeps them,
the chain verifies, a second run changes nothing, and what reads the metadata of a finished
call later (a claim's change reads the claim as the debtor system took it) still reads it."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.configs import write_config
from tests.eik_helpers import cpr
from tests.journals import journal_bytes
from toekgw.adapters.config import load_settings
from toekgw.adapters.debitor.afsend import AFSEND_KIND, B01, Call, claim_call, make_call
from toekgw.adapters.debitor.claims import _opret_of
from toekgw.adapters.debitor.client import DebitorRejected
from toekgw.adapters.nemkonto.stops import STOP_KIND
from toekgw.formats.debitor.registrering import (
    NedskrivFordring,
    OpretDebitorkonto,
    OpretFordring,
    Part,
)
from toekgw.gateway.journal import NewTransmission, SqliteJournal, open_journal
from toekgw.gateway.retention import run_retention
from toekgw.gateway.retention_config import RETENTION_SECTION

RETENTION = """
[retention]
key_file = "pseudonym.key"

[retention.kinds]
debitor-afsend = 30
nemkonto-stop = 30
"""
LONG_AGO = "2001-01-01T00:00:00+00:00"
DAY = dt.date(2026, 10, 1)
MUNICIPALITY = "29189897"
DEBITOR = "debitor"


@dataclass
class Journaled:
    """What one kind's transmissions hold in their metadata: the values retention replaces
    (``gone``: final, long ago), those that stay in clear (``kept``: not final, or final but
    changed within the period), and the transmissions made long ago (``old``)."""

    gone: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    old: list[int] = field(default_factory=list)


def _claim(n: int) -> OpretFordring:
    return OpretFordring(f"F-{n}", f"K-{n}", "KTH", 50_000, DAY, DAY, DAY, DAY)


def _call(journal: SqliteJournal, n: int, *, answered: bool, down: str | None = None) -> int:
    """A B_01 call creating debtor ``n``'s account and a claim on it (with ``down``, a
    write-down of it too), answered (final) or still ``claimed``."""
    operations: tuple[OpretDebitorkonto | OpretFordring | NedskrivFordring, ...] = (
        OpretDebitorkonto(f"K-{n}", Part("CPR", cpr(n))),
        _claim(n),
    )
    if down is not None:
        operations += (NedskrivFordring(f"F-{n}", 100, DAY, down),)
    journal.define_kind(AFSEND_KIND)
    tx = claim_call(journal, Call(B01, MUNICIPALITY, f"besked-{n}", operations), DEBITOR)
    if answered:
        journal.set_state(tx.id, "answered", reason="StatusKode 20", expect="claimed")
        journal.move_items(tx.id, "claimed", "accepted", reason="StatusKode 20")
    return tx.id


def _calls(journal: SqliteJournal) -> Journaled:
    """Answered long ago (gone), claimed long ago (kept: made again with the same message),
    answered recently (kept)."""
    done = _call(journal, 1, answered=True, down=f"paid by {cpr(4)}")
    waiting = _call(journal, 2, answered=False)
    _call(journal, 3, answered=True)
    return Journaled(gone=[cpr(1), cpr(4)], kept=[cpr(2), cpr(3)], old=[done, waiting])


def _stop(journal: SqliteJournal, n: int, reason: str, states: tuple[str, ...]) -> int:
    journal.define_kind(STOP_KIND)
    tx = journal.create_transmission(
        NewTransmission(
            counterpart="nemkonto",
            kind=STOP_KIND.name,
            state="prepared",
            ref=f"STOP-B-{n}-1",
            meta={"payment_id": f"P-{n}", "amount_ore": 100, "reason": reason},
            reason="stop requested",
        )
    )
    for state in states:
        journal.set_state(tx.id, state, reason="a test")
    return tx.id


def _stops(journal: SqliteJournal) -> Journaled:
    """Stopped and too late long ago (gone), sent long ago and waiting for NemKonto's answer
    (kept), stopped recently (kept)."""
    stopped = _stop(journal, 1, "stopped-reason-anna", ("sent", "stopped"))
    late = _stop(journal, 2, "late-reason-bo", ("sent", "too-late"))
    waiting = _stop(journal, 3, "waiting-reason-carl", ("sent",))
    _stop(journal, 4, "recent-reason-dorte", ("sent", "stopped"))
    return Journaled(
        gone=["stopped-reason-anna", "late-reason-bo"],
        kept=["waiting-reason-carl", "recent-reason-dorte"],
        old=[stopped, late, waiting],
    )


BUILDERS: dict[str, Callable[[SqliteJournal], Journaled]] = {
    AFSEND_KIND.name: _calls,
    STOP_KIND.name: _stops,
}


def _world(tmp_path: Path, kind: str) -> tuple[Path, Journaled]:
    config = write_config(tmp_path, RETENTION)
    (tmp_path / "pseudonym.key").write_bytes(b"k" * 48)
    journal = open_journal(load_settings(config).journal)
    journaled = BUILDERS[kind](journal)
    journal.close()
    db = sqlite3.connect(tmp_path / "journal.sqlite")  # updated_at: no column the chain hashes
    marks = ", ".join("?" * len(journaled.old))
    db.execute(f"UPDATE transmissions SET updated_at = ? WHERE id IN ({marks})", (LONG_AGO,
               *journaled.old))  # fmt: skip
    db.commit()
    db.close()
    return config, journaled


def _files(config: Path) -> bytes:
    return journal_bytes(config.parent / "journal.sqlite")


def _events(config: Path) -> int:
    db = sqlite3.connect(config.parent / "journal.sqlite")
    (count,) = db.execute("SELECT count(*) FROM events").fetchone()
    db.close()
    return int(count)


def _metas(config: Path) -> list[tuple[int, str, str | None]]:
    db = sqlite3.connect(config.parent / "journal.sqlite")
    rows = db.execute("SELECT id, meta, meta_pseudonymised_at FROM transmissions ORDER BY id")
    found = [(int(r[0]), str(r[1]), r[2]) for r in rows]
    db.close()
    return found


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_final_metadata_past_its_period_is_pseudonymised_once(tmp_path: Path, kind: str) -> None:
    config, journaled = _world(tmp_path, kind)
    settings = load_settings(config)
    before = _files(config)
    assert all(value.encode() in before for value in journaled.gone + journaled.kept)

    journal = open_journal(settings.journal)
    report = run_retention(journal, settings.require(RETENTION_SECTION), dt.datetime.now(dt.UTC))
    chain = journal.verify_chain()
    journal.close()
    events = _events(config)

    assert report.meta == (2 if kind == STOP_KIND.name else 1), report.summary()
    assert f"{report.meta} transmissions' metadata pseudonymised" in report.summary()
    assert report.undescribed == [] and report.log_emptied
    assert chain.problems == [] and chain.rows > 0
    data = _files(config)
    for value in journaled.gone:
        assert value.encode() not in data, f"{value} still in the journal's files"
    for value in journaled.kept:
        assert value.encode() in data, f"{value} replaced, though not final or not past"

    metas = _metas(config)
    journal = open_journal(settings.journal)
    again = run_retention(journal, settings.require(RETENTION_SECTION), dt.datetime.now(dt.UTC))
    journal.close()
    assert again.meta == 0 and _metas(config) == metas
    assert _events(config) == events  # nothing said twice


def test_a_finished_call_keeps_what_a_claims_change_reads(tmp_path: Path) -> None:
    """The debtor's number and the write-down's reason become pseudonyms; the claim as the
    debtor system took it (``_opret_of``: read when TØK changes the claim, years later) and
    the operations' types (``debitor status``) read as before."""
    config, _ = _world(tmp_path, AFSEND_KIND.name)
    settings = load_settings(config)
    journal = open_journal(settings.journal)
    taken = _opret_of(journal, DEBITOR, MUNICIPALITY, "F-1")
    run_retention(journal, settings.require(RETENTION_SECTION), dt.datetime.now(dt.UTC))
    assert _opret_of(journal, DEBITOR, MUNICIPALITY, "F-1") == taken == _claim(1)
    tx = journal.find_transmission(counterpart=DEBITOR, delivery_key="besked-1")
    journal.close()
    assert tx is not None
    operations: list[dict[str, Any]] = tx.meta["operations"]  # type: ignore[assignment]
    account, claim, down = operations
    assert [account["type"], claim["type"], down["type"]] == [
        "OpretDebitorkonto",
        "OpretFordring",
        "NedskrivFordring",
    ]
    assert account["part"]["kind"] == "CPR" and account["part"]["number"].startswith("ps:")
    assert down["aarsag"].startswith("ps:") and down["beloeb_ore"] == 100
    assert account["debitorkonto_id"] == "K-1"  # the debtor system's key for the account


def test_a_transmission_changed_after_retention_read_it_stays_in_clear(tmp_path: Path) -> None:
    """What retention read is stale once a flow changed the transmission (its last change is
    within the period again): it is not written, and the next run takes it up later."""
    config, journaled = _world(tmp_path, STOP_KIND.name)
    settings = load_settings(config)
    journal = open_journal(settings.journal)
    stopped = journaled.old[0]
    page = journal.expired_meta(STOP_KIND.name, "2002-01-01", ["stopped", "too-late"],
                                after=0, limit=10)  # fmt: skip
    assert [tx for tx, _ in page] == journaled.old[:2]
    journal.update_transmission(stopped, reason="a flow notes something")
    written = journal.pseudonymise_meta(
        [(tx, '{"reason": "ps:x"}') for tx, _ in page],
        "retention: a test",
        before="2002-01-01",
        states=["stopped", "too-late"],
    )
    meta = journal.get_transmission(stopped).meta
    journal.close()
    assert written == 1 and meta["reason"] == "stopped-reason-anna"


class _Refusing:
    """A debtor system whose SOAP fault names the debtor."""

    def registrer(self, message: object) -> int:
        raise DebitorRejected("DEB-1", f"debtor {cpr(9)} is unknown", [("DEB-1", cpr(9))])


def test_a_fault_naming_the_debtor_is_kept_masked(tmp_path: Path) -> None:
    """What the debtor system answered goes into the call's events (hashed: retention cannot
    replace them) and, through the outcome, into the TØK claim's findings (its meta): the CPR
    number it names is masked when written, as in every finding."""
    journal = open_journal(tmp_path / "journal.sqlite")
    tx_id = _call(journal, 9, answered=False)
    outcome = make_call(journal, _Refusing(), journal.get_transmission(tx_id))  # type: ignore[arg-type]
    texts = [e.reason for e in journal.events(tx_id)] + [outcome.why]
    texts += [f.message for e in journal.errors() for f in e.findings]
    journal.close()
    assert outcome.state == "rejected" and "DEB-1" in outcome.why
    assert not [text for text in texts if cpr(9) in text], texts
