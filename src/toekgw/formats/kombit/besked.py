"""The Beskedfordeler's envelope: ``Haendelsesbesked`` (KOMBIT's ``Beskedkuvert.xsd``).

Confirmed from KOMBIT's public schema and samples and from real messages: the root
``Haendelsesbesked`` (namespace ``urn:oio:besked:kuvert:1.0``) holds ``BeskedId`` (a UUID, the
receiver's de-duplication key), ``BeskedVersion``, ``Beskedkuvert`` with ``Filtreringsdata``
(``Beskedtype``: the UUID a receiver routes by; ``TilladtModtager``: allowed recipients as
CVR URNs) and ``Leveranceinformation`` (``Dannelsestidspunkt``), then ``Beskeddata``. The
identifiers wrap their value in ``UUIDIdentifikator``/``URNIdentifikator`` of
``urn:oio:sagdok:3.0.0``. The payload is either base64 in ``<Base64
xmlns="urn:besked:kuvert:1.0">`` (real deliveries) or an XML element as is (KOMBIT's samples):
both are read. A push delivery wraps the envelope in ``ModtagBeskedInput`` (``urn:oio:sts:1.0.0``);
that is unwrapped too. CVR URNs come as ``urn:oio:cvr:N`` (real) and ``urn:oio:cvr-nr:N``
(samples).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import uuid

from lxml import etree

from toekgw.formats.findings import mask_cpr_in_text
from toekgw.formats.xmlcheck import parse_safely

__all__ = [
    "KUVERT",
    "BadPayload",
    "BeskedError",
    "Haendelsesbesked",
    "MissingField",
    "NotAnEnvelope",
    "build_besked",
    "read_besked",
]

KUVERT = "urn:oio:besked:kuvert:1.0"
SAGDOK = "urn:oio:sagdok:3.0.0"
STS = "urn:oio:sts:1.0.0"
BASE64 = "urn:besked:kuvert:1.0"
_K, _D = f"{{{KUVERT}}}", f"{{{SAGDOK}}}"
MAX_PAYLOAD = 4 * 1024 * 1024


class BeskedError(ValueError):
    """A message that cannot be read as a Haendelsesbesked. Its text quotes what was found,
    so every CPR number in it is masked (:func:`mask_cpr_in_text`): the consumer lists and
    prints it as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(mask_cpr_in_text(message))


class NotAnEnvelope(BeskedError):
    """Not well-formed XML, or its root is not a Haendelsesbesked."""


class MissingField(BeskedError):
    """A field every message must have (BeskedId, Beskedtype) is missing or not a UUID."""


class BadPayload(BeskedError):
    """The Beskeddata cannot be read (bad base64, too large)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Haendelsesbesked:
    besked_id: str
    besked_type: str
    created: dt.datetime | None
    recipients: tuple[str, ...]  # CVR numbers
    payload: bytes | None


def read_besked(data: bytes) -> Haendelsesbesked:
    """Read an envelope (bare or inside ModtagBeskedInput)."""
    parsed, findings = parse_safely(data, "besked")
    if parsed is None:
        raise NotAnEnvelope(findings[0].message)
    root = parsed
    if root.tag == f"{{{STS}}}ModtagBeskedInput":
        inner = root.find(_K + "Haendelsesbesked")
        root = inner if inner is not None else root
    if root.tag != _K + "Haendelsesbesked":
        raise NotAnEnvelope(f"the root is {etree.QName(root).localname}, not Haendelsesbesked")
    filters = f"{_K}Beskedkuvert/{_K}Filtreringsdata/"
    return Haendelsesbesked(
        besked_id=_uuid(root, f"{_K}BeskedId/{_D}UUIDIdentifikator", "BeskedId"),
        besked_type=_uuid(root, f"{filters}{_K}Beskedtype/{_D}UUIDIdentifikator", "Beskedtype"),
        created=_time(
            root.findtext(
                f"{_K}Beskedkuvert/{_K}Leveranceinformation/{_K}Dannelsestidspunkt/"
                f"{_D}TidsstempelDatoTid"
            )
        ),
        recipients=tuple(
            _cvr(urn.text)
            for urn in root.iterfind(f"{filters}{_K}TilladtModtager/{_D}URNIdentifikator")
            if _cvr(urn.text)
        ),
        payload=_payload(root.find(_K + "Beskeddata")),
    )


def _uuid(root: etree._Element, path: str, name: str) -> str:
    text = (root.findtext(path) or "").strip()
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise MissingField(f"{name}: expected a UUID, found {text[:40]!r}") from None


def _time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None  # informative only: a bad time does not make the message unusable
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _cvr(urn: object) -> str:
    text = str(urn).strip()
    for prefix in ("urn:oio:cvr:", "urn:oio:cvr-nr:"):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return ""


def _payload(data: etree._Element | None) -> bytes | None:
    if data is None or len(data) == 0:
        return None
    child = data[0]
    if child.tag == f"{{{BASE64}}}Base64":
        text = "".join((child.text or "").split())
        if len(text) > MAX_PAYLOAD * 4 // 3 + 4:
            raise BadPayload(f"the payload exceeds {MAX_PAYLOAD} bytes")
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadPayload(f"the Base64 payload is not base64: {exc}") from exc
    return bytes(etree.tostring(child))


def build_besked(
    *,
    besked_type: str,
    payload: bytes,
    recipient_cvr: str,
    created: dt.datetime,
    besked_id: str | None = None,
) -> bytes:
    """An envelope as the Beskedfordeler delivers it (payload in base64)."""
    root = etree.Element(_K + "Haendelsesbesked", nsmap={None: SAGDOK, "ns2": KUVERT})  # type: ignore[dict-item]
    etree.SubElement(etree.SubElement(root, _K + "BeskedId"), _D + "UUIDIdentifikator").text = (
        besked_id or str(uuid.uuid4())
    )
    etree.SubElement(root, _K + "BeskedVersion").text = "1.0"
    kuvert = etree.SubElement(root, _K + "Beskedkuvert")
    filters = etree.SubElement(kuvert, _K + "Filtreringsdata")
    kind = etree.SubElement(filters, _K + "Beskedtype")
    etree.SubElement(kind, _D + "UUIDIdentifikator").text = besked_type
    allowed = etree.SubElement(filters, _K + "TilladtModtager")
    etree.SubElement(allowed, _D + "URNIdentifikator").text = f"urn:oio:cvr:{recipient_cvr}"
    delivery = etree.SubElement(kuvert, _K + "Leveranceinformation")
    stamp = etree.SubElement(delivery, _K + "Dannelsestidspunkt")
    etree.SubElement(stamp, _D + "TidsstempelDatoTid").text = created.isoformat()
    data = etree.SubElement(root, _K + "Beskeddata")
    wrapped = etree.SubElement(data, f"{{{BASE64}}}Base64", nsmap={None: BASE64})  # type: ignore[dict-item]
    wrapped.set("content-type", "application/xml")
    wrapped.set("encoding", "UTF-8")
    wrapped.text = base64.b64encode(payload).decode()
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))
