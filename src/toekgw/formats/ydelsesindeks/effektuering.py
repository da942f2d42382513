"""One effectuated payment as an ``OekonomiskEffektueringIndeks`` of SF1490's benefit index.

The benefit index (Ydelsesindeks, SF1490) is KOMBIT's register of what benefits a citizen was
granted and paid. TØK reports each payment the bank has effectuated with the index's
``YdelseIndeksService_6`` operation ``importer`` (SOAP 1.2, SOAPAction
``http://kombit.dk/sts/ydelseindeks/importer``): an ``ImporterYdelseIndeksInput`` holding one
``OekonomiskEffektueringIndeks`` — an object with its own UUID and one registration of
properties (``Egenskaber``: period, disposition date, the amounts after tax and sent/paid,
the paying unit) and relations (the recipient as ``OekonomiskEffektueringPart``, the
municipality as ``Aktoer``, the benefit as ``OekonomiskYdelseEffektueringRelation``).

Public (KOMBIT's WSDL/XSD, bundled unchanged in ``xsd/ydelsesindeks/``): every element name,
the namespaces, the operation and its SOAPAction, the entity id, ``StandardRetur/StatusKode``
20 for success. Ours (kept here, in :data:`RELATION_ROLES` and the mapping below, until the
municipality's Klassifikation values are known): the relations' role and type UUIDs, the
period (G68 carries none: the disposition date is both start and end), ``SamletBruttobeloeb``
left out (G68 carries the net amount only), the object's UUID (UUIDv5 of the payment's key,
so a report sent again is the same object and the index keeps it once).

Amounts are integer øre here and kroner with two decimals (``gd:BeloebType``) on the wire.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from lxml import etree

__all__ = [
    "ACTION_IMPORT",
    "NS",
    "OPERATIONS_XSD",
    "RELATION_ROLES",
    "SERVICE_ENTITY_ID",
    "WSDL",
    "Effektuering",
    "IndexAnswer",
    "NotAnImport",
    "build_answer",
    "build_fault",
    "effektuering_id",
    "kroner",
    "read_answer",
    "read_import",
    "to_zeep",
]

WSDL = "ydelsesindeks/wsdl/YdelseIndeks.wsdl"
OPERATIONS_XSD = "ydelsesindeks/xsd/6.0.STS-0/YdelseIndeksOperationer.xsd"
SERVICE_ENTITY_ID = "http://entityid.kombit.dk/service/ydi/ydelseindeks/6"
ACTION_IMPORT = "http://kombit.dk/sts/ydelseindeks/importer"
NS = {
    "yi": "urn:oio:sts:ydelse:ydelseindeks:6",
    "oef": "urn:oio:sts:ydelse:oekonomiskeffektueringindeks:6",
    "sd": "urn:oio:sagdok:3.0.0",
    "gd": "urn:oio:sts:generelledefinitioner:6",
    "hdr": "http://kombit.dk/xml/schemas/RequestHeader/1/",
    "soap12": "http://www.w3.org/2003/05/soap-envelope",
}
#: Ours: UUIDv5 namespace of the effectuations' object ids.
_ID_NAMESPACE = uuid.UUID("3b0c5a52-4f0e-5d8e-9a57-1d2f6e0b7c41")
#: Ours: the relations' ``Rolle`` UUIDs (Klassifikation values not public).
RELATION_ROLES = {
    "part": "9c1f0d3e-2b4a-4c5d-8e6f-7a8b9c0d1e2f",  # the recipient (modtager)
    "aktoer": "4d2e1f0a-3b5c-4d6e-9f7a-8b9c0d1e2f3a",  # the paying municipality
    "ydelse": "6e3f2a1b-4c5d-4e7f-8a9b-0c1d2e3f4a5b",  # the benefit effectuated
}
_SD = f"{{{NS['sd']}}}"
_OEF = f"{{{NS['oef']}}}"


class NotAnImport(ValueError):
    """The body is not an ``ImporterYdelseIndeksInput`` with effectuations the index can use."""


@dataclasses.dataclass(frozen=True, slots=True)
class Effektuering:
    """One effectuated payment. ``recipient`` is a URN (``urn:oio:cpr-nr:…`` or
    ``urn:oio:cvr-nr:…``) or None; it is personal data and never shown in clear."""

    object_id: str
    key: str  # BrugervendtNoegle: the payment's key (at most 50 characters)
    municipality_cvr: str
    recipient: str | None
    disposition_date: dt.date
    period_start: dt.date
    period_end: dt.date
    amount_ore: int  # after tax and ATP = sent to payment = paid
    paying_unit: str
    benefit: str  # the benefit's description (the G68 transaction type)
    system_uuid: str  # the reporting IT system (AktoerRef, BrugerRef)


def effektuering_id(payment_key: str) -> str:
    """The index object's UUID for a payment: the same every time it is reported."""
    return str(uuid.uuid5(_ID_NAMESPACE, payment_key))


