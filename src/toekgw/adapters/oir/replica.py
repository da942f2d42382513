"""The SF7002 sortiment replica: versions of TØK's sortiment kept in the journal's books.

A delivery is applied only if it is newer than what the replica holds (``Version``): an older
one arriving late never overwrites a newer one, and is said so. A full delivery is the
sortiment; a delta changes the newest version (new classes, new titles, a closing date
``GyldigTil``, classes removed) and is stored as the full set it makes, so every version reads
alone and :func:`diff` compares any two. A class removed (by a delta's ``FjernetKlasse``, or
by a full delivery that no longer lists it) stays in every later version marked with the
version that removed it: the account stays known for what was posted on it, and a new voucher
on it is held with a finding (:class:`~toekgw.adapters.oir.chart.Chart`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from toekgw.adapters.oir.store import BooksJournal
from toekgw.formats.oir import Delivery, Klasse, SortimentDelivery
from toekgw.gateway.journal.books import ClassRow, ClassVersion

__all__ = ["Applied", "Change", "apply_delivery", "diff", "find_classes"]


@dataclass(frozen=True, slots=True)
class Applied:
    """``status``: ``applied``, ``stale`` (not newer than the replica) or ``refused``."""

    status: str
    message: str
    version: int


@dataclass(frozen=True, slots=True)
class Change:
    """``kind``: ``added``, ``removed`` or ``changed`` (``before`` and ``after`` differ)."""

    kind: str
    class_id: str
    before: ClassRow | None
    after: ClassRow | None


def _row(k: Klasse) -> ClassRow:
    return ClassRow(k.class_id, k.code, k.title, k.valid_from, k.valid_to)


def apply_delivery(
    journal: BooksJournal, delivery: SortimentDelivery, *, transmission_id: int | None = None
) -> Applied:
    """Apply one delivery to the replica (in one transaction)."""
    with journal.transaction(durable=True):
        current = journal.class_version(delivery.sortiment_id)
        if current is not None and delivery.version <= current.version:
            return Applied(
                "stale",
                f"sortiment {delivery.sortiment_id} version {delivery.version} is not newer "
                f"than the replica's version {current.version}: not applied",
                delivery.version,
            )
        if delivery.delivery is Delivery.DELTA and current is None:
            return Applied(
                "refused",
                f"sortiment {delivery.sortiment_id} version {delivery.version} is a delta "
                "but the replica holds no version to apply it to: a full delivery is needed",
                delivery.version,
            )
        base = {} if current is None else {c.class_id: c for c in journal.classes(current.id)}
        rows, unknown = _merge(base, delivery)
        journal.add_class_version(
            scheme=delivery.sortiment_id,
            version=delivery.version,
            delivery=delivery.delivery.value,
            name=delivery.name,
            valid_from=delivery.valid_from,
            classes=sorted(rows.values(), key=lambda c: (c.code, c.class_id)),
            transmission_id=transmission_id,
        )
    what = "full" if delivery.delivery is Delivery.FULL else "delta"
    removed = sum(1 for c in rows.values() if c.removed_in == delivery.version)
    notes = f", {removed} removed" if removed else ""
    if unknown:
        notes += f"; removal of {len(unknown)} classes it never held ignored: {', '.join(unknown)}"
    return Applied(
        "applied",
        f"sortiment {delivery.sortiment_id} version {delivery.version} ({what}, "
        f"{len(delivery.classes)} classes{notes}) applied",
        delivery.version,
    )


def _merge(
    base: Mapping[str, ClassRow], delivery: SortimentDelivery
) -> tuple[dict[str, ClassRow], list[str]]:
    """The classes the delivery makes of ``base`` (the newest version), and the removals of
    classes ``base`` never held (``KlasseId (Kode)``)."""
    listed = {k.class_id: _row(k) for k in delivery.classes}
    if delivery.delivery is Delivery.DELTA:
        gone = {r.class_id for r in delivery.removed}
    else:  # the whole sortiment: what it does not list is no longer in it
        gone = set(base) - set(listed) | {r.class_id for r in delivery.removed}
    rows = {**base, **listed}
    for cid in gone & set(rows):
        if rows[cid].removed_in is None:
            rows[cid] = dataclasses.replace(rows[cid], removed_in=delivery.version)
    unknown = [f"{r.class_id} ({r.code})" for r in delivery.removed if r.class_id not in rows]
    return rows, unknown


def _version(journal: BooksJournal, sortiment: str, version: int | None) -> ClassVersion:
    found = journal.class_version(sortiment, version)
    if found is None:
        if version is None:
            raise LookupError(
                f"the replica holds no version of sortiment {sortiment} yet "
                "(toekgw sortiment receive fetches it)"
            )
        raise LookupError(f"the replica holds no version {version} of sortiment {sortiment}")
    return found


def diff(
    journal: BooksJournal, sortiment: str, old: int | None = None, new: int | None = None
) -> tuple[ClassVersion, ClassVersion, list[Change]]:
    """What changed from version ``old`` (default: the one before ``new``) to ``new``
    (default: the newest)."""
    after = _version(journal, sortiment, new)
    if old is None:
        earlier = [v for v in journal.class_versions(sortiment) if v.version < after.version]
        if not earlier:
            raise LookupError(
                f"sortiment {sortiment} version {after.version} is the first: nothing to compare"
            )
        before = earlier[-1]
    else:
        before = _version(journal, sortiment, old)
    # A class removed is in neither version for the comparison (it stays known for history).
    a = {c.class_id: c for c in journal.classes(before.id) if c.removed_in is None}
    b = {c.class_id: c for c in journal.classes(after.id) if c.removed_in is None}
    changes = [
        Change(
            "added" if cid not in a else "removed" if cid not in b else "changed",
            cid,
            a.get(cid),
            b.get(cid),
        )
        for cid in sorted(set(a) | set(b), key=lambda c: ((a.get(c) or b[c]).code, c))
        if a.get(cid) != b.get(cid)
    ]
    return before, after, changes


def find_classes(
    journal: BooksJournal, sortiment: str, code: str, *, on: dt.date | None = None
) -> Sequence[ClassRow]:
    """The classes with account ``code`` in the newest version (valid ``on`` a day if given),
    those removed from the sortiment too (``removed_in``)."""
    version = _version(journal, sortiment, None)
    return [
        c for c in journal.classes(version.id) if c.code == code and (on is None or c.valid_on(on))
    ]
