"""Personal data in the journal: whose it is, and its keyed pseudonym.

The core knows no counterpart's payload, so each adapter says, per transmission kind, which
fields of its items' payloads (``items.data``) and of its transmissions' metadata
(``transmissions.meta``) are personal data and which citizens a payload is about
(:func:`register_personal_data`). Two things use it:

- the read log (:meth:`toekgw.gateway.journal.sqlite.SqliteJournal.record_read`) names the
  citizens whose data a command showed;
- retention (:mod:`toekgw.gateway.retention`) replaces those fields past their period with a
  keyed pseudonym.

A pseudonym is ``ps:`` and the first 24 hex digits of HMAC-SHA256 under the configured key:
the same value always gives the same pseudonym (so a citizen's history still hangs together,
and ``toekgw audit reads --cpr`` still finds the reads of a pseudonymised citizen), but without
the key nobody can tell whose it is, nor test a guessed CPR number.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "PSEUDONYM_PREFIX",
    "PersonalData",
    "is_pseudonym",
    "personal_data",
    "pseudonym",
    "register_personal_data",
    "subjects_of",
]

PSEUDONYM_PREFIX = "ps:"
_DIGITS = 24


def _never(data: Mapping[str, Any]) -> bool:
    return False


def _nobody(data: Mapping[str, Any]) -> list[str]:
    return []


@dataclass(frozen=True, slots=True)
class PersonalData:
    """What in one kind's item payloads and transmission metadata is personal data.

    ``fields``: where in the payload the values replaced by pseudonyms past the retention
    period stand: a top-level key, or a dotted path into nested objects and lists
    (``debtor.number``; ``values.6``, the seventh element of the list ``values``;
    ``values.*``, every element of a list or every value of an object); the value there is a
    string or a list of strings (anything else, or nothing there, is left as it is).
    ``meta_fields``: the same, in the metadata of the kind's transmissions
    (``operations.*.part.number``: the number of each operation that names a party), replaced
    once the transmission is in a final state of its lifecycle and was last changed longer
    ago than the period (nothing reads those values of a finished transmission: the adapter
    that registers them says why). ``subjects``: the CPR numbers (or their pseudonyms) of
    the citizens a payload is about. ``settled``: the item states in which the payload is no
    longer needed to act on the item (retention leaves items in any other state in clear,
    however old: a payment waiting for handling still needs its recipient). ``needed``: for
    a kind whose items of several sorts share one lifecycle, the payloads still needed in a
    settled state (a tax-card order that is the citizen's subscription); they stay in clear
    too.
    """

    fields: tuple[str, ...] = ()
    subjects: Callable[[Mapping[str, Any]], list[str]] = _nobody
    settled: frozenset[str] = frozenset()
    needed: Callable[[Mapping[str, Any]], bool] = _never
    meta_fields: tuple[str, ...] = ()


_REGISTRY: dict[str, PersonalData] = {}


def register_personal_data(kind: str, spec: PersonalData) -> None:
    _REGISTRY[kind] = spec


def personal_data(kind: str) -> PersonalData | None:
    return _REGISTRY.get(kind)


def subjects_of(kind: str, data: Mapping[str, Any] | None) -> list[str]:
    """The citizens an item of ``kind`` with payload ``data`` is about (none when unknown)."""
    spec = _REGISTRY.get(kind)
    return spec.subjects(data) if spec is not None and data else []


def pseudonym(key: bytes, value: str) -> str:
    """The keyed pseudonym of ``value``; a pseudonym stays as it is."""
    if is_pseudonym(value):
        return value
    digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:_DIGITS]


def is_pseudonym(value: str) -> bool:
    return value.startswith(PSEUDONYM_PREFIX) and len(value) == len(PSEUDONYM_PREFIX) + _DIGITS
