"""Block after release, until sent: the payment is taken out of its prepared bundle, the bundle
is withdrawn (never sent) and the others are bundled again under a new id and checksum."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.nemkonto_flow_data import SETTINGS, instruction, journal_delivery, new_journal
from tests.payments_helpers import controlled_release, desk, flow_round, state_of
from toekgw.adapters.nemkonto import BUNDLE_KIND, send_bundles
from toekgw.adapters.nemkonto.send import bundle_of
from toekgw.adapters.payments import ActionRefused
from toekgw.formats.nemkonto import build_bundle
from toekgw.gateway.journal import SqliteJournal
from toekgw.gateway.transport.mq import SqliteQueue
from toekgw.simulators.nemkonto.ledger import Ledger

K1, K2, K3 = (instruction(n).business_key for n in (1, 2, 3))


@pytest.fixture
def journal(tmp_path: Path) -> SqliteJournal:
    return new_journal(tmp_path / "journal.sqlite")


def _bundles(journal: SqliteJournal) -> dict[str, str]:
    return {tx.ref: tx.state for tx in journal.transmissions(kind=BUNDLE_KIND.name)}


def _members(journal: SqliteJournal, ref: str) -> list[str]:
    tx = journal.find_transmission(ref=ref)
    assert tx is not None
    return [i.business_key for i in journal.members(tx.id, current_only=True)]


def test_blocking_a_released_payment_withdraws_its_bundle_and_bundles_the_others_again(
    journal: SqliteJournal, tmp_path: Path
) -> None:
    journal_delivery(journal, [instruction(n) for n in (1, 2, 3)])
    (old,) = [b.bundle_id for b in controlled_release(journal).bundles]
    done = desk(journal, "anna").block(K2, "the caseworker asked")
    assert f"taken out of bundle {old}" in done
    assert state_of(journal, K2) == "held"
    bundles = _bundles(journal)
    (new,) = [ref for ref, state in bundles.items() if state == "prepared"]
    assert bundles[old] == "withdrawn" and new in done
    assert _members(journal, new) == [K1, K3]
    assert [state_of(journal, k) for k in (K1, K3)] == ["released", "released"]
    tx = journal.find_transmission(ref=new)
    assert tx is not None  # the new checksum is the new bundle's, as the send checks it
    assert tx.sha256 == hashlib.sha256(build_bundle(bundle_of(journal, tx))).hexdigest()
    assert journal.staged_body(tx.id) == build_bundle(bundle_of(journal, tx))
    withdrawn = journal.find_transmission(ref=old)
    assert withdrawn is not None and journal.staged_body(withdrawn.id) is None  # never sent
    history = journal.item_history(journal.find_items(K1)[0].id).events
    assert any(f"bundle {old} withdrawn" in e.reason for e in history)
    # Only the new bundle goes; the old one never does.
    queue, ledger = SqliteQueue(tmp_path / "queues.sqlite"), tmp_path / "ledger.sqlite"
    flow_round(journal, queue, ledger)
    paid = Ledger(ledger)
    assert set(paid.deliveries()) == {new} and set(paid.paid()) == {K1, K3}
    # Unblocked, it goes with the next release, in a bundle of its own, once.
    desk(journal, "anna").unblock(K2, "cleared")
    flow_round(journal, queue, ledger)
    assert set(paid.paid()) == {K1, K2, K3} and old not in paid.deliveries()
    assert state_of(journal, K2) == "at-bank" and _bundles(journal)[old] == "withdrawn"
    paid.close()
    queue.close()


def test_the_only_payment_of_a_bundle_leaves_no_bundle(journal: SqliteJournal) -> None:
    journal_delivery(journal, [instruction(1)])
    (old,) = [b.bundle_id for b in controlled_release(journal).bundles]
    assert "bundled again in none" in desk(journal, "anna").block(K1, "hold it")
    assert _bundles(journal) == {old: "withdrawn"}


def test_once_sent_a_block_is_refused_and_points_to_stop(
    journal: SqliteJournal, tmp_path: Path
) -> None:
    journal_delivery(journal, [instruction(1)])
    controlled_release(journal)
    send_bundles(journal, SqliteQueue(tmp_path / "queues.sqlite"), SETTINGS)
    with pytest.raises(ActionRefused, match=r"is sent: .* stop it \(toekgw payments stop\)"):
        desk(journal, "anna").block(K1, "too late")
    assert state_of(journal, K1) == "sent"


def test_a_withdrawn_bundle_reconciles_as_never_sent(
    journal: SqliteJournal, tmp_path: Path
) -> None:
    import datetime as dt

    from toekgw.adapters.nemkonto import reconcile_bundles

    journal_delivery(journal, [instruction(n) for n in (1, 2, 3)])
    (old,) = [b.bundle_id for b in controlled_release(journal).bundles]
    desk(journal, "anna").block(K2, "hold it")
    queue = SqliteQueue(tmp_path / "queues.sqlite")
    flow_round(journal, queue, tmp_path / "ledger.sqlite")
    result = reconcile_bundles(journal, SETTINGS, dt.date(2026, 11, 30))
    rows = {r.bundle_id: r for r in result.bundles}
    assert rows[old].counts["returned"] == 3 and rows[old].counts["unanswered"] == 0
    assert result.total.counts["sent"] == 2 and result.total.counts["at_bank"] == 2
    assert result.unexplained == []
    queue.close()
