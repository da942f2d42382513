"""Sending a file over a file exchange: journal, upload, trigger, technical receipt.

The names and documents are the exchange's (:class:`~toekgw.gateway.exchange.FileExchange`; on
Serviceplatformen ``<name>.trigger`` and ``<name>.sftpreceipt``):

1. The transmission is journaled (durably) before anything is uploaded: its ``ref`` is our
   stable id and goes into the trigger as ``SendersFileId``.
2. The file is uploaded to ``OUT/<name>`` (temporary name, then rename), then its trigger to
   ``OUT/<name>.trigger``: the platform takes nothing before the trigger is complete.
3. The technical receipt ``IN/<name>.sftpreceipt`` is matched to the transmission by
   ``SendersFileId``; its ``FileTransferUUID`` is journaled, the transmission is ``receipted``
   (or ``failed`` with the platform's error messages on the error list), and only then is the
   receipt removed.

Sending the same file again (same SHA-256) resumes an unfinished send and refuses a finished
one. A crash after the upload and before the journal knows it re-uploads under the same
``SendersFileId``: delivery is at least once, with a stable id for the receiver to drop the
second copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from toekgw.formats.findings import Finding, Severity
from toekgw.gateway.errors import InputError
from toekgw.gateway.exchange import EnvelopeError, FileExchange, Receipt
from toekgw.gateway.faults import crash_point
from toekgw.gateway.journal import (
    Direction,
    DuplicateTransmission,
    Journal,
    KindSpec,
    Lifecycle,
    NewTransmission,
    Transmission,
)
from toekgw.gateway.refusals import list_refusal
from toekgw.gateway.transport.files import (
    FileTransport,
    RemoteNameError,
    TooLarge,
    check_remote_name,
    remote_join,
)

__all__ = [
    "OUTBOUND_FILE",
    "ReceiptOutcome",
    "Recorder",
    "SendOutcome",
    "collect_receipts",
    "send_file",
]

RECEIPT_LIMIT = 1 << 20

#: Gives an upload (a transmission in a pending state) its technical receipt, read from the
#: file named last: journals it durably, or raises and leaves the receipt in place.
Recorder = Callable[[Journal, Transmission, Receipt, str], None]

OUTBOUND_FILE = Lifecycle(
    initial=("prepared",),
    transitions={
        "prepared": ("uploaded",),
        "uploaded": ("receipted", "failed", "prepared"),
        "failed": ("prepared",),
    },
    descriptions={
        "prepared": "journaled; not yet (completely) uploaded",
        "uploaded": "file and trigger uploaded; waiting for the technical receipt",
        "receipted": "the platform's technical receipt says it took the file",
        "failed": "the platform's receipt reports errors (see toekgw errors)",
    },
)


def outbound_kind(name: str) -> KindSpec:
    """The journal kind of files sent over an exchange (``"<counterpart>-file"`` by default)."""
    return KindSpec(name, Direction.OUT, OUTBOUND_FILE, None)


@dataclass(frozen=True, slots=True)
class ReceiptOutcome:
    name: str
    transmission_id: int | None
    receipt: Receipt | None
    message: str


@dataclass(frozen=True, slots=True)
class SendOutcome:
    transmission: Transmission
    message: str

    @property
    def done(self) -> bool:
        return self.transmission.state in ("receipted", "failed")


def _digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def send_file(
    journal: Journal,
    transport: FileTransport,
    local: Path,
    *,
    exchange: FileExchange,
    recipients: Sequence[str],
    sender: str,
    counterpart: str,
    kind: KindSpec | None = None,
    out_dir: str = "OUT",
    in_dir: str = "IN",
    receipt_timeout: float = 120.0,
    poll: float = 0.5,
) -> SendOutcome:
    """Send ``local`` to ``recipients``; wait up to ``receipt_timeout`` for the receipt.

    Three steps, each resumed where a crash left it: the send is claimed in the journal
    (``prepared``) before anything is uploaded; the file and its trigger are uploaded only
    from ``prepared`` (then ``uploaded``); the receipt is collected until it comes or the
    time is up (a later send of the same file collects it)."""
    if not local.is_file():
        raise InputError(f"no file {local} to send")
    name = check_remote_name(local.name)
    if not recipients:
        raise InputError("no recipient given")
    spec = kind or outbound_kind(f"{counterpart}-file")
    journal.define_kind(spec)
    size, sha = _digest(local)
    remote = remote_join(out_dir, name)
    tx = _claim(
        journal,
        NewTransmission(
            counterpart=counterpart,
            kind=spec.name,
            state="prepared",
            file_name=name,
            size=size,
            sha256=sha,
            remote_path=remote,
            local_path=str(local.resolve()),
            meta={"recipients": list(recipients), "sender": sender},
            reason=f"to send to {', '.join(recipients)}",
        ),
        again=f"to send again, to {', '.join(recipients)}",
    )
    crash_point("outbound.after_journal")
    tx_id = tx.id

    def collect() -> Transmission:
        collect_receipts(
            journal,
            transport,
            exchange=exchange,
            in_dir=in_dir,
            counterpart=counterpart,
            kinds=(spec.name,),
        )
        return journal.get_transmission(tx_id)

    tx = collect()
    if tx.state == "prepared":
        trigger = exchange.build_trigger(
            file_name=name, size=size, sender=sender, recipients=recipients, senders_file_id=tx.ref
        )
        trigger_path = remote_join(out_dir, exchange.trigger_name(name))
        tx = _upload(journal, transport, tx, local, remote, trigger, trigger_path)
    deadline = time.monotonic() + receipt_timeout
    while tx.state == "uploaded" and time.monotonic() < deadline:
        time.sleep(poll)
        tx = collect()
    return SendOutcome(tx, _sent_message(tx, receipt_timeout))


def _upload(
    journal: Journal,
    transport: FileTransport,
    tx: Transmission,
    local: Path,
    remote: str,
    trigger: bytes,
    trigger_path: str,
) -> Transmission:
    """Upload ``local`` to ``remote``, then its trigger (the platform takes nothing before
    the trigger is complete); then the transmission is ``uploaded``."""
    transport.put(local, remote)
    transport.put_bytes(trigger, trigger_path)
    crash_point("outbound.after_upload")
    return journal.set_state(
        tx.id,
        "uploaded",
        expect="prepared",
        reason=f"uploaded {remote} and its trigger (SendersFileId {tx.ref})",
    )


def _claim(journal: Journal, new: NewTransmission, *, again: str) -> Transmission:
    """The send of ``new`` claimed in the journal, durably: a new transmission, a failed one
    made ``prepared`` again (its reason ``again``), or one under way resumed as it is. A file
    receipted before is refused (:class:`DuplicateTransmission`)."""
    existing = journal.find_transmission(sha256=new.sha256, direction=Direction.OUT)
    if existing is not None and (existing.state == "receipted" or not _resumes(existing, new)):
        # The journal keeps one outbound transmission per content: the same bytes under
        # another name, of another kind or to other recipients are not this send resumed
        # (taking them for it would report as sent what never went where it was asked to).
        sha = new.sha256 or ""
        recipients = _recipients(new.meta)
        to = f" to {', '.join(recipients)}" if recipients else ""
        raise DuplicateTransmission(f"file {new.file_name!r}{to} (SHA-256 {sha[:16]}…)", existing)
    with journal.transaction(durable=True):
        if existing is None:
            return journal.create_transmission(new)
        if existing.state == "failed":
            journal.update_transmission(existing.id, meta=dict(new.meta), reason=again)
            return journal.set_state(
                existing.id, "prepared", expect="failed", reason="sent again after an error receipt"
            )
        journal.note(existing.id, f"send resumed in state {existing.state}")
        return existing


def _resumes(existing: Transmission, new: NewTransmission) -> bool:
    """Whether sending ``new`` again is sending ``existing`` (same content): the same file
    name, counterpart and kind, and, unless the first went wrong, the same recipients."""
    same_file = (existing.file_name, existing.counterpart, existing.kind) == (
        new.file_name, new.counterpart, new.kind,
    )  # fmt: skip
    if existing.state == "failed":
        return same_file
    return same_file and sorted(_recipients(existing.meta)) == sorted(_recipients(new.meta))


def _recipients(meta: Mapping[str, object]) -> list[str]:
    recipients = meta.get("recipients")
    return [str(r) for r in recipients] if isinstance(recipients, list) else []


def _sent_message(tx: Transmission, receipt_timeout: float) -> str:
    if tx.state == "receipted":
        return f"sent; the platform took it as transfer {tx.transfer_id}"
    if tx.state == "failed":
        return "the platform refused it (see toekgw errors)"
    return (
        f"uploaded; no technical receipt within {receipt_timeout:g} s "
        "(run the same send again to collect it)"
    )


def collect_receipts(
    journal: Journal,
    transport: FileTransport,
    *,
    exchange: FileExchange,
    in_dir: str = "IN",
    counterpart: str | None = None,
    kinds: Collection[str] | None = None,
    pending: Collection[str] = ("uploaded", "prepared"),
    record: Recorder | None = None,
) -> list[ReceiptOutcome]:
    """Journal every technical receipt in IN/ that answers one of our uploads, then remove
    it. A receipt that answers nothing of ours is left in place and reported; one that cannot
    be read (an unsafe name, a link, too large, not valid) is left in place and, given the
    ``counterpart``, put on its error list. The other receipts are taken all the same.

    ``kinds``: only receipts of uploads of these journal kinds (the others are left in place
    for their own flow). An upload in one of the ``pending`` states is given its receipt by
    ``record`` (by default: ``uploaded`` -> ``receipted`` or ``failed``, on the error list);
    a flow whose transmissions have states of their own passes its own."""
    record = record or _record
    outcomes = []

    def refuse(name: str, reason: str) -> None:
        if counterpart is not None:
            list_refusal(journal, counterpart, name, reason)
        outcomes.append(ReceiptOutcome(name, None, None, f"left in place: {reason}"))

    for remote in transport.list(in_dir):
        if not exchange.is_receipt(remote.name) or remote.name.startswith("."):
            continue
        try:
            check_remote_name(remote.name)
        except RemoteNameError as exc:
            refuse(repr(remote.name), str(exc))
            continue
        if remote.kind != "file":
            refuse(remote.name, f"{remote.name} is not a regular file; not followed")
            continue
        path = remote_join(in_dir, remote.name)
        try:
            receipt = exchange.read_receipt(
                transport.read_bytes(path, limit=RECEIPT_LIMIT), name=path
            )
        except FileNotFoundError:
            continue
        except (EnvelopeError, TooLarge) as exc:
            refuse(remote.name, str(exc))
            continue
        tx = journal.find_transmission(ref=receipt.senders_file_id or "")
        if tx is None or tx.direction is not Direction.OUT:
            outcomes.append(
                ReceiptOutcome(
                    remote.name, None, receipt, "left in place: answers no upload of ours"
                )
            )
            continue
        if kinds is not None and tx.kind not in kinds:
            outcomes.append(
                ReceiptOutcome(remote.name, tx.id, receipt, "left in place for its own flow")
            )
            continue
        if tx.state in pending:
            record(journal, tx, receipt, remote.name)
        with contextlib.suppress(FileNotFoundError):
            transport.remove(path)
        outcomes.append(ReceiptOutcome(remote.name, tx.id, receipt, "journaled"))
    return outcomes


def _record(journal: Journal, tx: Transmission, receipt: Receipt, name: str) -> None:
    with journal.transaction(durable=True):
        if tx.state == "prepared":
            # The upload finished before a crash let us say so.
            tx = journal.set_state(
                tx.id, "uploaded", expect="prepared", reason="upload confirmed by its receipt"
            )
        journal.update_transmission(
            tx.id, transfer_id=receipt.transfer_id, reason=f"technical receipt {name} read"
        )
        if receipt.ok:
            journal.set_state(
                tx.id,
                "receipted",
                expect="uploaded",
                reason=f"technical receipt: {receipt.message or 'OK'} "
                f"(transfer {receipt.transfer_id})",
            )
            return
        journal.set_state(
            tx.id,
            "failed",
            expect="uploaded",
            reason=f"technical receipt with {len(receipt.errors)} error(s)",
        )
        journal.add_error(
            counterpart=tx.counterpart,
            subject="upload",
            transmission_id=tx.id,
            file_name=tx.file_name,
            findings=[
                Finding(e.code, Severity.ERROR, e.text, file=tx.file_name) for e in receipt.errors
            ],
        )
