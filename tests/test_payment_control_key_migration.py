"""The control-key migration: payments journaled before the duplicate-payment control get its
key, so the control finds a duplicate of a payment from before the upgrade."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.nemkonto_flow_data import instruction, journal_delivery
from tests.old_schema import schema_before
from tests.payments_helpers import controlled_release, state_of
from toekgw.gateway.journal import open_journal
from toekgw.gateway.journal.migrations import LATEST, MIGRATIONS

NUMBER = next(n for n, name, _ in MIGRATIONS if name.startswith("the duplicate-payment control"))


def test_the_migration_fills_the_key_of_older_payments_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite"
    first = instruction(1)
    no_unit = dataclasses.replace(instruction(2), paying_unit=None, disposition_date=None)
    recall = instruction(4, recall=True)  # of a payment never journaled: refused
    follow_up = dataclasses.replace(instruction(3), follow_up_key="x:r1", follows="x")
    with monkeypatch.context() as patch:
        # The journal as it was before the migration, its payments journaled without the key.
        schema_before(patch, NUMBER)
        old = open_journal(path)
        assert old.schema_version() == NUMBER - 1
        journal_delivery(old, [first, no_unit, recall, follow_up])
        old._db.execute("UPDATE items SET lookup = NULL")
        old._db.execute(
            "INSERT INTO items(transmission_id, counterpart, business_key, amount_ore, state, "
            "created_event, updated_at, data) SELECT transmission_id, counterpart, 'other', 1, "
            "'recalled', created_event, updated_at, '{\"payment_ident\": 1}' FROM items LIMIT 1"
        )
        old.close()
    journal = open_journal(path)
    assert journal.schema_version() == LATEST >= NUMBER
    lookups = {
        row[0]: row[1] for row in journal._db.execute("SELECT business_key, lookup FROM items")
    }
    assert lookups == {
        first.business_key: first.control_key,
        no_unit.business_key: no_unit.control_key,
        recall.business_key: None,
        follow_up.business_key: None,
        "other": None,
    }
    assert no_unit.control_key.startswith("|02|") and no_unit.control_key.endswith("|")
    # The same payment under a new ident, after the upgrade: held as a suspected duplicate.
    again = dataclasses.replace(instruction(1, delivery=2), payment_ident=f"{99:018d}", line=99)
    journal_delivery(journal, [again], delivery=2)
    result = controlled_release(journal)
    assert result.held == {"suspected-duplicate": 1}
    assert state_of(journal, again.business_key) == "suspected-duplicate"
    journal.close()
