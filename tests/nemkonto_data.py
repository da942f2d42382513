"""Test data for NemKonto: payments and bundles that are valid by construction."""

from __future__ import annotations

import datetime as dt

from toekgw.formats.nemkonto import Account, PaymentBundle, PaymentOrder, RecipientId, RecipientKind

AUTHORITY_CVR = "29189846"  # passes mod-11
CREATED = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def cpr(n: int) -> str:
    """A CPR number with a valid birth date, distinct for each n < 28*12*100*10000."""
    day = n % 28 + 1
    month = (n // 28) % 12 + 1
    year = (n // 336) % 100
    serial = (n // 33600) % 10000
    return f"{day:02d}{month:02d}{year:02d}{serial:04d}"


def payment(n: int, *, amount: int | None = None, cpr_number: str | None = None) -> PaymentOrder:
    return PaymentOrder(
        payment_id=f"P{n:010d}",
        amount_ore=amount if amount is not None else 10_000 + n,
        recipient=RecipientId(RecipientKind.CPR, cpr_number or cpr(n)),
        name=f"Modtager {n}",
        notification=("Kontanthjælp", f"november {n % 7}"),
        benefit_kind="KONTANTHJ",
    )


def bundle(
    payments: list[PaymentOrder] | tuple[PaymentOrder, ...],
    *,
    bundle_id: str = "B-0001",
    disposition: dt.date = dt.date(2026, 12, 1),
) -> PaymentBundle:
    return PaymentBundle(
        bundle_id=bundle_id,
        created_at=CREATED,
        authority_cvr=AUTHORITY_CVR,
        agreement_number="4711",
        payment_information_id=f"PI-{bundle_id}"[:35],
        disposition_date=disposition,
        debtor_account=Account("1234", "0001234567"),
        payments=tuple(payments),
    )
