"""SF1590_A finance vouchers as ``FinansbilagBatch`` files (XML, schema ``xsd/oir``, ours).

A batch file is written as a stream: :func:`batch_head`, then one :func:`voucher_xml` per
voucher (each checked to balance first: an unbalanced voucher raises
:class:`~toekgw.formats.oir.model.UnbalancedVoucher` and is never written), then
:data:`BATCH_TAIL`. That lets a caller cap a file by vouchers and bytes without building it
twice, and keeps memory flat however many vouchers a run makes. :func:`validate_batch`
checks a written file against the schema while streaming it; :func:`read_batch` yields the
vouchers of a file (what the ERP does with it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from toekgw.formats.findings import Finding, Severity
from toekgw.formats.oir._xml import (
    BATCH_NS,
    CODE_PREFIX,
    OirDocumentError,
    format_amount,
    parse_amount,
    parse_date,
    schema,
)
from toekgw.formats.oir.model import Account, Party, Posting, Side, Voucher

__all__ = [
    "BATCH_TAIL",
    "BatchHeader",
    "batch_head",
    "read_batch",
    "read_batch_header",
    "validate_batch",
    "voucher_xml",
]

_Q = "{" + BATCH_NS + "}"
BATCH_TAIL = b"</FinansbilagBatch>\n"


@dataclass(frozen=True, slots=True)
class BatchHeader:
    batch_id: str
    created_at: dt.datetime
    sender_system: str
    authority: str


def batch_head(header: BatchHeader) -> bytes:
    """The start of a batch file, up to its first voucher."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<FinansbilagBatch xmlns="{BATCH_NS}">'
        f"<BatchId>{escape(header.batch_id)}</BatchId>"
        f"<CreatedAt>{header.created_at.isoformat()}</CreatedAt>"
        f"<SenderSystem>{escape(header.sender_system)}</SenderSystem>"
        f"<Authority>{escape(header.authority)}</Authority>\n"
    ).encode()


def _text(tag: str, value: str | None) -> str:
    return "" if value is None else f"<{tag}>{escape(value)}</{tag}>"


def _posting(p: Posting) -> str:
    account = p.account
    party = ""
    if p.party is not None:
        party = f"<Part><{p.party.kind}>{escape(p.party.number)}</{p.party.kind}></Part>"
    return (
        f"<Postering><PosteringId>{escape(p.posting_id)}</PosteringId>"
        f"<PosteringDato>{p.date.isoformat()}</PosteringDato>"
        f"<Beloeb>{format_amount(p.amount_ore)}</Beloeb>"
        f"<DebetKredit>{p.side.value}</DebetKredit>"
        f"<Konto><Funktion>{account.funktion}</Funktion><Dranst>{account.dranst}</Dranst>"
        f"<Art>{account.art}</Art>{_text('SortimentKlasse', p.class_id)}</Konto>"
        f"{party}{_text('Tekst', p.text)}{_text('BundtId', p.bundle_id)}"
        f"{_text('BetalingId', p.payment_id)}{_text('Forretningsnoegle', p.business_key)}"
        "</Postering>"
    )


def voucher_xml(voucher: Voucher) -> bytes:
    """One ``Finansbilag`` element (a line of its own in the file). Raises
    :class:`~toekgw.formats.oir.model.UnbalancedVoucher` unless debit equals credit."""
    voucher.require_balanced()
    parts = [
        f"<Finansbilag><BilagId>{escape(voucher.voucher_id)}</BilagId>"
        f"<BilagNummer>{escape(voucher.number)}</BilagNummer>"
        f"<BilagDato>{voucher.date.isoformat()}</BilagDato>"
        f"{_text('Tekst', voucher.text)}{_text('Reference', voucher.reference)}"
    ]
    parts.extend(_posting(p) for p in voucher.postings)
    parts.append("</Finansbilag>\n")
    return "".join(parts).encode()


def validate_batch(path: Path, *, max_findings: int = 1) -> list[Finding]:
    """Stream ``path`` through the schema (memory flat in its size); the first error as a
    finding (libxml2 stops a streaming validation at the first error).

    The file is read twice: once for well-formedness (a file cut short, junk after the end, a
    DOCTYPE), once through the schema. lxml's schema-validating ``iterparse`` with entities
    left unresolved passes a file that is cut short, and resolving them is no option: an
    entity bomb takes that reader down (a crash, not an exception)."""
    try:
        doctype = _well_formed(path)
        if doctype:
            return [
                Finding(
                    f"{CODE_PREFIX}.xml.doctype",
                    Severity.ERROR,
                    "a DOCTYPE is not allowed (entities and DTDs are refused)",
                    line=1,
                    expected="no DOCTYPE",
                    file=path.name,
                )
            ][:max_findings]
        for _, element in _stream(path, schema=schema("Finansbilag")):
            if element.tag == _Q + "Finansbilag":
                _release(element)
    except etree.XMLSyntaxError as exc:
        return [
            Finding(
                f"{CODE_PREFIX}.xsd.batch",
                Severity.ERROR,
                str(exc.msg),
                line=exc.lineno or None,
                file=path.name,
            )
        ][:max_findings]
    return []


