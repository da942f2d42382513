"""Serviceplatformen's SFTP documents as typed records, and XML both ways.

Trigger (we write it next to an upload), FileMetadata (beside a file for us), TechnicalReceipt
(the platform's answer to a trigger), BusinessReceipt (the recipient's answer), and the
SFTPDynamicRoutingInfo that a trigger or metadata may carry. The schemas are in
``xsd/serviceplatform/`` (ours, transcribed from the public facts).
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from lxml import etree

from toekgw.formats.dates import XS_DATE, XS_DATETIME, xs_date, xs_datetime
from toekgw.formats.findings import Finding
from toekgw.formats.serviceplatform.safexml import (
    CODE_PREFIX,
    XmlDocumentError,
    parse_validated,
    safe_parser,
)
from toekgw.formats.xmlcheck import value_finding

__all__ = [
    "NS",
    "ROUTING_RECIPIENT",
    "BusinessReceipt",
    "ErrorMessage",
    "FileAcceptance",
    "FileContent",
    "FileDescriptor",
    "FileMetadata",
    "RoutingInfo",
    "TechnicalReceipt",
    "Trigger",
    "build_business_receipt",
    "build_metadata",
    "build_technical_receipt",
    "build_trigger",
    "parse_business_receipt",
    "parse_metadata",
    "parse_technical_receipt",
    "parse_trigger",
]

NS = "http://serviceplatformen.dk/xml/wsdl/soap11/SFTP/1/types"
ROUTING_RECIPIENT = "ROUTING_V1_0_0"
_Q = f"{{{NS}}}"
# lxml takes None as the key of the default namespace; its stubs do not say so.
_NSMAP: Any = {None: NS}


@dataclass(frozen=True, slots=True)
class FileDescriptor:
    file_name: str
    size: int
    sender: str
    recipients: tuple[str, ...]
    senders_file_id: str | None = None


@dataclass(frozen=True, slots=True)
class RoutingInfo:
    inf_ref: str
    sender_it_system: str
    sender_authority: str
    transaction_id: str
    sender_timestamp: datetime
    recipient_authority: str
    recipient_it_system: str | None = None
    route_selection_value_date: date | None = None


@dataclass(frozen=True, slots=True)
class FileContent:
    """``FileContentDescriptor``: routing info, or one element of another namespace (kept as
    serialized XML so that it passes through unchanged)."""

    routing: RoutingInfo | None = None
    other: bytes | None = None


@dataclass(frozen=True, slots=True)
class Trigger:
    file: FileDescriptor
    content: FileContent = FileContent()


@dataclass(frozen=True, slots=True)
class FileMetadata:
    transfer_uuid: str
    file: FileDescriptor
    content: FileContent = FileContent()


@dataclass(frozen=True, slots=True)
class ErrorMessage:
    code: int
    code_description: str
    description: str

    def __str__(self) -> str:
        return f"{self.code} {self.code_description}: {self.description}"


@dataclass(frozen=True, slots=True)
class TechnicalReceipt:
    transfer_uuid: str
    senders_file_id: str | None
    message: str | None
    errors: tuple[ErrorMessage, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


class FileAcceptance(enum.StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    COULD_NOT_NOTIFY_RECIPIENT = "COULD_NOT_NOTIFY_RECIPIENT"


@dataclass(frozen=True, slots=True)
class BusinessReceipt:
    transfer_uuid: str
    file_name: str
    recipient: str
    acceptance: FileAcceptance
    reason: str | None = None


# -- building ----------------------------------------------------------------------------


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _Q + name)
    if text is not None:
        element.text = text
    return element


def _descriptor(parent: etree._Element, fd: FileDescriptor) -> None:
    node = _sub(parent, "FileDescriptor")
    _sub(node, "FileName", fd.file_name)
    _sub(node, "SizeInBytes", str(fd.size))
    _sub(node, "Sender", fd.sender)
    if fd.senders_file_id is not None:
        _sub(node, "SendersFileId", fd.senders_file_id)
    for recipient in fd.recipients:
        _sub(node, "Recipients", recipient)


def _content(parent: etree._Element, content: FileContent) -> None:
    node = _sub(parent, "FileContentDescriptor")
    if content.routing is not None:
        r = content.routing
        info = _sub(node, "SFTPDynamicRoutingInfo")
        _sub(info, "InfRef", r.inf_ref)
        _sub(info, "SenderIt-system", r.sender_it_system)
        _sub(info, "SenderAuthority", r.sender_authority)
        _sub(info, "TransactionId", r.transaction_id)
        _sub(info, "SenderTimestamp", r.sender_timestamp.isoformat())
        if r.recipient_it_system is not None:
            _sub(info, "RecipientIt-system", r.recipient_it_system)
        _sub(info, "RecipientAuthority", r.recipient_authority)
        if r.route_selection_value_date is not None:
            params = _sub(info, "RouteParameterList")
            param = _sub(params, "RouteParameter")
            _sub(param, "RouteSelectionValueDate", r.route_selection_value_date.isoformat())
    elif content.other is not None:
        node.append(etree.fromstring(content.other, safe_parser()))


def _serialize(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def build_trigger(trigger: Trigger) -> bytes:
    root = etree.Element(_Q + "Trigger", nsmap=_NSMAP)
    _descriptor(root, trigger.file)
    _content(root, trigger.content)
    return _checked(_serialize(root), "Trigger")


def build_metadata(metadata: FileMetadata) -> bytes:
    root = etree.Element(_Q + "FileMetadata", nsmap=_NSMAP)
    _sub(root, "FileTransferUUID", metadata.transfer_uuid)
    _descriptor(root, metadata.file)
    _content(root, metadata.content)
    return _checked(_serialize(root), "FileMetadata")


def build_technical_receipt(receipt: TechnicalReceipt) -> bytes:
    root = etree.Element(_Q + "TechnicalReceipt", nsmap=_NSMAP)
    _sub(root, "FileTransferUUID", receipt.transfer_uuid)
    if receipt.senders_file_id is not None:
        _sub(root, "SendersFileId", receipt.senders_file_id)
    if receipt.errors:
        for error in receipt.errors:
            node = _sub(root, "ErrorMessage")
            _sub(node, "ErrorCode", str(error.code))
            _sub(node, "ErrorCodeDescription", error.code_description)
            _sub(node, "ErrorDescription", error.description)
    else:
        _sub(_sub(root, "Receipt"), "Message", receipt.message or "OK")
    return _checked(_serialize(root), "TechnicalReceipt")


def build_business_receipt(receipt: BusinessReceipt) -> bytes:
    root = etree.Element(_Q + "BusinessReceipt", nsmap=_NSMAP)
    _sub(root, "FileTransferUUID", receipt.transfer_uuid)
    _sub(root, "Filename", receipt.file_name)
    _sub(root, "Recipient", receipt.recipient)
    _sub(root, "FileAcceptance", receipt.acceptance.value)
    if receipt.reason is not None:
        _sub(root, "Reason", receipt.reason)
    return _checked(_serialize(root), "BusinessReceipt")


def _checked(data: bytes, root: str) -> bytes:
    # What we write must pass the same schema we hold the other side to.
    parse_validated(data, root, what=f"the {root} we built")
    return data


# -- parsing -----------------------------------------------------------------------------


_V = TypeVar("_V")


def _text(parent: etree._Element, name: str) -> str:
    node = parent.find(_Q + name)
    assert node is not None, name  # the schema has made sure
    return node.text or ""


class _Unreadable(Exception):
    """A value the schema let through and Python cannot hold (a year after 9999 …)."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def _read(parent: etree._Element, name: str | None, read: Callable[[str], _V], expected: str) -> _V:
    """``read`` of the text of ``parent``'s child ``name`` (of ``parent`` itself if ``None``)."""
    node = parent if name is None else parent.find(_Q + name)
    assert node is not None, name  # the schema has made sure
    try:
        return read(node.text or "")
    except ValueError:
        finding = value_finding(f"{CODE_PREFIX}.value", node, f"not {expected}", expected=expected)
        raise _Unreadable(finding) from None


