"""eIndkomst over KOMBIT's SF0770_B (``IndkomstOplysningIndberet``) on Serviceplatformen.

The municipal route to eIndkomst: bulk reports are uploaded as files over Serviceplatformen's
SFTP, and SKAT's receipts and error notices come back as files over SFTP; tax cards come
through the Beskedfordeler (:mod:`toekgw.adapters.eindkomst.besked`), or, where that is not
configured, as files over SFTP too (journaled with the route ``sftp``). That the SFTP payload
is the fixed-record delivery as on MQ is our assumption (not public).

Send (:meth:`ServiceplatformRoute.hand_over`), for a delivery already journaled with its
outbox file: upload the file to ``OUT/<main report id>.eik``, then its trigger (recipient
SKAT's party, ``SendersFileId`` = the delivery's ref ``eik-<main report id>``), then journal
it ``uploaded``; the platform's technical receipt makes it ``sent`` (its items too) or
``failed`` (on the error list). One process uploads at a time (a lock beside the outbox). A
crash after the upload and before the journal knows uploads the same bytes under the same
``SendersFileId`` again; SKAT drops the copy by report id.

Receive (:meth:`ServiceplatformRoute.take`): first the technical receipts of our uploads; then
each complete file in ``IN/`` (its ``.metadata`` present) that SKAT's party sent to us: the
description checked as the inbound pipeline checks it, the bytes read (their size checked
against the description), journaled and applied durably (dropped if the same bytes came
before), and only then the remote file and its description removed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

from toekgw.adapters.eindkomst.answers import ReceiveResult
from toekgw.adapters.eindkomst.kinds import COUNTERPART, DELIVERY
from toekgw.adapters.eindkomst.routes import Apply, mark_sent
from toekgw.adapters.serviceplatform import SERVICEPLATFORM
from toekgw.formats.findings import Finding, Severity
from toekgw.gateway.errors import is_environmental
from toekgw.gateway.exchange import EnvelopeError, FileExchange, Receipt
from toekgw.gateway.faults import crash_point
from toekgw.gateway.flowlock import flow_lock
from toekgw.gateway.journal import Journal, Transmission
from toekgw.gateway.outbound import RECEIPT_LIMIT, collect_receipts
from toekgw.gateway.refusals import list_refusal
from toekgw.gateway.transport.files import (
    FileTransport,
    RemoteFile,
    RemoteNameError,
    TooLarge,
    check_remote_name,
    remote_join,
)

__all__ = ["ServiceplatformRoute"]

#: The largest answer file taken (an error/advice file for a full 4 MiB delivery is smaller).
ANSWER_LIMIT = 64 << 20


@dataclass(slots=True)
class ServiceplatformRoute:
    """SF0770_B: ``party`` is ours on the platform, ``skat_party`` SKAT's (the recipient of
    our uploads and the only sender whose files this route takes)."""

    transport: FileTransport
    party: str
    skat_party: str
    lock: Path
    out_dir: str = "OUT"
    in_dir: str = "IN"
    receipt_timeout: float = 120.0
    poll: float = 0.5
    exchange: FileExchange = SERVICEPLATFORM
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    name: ClassVar[str] = "serviceplatform"
    pending_states: ClassVar[Sequence[str]] = ("journaled", "uploaded")

    # -- send ------------------------------------------------------------------------------

    def hand_over(self, journal: Journal, tx: Transmission, body: bytes, stamp: str) -> bool:
        with flow_lock(self.lock, "the eIndkomst upload (SF0770_B)"):
            self.collect(journal)  # a receipt for an upload a crash left unjournaled
            if journal.get_transmission(tx.id).state != "journaled":
                return False
            name = check_remote_name(str(tx.file_name))
            trigger = self.exchange.build_trigger(
                file_name=name,
                size=len(body),
                sender=self.party,
                recipients=[self.skat_party],
                senders_file_id=str(tx.ref),
            )
            self.transport.put_bytes(body, remote_join(self.out_dir, name))
            self.transport.put_bytes(
                trigger, remote_join(self.out_dir, self.exchange.trigger_name(name))
            )
            crash_point("eindkomst.sf0770.after_upload")
            with journal.transaction(durable=True):
                journal.update_transmission(
                    tx.id, reason="handed to the platform", meta={"uploaded_at": stamp}
                )
                journal.set_state(
                    tx.id,
                    "uploaded",
                    expect="journaled",
                    reason=f"uploaded {remote_join(self.out_dir, name)} and its trigger to "
                    f"{self.skat_party} (SendersFileId {tx.ref})",
                )
        return True

    def settle(self, journal: Journal, transmission_ids: Sequence[int]) -> None:
        deadline = time.monotonic() + self.receipt_timeout
        while True:
            self.collect(journal)
            waiting = [
                i for i in transmission_ids if journal.get_transmission(i).state == "uploaded"
            ]
            if not waiting or time.monotonic() >= deadline:
                return
            self.sleep(self.poll)

    def collect(self, journal: Journal) -> None:
        """Journal the platform's technical receipts of our uploads."""
        collect_receipts(
            journal,
            self.transport,
            exchange=self.exchange,
            in_dir=self.in_dir,
            counterpart=COUNTERPART,
            kinds=(DELIVERY.name,),
            pending=("journaled", "uploaded"),
            record=self._receipt,
        )

    def _receipt(self, journal: Journal, tx: Transmission, receipt: Receipt, name: str) -> None:
        """The platform's technical receipt of a delivery: ``sent`` (with SKAT) or ``failed``."""
        with journal.transaction(durable=True):
            if tx.state == "journaled":  # uploaded before a crash let the journal say so
                journal.set_state(
                    tx.id, "uploaded", expect="journaled", reason="upload confirmed by its receipt"
                )
            journal.update_transmission(
                tx.id, transfer_id=receipt.transfer_id, reason=f"technical receipt {name} read"
            )
            if receipt.ok:
                mark_sent(
                    journal,
                    tx.id,
                    expect="uploaded",
                    reason=f"technical receipt: {receipt.message or 'OK'} "
                    f"(transfer {receipt.transfer_id})",
                    # With SKAT since the upload the platform took (the overdue clock starts there).
                    stamp=str(journal.get_transmission(tx.id).meta.get("uploaded_at", "")),
                )
                return
            journal.set_state(
                tx.id, "failed", expect="uploaded", reason=f"refused by the platform ({name})"
            )
            journal.add_error(
                counterpart=COUNTERPART,
                subject="upload",
                transmission_id=tx.id,
                file_name=tx.file_name,
                findings=[
                    Finding(e.code, Severity.ERROR, e.text, file=tx.file_name)
                    for e in receipt.errors
                ],
            )

    # -- receive ---------------------------------------------------------------------------

    def take(
        self, journal: Journal, apply: Apply, result: ReceiveResult, *, wait: float, limit: int
    ) -> None:
        self.collect(journal)
        deadline = time.monotonic() + wait
        while True:
            files = self._answers(journal)
            if files or time.monotonic() >= deadline:
                break
            self.sleep(min(self.poll, max(0.0, deadline - time.monotonic())))
        for remote in files:
            if result.messages >= limit:
                break
            outcome = self._take_one(journal, apply, remote)
            if outcome != "other":
                result.messages += 1
                result.failed += outcome == "failed"

    def _answers(self, journal: Journal) -> list[RemoteFile]:
        """The complete files in IN/ that SKAT sent us, in name order."""
        listing = {f.name: f for f in self.transport.list(self.in_dir)}
        found = []
        for name, remote in sorted(listing.items()):
            if name.startswith(".") or self.exchange.is_control_file(name):
                continue
            try:
                check_remote_name(name)
            except RemoteNameError as exc:
                list_refusal(journal, COUNTERPART, repr(name), str(exc))
                continue
            envelope = listing.get(self.exchange.envelope_name(name))
            if envelope is None:
                continue  # not complete yet
            if remote.kind != "file" or envelope.kind != "file":
                list_refusal(journal, COUNTERPART, name, "not a regular file; not followed")
                continue
            found.append(remote)
        return found

    def _take_one(
        self, journal: Journal, apply: Apply, remote: RemoteFile
    ) -> Literal["taken", "other", "failed"]:
        """Take one file: journaled and removed, another flow's (or gone), or left listed."""
        name = remote.name
        path = remote_join(self.in_dir, name)
        described = remote_join(self.in_dir, self.exchange.envelope_name(name))
        try:
            envelope = self.exchange.read_envelope(
                self.transport.read_bytes(described, limit=RECEIPT_LIMIT), name=described
            )
            if envelope.sender != self.skat_party:
                return "other"  # another flow's file: not ours to touch
            if envelope.file_name != name or not self.exchange.addressed_to(envelope, self.party):
                raise EnvelopeError(f"{described} does not describe {name!r} for {self.party}")
            body = self.transport.read_bytes(path, limit=ANSWER_LIMIT)
            if len(body) != envelope.size:
                raise EnvelopeError(
                    f"{path} has {len(body)} bytes, its description says {envelope.size}: "
                    "damaged or cut short"
                )
        except FileNotFoundError:
            return "other"  # taken by another run meanwhile
        except (EnvelopeError, TooLarge) as exc:
            list_refusal(journal, COUNTERPART, name, f"left in place: {exc}")
            return "failed"
        try:
            apply(body, "sftp")
        except Exception as exc:
            if is_environmental(exc):
                raise
            list_refusal(journal, COUNTERPART, name, f"left in place: processing failed: {exc}")
            return "failed"
        crash_point("eindkomst.receive.after_journal")
        for done in (path, described):
            with contextlib.suppress(FileNotFoundError):
                self.transport.remove(done)
        return "taken"
