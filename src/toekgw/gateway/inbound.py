"""Receiving files over a file transport, crash-safely: the generic pipeline.

The platform's own documents around a file are its :class:`~toekgw.gateway.exchange.FileExchange`'s
(on Serviceplatformen ``IN/<name>`` is completed by ``IN/<name>.metadata``). For each file in IN/
that has its description:

1. read and check the description (its document, the sender is one we expect, we are a recipient);
2. download to local staging (a temporary name, fsync, rename) and check size and SHA-256;
3. refuse a file already journaled (same transfer UUID or SHA-256) before processing it;
4. let the format's :class:`InboundProcessor` validate it (read-only: it may consult the
   journal for earlier items and deliveries);
5. in one durable transaction (``synchronous=FULL``): the transmission, its items (or its place
   on the error list with every finding), and the audit events of steps 1-4;
6. only then remove (or archive) the remote file and its metadata, and keep the local copy.

A crash anywhere leaves a state from which :meth:`InboundPipeline.poll_once` continues
deterministically: before step 5 nothing is journaled and the remote file is still there, so it
is fetched again; after step 5 the transmission is in ``journaled`` or ``rejected`` and only the
remote clean-up of step 6 is repeated (after checking, by its description's transfer id, that
the remote file is still the one we journaled).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from toekgw.formats.findings import Finding, Severity, mask_cpr_in_text
from toekgw.gateway.errors import GatewayError, directory_problem
from toekgw.gateway.exchange import Envelope, EnvelopeError, FileExchange
from toekgw.gateway.faults import crash_point
from toekgw.gateway.flowlock import flow_lock
from toekgw.gateway.journal import (
    Direction,
    DuplicateItem,
    DuplicateTransmission,
    Journal,
    JournalReader,
    KindSpec,
    Lifecycle,
    NewItem,
    NewTransmission,
    Transmission,
)
from toekgw.gateway.journal.sqlite import now
from toekgw.gateway.jsonlog import correlation
from toekgw.gateway.money import kroner
from toekgw.gateway.refusals import list_refusal
from toekgw.gateway.transport.files import (
    FileTransport,
    RemoteNameError,
    TooLarge,
    TransportError,
    check_remote_name,
    fsync_dir,
    remote_join,
)

__all__ = [
    "INBOUND_FILE",
    "Candidate",
    "InboundPipeline",
    "InboundProcessor",
    "Outcome",
    "Processed",
    "StagedFile",
    "inbound_kind",
]

log = logging.getLogger(__name__)

METADATA_LIMIT = 1 << 20

#: The states of a received file. An adapter may extend it (``INBOUND_FILE.extended``) with
#: what happens after ``received``, never change these.
INBOUND_FILE = Lifecycle(
    initial=("journaled", "rejected"),
    transitions={"journaled": ("received",), "rejected": ("error-listed",)},
    descriptions={
        "journaled": "validated and journaled; the remote copy is not yet removed",
        "rejected": "on the error list; the remote copy is not yet removed",
        "received": "journaled, and the remote copy removed or archived",
        "error-listed": "on the error list, and the remote copy removed or archived",
    },
)


def inbound_kind(name: str, items: Lifecycle, transmission: Lifecycle = INBOUND_FILE) -> KindSpec:
    """The kind of an inbound file whose items move through ``items``."""
    for source, target in (("journaled", "received"), ("rejected", "error-listed")):
        if not transmission.allows(source, target):
            raise ValueError(f"{name}: the transmission lifecycle must extend INBOUND_FILE")
    return KindSpec(name, Direction.IN, transmission, items)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A complete file in IN/: its name, size and (checked) envelope. Nothing fetched yet;
    :meth:`head` reads the start of the remote file, for a processor's ``priority``."""

    name: str
    remote_path: str
    size: int
    envelope: Envelope
    reader: Callable[[str, int], bytes] | None = field(default=None, repr=False, compare=False)

    def head(self, size: int) -> bytes:
        """The first ``size`` bytes of the remote file (b"" if it is gone or unreadable now:
        a peek only ranks files; the download that follows is what counts)."""
        if self.reader is None:
            return b""
        try:
            return self.reader(self.remote_path, size)
        except (FileNotFoundError, TransportError):
            return b""