def kroner(ore: int) -> str:
    sign = "-" if ore < 0 else ""
    return f"{sign}{abs(ore) // 100}.{abs(ore) % 100:02d}"


def _ore(text: str | None, where: str) -> int:
    whole, _, fraction = (text or "").strip().partition(".")
    if not whole.lstrip("-").isdigit() or not (fraction.isdigit() or not fraction):
        raise NotAnImport(f"{where}: {text!r} is not an amount in kroner")
    negative = whole.startswith("-")
    ore = int(whole.lstrip("-")) * 100 + int((fraction + "00")[:2])
    return -ore if negative else ore


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _virkning(e: Effektuering) -> dict[str, Any]:
    return {
        "FraTidspunkt": {"TidsstempelDatoTid": _midnight(e.disposition_date)},
        "TilTidspunkt": {"GraenseIndikator": True},
        "AktoerRef": {"UUIDIdentifikator": e.system_uuid},
        "AktoerTypeKode": "ItSystem",
    }


def _relation(e: Effektuering, role: str, urn: str) -> dict[str, Any]:
    return {
        "Virkning": _virkning(e),
        "Rolle": {"UUIDIdentifikator": RELATION_ROLES[role]},
        "ReferenceID": {"URNIdentifikator": urn},
    }


def to_zeep(e: Effektuering, *, registered: dt.datetime) -> dict[str, Any]:
    """One item of ``ImporterYdelseIndeksInput``'s choice for zeep: the
    ``OekonomiskEffektueringIndeks`` element (an ``oef:ImportInputType``) and in it the index
    object of the same name (the WSDL's types do the rest)."""
    amount = kroner(e.amount_ore)
    relations: dict[str, Any] = {
        "OekonomiskYdelseEffektueringRelation": [
            {
                **_relation(e, "ydelse", f"urn:oio:toekgw:ydelse:{e.benefit}"),
                "YdelsesperiodeStartdato": _midnight(e.period_start),
                "YdelsesperiodeSlutdato": _midnight(e.period_end),
                "Ydelsesbeloeb": amount,
                "Klassifikationsbeskrivelse": e.benefit,
            }
        ],
        "Aktoer": [
            {
                **_relation(e, "aktoer", f"urn:oio:cvr-nr:{e.municipality_cvr}"),
                "CVR-nr": e.municipality_cvr,
            }
        ],
    }
    if e.recipient:
        relations["OekonomiskEffektueringPart"] = [_relation(e, "part", e.recipient)]
    registration = {
        "Tidspunkt": registered,
        "LivscyklusKode": "Importeret",
        "BrugerRef": {"UUIDIdentifikator": e.system_uuid},
        "AttributListe": {
            "Egenskaber": [
                {
                    "Virkning": _virkning(e),
                    "BrugervendtNoegle": e.key,
                    "Startdato": _midnight(e.period_start),
                    "Slutdato": _midnight(e.period_end),
                    "Dispositionsdato": _midnight(e.disposition_date),
                    "BeloebEfterSkatATP": amount,
                    "BeloebSendtTilUdbetaling": amount,
                    "BeloebUdbetalt": amount,
                    "Udbetalingsafdeling": e.paying_unit,
                }
            ]
        },
        "TilstandListe": {},
        "RelationListe": relations,
    }
    index = {"UUIDIdentifikator": e.object_id, "Registrering": [registration]}
    return {"OekonomiskEffektueringIndeks": {"OekonomiskEffektueringIndeks": index}}


def _text(element: etree._Element, path: str, where: str) -> str:
    value = element.findtext(path, namespaces=NS)
    if value is None or not value.strip():
        raise NotAnImport(f"{where}: {path.rsplit('/', 1)[-1]} is missing")
    return value.strip()


def _day(element: etree._Element, path: str, where: str) -> dt.date:
    """The day of an ``xs:dateTime`` (the index writes a day as its midnight)."""
    text = _text(element, path, where)
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        name = path.rsplit(":", 1)[-1]
        raise NotAnImport(f"{where}: {name} is not a date in the years 0001-9999") from None


def _urn(registration: etree._Element, relation: str) -> str | None:
    return registration.findtext(
        f"oef:RelationListe/oef:{relation}/gd:ReferenceID/sd:URNIdentifikator", namespaces=NS
    )


_AKTOER_CVR = "oef:RelationListe/oef:Aktoer/oef:CVR-nr"