def _stream(path: Path, **options: object) -> etree.iterparse:
    """``path``'s elements as they end, entities never resolved, no DTD, no network."""
    return etree.iterparse(
        str(path),
        events=("end",),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,
        **options,
    )


def _well_formed(path: Path) -> bool:
    """Raise :class:`lxml.etree.XMLSyntaxError` unless ``path`` is well-formed XML; whether
    it has a DOCTYPE."""
    reader = _stream(path)
    for _, element in reader:
        _release(element)
    root = reader.root
    return root is not None and bool(root.getroottree().docinfo.doctype)


def _release(element: etree._Element) -> None:
    element.clear()
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def read_batch_header(path: Path) -> BatchHeader:
    """The envelope of a batch file, read without reading its vouchers;
    :class:`~toekgw.formats.oir._xml.OirDocumentError` if it is not there to read (check the
    whole file with :func:`validate_batch`)."""
    values: dict[str, str] = {}
    try:
        for _, element in _stream(path):
            name = etree.QName(element).localname
            if name in _HEADER:
                values[name] = element.text or ""
            if name == "Authority":
                break
    except etree.XMLSyntaxError as exc:
        raise OirDocumentError(path.name, [_unreadable(path, str(exc.msg), exc.lineno)]) from None
    missing = [name for name in _HEADER if name not in values]
    if missing:
        raise OirDocumentError(
            path.name, [_unreadable(path, f"no {missing[0]} in the batch's envelope", None)]
        )
    try:
        created = dt.datetime.fromisoformat(values["CreatedAt"])
    except ValueError:
        message = f"CreatedAt {values['CreatedAt']!r} is not a date and time"
        raise OirDocumentError(path.name, [_unreadable(path, message, None)]) from None
    return BatchHeader(values["BatchId"], created, values["SenderSystem"], values["Authority"])


_HEADER = ("BatchId", "CreatedAt", "SenderSystem", "Authority")


def _unreadable(path: Path, message: str, line: int | None) -> Finding:
    return Finding(
        f"{CODE_PREFIX}.xsd.batch", Severity.ERROR, message, line=line or None, file=path.name
    )


def read_batch(path: Path) -> Iterator[Voucher]:
    """The vouchers of a batch file, streamed after the whole file passed the schema
    (:class:`~toekgw.formats.oir._xml.OirDocumentError` names the first problem)."""
    findings = validate_batch(path)
    if findings:
        raise OirDocumentError(path.name, findings)
    for _, element in _stream(path, tag=_Q + "Finansbilag"):
        yield _voucher(element, path.name)
        _release(element)


def _child(element: etree._Element, name: str) -> str | None:
    found = element.find(_Q + name)
    return None if found is None else (found.text or "")


def _date(element: etree._Element, name: str, what: str) -> dt.date:
    found = element.find(_Q + name)
    assert found is not None  # the schema requires it
    return parse_date(found, what=what)


def _voucher(element: etree._Element, what: str) -> Voucher:
    postings = []
    for p in element.iterfind(_Q + "Postering"):
        konto = p.find(_Q + "Konto")
        assert konto is not None
        part = p.find(_Q + "Part")
        party = None
        if part is not None and len(part):
            party = Party(etree.QName(part[0]).localname, part[0].text or "")
        postings.append(
            Posting(
                posting_id=_child(p, "PosteringId") or "",
                date=_date(p, "PosteringDato", what),
                amount_ore=parse_amount(_child(p, "Beloeb") or ""),
                side=Side(_child(p, "DebetKredit") or ""),
                account=Account(
                    _child(konto, "Funktion") or "",
                    _child(konto, "Dranst") or "",
                    _child(konto, "Art") or "",
                ),
                class_id=_child(konto, "SortimentKlasse"),
                text=_child(p, "Tekst"),
                bundle_id=_child(p, "BundtId"),
                payment_id=_child(p, "BetalingId"),
                business_key=_child(p, "Forretningsnoegle"),
                party=party,
            )
        )
    return Voucher(
        voucher_id=_child(element, "BilagId") or "",
        number=_child(element, "BilagNummer") or "",
        date=_date(element, "BilagDato", what),
        postings=postings,
        text=_child(element, "Tekst"),
        reference=_child(element, "Reference"),
    )
