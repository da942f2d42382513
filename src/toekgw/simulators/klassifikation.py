"""Klassifikation (SF7002) as a Serviceplatformen party: it publishes sortiment deliveries.

:meth:`KlassifikationSimulator.publish` puts one ``Sortiment`` file in the party's ``OUT/`` with
its trigger to the subscriber, for the platform to deliver. :func:`month_of_deliveries` is the
usual story: a full delivery, then a delta that closes one class in the middle of the month and
opens its replacement; :func:`removal` a delta that takes classes out of the sortiment.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from pathlib import Path

from toekgw.formats.oir import (
    Delivery,
    Klasse,
    RemovedKlasse,
    SortimentDelivery,
    build_sortiment,
)
from toekgw.simulators._upload import upload

__all__ = ["KlassifikationSimulator", "klasse_id", "month_of_deliveries", "removal"]

_NS = uuid.UUID("2d3f6a51-64a2-5a8c-a0a4-0f3b5d2c9e77")


def klasse_id(code: str, since: dt.date) -> str:
    """A stable class UUID for an account code opened on ``since``."""
    return str(uuid.uuid5(_NS, f"{code}|{since}"))


def month_of_deliveries(
    sortiment_id: str,
    codes: Sequence[str],
    *,
    start: dt.date,
    close: str,
    replacement: str,
    closed_on: dt.date,
    name: str = "TØK konti",
) -> list[SortimentDelivery]:
    """Version 1: every code from ``start``. Version 2 (a delta from ``closed_on``): ``close``
    valid until the day before, ``replacement`` from that day."""
    full = SortimentDelivery(
        sortiment_id,
        name,
        start,
        1,
        Delivery.FULL,
        tuple(Klasse(klasse_id(c, start), c, f"Konto {c}", start) for c in codes),
    )
    last = closed_on - dt.timedelta(days=1)
    delta = SortimentDelivery(
        sortiment_id,
        name,
        closed_on,
        2,
        Delivery.DELTA,
        (
            Klasse(klasse_id(close, start), close, f"Konto {close}", start, last),
            Klasse(
                klasse_id(replacement, closed_on), replacement, f"Konto {replacement}", closed_on
            ),
        ),
    )
    return [full, delta]


def removal(last: SortimentDelivery, codes: Sequence[str], *, on: dt.date) -> SortimentDelivery:
    """The delta after ``last`` (from ``on``) that takes the classes of ``codes`` out of the
    sortiment; :class:`LookupError` for a code no earlier delivery had."""
    classes = {k.code: k for k in last.classes}
    missing = [c for c in codes if c not in classes]
    if missing:
        raise LookupError(f"not a code of the sortiment: {', '.join(missing)}")
    removed = tuple(RemovedKlasse(classes[c].class_id, c) for c in codes)
    return SortimentDelivery(
        last.sortiment_id, last.name, on, last.version + 1, Delivery.DELTA, (), removed
    )


class KlassifikationSimulator:
    """Klassifikation as party ``party`` (home ``home``) publishing to ``subscriber``."""

    def __init__(self, home: Path, *, party: str, subscriber: str) -> None:
        self.home, self.party, self.subscriber = Path(home), party, subscriber
        (self.home / "OUT").mkdir(parents=True, exist_ok=True)

    def publish(self, delivery: SortimentDelivery) -> str:
        """Put the delivery and its trigger in OUT/; the file name."""
        data = build_sortiment(delivery)
        name = f"SORTIMENT_{delivery.sortiment_id}_{delivery.version:06d}.xml"
        upload(self.home / "OUT", name, data, sender=self.party, recipients=(self.subscriber,))
        return name
