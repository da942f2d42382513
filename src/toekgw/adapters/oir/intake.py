"""Files from the other side: the ERP's voucher status and Klassifikation's sortiments.

Both arrive over Serviceplatformen SFTP and are received by the core's pipeline
(:func:`toekgw.adapters.serviceplatform.receive_pipeline`): download, schema check, journal,
remote clean-up, each crash-safe. The processors here only validate (a file that cannot be
used goes on the error list whole). Applying a received file to the books is a second step,
:func:`apply_received`: in one durable transaction per file, recorded as applied, so a crash
before it applies the file next time and a crash after it changes nothing.

- ERP status: an accepted voucher is final (``accepted``); a rejected one is ``rejected`` and
  goes on the error list with the ERP's reasons, to be regenerated (``toekgw oir regenerate``).
  An answer about a voucher already answered changes nothing (the ERP answers a duplicate
  voucher id again).
- Sortiment: applied to the replica (:func:`toekgw.adapters.oir.replica.apply_delivery`);
  an older delivery is kept in the journal but never overwrites a newer version.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from toekgw.adapters.oir.replica import apply_delivery
from toekgw.adapters.oir.store import COUNTERPART, BooksJournal
from toekgw.adapters.serviceplatform import ReceiveSettings
from toekgw.formats.findings import Finding, Severity, mask_cpr_in_text
from toekgw.formats.oir import (
    OirDocumentError,
    VoucherStatus,
    read_sortiment,
    read_status,
)
from toekgw.gateway.faults import crash_point
from toekgw.gateway.inbound import Candidate, Processed, StagedFile, inbound_kind
from toekgw.gateway.journal import JournalReader, KindSpec, Lifecycle, Transmission
from toekgw.gateway.kinds import register_kind

__all__ = [
    "SORTIMENT_KIND",
    "STATUS_KIND",
    "Intake",
    "SortimentProcessor",
    "StatusProcessor",
    "apply_received",
]

_NO_ITEMS = Lifecycle(("received",), {}, {"received": "not used: the file is applied whole"})
STATUS_KIND = inbound_kind("erp-voucher-status", _NO_ITEMS)
register_kind(STATUS_KIND)
SORTIMENT_KIND = inbound_kind("sf7002-sortiment", _NO_ITEMS)
register_kind(SORTIMENT_KIND)
REJECTED_SUBJECT = "voucher-rejected"
MAX_FILE = 64 * 1024 * 1024


@dataclass(slots=True)
class Intake:
    files: int = 0
    accepted: int = 0
    rejected: int = 0
    unchanged: int = 0
    unknown: int = 0
    #: received files whose staging copy was gone before they were applied (error list)
    gone: int = 0
    #: one line per file, for the operator: masked (a file's name is its sender's to choose)
    messages: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """``applied``: the count of files applied (``files`` is ``oir receive --json``'s list
        of each received file's outcome, beside these)."""
        return {
            "applied": self.files,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "unchanged": self.unchanged,
            "unknown": self.unknown,
            "gone": self.gone,
            "messages": list(self.messages),
        }


class _Processor(ABC):
    """What the ERP's two inbound files share: the size limit, the finding of a file that
    does not read, the transmission's metadata; a subclass reads its own format."""

    kind: KindSpec
    what: str

    def __init__(self, profile: ReceiveSettings) -> None:
        self.counterpart = profile.counterpart

    def priority(self, candidate: Candidate) -> int:
        return 0

    @abstractmethod
    def read(self, data: bytes, name: str) -> tuple[str, dict[str, object]]:
        """The file's summary line and its transmission metadata; raises
        :class:`OirDocumentError` (with its findings) on a file that does not read."""

    def process(self, staged: StagedFile, journal: JournalReader) -> Processed:
        if staged.size > MAX_FILE:
            return Processed(
                False,
                [Finding("oir.file.size", Severity.ERROR, f"larger than {MAX_FILE} bytes")],
                subject=self.what,
            )
        try:
            summary, meta = self.read(staged.path.read_bytes(), staged.name)
        except OirDocumentError as exc:
            return Processed(False, exc.findings, subject=self.what, summary=str(exc))
        return Processed(True, summary=summary, meta=meta, subject=self.what)


class StatusProcessor(_Processor):
    """``[receive.<name>]`` for the ERP's ``FinansbilagStatus`` files."""

    kind = STATUS_KIND
    what = "voucher-status"

    def read(self, data: bytes, name: str) -> tuple[str, dict[str, object]]:
        answer = read_status(data, name=name)
        return (
            f"status of batch {answer.batch_id}: {len(answer.answers)} vouchers",
            {"batch_id": answer.batch_id},
        )


class SortimentProcessor(_Processor):
    """``[receive.<name>]`` for Klassifikation's ``Sortiment`` deliveries."""

    kind = SORTIMENT_KIND
    what = "sortiment"

    def read(self, data: bytes, name: str) -> tuple[str, dict[str, object]]:
        d = read_sortiment(data, name=name)
        return (
            f"sortiment {d.sortiment_id} version {d.version} ({d.delivery.value}, "
            f"{len(d.classes)} classes)",
            {"sortiment_id": d.sortiment_id, "version": d.version},
        )


def _apply_status(journal: BooksJournal, tx: Transmission, data: bytes, into: Intake) -> None:
    answer = read_status(data, name=tx.file_name or f"#{tx.id}")
    for one in answer.answers:
        voucher = journal.voucher(one.voucher_id)
        if voucher is None:
            into.unknown += 1
            journal.add_error(
                counterpart=COUNTERPART,
                subject="stray-answer",
                findings=[
                    Finding(
                        "oir.status.unknown",
                        Severity.ERROR,
                        f"the ERP answered about voucher {one.voucher_id}, which we never built",
                    )
                ],
                transmission_id=tx.id,
                file_name=tx.file_name,
            )
            continue
        if one.status is VoucherStatus.ACCEPTED:
            moved = journal.set_voucher_state(
                voucher.id, "accepted", reason="accepted by the ERP", expect=("batched", "sent")
            )
            into.accepted += moved
        else:
            reasons = "; ".join(f"{e.code}: {e.text}" for e in one.errors) or "no reason given"
            moved = journal.set_voucher_state(
                voucher.id, "rejected", reason=reasons, expect=("batched", "sent")
            )
            if moved:
                into.rejected += 1
                journal.add_error(
                    counterpart=COUNTERPART,
                    subject=REJECTED_SUBJECT,
                    findings=[
                        Finding(
                            f"oir.erp.{e.code}",
                            Severity.ERROR,
                            e.text,
                            field=e.posting_id,
                        )
                        for e in one.errors
                    ]
                    or [Finding("oir.erp.rejected", Severity.ERROR, "rejected, no reason given")],
                    transmission_id=tx.id,
                    business_key=voucher.voucher_id,
                )
        if not moved:
            into.unchanged += 1
    into.messages.append(
        mask_cpr_in_text(f"{tx.file_name}: status of batch {answer.batch_id} applied")
    )


def _apply_sortiment(journal: BooksJournal, tx: Transmission, data: bytes, into: Intake) -> None:
    delivery = read_sortiment(data, name=tx.file_name or f"#{tx.id}")
    outcome = apply_delivery(journal, delivery, transmission_id=tx.id)
    into.messages.append(mask_cpr_in_text(f"{tx.file_name}: {outcome.message}"))
    if outcome.status == "refused":
        journal.add_error(
            counterpart=tx.counterpart,
            subject="sortiment",
            findings=[Finding("oir.sortiment.delta", Severity.ERROR, outcome.message)],
            transmission_id=tx.id,
            file_name=tx.file_name,
        )


_APPLY: dict[str, Callable[[BooksJournal, Transmission, bytes, Intake], None]] = {
    STATUS_KIND.name: _apply_status,
    SORTIMENT_KIND.name: _apply_sortiment,
}


def apply_received(journal: BooksJournal, kind: KindSpec, counterpart: str) -> Intake:
    """Apply every received file of ``kind`` not applied yet, oldest first."""
    into = Intake()
    journal.define_kind(kind)
    for tx in sorted(
        journal.transmissions(counterpart=counterpart, kind=kind.name, states=("received",)),
        key=lambda t: t.id,
    ):
        data = _staged_copy(tx)
        if data is None:
            _copy_gone(journal, tx, into)
            continue
        with journal.transaction(durable=True):
            if not journal.mark_applied(tx.id):
                continue
            into.files += 1
            _APPLY[kind.name](journal, tx, data, into)
            crash_point("oir.intake.before_commit")
    return into


def _staged_copy(tx: Transmission) -> bytes | None:
    """The received file's staging copy; None when it is gone (also when retention deletes
    it between a look and the read)."""
    if not tx.local_path:
        return None
    try:
        return Path(tx.local_path).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None


def _copy_gone(journal: BooksJournal, tx: Transmission, into: Intake) -> None:
    """A received file not applied yet whose staging copy is gone (retention deleted it after
    days with no receive, or a hand did): on the error list once, never skipped in silence."""
    with journal.transaction(durable=True):
        if not journal.mark_applied(tx.id):
            return
        into.gone += 1
        text = (
            f"{tx.file_name}: the staging copy of this received file is gone before it was "
            "applied (removed by retention or by hand): what it says is not in the books; ask "
            "its sender for it again"
        )
        into.messages.append(mask_cpr_in_text(text))
        journal.add_error(
            counterpart=tx.counterpart,
            subject="file",
            transmission_id=tx.id,
            file_name=tx.file_name,
            findings=[Finding("oir.intake.copy_gone", Severity.ERROR, text)],
        )
