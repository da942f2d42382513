"""Transports: small protocols, each with a real implementation and a local twin."""

from __future__ import annotations

from toekgw.gateway.transport.files import (
    Fetched,
    FileTransport,
    RemoteFile,
    RemoteNameError,
    TransportError,
    check_remote_name,
    remote_join,
)
from toekgw.gateway.transport.localdir import LocalDirTransport
from toekgw.gateway.transport.sftp import HostKeyError, LoginError, SftpSettings, SftpTransport

__all__ = [
    "Fetched",
    "FileTransport",
    "HostKeyError",
    "LocalDirTransport",
    "LoginError",
    "RemoteFile",
    "RemoteNameError",
    "SftpSettings",
    "SftpTransport",
    "TransportError",
    "check_remote_name",
    "remote_join",
]
