"""Transports: how a transmission crosses the boundary. Chosen by configuration."""

from __future__ import annotations

from gateway.transport.files import (
    Fetched,
    FileTransport,
    RemoteFile,
    RemoteNameError,
    TransportError,
    check_remote_name,
    remote_join,
)
from gateway.transport.localdir import LocalDirTransport
from gateway.transport.sftp import HostKeyError, LoginError, SftpSettings, SftpTransport

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
