"""What Serviceplatformen does with files, on a directory tree: route, describe, receipt.

Each party (an SFTP login) has ``parties/<party>/IN`` and ``OUT``. A file in a sender's OUT is
picked up only when its ``<name>.trigger`` is there; the trigger is validated exactly as
strictly as the schema says; the file goes to each recipient's ``IN/<name>`` with
``IN/<name>.metadata`` (written last, so a file without metadata is never complete); the sender
gets ``IN/<name>.sftpreceipt``, or an error receipt for a bad trigger. Every pick-up is logged
in ``platform/ledger.jsonl``.

Scripted faults (:class:`Faults`) make it deliver twice, forget the metadata or corrupt a file;
the SSH side (``server.py``) adds dropped connections, refused logins and slowness.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from toekgw.formats.serviceplatform import (
    METADATA_SUFFIX,
    RECEIPT_SUFFIX,
    ROUTING_RECIPIENT,
    TRIGGER_SUFFIX,
    ErrorMessage,
    FileMetadata,
    TechnicalReceipt,
    Trigger,
    XmlDocumentError,
    build_metadata,
    build_technical_receipt,
    parse_trigger,
)

__all__ = ["Delivery", "Faults", "Platform"]

# Our numbering of error receipts (the official codes are not public).
E_BAD_TRIGGER = 100
E_NO_FILE = 101
E_SIZE = 102
E_SENDER = 103
E_RECIPIENT = 104
E_NAME = 105


@dataclass(slots=True)
class Faults:
    """Scripted misbehaviour. Counters count down as faults are used, so that a retry can
    succeed; all access is under the platform's lock (the SSH server runs in another thread)."""

    refuse_logins: int = 0
    drop_after_bytes: int | None = None
    drops: int = 1
    delay: float = 0.0
    deliver_twice: bool = False
    without_metadata: bool = False
    corrupt: str | None = None  # "truncate" (metadata keeps the true size) or "flip"

    def __post_init__(self) -> None:
        if self.corrupt not in (None, "truncate", "flip"):
            raise ValueError(f"corrupt must be 'truncate' or 'flip', not {self.corrupt!r}")


@dataclass(frozen=True, slots=True)
class Delivery:
    transfer_uuid: str
    sender: str
    recipients: tuple[str, ...]
    name: str
    size: int
    sha256: str


@dataclass(slots=True)
class _Redelivery:
    party: str
    name: str
    data: Path
    metadata: bytes
    done: bool = False


