"""The ERP's answer to a voucher batch: ``FinansbilagStatus`` (XML, schema ``xsd/oir``, ours).

One answer names the batch and, per voucher, ``ACCEPTED`` or ``REJECTED`` with the errors
(code, text, the posting they concern).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from toekgw.formats.oir._xml import STATUS_NS, parse_validated
from toekgw.formats.oir.model import VoucherAnswer, VoucherError, VoucherStatus

__all__ = ["BatchAnswer", "build_status", "read_status"]

_Q = "{" + STATUS_NS + "}"


@dataclass(frozen=True, slots=True)
class BatchAnswer:
    batch_id: str
    answers: tuple[VoucherAnswer, ...]


def build_status(batch_id: str, answers: Sequence[VoucherAnswer]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<FinansbilagStatus xmlns="{STATUS_NS}"><BatchId>{escape(batch_id)}</BatchId>',
    ]
    for a in answers:
        parts.append(f"<Bilag><BilagId>{a.voucher_id}</BilagId><Status>{a.status}</Status>")
        for e in a.errors:
            ref = f"<PosteringId>{escape(e.posting_id)}</PosteringId>" if e.posting_id else ""
            parts.append(
                f"<Fejl><Kode>{escape(e.code)}</Kode><Tekst>{escape(e.text)}</Tekst>{ref}</Fejl>"
            )
        parts.append("</Bilag>")
    parts.append("</FinansbilagStatus>\n")
    return "".join(parts).encode()


def read_status(data: bytes, *, name: str = "status") -> BatchAnswer:
    """Parse and validate an answer; :class:`~toekgw.formats.oir._xml.OirDocumentError`
    with every finding if it cannot be used."""
    root = parse_validated(data, "FinansbilagStatus", what=name)
    answers = []
    for bilag in root.iterfind(_Q + "Bilag"):
        errors = tuple(
            VoucherError(
                fejl.findtext(_Q + "Kode") or "",
                fejl.findtext(_Q + "Tekst") or "",
                fejl.findtext(_Q + "PosteringId"),
            )
            for fejl in bilag.iterfind(_Q + "Fejl")
        )
        answers.append(
            VoucherAnswer(
                bilag.findtext(_Q + "BilagId") or "",
                VoucherStatus(bilag.findtext(_Q + "Status") or ""),
                errors,
            )
        )
    return BatchAnswer(root.findtext(_Q + "BatchId") or "", tuple(answers))
