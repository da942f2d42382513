"""Migration 18: staged bodies, on both back ends."""

from __future__ import annotations

import pytest

from toekgw.gateway.journal import (
    Direction,
    JournalError,
    JournalLocation,
    KindSpec,
    Lifecycle,
    NewTransmission,
    open_journal,
)

OUT = KindSpec("out", Direction.OUT, Lifecycle(("prepared",), {"prepared": ("sent",)}), None)


def test_a_staged_body_is_kept_replaced_read_and_dropped(journal_at: JournalLocation) -> None:
    journal = open_journal(journal_at)
    journal.define_kind(OUT)
    one = journal.create_transmission(NewTransmission("nk", "out", "prepared", ref="B1"))
    two = journal.create_transmission(NewTransmission("nk", "out", "prepared", ref="B2"))
    assert journal.staged_body(one.id) is None
    body = bytes(range(256)) * 40 + b"\x00<?xml?>\xff"  # every byte value, NUL included
    with journal.transaction(durable=True):
        journal.stage_body(one.id, body)
        journal.stage_body(two.id, b"second")
    assert journal.staged_body(one.id) == body
    journal.stage_body(two.id, b"replaced")
    assert journal.staged_body(two.id) == b"replaced"
    assert journal.drop_staged_body(one.id) is True
    assert journal.drop_staged_body(one.id) is False
    assert journal.staged_body(one.id) is None
    assert journal.staged_body(two.id) == b"replaced"
    journal.close()
    again = open_journal(journal_at)  # durable: there after reopening
    assert again.staged_body(two.id) == b"replaced"
    again.close()


def test_a_staged_body_is_rolled_back_with_its_transaction(journal_at: JournalLocation) -> None:
    journal = open_journal(journal_at)
    journal.define_kind(OUT)
    with pytest.raises(RuntimeError), journal.transaction():
        tx = journal.create_transmission(NewTransmission("nk", "out", "prepared", ref="B1"))
        journal.stage_body(tx.id, b"never")
        raise RuntimeError("crash before the commit")
    assert journal.find_transmission(ref="B1") is None
    assert journal.staged_body(tx.id) is None
    journal.close()


def test_a_body_is_staged_only_for_a_journaled_transmission(journal_at: JournalLocation) -> None:
    journal = open_journal(journal_at)
    with pytest.raises(JournalError):
        journal.stage_body(4711, b"orphan")
    journal.close()
