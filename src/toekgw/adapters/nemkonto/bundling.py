"""NemKonto bundling: released payments -> deterministic payment bundles.

One bundle per municipality, disposition date and debtor account, at most ``max_payments``
payments (10,000, confirmed for the private-payer variant) and ``max_bytes`` bytes (the request
queue's MAXMSGL; 100 MiB is IBM MQ's largest) each. Sizes are exact: each payment's XML fragment
is measured and the header's largest possible size added. Bundle ids come from the core chunker
(UUIDv5 of group, sequence and content), so the same released payments give the same bundles
with the same ids after a crash.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from toekgw.formats.nemkonto import (
    Account,
    PaymentBundle,
    PaymentOrder,
    bundle_overhead,
    payment_fragment,
)
from toekgw.gateway.chunking import Chunk, chunk_items, chunk_sorted
from toekgw.gateway.errors import UsageError

__all__ = [
    "BUNDLE_NAMESPACE",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PAYMENTS",
    "Authority",
    "ReleasedPayment",
    "attempt_namespace",
    "make_bundles",
    "stream_bundles",
]

BUNDLE_NAMESPACE = uuid.UUID("5b0f3f8e-2d7a-5c1e-9a55-6e656d6b6f6e")
DEFAULT_MAX_PAYMENTS = 10_000
DEFAULT_MAX_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Authority:
    """A municipality's agreement with NemKonto: who pays, and from which account."""

    cvr: str
    agreement_number: str
    debtor_account: Account


@dataclass(frozen=True, slots=True)
class ReleasedPayment:
    """A payment released from the journal for sending."""

    municipality: str
    disposition_date: dt.date
    order: PaymentOrder
    # The debtor account when the municipality has several (chosen per benefit type or
    # paying unit); None: its agreement's account.
    debtor_account: Account | None = None


def attempt_namespace(attempt: int) -> uuid.UUID:
    """The bundle-id namespace for payments bundled for the ``attempt``-th time (0: first)."""
    return BUNDLE_NAMESPACE if attempt == 0 else uuid.uuid5(BUNDLE_NAMESPACE, f"attempt:{attempt}")


def _group(p: ReleasedPayment) -> tuple[str | dt.date, ...]:
    # A payment drawn on another account than the agreement's goes in a bundle of its own.
    account = p.debtor_account
    if account is None:
        return (p.municipality, p.disposition_date)
    return (p.municipality, p.disposition_date, f"{account.registration}-{account.number}")


def make_bundles(
    payments: Iterable[ReleasedPayment],
    authorities: Mapping[str, Authority],
    *,
    created_at: dt.datetime,
    max_payments: int = DEFAULT_MAX_PAYMENTS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    namespace: uuid.UUID = BUNDLE_NAMESPACE,
) -> list[PaymentBundle]:
    """The bundles of ``payments``, ordered by municipality, date and sequence.

    ``namespace`` seeds the bundle ids: the same payments bundled again after NemKonto could
    not read their first bundle need ids of their own (see :func:`attempt_namespace`)."""
    items = list(payments)
    unknown = sorted({p.municipality for p in items} - set(authorities))
    if unknown:
        raise UsageError(
            f"no NemKonto agreement configured for municipality {', '.join(unknown)}",
            hint="add it to the NemKonto authorities in the configuration",
        )
    chunks = chunk_items(
        items,
        group_key=_group,
        item_key=_payment_id,
        max_count=max_payments,
        max_bytes=max_bytes,
        size_of=_size,
        overhead=bundle_overhead(),
        namespace=namespace,
    )
    return [_bundle(chunk, authorities, created_at) for chunk in chunks]


def stream_bundles(
    payments: Iterable[ReleasedPayment],
    authorities: Mapping[str, Authority],
    *,
    created_at: dt.datetime,
    max_payments: int = DEFAULT_MAX_PAYMENTS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    namespace: uuid.UUID = BUNDLE_NAMESPACE,
) -> Iterator[PaymentBundle]:
    """The bundles :func:`make_bundles` makes, one at a time, of payments that come ordered by
    municipality, disposition date and payment id (as the journal streams them): memory
    holds one open bundle per debtor account of the municipality and date. A bundle is given
    when it is full, the last ones of a municipality and date at its end (with one account,
    in :func:`make_bundles`' order). Every municipality must have its authority."""
    chunks = chunk_sorted(
        payments,
        segment_key=lambda p: (p.municipality, p.disposition_date),
        group_key=_group,
        item_key=_payment_id,
        max_count=max_payments,
        max_bytes=max_bytes,
        size_of=_size,
        overhead=bundle_overhead(),
        namespace=namespace,
    )
    for chunk in chunks:
        yield _bundle(chunk, authorities, created_at)


def _payment_id(p: ReleasedPayment) -> str:
    return p.order.payment_id


def _size(p: ReleasedPayment) -> int:
    fragment = payment_fragment(p.order)
    # bytes in UTF-8: as many as characters for ASCII, as nearly every payment is
    return len(fragment) if fragment.isascii() else len(fragment.encode("utf-8"))


def _bundle(
    chunk: Chunk[ReleasedPayment], authorities: Mapping[str, Authority], created_at: dt.datetime
) -> PaymentBundle:
    first = chunk.items[0]
    authority = authorities[first.municipality]
    return PaymentBundle(
        bundle_id=chunk.chunk_id,
        created_at=created_at,
        authority_cvr=authority.cvr,
        agreement_number=authority.agreement_number,
        payment_information_id="PI" + chunk.chunk_id.replace("-", ""),
        disposition_date=first.disposition_date,
        debtor_account=first.debtor_account or authority.debtor_account,
        payments=tuple(p.order for p in chunk.items),
    )
