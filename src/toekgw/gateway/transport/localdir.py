"""A directory as a file transport: the embedded default, and the twin of SFTP in tests."""

from __future__ import annotations

import os
import stat as statmod
import tempfile
from pathlib import Path
from types import TracebackType

from toekgw.gateway.faults import crash_point
from toekgw.gateway.transport.files import (
    Fetched,
    Progress,
    RemoteFile,
    TooLarge,
    TransportError,
    check_remote_name,
    copy_stream,
    entry_kind,
    fetch_into,
    fsync_dir,
    temp_name,
)

__all__ = ["LocalDirTransport"]


class LocalDirTransport:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            what = "is not a directory" if self.root.exists() else "does not exist"
            raise TransportError(f"the transport directory {self.root} {what}")
        self.description = f"local directory {self.root}"

    def _path(self, remote: str) -> Path:
        parts = [p for p in remote.split("/") if p]
        # Configured directories may nest; each component must still be a plain name.
        for part in parts:
            check_remote_name(part)
        return self.root.joinpath(*parts)

    def list(self, directory: str) -> list[RemoteFile]:
        base = self._path(directory)
        try:
            entries = list(os.scandir(base))
        except FileNotFoundError as exc:
            raise TransportError(f"no directory {directory!r} in {self.description}") from exc
        files = []
        for entry in entries:
            st = entry.stat(follow_symlinks=False)
            kind = entry_kind(st.st_mode)
            if kind is not None:
                files.append(RemoteFile(entry.name, st.st_size, st.st_mtime, kind))
        return sorted(files, key=lambda f: f.name)

    def stat(self, path: str) -> RemoteFile | None:
        local = self._path(path)
        try:
            st = local.lstat()
        except FileNotFoundError:
            return None
        if not statmod.S_ISREG(st.st_mode):
            return None
        return RemoteFile(local.name, st.st_size, st.st_mtime)

    def read_bytes(self, path: str, *, limit: int) -> bytes:
        local = self._path(path)
        with local.open("rb") as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise TooLarge(f"{path!r} is larger than {limit} bytes; refused")
        return data

    def read_head(self, path: str, size: int) -> bytes:
        with self._path(path).open("rb") as handle:
            return handle.read(size)

    def fetch(self, path: str, local: Path, *, progress: Progress | None = None) -> Fetched:
        source = self._path(path)
        with source.open("rb") as src:
            return fetch_into(src, local, progress=progress)

    def put(self, local: Path, path: str, *, progress: Progress | None = None) -> None:
        target = self._path(path)
        temp = target.with_name(temp_name(target.name))
        with local.open("rb") as src, temp.open("wb") as dst:
            copy_stream(src, dst, progress=progress, on_chunk=_mid_upload)
            dst.flush()
            os.fsync(dst.fileno())
        Path(temp).replace(target)
        fsync_dir(target.parent)

    def put_bytes(self, data: bytes, path: str) -> None:
        target = self._path(path)
        fd, temp = tempfile.mkstemp(prefix=".", suffix=".part", dir=target.parent)
        with os.fdopen(fd, "wb") as dst:
            dst.write(data)
            dst.flush()
            os.fsync(dst.fileno())
        Path(temp).replace(target)
        fsync_dir(target.parent)

    def remove(self, path: str) -> None:
        self._path(path).unlink()

    def rename(self, source: str, target: str) -> None:
        self._path(source).replace(self._path(target))

    def close(self) -> None:
        pass

    def __enter__(self) -> LocalDirTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _mid_upload(done: int) -> None:
    crash_point("transport.put.mid")
