"""NemKonto: payment bundles over MQ. Bundling here; the journal-driven flow builds on it."""

from adapters.nemkonto.bundling import (
    BUNDLE_NAMESPACE,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PAYMENTS,
    Authority,
    ReleasedPayment,
    make_bundles,
)

__all__ = [
    "BUNDLE_NAMESPACE",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PAYMENTS",
    "Authority",
    "ReleasedPayment",
    "make_bundles",
]
