"""Serviceplatformen's SFTP file exchange: trigger, metadata, receipts (XML, schema-checked).

File naming on the platform: an upload ``OUT/<name>`` is sent when ``OUT/<name>.trigger``
appears; a file for us is ``IN/<name>`` with ``IN/<name>.metadata``; the technical receipt of
our upload is ``IN/<name>.sftpreceipt``.
"""

from __future__ import annotations

from toekgw.formats.serviceplatform.documents import (
    NS,
    ROUTING_RECIPIENT,
    BusinessReceipt,
    ErrorMessage,
    FileAcceptance,
    FileContent,
    FileDescriptor,
    FileMetadata,
    RoutingInfo,
    TechnicalReceipt,
    Trigger,
    build_business_receipt,
    build_metadata,
    build_technical_receipt,
    build_trigger,
    parse_business_receipt,
    parse_metadata,
    parse_technical_receipt,
    parse_trigger,
)
from toekgw.formats.serviceplatform.safexml import XmlDocumentError

__all__ = [
    "METADATA_SUFFIX",
    "NS",
    "RECEIPT_SUFFIX",
    "ROUTING_RECIPIENT",
    "TRIGGER_SUFFIX",
    "BusinessReceipt",
    "ErrorMessage",
    "FileAcceptance",
    "FileContent",
    "FileDescriptor",
    "FileMetadata",
    "RoutingInfo",
    "TechnicalReceipt",
    "Trigger",
    "XmlDocumentError",
    "build_business_receipt",
    "build_metadata",
    "build_technical_receipt",
    "build_trigger",
    "is_control_file",
    "parse_business_receipt",
    "parse_metadata",
    "parse_technical_receipt",
    "parse_trigger",
]

TRIGGER_SUFFIX = ".trigger"
METADATA_SUFFIX = ".metadata"
RECEIPT_SUFFIX = ".sftpreceipt"


def is_control_file(name: str) -> bool:
    """A trigger, metadata or receipt file (not a payload)."""
    return name.endswith((TRIGGER_SUFFIX, METADATA_SUFFIX, RECEIPT_SUFFIX))
