"""The file-transport protocol: list, stat, fetch, put, remove, rename on a remote directory.

Two implementations: :class:`~toekgw.gateway.transport.sftp.SftpTransport` (paramiko) and
:class:`~toekgw.gateway.transport.localdir.LocalDirTransport` (a directory, the embedded default).
Remote paths are ``"DIR/NAME"`` strings relative to the transport's root. A name that came from
the remote side is checked by :func:`check_remote_name` before it is used anywhere: it is never
trusted as a local path.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat as statmod
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Literal, Protocol

from toekgw.gateway.errors import GatewayError, os_problem

__all__ = [
    "CHUNK",
    "Fetched",
    "FileTransport",
    "LocalDiskError",
    "RemoteFile",
    "RemoteKind",
    "RemoteNameError",
    "TooLarge",
    "TransportError",
    "check_remote_name",
    "check_remote_path",
    "copy_stream",
    "entry_kind",
    "fetch_into",
    "fsync_dir",
    "remote_join",
    "temp_name",
]

CHUNK = 1 << 20

Progress = Callable[[int], None]


class TransportError(GatewayError):
    """The remote side cannot be reached or refused an operation."""


class RemoteNameError(TransportError):
    """A remote file name that cannot be used safely (``..``, ``/``, NUL, control chars)."""


class LocalDiskError(GatewayError):
    """Our own disk failed while a remote file was written to it (full, read-only, gone): no
    retry mends that, so it is never retried as a transient fault of the connection."""


class TooLarge(TransportError):
    """A small document (metadata, receipt) is larger than the limit it is read with."""


#: What a directory entry is: a plain file, a symbolic link, or anything else (a FIFO, a
#: socket, a device). Directories are not listed.
RemoteKind = Literal["file", "link", "other"]


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """A directory entry. ``name`` is as the remote side gave it: bytes that are not UTF-8
    arrive as surrogate escapes, which :func:`check_remote_name` refuses."""

    name: str
    size: int
    mtime: float
    kind: RemoteKind = "file"


def entry_kind(mode: int | None) -> RemoteKind | None:
    """The kind of a directory entry from its ``st_mode`` (``None``: a directory, not listed)."""
    if mode is None:
        return "other"
    if statmod.S_ISDIR(mode):
        return None
    if statmod.S_ISREG(mode):
        return "file"
    return "link" if statmod.S_ISLNK(mode) else "other"


@dataclass(frozen=True, slots=True)
class Fetched:
    """What arrived: byte count and SHA-256 of exactly what was written locally."""

    size: int
    sha256: str


def check_remote_name(name: str) -> str:
    """``name`` if it is one plain file name, else RemoteNameError saying why."""
    if not name:
        raise RemoteNameError("refused remote file name '': empty")
    if name in (".", ".."):
        raise RemoteNameError(f"refused remote file name {name!r}: a directory reference")
    for bad, why in (("\x00", "a NUL byte"), ("/", "a '/'"), ("\\", "a '\\'")):
        if bad in name:
            raise RemoteNameError(f"refused remote file name {name!r}: it contains {why}")
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in name):
        raise RemoteNameError(f"refused remote file name {name!r}: it contains a control char")
    if any("\udc80" <= c <= "\udcff" for c in name):
        raise RemoteNameError(f"refused remote file name {name!r}: it is not valid UTF-8")
    if any(unicodedata.category(c) == "Cf" for c in name):
        # Right-to-left overrides and other invisible format characters make a name read
        # differently from what it is (``G68\u202etxt.exe``).
        raise RemoteNameError(
            f"refused remote file name {name!r}: it contains an invisible format character"
        )
    if len(name.encode("utf-8", "surrogateescape")) > 255:
        raise RemoteNameError(f"refused remote file name {name[:40]!r}…: longer than 255 bytes")
    return name


def check_remote_path(path: str) -> str:
    """``path`` if every component is a plain name (a leading ``/`` is allowed: configured
    directories may be absolute)."""
    parts = path.split("/")
    if parts and parts[0] == "":
        parts = parts[1:]
    if not parts or not all(parts):
        raise RemoteNameError(f"refused remote path {path!r}: empty component")
    for part in parts:
        check_remote_name(part)
    return path


def remote_join(directory: str, name: str) -> str:
    check_remote_name(name)
    return posixpath.join(directory, name) if directory else name


def temp_name(name: str) -> str:
    """The name an upload is written under before it is renamed into place."""
    return f".{name}.part"


def copy_stream(
    source: BinaryIO,
    target: BinaryIO,
    *,
    progress: Progress | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> Fetched:
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK):
        target.write(chunk)
        digest.update(chunk)
        size += len(chunk)
        if on_chunk is not None:
            on_chunk(size)
        if progress is not None:
            progress(size)
    return Fetched(size, digest.hexdigest())


def fetch_into(source: BinaryIO, local: Path, *, progress: Progress | None = None) -> Fetched:
    """Copy ``source`` into the new file ``local`` and fsync it. A failure of our own disk is a
    :class:`LocalDiskError` naming the path and the cause, and the partial file is removed;
    a failure reading ``source`` propagates as it is (the connection's, maybe transient)."""

    def disk(exc: OSError) -> LocalDiskError:
        return LocalDiskError(f"cannot write {local}: {os_problem(local, exc)}")

    class _Local:
        def __init__(self, handle: BinaryIO) -> None:
            self.handle = handle

        def write(self, data: bytes) -> int:
            try:
                return self.handle.write(data)
            except OSError as exc:
                raise disk(exc) from exc

    try:
        dst = local.open("wb")
    except OSError as exc:
        raise disk(exc) from exc
    try:
        with dst:
            fetched = copy_stream(source, _Local(dst), progress=progress)  # type: ignore[arg-type]
            try:
                dst.flush()
                os.fsync(dst.fileno())
            except OSError as exc:
                raise disk(exc) from exc
    except BaseException:
        local.unlink(missing_ok=True)
        raise
    return fetched


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileTransport(Protocol):
    """One remote file area. Every method raises TransportError (or FileNotFoundError for
    a file that is not there) with a message naming the remote path."""

    description: str

    def list(self, directory: str) -> list[RemoteFile]:
        """The entries of ``directory`` but its subdirectories: plain files, and links and
        other non-regular entries marked by :attr:`RemoteFile.kind` so that a caller can
        refuse them aloud. The names are as the remote side gave them: check each with
        :func:`check_remote_name` before use (every path-taking method here does so too, via
        :func:`remote_join`)."""
        ...

    def stat(self, path: str) -> RemoteFile | None: ...

    def read_bytes(self, path: str, *, limit: int) -> bytes:
        """A small file whole (metadata, receipts); :class:`TooLarge` for one larger than
        ``limit``."""
        ...

    def read_head(self, path: str, size: int) -> bytes:
        """The first ``size`` bytes of ``path`` (all of it when it is shorter): a peek."""
        ...

    def fetch(self, path: str, local: Path, *, progress: Progress | None = None) -> Fetched:
        """Copy ``path`` to the local file ``local`` (written, flushed and fsynced)."""
        ...

    def put(self, local: Path, path: str, *, progress: Progress | None = None) -> None:
        """Upload to a temporary name in the same directory, then rename into place."""
        ...

    def put_bytes(self, data: bytes, path: str) -> None: ...

    def remove(self, path: str) -> None: ...

    def rename(self, source: str, target: str) -> None:
        """Rename, replacing ``target`` if it exists."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> FileTransport: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