def read_import(body: etree._Element) -> list[Effektuering]:
    """The effectuations of an ``ImporterYdelseIndeksInput`` (already schema-valid), each
    with its newest registration's properties; a ``BevillingIndeks`` is not TØK's to send."""
    if etree.QName(body).text != f"{{{NS['yi']}}}ImporterYdelseIndeksInput":
        raise NotAnImport(f"the body is {etree.QName(body).localname}, not an import")
    found: list[Effektuering] = []
    for n, item in enumerate(body, start=1):
        where = f"/ImporterYdelseIndeksInput/*[{n}]"
        if etree.QName(item).localname != "OekonomiskEffektueringIndeks":
            raise NotAnImport(f"{where}: only OekonomiskEffektueringIndeks is expected")
        index = item.find("oef:OekonomiskEffektueringIndeks", NS)
        registrations = [] if index is None else index.findall("oef:Registrering", NS)
        registration = registrations[-1] if registrations else None
        if index is None or registration is None:
            raise NotAnImport(f"{where}: no registration")
        props = registration.find("oef:AttributListe/oef:Egenskaber", NS)
        if props is None:
            raise NotAnImport(f"{where}: no Egenskaber")
        found.append(
            Effektuering(
                object_id=_text(index, "sd:UUIDIdentifikator", where),
                key=_text(props, "oef:BrugervendtNoegle", where),
                municipality_cvr=_text(registration, _AKTOER_CVR, where),
                recipient=_urn(registration, "OekonomiskEffektueringPart"),
                disposition_date=_day(props, "oef:Dispositionsdato", where),
                period_start=_day(props, "oef:Startdato", where),
                period_end=_day(props, "oef:Slutdato", where),
                amount_ore=_ore(_text(props, "oef:BeloebUdbetalt", where), where),
                paying_unit=_text(props, "oef:Udbetalingsafdeling", where),
                benefit=registration.findtext(
                    "oef:RelationListe/oef:OekonomiskYdelseEffektueringRelation"
                    "/oef:Klassifikationsbeskrivelse",
                    default="",
                    namespaces=NS,
                ),
                system_uuid=_text(registration, "sd:BrugerRef/sd:UUIDIdentifikator", where),
            )
        )
    if not found:
        raise NotAnImport("the import holds no effectuation")
    return found


@dataclasses.dataclass(frozen=True, slots=True)
class IndexAnswer:
    """``StandardRetur`` of the index's answer: 20 is success."""

    status: int
    text: str

    @property
    def ok(self) -> bool:
        return self.status == 20


def read_answer(status: object, text: object) -> IndexAnswer:
    """The index's ``StandardRetur`` from its parts (as zeep or lxml hand them over)."""
    try:
        return IndexAnswer(int(str(status)), str(text or ""))
    except ValueError as exc:
        raise NotAnImport(f"StatusKode {status!r} is not a number") from exc


def _envelope(transaction_uuid: str | None) -> tuple[etree._Element, etree._Element]:
    soap = f"{{{NS['soap12']}}}"
    envelope = etree.Element(soap + "Envelope", nsmap={"soap": NS["soap12"]})
    if transaction_uuid:
        header = etree.SubElement(envelope, soap + "Header")
        request = etree.SubElement(header, f"{{{NS['hdr']}}}RequestHeader", nsmap={"h": NS["hdr"]})
        etree.SubElement(request, f"{{{NS['hdr']}}}TransactionUUID").text = transaction_uuid
    return envelope, etree.SubElement(envelope, soap + "Body")


def build_answer(transaction_uuid: str | None, answer: IndexAnswer) -> bytes:
    """The index's SOAP 1.2 answer to ``importer`` (what the simulator sends)."""
    envelope, body = _envelope(transaction_uuid)
    output = etree.SubElement(
        body, f"{{{NS['yi']}}}ImporterYdelseIndeksOutput", nsmap={"yi": NS["yi"], "sd": NS["sd"]}
    )
    retur = etree.SubElement(output, _SD + "StandardRetur")
    etree.SubElement(retur, _SD + "StatusKode").text = str(answer.status)
    etree.SubElement(retur, _SD + "FejlbeskedTekst").text = answer.text
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def build_fault(code: str, text: str, *, sender: bool = True) -> bytes:
    """A SOAP 1.2 fault (``soap:Sender`` for a refused request, ``soap:Receiver`` otherwise)
    with ``code`` as its subcode."""
    soap = f"{{{NS['soap12']}}}"
    envelope, body = _envelope(None)
    fault = etree.SubElement(body, soap + "Fault")
    code_element = etree.SubElement(fault, soap + "Code")
    etree.SubElement(code_element, soap + "Value").text = (
        "soap:Sender" if sender else "soap:Receiver"
    )
    subcode = etree.SubElement(code_element, soap + "Subcode")
    etree.SubElement(subcode, soap + "Value", nsmap={"sd": NS["sd"]}).text = f"sd:{code}"
    reason = etree.SubElement(fault, soap + "Reason")
    lang = {"{http://www.w3.org/XML/1998/namespace}lang": "da"}
    etree.SubElement(reason, soap + "Text", lang).text = text
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))