@dataclass(frozen=True, slots=True)
class StagedFile:
    """The downloaded file in local staging: size and SHA-256 checked."""

    path: Path
    name: str
    size: int
    sha256: str
    envelope: Envelope


@dataclass(slots=True)
class Processed:
    """A processor's verdict. ``accepted``: journal the items (an iterable: it may stream the
    file a second time). Otherwise the file goes on the error list with ``findings``, which
    are journaled in either case (warnings, or record-level errors of an accepted file).

    ``delivery_key`` (e.g. data supplier + delivery number) makes the same delivery under
    another name a duplicate; a rejected file does not claim it, so a corrected delivery may
    reuse the number.

    ``more_items``: items that start in another initial state than ``item_state`` (a G68
    recall starts as ``recall-requested``), as ``(state, items)`` pairs journaled after
    ``items`` in the same transaction.
    """

    accepted: bool
    findings: Sequence[Finding] = ()
    delivery_key: str | None = None
    items: Iterable[NewItem] = ()
    item_state: str = "received"
    more_items: Sequence[tuple[str, Iterable[NewItem]]] = ()
    summary: str = ""
    subject: str = "delivery"
    meta: Mapping[str, object] = field(default_factory=dict)


class InboundProcessor(Protocol):
    """What a format adds to the pipeline (the G68 adapter implements this)."""

    #: The counterpart whose files these are (``"ksd"``) and the kind they are journaled as.
    counterpart: str
    kind: KindSpec

    def priority(self, candidate: Candidate) -> int:
        """Lower goes first within one poll (e.g. straks deliveries before the rest)."""
        ...

    def process(self, staged: StagedFile, journal: JournalReader) -> Processed:
        """Validate the staged file completely; read the journal, never write it."""
        ...


#: The transmission's meta keys of its findings' counts (:attr:`Outcome.errors`, ``warnings``).
LISTED_ERRORS, LISTED_WARNINGS = "listed_errors", "listed_warnings"