def _parsed(what: str, read: Callable[[], _V]) -> _V:
    """``read()``, or :class:`XmlDocumentError` for a value it cannot hold."""
    try:
        return read()
    except _Unreadable as exc:
        raise XmlDocumentError(what, [exc.finding]) from None


def _opt(parent: etree._Element, name: str) -> str | None:
    node = parent.find(_Q + name)
    return None if node is None else (node.text or "")


def _read_descriptor(parent: etree._Element) -> FileDescriptor:
    node = parent.find(_Q + "FileDescriptor")
    assert node is not None
    return FileDescriptor(
        file_name=_text(node, "FileName"),
        size=int(_text(node, "SizeInBytes")),
        sender=_text(node, "Sender"),
        recipients=tuple(r.text or "" for r in node.findall(_Q + "Recipients")),
        senders_file_id=_opt(node, "SendersFileId"),
    )


def _read_content(parent: etree._Element) -> FileContent:
    node = parent.find(_Q + "FileContentDescriptor")
    if node is None or len(node) == 0:
        return FileContent()
    child = node[0]
    if child.tag != _Q + "SFTPDynamicRoutingInfo":
        alone = copy.deepcopy(child)
        alone.tail = None
        etree.cleanup_namespaces(alone)  # drop the inherited, unused default namespace
        return FileContent(other=bytes(etree.tostring(alone)))
    value_date = child.find(
        f"{_Q}RouteParameterList/{_Q}RouteParameter/{_Q}RouteSelectionValueDate"
    )
    return FileContent(
        routing=RoutingInfo(
            inf_ref=_text(child, "InfRef"),
            sender_it_system=_text(child, "SenderIt-system"),
            sender_authority=_text(child, "SenderAuthority"),
            transaction_id=_text(child, "TransactionId"),
            sender_timestamp=_read(child, "SenderTimestamp", xs_datetime, XS_DATETIME),
            recipient_authority=_text(child, "RecipientAuthority"),
            recipient_it_system=_opt(child, "RecipientIt-system"),
            route_selection_value_date=(
                _read(value_date, None, xs_date, XS_DATE) if value_date is not None else None
            ),
        )
    )


