"""Serviceplatformen's file exchange as the core's :class:`~toekgw.gateway.exchange.FileExchange`.

On KOMBIT's Serviceplatformen SFTP a file for us is ``IN/<name>`` completed by
``IN/<name>.metadata`` (a ``FileMetadata`` document: transfer UUID, sender, recipients, size);
an upload of ours ``OUT/<name>`` is handed over by ``OUT/<name>.trigger``, and the platform
answers it with ``IN/<name>.sftpreceipt`` (a ``TechnicalReceipt`` that quotes our
``SendersFileId``). A file for the dynamic-routing recipient ``ROUTING_V1_0_0`` is for whoever
the routing information names, so it is ours too. The documents themselves are
:mod:`toekgw.formats.serviceplatform`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from toekgw.formats.serviceplatform import (
    METADATA_SUFFIX,
    RECEIPT_SUFFIX,
    ROUTING_RECIPIENT,
    TRIGGER_SUFFIX,
    FileContent,
    FileDescriptor,
    Trigger,
    XmlDocumentError,
    build_trigger,
    is_control_file,
    parse_metadata,
    parse_technical_receipt,
)
from toekgw.gateway.exchange import Envelope, EnvelopeError, Receipt, ReceiptError

__all__ = ["SERVICEPLATFORM", "ServiceplatformExchange"]


@dataclass(frozen=True, slots=True)
class ServiceplatformExchange:
    """The ``.metadata`` / ``.trigger`` / ``.sftpreceipt`` protocol. ``content`` goes into
    every trigger's ``FileContentDescriptor`` (routing information for dynamic routing)."""

    content: FileContent = field(default_factory=FileContent)

    def is_control_file(self, name: str) -> bool:
        return is_control_file(name)

    def envelope_name(self, name: str) -> str:
        return name + METADATA_SUFFIX

    def read_envelope(self, data: bytes, *, name: str) -> Envelope:
        try:
            metadata = parse_metadata(data, name=name)
        except XmlDocumentError as exc:
            raise EnvelopeError(str(exc), exc.findings) from exc
        fd = metadata.file
        return Envelope(
            transfer_id=metadata.transfer_uuid,
            file_name=fd.file_name,
            size=fd.size,
            sender=fd.sender,
            recipients=fd.recipients,
            senders_file_id=fd.senders_file_id,
            document=metadata,
        )

    def addressed_to(self, envelope: Envelope, party: str) -> bool:
        return party in envelope.recipients or ROUTING_RECIPIENT in envelope.recipients

    def trigger_name(self, name: str) -> str:
        return name + TRIGGER_SUFFIX

    def build_trigger(
        self,
        *,
        file_name: str,
        size: int,
        sender: str,
        recipients: Sequence[str],
        senders_file_id: str,
    ) -> bytes:
        descriptor = FileDescriptor(
            file_name, size, sender, tuple(recipients), senders_file_id=senders_file_id
        )
        return build_trigger(Trigger(descriptor, self.content))

    def is_receipt(self, name: str) -> bool:
        return name.endswith(RECEIPT_SUFFIX)

    def read_receipt(self, data: bytes, *, name: str) -> Receipt:
        try:
            receipt = parse_technical_receipt(data, name=name)
        except XmlDocumentError as exc:
            raise EnvelopeError(str(exc), exc.findings) from exc
        return Receipt(
            transfer_id=receipt.transfer_uuid,
            senders_file_id=receipt.senders_file_id,
            message=receipt.message,
            errors=tuple(
                ReceiptError(f"SP-RECEIPT-{e.code}", f"{e.code_description}: {e.description}")
                for e in receipt.errors
            ),
        )


#: The protocol with no routing information in its triggers.
SERVICEPLATFORM = ServiceplatformExchange()
