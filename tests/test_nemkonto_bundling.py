"""NemKonto bundling: one bundle per municipality and date, capped, with stable ids."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from tests.nemkonto_data import CREATED, payment
from toekgw.adapters.nemkonto import Authority, ReleasedPayment, make_bundles
from toekgw.formats.nemkonto import Account, build_bundle, parse_bundle
from toekgw.gateway.chunking import ChunkingError
from toekgw.gateway.errors import UsageError

AUTHORITIES = {
    "0101": Authority("29189846", "4711", Account("1234", "0001234567")),
    "0751": Authority("55133018", "815", Account("5678", "0007654321")),
}
DAY = dt.date(2026, 12, 1)


def test_25000_payments_become_three_bundles_and_again_the_same() -> None:
    released = [ReleasedPayment("0101", DAY, payment(n)) for n in range(25_000)]
    first = make_bundles(released, AUTHORITIES, created_at=CREATED)
    assert [b.number_of_payments for b in first] == [10_000, 10_000, 5_000]
    random.Random(3).shuffle(released)
    second = make_bundles(released, AUTHORITIES, created_at=CREATED)
    assert [b.bundle_id for b in second] == [b.bundle_id for b in first]
    assert second == first
    assert sum(b.control_sum_ore for b in first) == sum(r.order.amount_ore for r in released)
    data = build_bundle(first[2])
    assert parse_bundle(data) == first[2]


def test_groups_by_municipality_and_disposition_date() -> None:
    released = [
        ReleasedPayment("0751", DAY, payment(1)),
        ReleasedPayment("0101", DAY + dt.timedelta(days=1), payment(2)),
        ReleasedPayment("0101", DAY, payment(3)),
        ReleasedPayment("0101", DAY, payment(4)),
    ]
    bundles = make_bundles(released, AUTHORITIES, created_at=CREATED)
    assert [(b.authority_cvr, b.disposition_date, b.number_of_payments) for b in bundles] == [
        ("29189846", DAY, 2),
        ("29189846", DAY + dt.timedelta(days=1), 1),
        ("55133018", DAY, 1),
    ]
    assert len({b.bundle_id for b in bundles}) == 3
    assert all(b.payment_information_id == "PI" + b.bundle_id.replace("-", "") for b in bundles)


def test_byte_cap_splits_and_every_bundle_fits() -> None:
    released = [ReleasedPayment("0101", DAY, payment(n)) for n in range(50)]
    cap = 8_000
    bundles = make_bundles(released, AUTHORITIES, created_at=CREATED, max_bytes=cap)
    assert len(bundles) > 1
    assert all(len(build_bundle(b)) <= cap for b in bundles)
    assert sum(b.number_of_payments for b in bundles) == 50


def test_unknown_municipality_and_duplicate_ids() -> None:
    with pytest.raises(UsageError, match="municipality 9999"):
        make_bundles([ReleasedPayment("9999", DAY, payment(1))], AUTHORITIES, created_at=CREATED)
    twice = [ReleasedPayment("0101", DAY, payment(1))] * 2
    with pytest.raises(ChunkingError, match="occurs twice"):
        make_bundles(twice, AUTHORITIES, created_at=CREATED)
