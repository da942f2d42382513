"""SF7002 sortiment deliveries: ``Sortiment`` (XML, schema ``xsd/oir/Sortiment.xsd``, ours).

A delivery is ``FULD`` (the whole sortiment: a class it does not list is no longer in it) or
``DELTA`` (only the classes that changed: new ones, new titles, a closing date, and as
``FjernetKlasse`` the classes taken out of the sortiment). ``Version``
grows with every delivery, so an older delivery arriving late is recognised as older. Each
class is an account of the municipal chart (``Kode`` = ``<funktion>/<dranst>/<art>``) with
its UUID, title and validity interval.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from xml.sax.saxutils import escape

from lxml import etree

from toekgw.formats.oir._xml import SORTIMENT_NS, parse_date, parse_validated
from toekgw.formats.oir.model import Delivery, Klasse, RemovedKlasse, SortimentDelivery

__all__ = ["build_sortiment", "read_sortiment"]

_Q = "{" + SORTIMENT_NS + "}"


def _date(parent: etree._Element, tag: str, what: str) -> dt.date | None:
    element = parent.find(_Q + tag)
    return None if element is None else parse_date(element, what=what)


def read_sortiment(data: bytes, *, name: str = "sortiment") -> SortimentDelivery:
    """Parse and validate a delivery; :class:`~toekgw.formats.oir._xml.OirDocumentError`
    with every finding if it cannot be used."""
    root = parse_validated(data, "Sortiment", what=name)
    classes = []
    for k in root.iterfind(_Q + "Klasse"):
        start = _date(k, "GyldigFra", name)
        assert start is not None
        classes.append(
            Klasse(
                k.findtext(_Q + "KlasseId") or "",
                k.findtext(_Q + "Kode") or "",
                k.findtext(_Q + "Titel") or "",
                start,
                _date(k, "GyldigTil", name),
            )
        )
    valid_from = _date(root, "GyldigFra", name)
    assert valid_from is not None
    return SortimentDelivery(
        root.findtext(_Q + "SortimentId") or "",
        root.findtext(_Q + "Navn") or "",
        valid_from,
        int(root.findtext(_Q + "Version") or "0"),
        Delivery(root.findtext(_Q + "Leverance") or ""),
        tuple(classes),
        tuple(
            RemovedKlasse(k.findtext(_Q + "KlasseId") or "", k.findtext(_Q + "Kode") or "")
            for k in root.iterfind(_Q + "FjernetKlasse")
        ),
    )


def build_sortiment(delivery: SortimentDelivery) -> bytes:
    return "".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>\n',
            f'<Sortiment xmlns="{SORTIMENT_NS}">',
            f"<SortimentId>{delivery.sortiment_id}</SortimentId>",
            f"<Navn>{escape(delivery.name)}</Navn>",
            f"<GyldigFra>{delivery.valid_from.isoformat()}</GyldigFra>",
            f"<Version>{delivery.version}</Version>",
            f"<Leverance>{delivery.delivery}</Leverance>\n",
            *_classes(delivery.classes),
            *(
                f"<FjernetKlasse><KlasseId>{r.class_id}</KlasseId>"
                f"<Kode>{escape(r.code)}</Kode></FjernetKlasse>\n"
                for r in delivery.removed
            ),
            "</Sortiment>\n",
        ]
    ).encode()


def _classes(classes: Iterable[Klasse]) -> Iterable[str]:
    for k in classes:
        until = f"<GyldigTil>{k.valid_to.isoformat()}</GyldigTil>" if k.valid_to else ""
        yield (
            f"<Klasse><KlasseId>{k.class_id}</KlasseId><Kode>{escape(k.code)}</Kode>"
            f"<Titel>{escape(k.title)}</Titel><GyldigFra>{k.valid_from.isoformat()}</GyldigFra>"
            f"{until}</Klasse>\n"
        )
