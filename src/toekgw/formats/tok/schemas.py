"""Which schema validates which message: one table, so an official schema (or a version 2)
replaces a row here and a file in ``xsd/tok`` without touching the readers."""

from __future__ import annotations

from toekgw.formats.tok.model import Interface

__all__ = ["COMMON_NS", "NAMESPACES", "ROOTS", "SCHEMAS", "STATUS_NS", "STATUS_SCHEMA"]

COMMON_NS = "urn:toekgw:tok:common:1"
STATUS_NS = "urn:toekgw:tok:status:1"
STATUS_SCHEMA = "tok/Status-1.xsd"

NAMESPACES: dict[Interface, str] = {
    Interface.PAYMENTS: "urn:toekgw:tok:payments:1",
    Interface.CLAIMS: "urn:toekgw:tok:claims:1",
    Interface.EFFECTUATIONS: "urn:toekgw:tok:effectuations:1",
}

_FILES: dict[Interface, str] = {
    Interface.PAYMENTS: "tok/Payments-1.xsd",
    Interface.CLAIMS: "tok/Claims-1.xsd",
    Interface.EFFECTUATIONS: "tok/Effectuations-1.xsd",
}

ROOTS: dict[Interface, tuple[str, ...]] = {
    Interface.PAYMENTS: ("PaymentOrder", "PaymentChange", "PaymentRecall"),
    Interface.CLAIMS: ("ClaimCreate", "ClaimAdjustment", "ClaimChange", "CollectionRelease"),
    Interface.EFFECTUATIONS: ("EffectuationOrder", "SetOff", "CaseReport"),
}

# (namespace, root element) -> schema file
SCHEMAS: dict[tuple[str, str], str] = {
    (NAMESPACES[interface], root): _FILES[interface]
    for interface, roots in ROOTS.items()
    for root in roots
}
