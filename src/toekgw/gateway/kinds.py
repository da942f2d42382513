"""The transmission kinds the adapters journal, known before any journal is opened.

A journal learns a kind when an adapter first journals one (``define_kind``); a configuration
or an option that names a kind must be checked before that, against every kind some adapter
can journal. So each adapter registers its kinds where it defines them, as it registers its
configuration table::

    G68_DELIVERY = register_kind(inbound_kind("g68-delivery", PAYMENT_ITEM))

:mod:`toekgw.adapters.config` imports every built-in adapter's kinds, so they are known once
a configuration can be loaded. What checks against them: ``[retention.kinds]``
(:mod:`toekgw.gateway.retention_config`) and ``toekgw status --state`` (the states of the
kinds' transmissions). An embedding application registers its own kinds before it loads the
configuration.
"""

from __future__ import annotations

from toekgw.gateway.journal.model import KindSpec

__all__ = ["kind_names", "register_kind", "registered_kinds", "transmission_states"]

_REGISTRY: dict[str, KindSpec] = {}


def register_kind(kind: KindSpec) -> KindSpec:
    """Make ``kind`` known; returns it. The same name twice must be the same kind."""
    known = _REGISTRY.get(kind.name)
    if known is not None and known != kind:
        raise ValueError(f"two adapters define the transmission kind {kind.name!r} differently")
    _REGISTRY[kind.name] = kind
    return kind


def registered_kinds() -> tuple[KindSpec, ...]:
    return tuple(_REGISTRY.values())


def kind_names() -> tuple[str, ...]:
    """Every registered kind's name, sorted."""
    return tuple(sorted(_REGISTRY))


def transmission_states() -> frozenset[str]:
    """Every state a transmission of a registered kind can be in."""
    return frozenset(state for kind in _REGISTRY.values() for state in kind.transmission.states)