@dataclass
class Platform:
    root: Path
    faults: Faults = field(default_factory=Faults)
    routes: dict[str, str] = field(default_factory=dict)  # RecipientAuthority/It-system -> party

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.lock = threading.RLock()
        self._redeliveries: list[_Redelivery] = []
        (self.root / "parties").mkdir(parents=True, exist_ok=True)
        (self.root / "platform" / "archive").mkdir(parents=True, exist_ok=True)

    # -- parties --------------------------------------------------------------------------

    def add_party(self, party: str) -> Path:
        home = self.party_dir(party)
        (home / "IN").mkdir(parents=True, exist_ok=True)
        (home / "OUT").mkdir(parents=True, exist_ok=True)
        return home

    def party_dir(self, party: str) -> Path:
        if not party or "/" in party or party.startswith("."):
            raise ValueError(f"not a party name: {party!r}")
        return self.root / "parties" / party

    def parties(self) -> list[str]:
        return sorted(p.name for p in (self.root / "parties").iterdir() if p.is_dir())

    def deliveries(self) -> list[Delivery]:
        ledger = self.root / "platform" / "ledger.jsonl"
        if not ledger.exists():
            return []
        with ledger.open(encoding="utf-8") as handle:
            return [_delivery(json.loads(line)) for line in handle if line.strip()]

    def upload(self, party: str, name: str, data: bytes, trigger: bytes) -> None:
        """What ``party``'s SFTP upload of ``name`` and its trigger leaves in its OUT/: each
        file complete when it appears (written aside, then renamed), the trigger last - a
        scan running meanwhile (the server's scanner) never sees half a trigger."""
        out = self.party_dir(party) / "OUT"
        self._write(out / name, data)
        self._write(out / f"{name}{TRIGGER_SUFFIX}", trigger)

    # -- the work ---------------------------------------------------------------------------

    def scan(self) -> int:
        """Handle every complete trigger in every OUT; returns how many were handled."""
        handled = 0
        with self.lock:
            for party in self.parties():
                out = self.party_dir(party) / "OUT"
                if not out.is_dir():
                    continue
                # A party is a directory under parties/: one made by hand or by another
                # simulator (`simulate klassifikation`) may lack IN/, where its receipts go.
                (self.party_dir(party) / "IN").mkdir(exist_ok=True)
                for trigger in sorted(out.glob(f"*{TRIGGER_SUFFIX}")):
                    if trigger.name.startswith("."):
                        continue
                    self._handle(party, trigger)
                    handled += 1
            self._redeliver()
        return handled

    def _handle(self, party: str, trigger_path: Path) -> None:
        name = trigger_path.name[: -len(TRIGGER_SUFFIX)]
        out = trigger_path.parent
        transfer_uuid = str(uuid.uuid4())
        try:
            trigger = parse_trigger(trigger_path.read_bytes(), name=f"OUT/{trigger_path.name}")
        except XmlDocumentError as exc:
            self._reject(party, name, transfer_uuid, None, E_BAD_TRIGGER, "invalid trigger", exc)
            self._archive(transfer_uuid, [trigger_path])
            return
        fd = trigger.file
        problem = self._check(party, name, trigger, out / name)
        if problem is not None:
            code, title, text = problem
            self._reject(party, name, transfer_uuid, fd.senders_file_id, code, title, text)
            self._archive(transfer_uuid, [trigger_path])
            return
        recipients = [self._route(r, trigger) for r in fd.recipients]
        payload = out / name
        sha = _sha256(payload)
        metadata = build_metadata(FileMetadata(transfer_uuid, fd, trigger.content))
        for recipient in recipients:
            self._deliver(recipient, name, payload, metadata)
        self._write(
            self.party_dir(party) / "IN" / f"{name}{RECEIPT_SUFFIX}",
            build_technical_receipt(TechnicalReceipt(transfer_uuid, fd.senders_file_id, "OK", ())),
        )
        record = Delivery(transfer_uuid, party, tuple(recipients), name, fd.size, sha)
        self._log(record)
        kept = self._archive(transfer_uuid, [payload, trigger_path])
        if self.faults.deliver_twice:
            for recipient in recipients:
                self._redeliveries.append(_Redelivery(recipient, name, kept / name, metadata))

    def _check(
        self, party: str, name: str, trigger: Trigger, payload: Path
    ) -> tuple[int, str, str] | None:
        fd = trigger.file
        if fd.file_name != name:
            return E_NAME, "name mismatch", f"trigger {name}.trigger names {fd.file_name!r}"
        if not payload.is_file():
            return E_NO_FILE, "file not found", f"no OUT/{name} for the trigger"
        size = payload.stat().st_size
        if size != fd.size:
            return E_SIZE, "size mismatch", f"OUT/{name} has {size} bytes, trigger says {fd.size}"
        if fd.sender != party:
            return (
                E_SENDER,
                "wrong sender",
                f"trigger says sender {fd.sender!r}, login is {party!r}",
            )
        for recipient in fd.recipients:
            try:
                self._route(recipient, trigger)
            except LookupError as exc:
                return E_RECIPIENT, "unknown recipient", str(exc)
        return None

    def _route(self, recipient: str, trigger: Trigger) -> str:
        if recipient == ROUTING_RECIPIENT:
            routing = trigger.content.routing
            if routing is None:
                raise LookupError(f"{ROUTING_RECIPIENT} without SFTPDynamicRoutingInfo")
            for key in (routing.recipient_it_system, routing.recipient_authority):
                if key and key in self.routes:
                    recipient = self.routes[key]
                    break
            else:
                raise LookupError(f"no route for {routing.recipient_authority}")
        if recipient not in self.parties():
            raise LookupError(f"no party {recipient!r} on this platform")
        return recipient

    def _reject(
        self,
        party: str,
        name: str,
        transfer_uuid: str,
        senders_file_id: str | None,
        code: int,
        title: str,
        detail: object,
    ) -> None:
        receipt = TechnicalReceipt(
            transfer_uuid, senders_file_id, None, (ErrorMessage(code, title, str(detail)[:2000]),)
        )
        self._write(
            self.party_dir(party) / "IN" / f"{name}{RECEIPT_SUFFIX}",
            build_technical_receipt(receipt),
        )

    def _deliver(self, party: str, name: str, payload: Path, metadata: bytes) -> None:
        inbox = self.party_dir(party) / "IN"
        inbox.mkdir(exist_ok=True)
        data = payload.read_bytes()
        if self.faults.corrupt == "truncate" and data:
            data = data[: len(data) // 2]
        elif self.faults.corrupt == "flip" and data:
            middle = len(data) // 2
            data = data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]
        self._write(inbox / name, data)
        if not self.faults.without_metadata:
            self._write(inbox / f"{name}{METADATA_SUFFIX}", metadata)

    def _redeliver(self) -> None:
        for job in self._redeliveries:
            inbox = self.party_dir(job.party) / "IN"
            if job.done or (inbox / job.name).exists():
                continue
            if (inbox / f"{job.name}{METADATA_SUFFIX}").exists():
                continue
            self._write(inbox / job.name, job.data.read_bytes())
            self._write(inbox / f"{job.name}{METADATA_SUFFIX}", job.metadata)
            job.done = True
        self._redeliveries = [j for j in self._redeliveries if not j.done]

    def _archive(self, transfer_uuid: str, paths: list[Path]) -> Path:
        target = self.root / "platform" / "archive" / transfer_uuid
        target.mkdir(parents=True, exist_ok=True)
        for path in paths:
            if path.exists():
                path.replace(target / path.name)
        return target

    def _log(self, record: Delivery) -> None:
        line = json.dumps(
            {
                "at": datetime.now(UTC).isoformat(),
                "transfer_uuid": record.transfer_uuid,
                "sender": record.sender,
                "recipients": list(record.recipients),
                "name": record.name,
                "size": record.size,
                "sha256": record.sha256,
            }
        )
        with (self.root / "platform" / "ledger.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        temp = path.with_name(f".{path.name}.sim-tmp")
        with temp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temp.replace(path)

    # -- fault accounting (called from the SSH thread) ------------------------------------

    def take_login_refusal(self) -> bool:
        with self.lock:
            if self.faults.refuse_logins > 0:
                self.faults.refuse_logins -= 1
                return True
            return False

    def take_drop(self, moved: int) -> bool:
        with self.lock:
            limit = self.faults.drop_after_bytes
            if limit is not None and self.faults.drops > 0 and moved >= limit:
                self.faults.drops -= 1
                return True
            return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _delivery(data: dict[str, object]) -> Delivery:
    recipients = data["recipients"]
    assert isinstance(recipients, list)
    return Delivery(
        transfer_uuid=str(data["transfer_uuid"]),
        sender=str(data["sender"]),
        recipients=tuple(str(r) for r in recipients),
        name=str(data["name"]),
        size=int(str(data["size"])),
        sha256=str(data["sha256"]),
    )
