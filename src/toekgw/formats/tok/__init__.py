"""TØK's own interfaces to the case systems (KY, KP, KSD, ...): payments, claims and
effectuations, each a set of XML messages with one schema per interface and version (ours: the
solution description leaves the format open), and the status TØK answers with on receipt and on
every change of an item.

>>> import datetime as dt
>>> from toekgw.formats.tok import *
>>> header = Header("6f0c1d4e-2b7a-4c55-9a51-3f6d2e1a9b10", "KY", "29189846", Priority.STRAKS,
...                 dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC))
>>> order = PaymentOrder(header, "KY-1001", Party(PartyKind.CVR, "29189846"), 123456,
...                      dt.date(2026, 12, 7), "KTH", ("Kontanthjælp december",))
>>> read_message(build_message(order), today=dt.date(2026, 12, 4)) == order
True
"""

from toekgw.formats.tok.build import build_message, build_status, kroner, read_status
from toekgw.formats.tok.model import (
    CaseEvent,
    CaseReport,
    ClaimAdjustment,
    ClaimChange,
    ClaimCreate,
    CollectionRelease,
    DeliveryLine,
    EffectuationMethod,
    EffectuationOrder,
    Header,
    Interface,
    Origin,
    Party,
    PartyKind,
    PaymentChange,
    PaymentOrder,
    PaymentRecall,
    Priority,
    SetOff,
    Status,
    StatusFinding,
    SubClaim,
    TokMessage,
)
from toekgw.formats.tok.read import TokMessageError, read_message, read_origin

__all__ = [
    "CaseEvent",
    "CaseReport",
    "ClaimAdjustment",
    "ClaimChange",
    "ClaimCreate",
    "CollectionRelease",
    "DeliveryLine",
    "EffectuationMethod",
    "EffectuationOrder",
    "Header",
    "Interface",
    "Origin",
    "Party",
    "PartyKind",
    "PaymentChange",
    "PaymentOrder",
    "PaymentRecall",
    "Priority",
    "SetOff",
    "Status",
    "StatusFinding",
    "SubClaim",
    "TokMessage",
    "TokMessageError",
    "build_message",
    "build_status",
    "kroner",
    "read_message",
    "read_origin",
    "read_status",
]