OutcomeStatus = Literal["received", "rejected", "duplicate", "refused", "waiting", "resumed"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one remote file in one poll."""

    name: str
    status: OutcomeStatus
    message: str
    transmission_id: int | None = None
    #: The findings of a received file that went to the error list with it: errors (their
    #: records were not journaled) and warnings (journaled, flagged).
    errors: int = 0
    warnings: int = 0

    def __str__(self) -> str:
        # The remote file's name is the sender's to choose, the message quotes it and the
        # sender's texts: the line every command prints for the file masks them.
        return mask_cpr_in_text(f"{self.name}: {self.status}: {self.message}")


class InboundPipeline:
    def __init__(
        self,
        journal: Journal,
        transport: FileTransport,
        processor: InboundProcessor,
        *,
        exchange: FileExchange,
        party: str,
        senders: Collection[str],
        staging: Path,
        in_dir: str = "IN",
        after_receive: Literal["remove", "archive"] = "remove",
        archive_dir: str | None = None,
    ) -> None:
        self.journal = journal
        self.transport = transport
        self.processor = processor
        self.exchange = exchange
        self.party = party
        self.senders = frozenset(senders)
        self.in_dir = in_dir
        self.after_receive = after_receive
        self.archive_dir = archive_dir
        if after_receive == "archive" and not archive_dir:
            raise ValueError("after_receive='archive' needs an archive_dir")
        self.root = Path(staging) / processor.counterpart
        for sub in ("incoming", "received", "rejected", "duplicates"):
            _make_directory(self.root / sub, Path(staging))
        journal.define_kind(processor.kind)

    # -- one poll -------------------------------------------------------------------------

    def poll_once(self) -> list[Outcome]:
        """Finish what a crash interrupted, then receive every complete file, in priority
        order. Returns one outcome per remote file looked at."""
        with self._exclusive():
            outcomes = self.resume()
            candidates, others = self.scan()
            outcomes.extend(others)
            ranked = sorted(candidates, key=lambda c: (self.processor.priority(c), c.name))
            for candidate in ranked:
                outcomes.append(self.receive(candidate))
            return outcomes

    def _exclusive(self) -> AbstractContextManager[None]:
        # Two receivers of one counterpart would download into the same staging names.
        return flow_lock(
            self.root / ".lock",
            f"receive for {self.processor.counterpart}",
            journal=self.journal.location,
        )

    def resume(self) -> list[Outcome]:
        pending = self.journal.transmissions(
            counterpart=self.processor.counterpart,
            kind=self.processor.kind.name,
            states=("journaled", "rejected"),
        )
        return [self._dispose(t, resumed=True) for t in pending]

    def scan(self) -> tuple[list[Candidate], list[Outcome]]:
        """The complete files in IN/ that are for us from an expected sender. One that cannot
        be taken (an unsafe name, not a regular file, an unusable description) is refused
        alone, left in place and put on the error list; the rest of the poll goes on."""
        names = {f.name: f for f in self.transport.list(self.in_dir)}
        candidates: list[Candidate] = []
        outcomes: list[Outcome] = []
        for name, remote in sorted(names.items()):
            try:
                check_remote_name(name)
            except RemoteNameError as exc:
                outcomes.append(self._refuse(repr(name), str(exc)))
                continue
            if self.exchange.is_control_file(name) or name.startswith("."):
                continue
            envelope = names.get(self.exchange.envelope_name(name))
            if envelope is None:
                outcomes.append(Outcome(name, "waiting", "no metadata yet (not complete)"))
                continue
            if remote.kind != "file" or envelope.kind != "file":
                which = name if remote.kind != "file" else envelope.name
                kind = "a symbolic link" if "link" in (remote.kind, envelope.kind) else "special"
                outcomes.append(
                    self._refuse(name, f"{which} is {kind}, not a regular file; not followed")
                )
                continue
            checked = self._check_envelope(name)
            if isinstance(checked, Outcome):
                if checked.status != "waiting":
                    outcomes.append(checked)
                continue
            candidates.append(
                Candidate(
                    name,
                    remote_join(self.in_dir, name),
                    remote.size,
                    checked,
                    reader=self.transport.read_head,
                )
            )
        return candidates, outcomes

    def _refuse(self, name: str, reason: str) -> Outcome:
        """Leave the file in place and put it on the error list."""
        list_refusal(self.journal, self.processor.counterpart, name, reason)
        return Outcome(name, "refused", f"left in place: {reason}")

    def _check_envelope(self, name: str) -> Envelope | Outcome:
        where = remote_join(self.in_dir, self.exchange.envelope_name(name))
        try:
            data = self.transport.read_bytes(where, limit=METADATA_LIMIT)
            envelope = self.exchange.read_envelope(data, name=where)
        except (EnvelopeError, TooLarge) as exc:
            return self._refuse(name, str(exc))
        except FileNotFoundError:
            return Outcome(name, "waiting", "metadata vanished")
        if envelope.file_name != name:
            return self._refuse(name, f"{where} describes {envelope.file_name!r}, not {name!r}")
        if envelope.sender not in self.senders:
            # Another kind of file for another receiver: not ours to touch.
            return Outcome(name, "waiting", f"from {envelope.sender!r}, not an expected sender")
        if not self.exchange.addressed_to(envelope, self.party):
            return self._refuse(
                name,
                f"{where} names recipients {', '.join(envelope.recipients)}, not us ({self.party})",
            )
        return envelope

    # -- one file -------------------------------------------------------------------------

    def receive(self, candidate: Candidate) -> Outcome:
        """Fetch, check, journal and dispose of one file; every line logged meanwhile carries
        its transfer id (the correlation id)."""
        with correlation(candidate.envelope.transfer_id):
            return self._receive(candidate)

    def _receive(self, candidate: Candidate) -> Outcome:
        name, envelope = candidate.name, candidate.envelope
        uuid = envelope.transfer_id
        read_at = now()
        incoming = self.root / "incoming"
        part = incoming / f"{uuid}.part"
        staged_path = incoming / uuid
        part.unlink(missing_ok=True)
        try:
            fetched = self.transport.fetch(candidate.remote_path, part)
        except FileNotFoundError:
            part.unlink(missing_ok=True)
            return Outcome(name, "waiting", "vanished from IN/ before it could be fetched")
        part.replace(staged_path)
        fsync_dir(incoming)
        if _sha256(staged_path) != fetched.sha256:
            # The bytes on our disk are not the bytes that arrived: try again next poll.
            staged_path.unlink(missing_ok=True)
            raise TransportError(f"{name}: the staged copy does not match what was downloaded")
        fetched_at = now()
        crash_point("inbound.after_download")
        staged = StagedFile(staged_path, name, fetched.size, fetched.sha256, envelope)
        try:
            return self._take(candidate, staged, read_at, fetched_at)
        except Exception:
            # Nothing journaled (a full disk, a broken processor): the staged copy goes, so a
            # failed run leaves no file behind; the remote file is still there for the next.
            if self.journal.find_transmission(transfer_id=uuid) is None:
                staged_path.unlink(missing_ok=True)
            raise

    def _take(
        self, candidate: Candidate, staged: StagedFile, read_at: str, fetched_at: str
    ) -> Outcome:
        """Refuse a duplicate, let the processor judge the staged file, journal it, dispose."""
        name, envelope, fetched = candidate.name, staged.envelope, staged
        uuid, staged_path = envelope.transfer_id, staged.path

        # Duplicates are refused only once a local copy exists: what is refused is kept.
        first = self.journal.find_transmission(transfer_id=uuid) or self.journal.find_transmission(
            sha256=fetched.sha256, direction=Direction.IN
        )
        if first is not None:
            return self._refuse_duplicate(name, envelope, first, staged_path)

        if fetched.size != envelope.size:
            processed = Processed(
                accepted=False,
                subject="file",
                findings=[
                    Finding(
                        "INBOUND-SIZE",
                        Severity.ERROR,
                        "the file is not the size its metadata gives: damaged or cut short",
                        expected=str(envelope.size),
                        found=str(fetched.size),
                        file=name,
                    )
                ],
            )
        else:
            processed = self.processor.process(staged, self.journal)

        events = [
            (
                read_at,
                f"metadata {self.exchange.envelope_name(name)} read: transfer {uuid}, "
                f"sender {envelope.sender}",
            ),
            (
                fetched_at,
                f"downloaded {candidate.remote_path}: {fetched.size} bytes, "
                f"SHA-256 {fetched.sha256}",
            ),
        ]
        try:
            tx = self._journal(staged, candidate, processed, events)
        except DuplicateTransmission as dup:
            return self._refuse_duplicate(name, envelope, dup.first, staged_path, str(dup))
        except DuplicateItem as dup:
            refused = Processed(
                accepted=False,
                subject="delivery",
                findings=[
                    *processed.findings,
                    Finding("INBOUND-DUP-ITEM", Severity.ERROR, str(dup), file=name),
                ],
                summary=processed.summary,
                meta={**processed.meta, "delivery_key": processed.delivery_key},
            )
            tx = self._journal(staged, candidate, refused, events)
        crash_point("inbound.after_commit")
        return self._dispose(tx, resumed=False)

    def _journal(
        self,
        staged: StagedFile,
        candidate: Candidate,
        processed: Processed,
        events: list[tuple[str, str]],
    ) -> Transmission:
        journal = self.journal
        with journal.transaction(durable=True):
            tx = journal.create_transmission(self._transmission(staged, candidate, processed))
            for at, text in events:
                journal.note(tx.id, text, at=at)
            if processed.accepted:
                self._journal_items(tx, staged, processed)
            if processed.findings:
                journal.add_error(
                    counterpart=self.processor.counterpart,
                    subject=processed.subject,
                    transmission_id=tx.id,
                    file_name=staged.name,
                    findings=[f.in_file(staged.name) for f in processed.findings],
                )
        return journal.get_transmission(tx.id)

    def _transmission(
        self, staged: StagedFile, candidate: Candidate, processed: Processed
    ) -> NewTransmission:
        """The received file as the journal keeps it: accepted (``journaled``) or not."""
        envelope = staged.envelope
        keep = self.root / ("received" if processed.accepted else "rejected")
        errors, warnings = _tally(processed.findings)
        meta: dict[str, object] = {
            "sender": envelope.sender,
            "recipients": list(envelope.recipients),
            "senders_file_id": envelope.senders_file_id,
            "summary": processed.summary,
            **processed.meta,
            LISTED_ERRORS: errors,
            LISTED_WARNINGS: warnings,
        }
        if not processed.accepted and processed.delivery_key is not None:
            meta["delivery_key"] = processed.delivery_key
        return NewTransmission(
            counterpart=self.processor.counterpart,
            kind=self.processor.kind.name,
            state="journaled" if processed.accepted else "rejected",
            file_name=staged.name,
            size=staged.size,
            sha256=staged.sha256,
            transfer_id=envelope.transfer_id,
            delivery_key=processed.delivery_key if processed.accepted else None,
            remote_path=candidate.remote_path,
            local_path=str(keep / f"{envelope.transfer_id}-{staged.name}"),
            meta=meta,
            reason=(
                f"validated: {processed.summary or 'accepted'}"
                if processed.accepted
                else f"rejected: {_count(processed.findings)}"
            ),
        )

    def _journal_items(self, tx: Transmission, staged: StagedFile, processed: Processed) -> None:
        """An accepted file's items, and its likely duplicate payments on the error list."""
        journal = self.journal
        reason = f"journaled from {staged.name}"
        added = journal.add_items(tx.id, processed.items, state=processed.item_state, reason=reason)
        for state, items in processed.more_items:
            # Each call reports the duplicate payments of the whole transmission: the last
            # call's report is the complete one.
            added = journal.add_items(tx.id, items, state=state, reason=reason)
        if added.duplicate_payments:
            journal.add_error(
                counterpart=self.processor.counterpart,
                subject="record",
                transmission_id=tx.id,
                file_name=staged.name,
                findings=[
                    Finding(
                        "JOURNAL-DUP-PAYMENT",
                        Severity.WARNING,
                        f"likely duplicate payment: {m.item.business_key!r} matches "
                        f"{m.earlier.describe()}",
                        line=m.item.seq,
                    )
                    for m in added.duplicate_payments
                ],
            )

    # -- after the commit -----------------------------------------------------------------

    def _dispose(self, tx: Transmission, *, resumed: bool) -> Outcome:
        """Keep the local copy, then remove (or archive) the remote file and its metadata,
        then mark the transmission final. Each step may be repeated after a crash."""
        name = tx.file_name or tx.ref
        uuid = tx.transfer_id or ""
        staged = self.root / "incoming" / uuid
        if tx.local_path and staged.exists():
            keep = Path(tx.local_path)
            staged.replace(keep)
            fsync_dir(keep.parent)
        remote = tx.remote_path or remote_join(self.in_dir, name)
        if self._still_ours(remote, uuid):
            self._drop_remote(remote)
            crash_point("inbound.after_remote_dispose")
        meta_path = self.exchange.envelope_name(remote)
        if self._envelope_id(meta_path) == uuid:
            self._drop_remote(meta_path)
        done = "received" if tx.state == "journaled" else "error-listed"
        how = "archived" if self.after_receive == "archive" else "removed"
        self.journal.set_state(
            tx.id, done, expect=tx.state, reason=f"remote copy {how}; kept as {tx.local_path}"
        )
        errors = _meta_count(tx.meta, LISTED_ERRORS)
        warnings = _meta_count(tx.meta, LISTED_WARNINGS)
        if tx.state == "journaled":
            text = f"{tx.item_count} items journaled ({_kroner(tx.total_ore)})"
            listed = [
                f"{n} {what}{'' if n == 1 else 's'}"
                for n, what in ((errors, "error"), (warnings, "warning"))
                if n
            ]
            if listed:
                text = f"{text}; {' and '.join(listed)} on the error list (toekgw errors)"
            status: OutcomeStatus = "received"
        else:
            text = "put on the error list (toekgw errors)"
            status = "rejected"
        if resumed:
            text = f"{text}; finished after an interruption"
        return Outcome(name, "resumed" if resumed else status, text, tx.id, errors, warnings)

    def _still_ours(self, remote: str, uuid: str) -> bool:
        # The payload goes first and the metadata last, so a payload whose metadata names
        # another transfer (or has none) is a new file of the same name: leave it alone.
        if self.transport.stat(remote) is None:
            return False
        return self._envelope_id(self.exchange.envelope_name(remote)) == uuid

    def _envelope_id(self, path: str) -> str | None:
        try:
            data = self.transport.read_bytes(path, limit=METADATA_LIMIT)
        except FileNotFoundError:
            return None
        try:
            return self.exchange.read_envelope(data, name=path).transfer_id
        except EnvelopeError:
            return None

    def _drop_remote(self, remote: str) -> None:
        try:
            if self.after_receive == "archive":
                assert self.archive_dir is not None
                self.transport.rename(remote, remote_join(self.archive_dir, remote.rsplit("/")[-1]))
            else:
                self.transport.remove(remote)
        except FileNotFoundError:
            pass

    def _refuse_duplicate(
        self,
        name: str,
        envelope: Envelope,
        first: Transmission,
        staged: Path,
        text: str | None = None,
    ) -> Outcome:
        """A file or delivery we already have: not processed. The remote copy is removed once
        the local copy is kept, so it is not reported again on every poll; the refusal is
        noted on the first transmission's audit trail."""
        message = text or (
            f"duplicate refused: transfer {envelope.transfer_id} was already received as "
            f"{first.describe()}"
            if first.transfer_id == envelope.transfer_id
            else f"duplicate refused: the same file was already received as {first.describe()}"
        )
        kept = self.root / "duplicates" / f"{envelope.transfer_id}-{name}"
        staged.replace(kept)
        fsync_dir(kept.parent)
        self.journal.note(
            first.id,
            f"{message.replace('duplicate refused: ', 'refused a duplicate: ')}"
            f" (arrived as {name}, transfer {envelope.transfer_id}; kept as {kept})",
        )
        remote = remote_join(self.in_dir, name)
        self._drop_remote(remote)
        self._drop_remote(self.exchange.envelope_name(remote))
        return Outcome(name, "duplicate", message, first.id)


def _meta_count(meta: Mapping[str, object], key: str) -> int:
    """A count the transmission's meta holds (0 for one journaled before it was kept)."""
    value = meta.get(key, 0)
    return value if isinstance(value, int) else 0


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _tally(findings: Sequence[Finding]) -> tuple[int, int]:
    """How many of ``findings`` are errors, and how many warnings."""
    errors = sum(1 for f in findings if f.is_error)
    return errors, len(findings) - errors


def _count(findings: Sequence[Finding]) -> str:
    errors, warnings = _tally(findings)
    return f"{errors} errors, {warnings} warnings"


def _kroner(ore: int) -> str:
    return kroner(ore).replace(",", " ") + " kr"


def _make_directory(path: Path, staging: Path) -> None:
    """``path`` under ``staging``, made if missing; a :class:`GatewayError` naming the staging
    directory and the system's reason when it cannot be (a file in the way, no permission)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GatewayError(
            f"staging directory {staging}: cannot make {path}: {directory_problem(path, exc)}"
        ) from exc
