"""Sending vouchers: batches claimed in the journal first, then one file each over
Serviceplatformen (file + trigger + technical receipt).

1. :func:`claim_batches`: the ``built`` vouchers of each municipality go into batches of at
   most ``max_vouchers_per_file`` vouchers and ``max_bytes_per_file`` bytes; each batch is
   journaled (``claimed``) with its vouchers (``batched``) before any file exists. Its id is
   a UUIDv5 of its first voucher: stable.
2. :func:`send_batches`: each claimed batch is written from the journal alone (the same bytes
   every time: its ``CreatedAt`` is the claim's), checked against the schema, and sent with
   :func:`toekgw.adapters.serviceplatform.send_file`, which journals the file before the upload
   and resumes an unfinished send of the same bytes. When the platform's receipt is in, the
   batch is ``sent`` (its vouchers ``sent``, waiting for the ERP's answer) or, refused by the
   platform, ``failed`` (on the error list; sent again by ``send_batches(retry_failed=True)``).

A crash anywhere re-sends the same file under the same ``SendersFileId`` and the same voucher
ids, so the ERP recognises (and drops) what it already booked.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from toekgw.adapters.oir.model import OIR_NAMESPACE
from toekgw.adapters.oir.plan import voucher_number, voucher_of
from toekgw.adapters.oir.settings import OirSettings
from toekgw.adapters.oir.store import COUNTERPART, HELD_SUBJECT, BooksJournal
from toekgw.adapters.serviceplatform import ServiceplatformSettings, send_file
from toekgw.formats.findings import Finding, Severity
from toekgw.formats.oir import BATCH_TAIL, BatchHeader, batch_head, validate_batch, voucher_xml
from toekgw.gateway.faults import crash_point
from toekgw.gateway.journal.books import BatchRow, VoucherRow
from toekgw.gateway.kinds import register_kind
from toekgw.gateway.outbound import outbound_kind
from toekgw.gateway.transport.files import FileTransport

__all__ = ["FILE_KIND", "SentBatch", "batch_file", "claim_batches", "send_batches"]

#: The journal kind of our voucher files.
FILE_KIND = outbound_kind("erp-voucher-file")
register_kind(FILE_KIND)

#: Built vouchers read a page at a time by :func:`claim_batches`.
_PAGE = 1_000


@dataclass(frozen=True, slots=True)
class SentBatch:
    batch_id: str
    file_name: str
    vouchers: int
    state: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {
            "batch_id": self.batch_id,
            "file": self.file_name,
            "vouchers": self.vouchers,
            "state": self.state,
            "message": self.message,
        }


def _voucher_bytes(journal: BooksJournal, v: VoucherRow) -> bytes:
    rows = journal.postings(v.id)
    first = min((r.event_row for r in rows if r.event_row is not None), default=v.id)
    number = voucher_number(v.kind, v.group, v.day, first)
    return voucher_xml(voucher_of(v.voucher_id, v.day, number, rows))


def _built_by_group(journal: BooksJournal) -> Iterator[VoucherRow]:
    """The built vouchers ordered by municipality, then row id, read ``_PAGE`` at a time (a
    voucher held or batched before its page is read is left out)."""
    after: tuple[str, int] | None = None
    while page := journal.vouchers_by_group("built", after=after, limit=_PAGE):
        after = (page[-1].group, page[-1].id)
        yield from page


def claim_batches(journal: BooksJournal, settings: OirSettings) -> list[str]:
    """Put every built voucher of a configured municipality into a batch; the new batch ids.

    The vouchers are read in municipality order a page at a time, and a batch is claimed as
    soon as it is full or its municipality ends: memory holds a page and one batch (at most
    ``max_vouchers_per_file`` vouchers), whatever the number of vouchers."""
    claimed: list[str] = []
    envelope = len(batch_head(_header(settings, "0" * 36, "2000-01-01T00:00:00+00:00", "0" * 8)))
    envelope += len(BATCH_TAIL)
    for group, vouchers in groupby(_built_by_group(journal), key=lambda v: v.group):
        if group not in settings.municipalities:
            for v in vouchers:
                _hold(
                    journal,
                    v,
                    "oir.voucher.authority",
                    f"municipality {group} has no [oir.municipalities.{group}] table (its CVR)",
                )
            continue
        batch: list[VoucherRow] = []
        size = envelope
        for v in vouchers:
            data_size = len(_voucher_bytes(journal, v))
            if envelope + data_size > settings.max_bytes_per_file:
                _hold(
                    journal,
                    v,
                    "oir.voucher.size",
                    f"voucher {v.voucher_id} is {data_size} bytes: larger than "
                    f"max_bytes_per_file ({settings.max_bytes_per_file}) with its envelope",
                )
                continue
            full = len(batch) >= settings.max_vouchers_per_file
            if batch and (full or size + data_size > settings.max_bytes_per_file):
                claimed.append(_claim(journal, group, batch))
                batch, size = [], envelope
            batch.append(v)
            size += data_size
        if batch:
            claimed.append(_claim(journal, group, batch))
    return claimed


def _hold(journal: BooksJournal, v: VoucherRow, code: str, reason: str) -> None:
    """Keep a voucher from sending, on the error list (it can be regenerated)."""
    with journal.transaction():
        journal.set_voucher_state(v.id, "held", reason=reason, expect=("built",))
        journal.add_error(
            counterpart=COUNTERPART,
            subject=HELD_SUBJECT,
            findings=[Finding(code, Severity.ERROR, reason)],
            business_key=v.voucher_id,
        )


def _claim(journal: BooksJournal, group: str, batch: list[VoucherRow]) -> str:
    batch_id = str(uuid.uuid5(OIR_NAMESPACE, f"batch|{batch[0].voucher_id}"))
    file_name = f"FINANSBILAG_{group}_{batch_id}.xml"
    with journal.transaction(durable=True):
        journal.add_batch(batch_id, group, file_name, [v.id for v in batch])
    crash_point("oir.send.after_claim")
    return batch_id


def _header(settings: OirSettings, batch_id: str, created_at: str, cvr: str) -> BatchHeader:
    return BatchHeader(batch_id, dt.datetime.fromisoformat(created_at), settings.sender_system, cvr)


def batch_file(journal: BooksJournal, settings: OirSettings, batch: BatchRow, path: Path) -> Path:
    """Write the batch's file from the journal (atomically: a temporary name, fsync, rename)."""
    cvr = settings.municipalities[batch.group].cvr
    header = _header(settings, batch.batch_id, batch.created_at, cvr)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as out:
        out.write(batch_head(header))
        for v in journal.vouchers(batch_id=batch.batch_id):
            out.write(_voucher_bytes(journal, v))
        out.write(BATCH_TAIL)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)
    return path