def parse_trigger(data: bytes, *, name: str = "trigger") -> Trigger:
    root = parse_validated(data, "Trigger", what=name)
    return _parsed(name, lambda: Trigger(_read_descriptor(root), _read_content(root)))


def parse_metadata(data: bytes, *, name: str = "metadata") -> FileMetadata:
    root = parse_validated(data, "FileMetadata", what=name)
    return _parsed(
        name,
        lambda: FileMetadata(
            _text(root, "FileTransferUUID"), _read_descriptor(root), _read_content(root)
        ),
    )


def parse_technical_receipt(data: bytes, *, name: str = "technical receipt") -> TechnicalReceipt:
    root = parse_validated(data, "TechnicalReceipt", what=name)
    errors = tuple(
        ErrorMessage(
            int(_text(e, "ErrorCode")),
            _text(e, "ErrorCodeDescription"),
            _text(e, "ErrorDescription"),
        )
        for e in root.findall(_Q + "ErrorMessage")
    )
    message = root.find(f"{_Q}Receipt/{_Q}Message")
    return TechnicalReceipt(
        transfer_uuid=_text(root, "FileTransferUUID"),
        senders_file_id=_opt(root, "SendersFileId"),
        message=None if message is None else (message.text or ""),
        errors=errors,
    )


def parse_business_receipt(data: bytes, *, name: str = "business receipt") -> BusinessReceipt:
    root = parse_validated(data, "BusinessReceipt", what=name)
    return BusinessReceipt(
        transfer_uuid=_text(root, "FileTransferUUID"),
        file_name=_text(root, "Filename"),
        recipient=_text(root, "Recipient"),
        acceptance=FileAcceptance(_text(root, "FileAcceptance")),
        reason=_opt(root, "Reason"),
    )
