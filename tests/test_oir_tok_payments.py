"""TØK's payments interface feeds the books as a G68 delivery does: a payment ordered over AMQP
is booked (expense against the intermediate account), and a set-off that reduces it before
release cancels the ordered amount and books the reduced next version, so the intermediate
account holds what is still to be paid and Konteringskontrol agrees, built at once or later."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.oir_data import BANK, EXPENSE, INTERMEDIATE, load_sortiment, settings
from tests.tok_helpers import PLACES, Names, clock, header, order, send
from toekgw.adapters.oir import BOOKED_STATES, build_vouchers, konteringskontrol
from toekgw.adapters.oir.settings import MunicipalityBooks, OirSettings
from toekgw.adapters.tok import Intake
from toekgw.formats.tok import SetOff
from toekgw.gateway.journal import SqliteJournal, open_journal
from toekgw.gateway.transport.amqp_sqlite import SqliteBroker

PLACE = next(iter(PLACES.values()))


def _books() -> OirSettings:
    return settings(municipalities={PLACE: MunicipalityBooks(PLACE, "29189846")})


def _balances(journal: SqliteJournal) -> dict[str, int]:
    return {
        account: sum(s for _, s in journal.account_lines(account, states=BOOKED_STATES))
        for account in (EXPENSE, INTERMEDIATE, BANK)
    }


@pytest.mark.parametrize("build_before_the_set_off", [True, False])
def test_a_tok_payment_reduced_by_a_set_off_is_booked_at_what_is_paid(
    tmp_path: Path, build_before_the_set_off: bool
) -> None:
    names = Names()
    broker = SqliteBroker(tmp_path / "broker.sqlite")
    journal = open_journal(tmp_path / "journal.sqlite")
    load_sortiment(journal)
    intake = Intake(journal, broker, registration_places=PLACES, now=clock, queues=names.queues)
    send(broker, names.payments, order("P-1", 200_00))
    send(broker, names.payments, order("P-2", 300_00))
    assert intake.take().taken == 2
    if build_before_the_set_off:
        assert build_vouchers(journal, _books()).held == 0
        control = konteringskontrol(journal, _books())
        assert control.agrees and control.outstanding_ore == 500_00

    send(broker, names.effectuations, SetOff(header(), "S-1", "create", "P-1", "C-1", 50_00))
    assert intake.take().taken == 1
    summary = build_vouchers(journal, _books())
    assert summary.held == 0

    control = konteringskontrol(journal, _books())
    assert control.agrees and control.outstanding_ore == 450_00
    assert _balances(journal) == {EXPENSE: 450_00, INTERMEDIATE: -450_00, BANK: 0}
    booked = sorted(
        (row.event, row.business_key, row.amount_ore)
        for voucher in journal.vouchers()
        for row in journal.voucher_events(voucher.id)
    )
    assert booked == [
        ("cancelled", "KY:P-1", 200_00),  # the ordered amount leaves the books ...
        ("journaled", "KY:P-1", 200_00),
        ("journaled", "KY:P-1~2", 150_00),  # ... and what is left to pay comes in
        ("journaled", "KY:P-2", 300_00),
    ]
    assert build_vouchers(journal, _books()).built == 0  # nothing is booked twice
    broker.close()
    journal.close()
