"""A file exchange's own protocol, as the inbound and outbound pipelines see it.

A file-exchange platform wraps each payload in documents of its own: beside a file for us a
description of it (who sent it, to whom, its size, a transfer id), beside an upload of ours a
signal that the upload is complete and whom it is for, and afterwards a technical receipt
that says whether the platform took it. The pipelines in :mod:`toekgw.gateway.inbound` and
:mod:`toekgw.gateway.outbound` are written against :class:`FileExchange`, so the core names
no platform; :mod:`toekgw.adapters.serviceplatform` implements it for KOMBIT's
Serviceplatformen (``.metadata``, ``.trigger`` and ``.sftpreceipt`` files).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from toekgw.formats.findings import Finding

__all__ = [
    "Envelope",
    "EnvelopeError",
    "FileExchange",
    "Receipt",
    "ReceiptError",
]


class EnvelopeError(ValueError):
    """A platform document (a file's description, a receipt) that cannot be used.

    ``findings`` says everything that is wrong with it; the message is one line.
    """

    def __init__(self, message: str, findings: Sequence[Finding] = ()) -> None:
        super().__init__(message)
        self.findings = list(findings)


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the platform says about one file for us, read from the file's description.

    ``document`` is the platform's own parsed description, for a processor that needs more
    than the fields the pipeline uses (its type is the platform adapter's).
    """

    transfer_id: str
    file_name: str
    size: int
    sender: str
    recipients: tuple[str, ...]
    senders_file_id: str | None = None
    document: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ReceiptError:
    """One error a technical receipt reports: the finding code it goes on the error list
    under (the platform's own code in it) and what it means."""

    code: str
    text: str


@dataclass(frozen=True, slots=True)
class Receipt:
    """The platform's technical receipt for an upload of ours."""

    transfer_id: str
    senders_file_id: str | None
    message: str | None
    errors: tuple[ReceiptError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


class FileExchange(Protocol):
    """A platform's naming and documents around the payload files (see the module text)."""

    def is_control_file(self, name: str) -> bool:
        """A platform document (description, trigger, receipt), not a payload."""
        ...

    def envelope_name(self, name: str) -> str:
        """The name of the description that completes the file ``name`` in IN/."""
        ...

    def read_envelope(self, data: bytes, *, name: str) -> Envelope:
        """Parse and check a description; :class:`EnvelopeError` if it cannot be used."""
        ...

    def addressed_to(self, envelope: Envelope, party: str) -> bool:
        """Whether the file is for ``party`` (named, or routed to it by the platform)."""
        ...

    def trigger_name(self, name: str) -> str:
        """The name of the signal that hands the upload ``name`` to the platform."""
        ...

    def build_trigger(
        self,
        *,
        file_name: str,
        size: int,
        sender: str,
        recipients: Sequence[str],
        senders_file_id: str,
    ) -> bytes:
        """The signal document for an upload; ``senders_file_id`` comes back in its receipt."""
        ...

    def is_receipt(self, name: str) -> bool:
        """A technical receipt of one of our uploads (by its name)."""
        ...

    def read_receipt(self, data: bytes, *, name: str) -> Receipt:
        """Parse and check a technical receipt; :class:`EnvelopeError` if it cannot be used."""
        ...