def send_batches(
    journal: BooksJournal,
    transport: FileTransport,
    settings: OirSettings,
    sp: ServiceplatformSettings,
    outbox: Path,
    *,
    poll: float = 0.5,
    retry_failed: bool = False,
) -> list[SentBatch]:
    """Claim batches of the built vouchers, then send every claimed batch (and finish the
    ones a crash or a late receipt left open; ``retry_failed``: also those the platform
    refused, once the cause is mended)."""
    claim_batches(journal, settings)
    sent = []
    states = ["claimed", "uploaded"] + (["failed"] if retry_failed else [])
    for batch in journal.batches(states=states):
        path = batch_file(journal, settings, batch, outbox / batch.file_name)
        findings = validate_batch(path)
        if findings:  # our own writer's bug: never send it, say so loudly
            journal.add_error(
                counterpart=COUNTERPART,
                subject="voucher-file",
                findings=findings,
                file_name=batch.file_name,
            )
            sent.append(
                SentBatch(batch.batch_id, batch.file_name, 0, "invalid", findings[0].message)
            )
            continue
        crash_point("oir.send.after_write")
        outcome = send_file(
            journal,
            transport,
            path,
            recipients=[settings.erp],
            sender=sp.party,
            counterpart=COUNTERPART,
            kind=FILE_KIND,
            out_dir=sp.out_dir,
            in_dir=sp.in_dir,
            receipt_timeout=sp.receipt_timeout,
            poll=poll,
        )
        tx = outcome.transmission
        vouchers = journal.vouchers(batch_id=batch.batch_id)
        with journal.transaction(durable=True):
            if tx.state == "receipted":
                journal.set_batch_state(batch.batch_id, "sent", transmission_id=tx.id)
                for v in vouchers:
                    journal.set_voucher_state(v.id, "sent", reason=None, expect=("batched",))
            elif tx.state == "failed":
                journal.set_batch_state(batch.batch_id, "failed", transmission_id=tx.id)
            else:
                journal.set_batch_state(batch.batch_id, "uploaded", transmission_id=tx.id)
        sent.append(
            SentBatch(batch.batch_id, batch.file_name, len(vouchers), tx.state, outcome.message)
        )
    return sent
