"""SFTP with paramiko: key login, pinned host keys, timeouts, retries on transient errors only.

The server's host key must be in the configured known_hosts file. An unknown key and a changed
key are each refused with a message that says which, shows the fingerprint the server offered,
and tells the operator how to pin it (``toekgw doctor``). There is no auto-accept.

A transient failure (a dropped connection, a timeout) closes the connection and retries the
whole operation on a fresh one, a bounded number of times; a permanent one (no such file,
permission denied, login refused, host key refused) is raised at once.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import socket
import stat as statmod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import paramiko
from paramiko.sftp import CMD_CLOSE, CMD_HANDLE, CMD_NAME, CMD_OPENDIR, CMD_READDIR, SFTPError
from paramiko.sftp_attr import SFTPAttributes
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from toekgw.gateway.errors import FULL, os_problem
from toekgw.gateway.faults import crash_point
from toekgw.gateway.transport._read_ahead import quiet_read_ahead
from toekgw.gateway.transport.files import (
    Fetched,
    LocalDiskError,
    Progress,
    RemoteFile,
    RemoteNameError,
    TooLarge,
    TransportError,
    check_remote_path,
    entry_kind,
    fetch_into,
    temp_name,
)

__all__ = [
    "HostKeyError",
    "LoginError",
    "SftpSettings",
    "SftpTransport",
    "fingerprint",
    "known_hosts_line",
    "known_hosts_status",
    "load_private_key",
    "server_host_key",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

PREFETCH_REQUESTS = 64  # of 32 KiB each


class HostKeyError(TransportError):
    """The server's host key is unknown or has changed: the connection is refused."""


class LoginError(TransportError):
    """The server refused our key."""


@dataclass(frozen=True, slots=True)
class SftpSettings:
    host: str
    port: int
    user: str
    key: Path
    known_hosts: Path
    connect_timeout: float = 30.0
    timeout: float = 60.0
    retries: int = 3
    retry_wait: float = 1.0


#: The kinds of private key the login tries, in paramiko's own order.
_KEY_KINDS: tuple[type[paramiko.PKey], ...] = (
    paramiko.RSAKey,
    paramiko.ECDSAKey,
    paramiko.Ed25519Key,
)
_KEY_EXPECTED = (
    "expected an OpenSSH or PEM private key (RSA, ECDSA or Ed25519) without a passphrase"
)


def load_private_key(path: Path) -> paramiko.PKey:
    """The private key in ``path`` as the login reads it; a :class:`LoginError` naming the file
    and what was expected when it holds none (binary junk, a public key, a passphrase)."""
    for kind in _KEY_KINDS:
        try:
            return kind.from_private_key_file(str(path))
        except paramiko.PasswordRequiredException:
            raise LoginError(
                f"private key {path}: protected by a passphrase ({_KEY_EXPECTED})"
            ) from None
        except UnicodeDecodeError:
            raise LoginError(f"private key {path}: not text ({_KEY_EXPECTED})") from None
        except OSError as exc:
            raise LoginError(
                f"cannot read the private key {path}: {os_problem(path, exc)}"
            ) from exc
        except paramiko.SSHException:
            continue  # not this kind: the next
    raise LoginError(f"private key {path}: not a private key ({_KEY_EXPECTED})")


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's form: ``SHA256:`` + unpadded base64 of the key blob's SHA-256."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def host_entry(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


def known_hosts_line(host: str, port: int, key: paramiko.PKey) -> str:
    return f"{host_entry(host, port)} {key.get_name()} {key.get_base64()}"


def read_known_hosts(path: Path) -> list[tuple[str, paramiko.PKey]]:
    """The pinned ``(host, key)`` pairs of an OpenSSH known_hosts file, each line checked.

    A file that is not text, a line that is not ``host key-type base64-key`` or carries a
    marker (``@revoked``, ``@cert-authority``, which toekgw does not apply) is one clear error
    naming the line, never a key silently skipped."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HostKeyError(
            f"known_hosts {path}: not a text file (byte 0x{raw[exc.start]:02X} at offset "
            f"{exc.start})",
            hint="it holds lines `host key-type base64-key`; `toekgw doctor` prints the one to add",
        ) from exc
    except OSError as exc:
        raise HostKeyError(f"cannot read known_hosts {path}: {os_problem(path, exc)}") from exc
    pairs = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            raise HostKeyError(
                f"known_hosts {path} line {number}: the marker {line.split()[0]} is not supported",
                hint="pin the server's own host key; delete the line of a revoked key",
            )
        try:
            entry = paramiko.hostkeys.HostKeyEntry.from_line(line, number)
        except Exception as exc:  # paramiko raises several kinds for a damaged key
            entry = None
            why = f" ({type(exc).__name__})"
        else:
            why = ""
        if entry is None or entry.key is None:
            raise HostKeyError(
                f"known_hosts {path} line {number}: not a host key line{why}",
                hint="expected `host key-type base64-key`",
            )
        pairs += [(name, entry.key) for name in entry.hostnames]
    return pairs


def _host_keys(pairs: list[tuple[str, paramiko.PKey]], into: paramiko.HostKeys) -> None:
    for name, key in pairs:
        into.add(name, key.get_name(), key)


def known_hosts_status(known_hosts: Path, host: str, port: int, key: paramiko.PKey) -> str:
    """``"pinned"``, ``"unknown"`` or ``"changed"``: what known_hosts says about ``key``."""
    keys = paramiko.HostKeys()
    if known_hosts.exists():
        _host_keys(read_known_hosts(known_hosts), keys)
    entry = keys.lookup(host_entry(host, port))
    if not entry:
        return "unknown"
    pinned = entry.get(key.get_name())
    if pinned is None:
        return "changed" if len(entry) else "unknown"
    return "pinned" if pinned == key else "changed"


def server_host_key(host: str, port: int, timeout: float = 15.0) -> paramiko.PKey:
    """The host key a server offers, fetched without logging in or trusting it."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise TransportError(f"cannot connect to {host}:{port}: {exc}") from exc
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = timeout
        transport.start_client(timeout=timeout)
        return transport.get_remote_server_key()
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise TransportError(f"no SSH host key from {host}:{port}: {exc}") from exc
    finally:
        transport.close()


class _RefuseUnknown(paramiko.MissingHostKeyPolicy):
    def __init__(self, settings: SftpSettings) -> None:
        self.settings = settings

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        s = self.settings
        raise HostKeyError(
            f"refused {hostname}: its host key {key.get_name()} {fingerprint(key)} is not in "
            f"{s.known_hosts}",
            hint="check the fingerprint with the server's operator; `toekgw doctor` prints the "
            "known_hosts line to add",
        )


def _is_transient(exc: BaseException) -> bool:
    if isinstance(
        exc,
        HostKeyError
        | LoginError
        | RemoteNameError
        | paramiko.AuthenticationException
        | paramiko.BadHostKeyException
        | FileNotFoundError
        | PermissionError
        | FileExistsError
        | IsADirectoryError
        | NotADirectoryError,
    ):
        return False
    if isinstance(exc, OSError) and exc.errno in FULL:
        return False  # a full or read-only disk is not mended by reconnecting
    return isinstance(exc, paramiko.SSHException | EOFError | OSError)


class SftpTransport:
    """:class:`~toekgw.gateway.transport.files.FileTransport` over SFTP (paramiko)."""

    def __init__(self, settings: SftpSettings) -> None:
        self.settings = settings
        self.description = f"sftp://{settings.user}@{settings.host}:{settings.port}"
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None

    # -- connection -----------------------------------------------------------------------

    def _connect(self) -> paramiko.SFTPClient:
        if self._sftp is not None:
            return self._sftp
        s = self.settings
        if not s.known_hosts.is_file():
            raise HostKeyError(
                f"no known_hosts file {s.known_hosts}: the server's host key cannot be checked",
                hint="create it with the line `toekgw doctor` prints",
            )
        if not s.key.is_file():
            raise LoginError(f"no private key {s.key} for {self.description}")
        load_private_key(s.key)  # one line naming the file, not paramiko's errors, if not a key
        client = paramiko.SSHClient()
        _host_keys(read_known_hosts(s.known_hosts), client.get_host_keys())
        client.set_missing_host_key_policy(_RefuseUnknown(s))
        try:
            client.connect(
                s.host,
                port=s.port,
                username=s.user,
                key_filename=str(s.key),
                timeout=s.connect_timeout,
                banner_timeout=s.connect_timeout,
                auth_timeout=s.connect_timeout,
                channel_timeout=s.connect_timeout,
                look_for_keys=False,
                allow_agent=False,
            )
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise HostKeyError(
                f"refused {s.host}:{s.port}: its host key has CHANGED: it offered "
                f"{exc.key.get_name()} {fingerprint(exc.key)}, {s.known_hosts} pins "
                f"{exc.expected_key.get_name()} {fingerprint(exc.expected_key)}",
                hint="this may be an attack; update known_hosts only after confirming the new "
                "key with the server's operator",
            ) from exc
        except paramiko.AuthenticationException as exc:
            client.close()
            raise LoginError(
                f"{self.description} refused the login with key {s.key}: {exc}"
            ) from exc
        except BaseException:
            client.close()
            raise
        try:
            sftp = client.open_sftp()
        except BaseException:
            client.close()
            raise
        channel = sftp.get_channel()
        if channel is not None:
            channel.settimeout(s.timeout)
        self._client, self._sftp = client, sftp
        return sftp

    def close(self) -> None:
        if self._sftp is not None:
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                self._sftp.close()
        if self._client is not None:
            self._client.close()
        self._sftp = None
        self._client = None

    def __enter__(self) -> SftpTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, what: str, operation: Callable[[paramiko.SFTPClient], T]) -> T:
        s = self.settings

        def attempt() -> T:
            try:
                return operation(self._connect())
            except BaseException as exc:
                if _is_transient(exc):
                    log.warning("%s: %s failed (%s); reconnecting", self.description, what, exc)
                    self.close()
                raise

        retrying = Retrying(
            stop=stop_after_attempt(max(1, s.retries + 1)),
            wait=wait_exponential(multiplier=s.retry_wait, max=30),
            retry=retry_if_exception(_is_transient),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except (TransportError, LocalDiskError, FileNotFoundError):
            raise
        except PermissionError as exc:
            raise TransportError(f"{self.description}: {what}: permission denied") from exc
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise TransportError(
                f"{self.description}: {what} failed after {s.retries + 1} attempts: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    # -- operations -----------------------------------------------------------------------

    def list(self, directory: str) -> list[RemoteFile]:
        check_remote_path(directory)

        def op(sftp: paramiko.SFTPClient) -> list[RemoteFile]:
            found = []
            for name, a in _list_raw(sftp, directory):
                kind = entry_kind(a.st_mode)
                if kind is not None:
                    found.append(RemoteFile(name, a.st_size or 0, float(a.st_mtime or 0), kind))
            return found

        return sorted(self._run(f"list {directory!r}", op), key=lambda f: f.name)

    def stat(self, path: str) -> RemoteFile | None:
        check_remote_path(path)

        def op(sftp: paramiko.SFTPClient) -> RemoteFile | None:
            try:
                a = sftp.lstat(path)
            except FileNotFoundError:
                return None
            if a.st_mode is None or not statmod.S_ISREG(a.st_mode):
                return None
            return RemoteFile(path.rsplit("/", 1)[-1], a.st_size or 0, float(a.st_mtime or 0))

        return self._run(f"stat {path!r}", op)

    def read_bytes(self, path: str, *, limit: int) -> bytes:
        check_remote_path(path)

        def op(sftp: paramiko.SFTPClient) -> bytes:
            with sftp.open(path, "rb") as handle:
                data = handle.read(limit + 1)
            if len(data) > limit:
                raise TooLarge(f"{path!r} is larger than {limit} bytes; refused")
            return bytes(data)

        return self._run(f"read {path!r}", op)

    def read_head(self, path: str, size: int) -> bytes:
        check_remote_path(path)

        def op(sftp: paramiko.SFTPClient) -> bytes:
            with sftp.open(path, "rb") as handle:
                return bytes(handle.read(size))

        return self._run(f"read the start of {path!r}", op)

    def fetch(self, path: str, local: Path, *, progress: Progress | None = None) -> Fetched:
        check_remote_path(path)

        def op(sftp: paramiko.SFTPClient) -> Fetched:
            with sftp.open(path, "rb") as src:
                # Read-ahead with a bounded number of requests in flight (fast on a long link;
                # we write each chunk out as it comes, so the buffer stays small), from a
                # thread of paramiko's, quiet if the connection drops under it.
                quiet_read_ahead()
                src.prefetch(max_concurrent_requests=PREFETCH_REQUESTS)
                return fetch_into(src, local, progress=progress)  # type: ignore[arg-type]

        return self._run(f"fetch {path!r}", op)

    def put(self, local: Path, path: str, *, progress: Progress | None = None) -> None:
        check_remote_path(path)
        directory, _, name = path.rpartition("/")
        temp = f"{directory}/{temp_name(name)}" if directory else temp_name(name)
        size = local.stat().st_size

        def callback(done: int, total: int) -> None:
            crash_point("transport.put.mid")
            if progress is not None:
                progress(done)

        def op(sftp: paramiko.SFTPClient) -> None:
            with local.open("rb") as src:
                sftp.putfo(src, temp, file_size=size, callback=callback, confirm=True)
            self._replace(sftp, temp, path)

        self._run(f"upload {path!r}", op)

    def put_bytes(self, data: bytes, path: str) -> None:
        check_remote_path(path)
        directory, _, name = path.rpartition("/")
        temp = f"{directory}/{temp_name(name)}" if directory else temp_name(name)

        def op(sftp: paramiko.SFTPClient) -> None:
            with sftp.open(temp, "wb") as handle:
                handle.write(data)
            self._replace(sftp, temp, path)

        self._run(f"upload {path!r}", op)

    @staticmethod
    def _replace(sftp: paramiko.SFTPClient, source: str, target: str) -> None:
        try:
            sftp.posix_rename(source, target)
        except OSError as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            # A server without posix-rename@openssh.com: plain SFTP rename refuses to
            # overwrite, so clear the target first (a reader sees it missing, never partial).
            with contextlib.suppress(FileNotFoundError):
                sftp.remove(target)
            sftp.rename(source, target)

    def remove(self, path: str) -> None:
        check_remote_path(path)
        self._run(f"remove {path!r}", lambda sftp: sftp.remove(path))

    def rename(self, source: str, target: str) -> None:
        check_remote_path(source)
        check_remote_path(target)
        self._run(f"rename {source!r}", lambda sftp: self._replace(sftp, source, target))


def _list_raw(sftp: paramiko.SFTPClient, directory: str) -> list[tuple[str, SFTPAttributes]]:
    """``listdir_attr`` that survives a name that is not UTF-8.

    paramiko decodes each name strictly, so one such name in IN/ made every listing fail.
    Here names are decoded with ``surrogateescape``: the entry is listed, and
    :func:`check_remote_name` refuses it by name. (paramiko's request API, as its own
    ``listdir_attr`` uses it.)
    """
    client: Any = sftp  # the request API is not in paramiko's type stubs
    attributes: Any = SFTPAttributes
    kind, msg = client._request(CMD_OPENDIR, directory)
    if kind != CMD_HANDLE:
        raise SFTPError("Expected handle")
    handle = msg.get_binary()
    entries = []
    try:
        while True:
            try:
                kind, msg = client._request(CMD_READDIR, handle)
            except EOFError:
                break
            if kind != CMD_NAME:
                raise SFTPError("Expected name response")
            for _ in range(msg.get_int()):
                name = msg.get_string().decode("utf-8", "surrogateescape")
                longname = msg.get_string().decode("utf-8", "replace")
                attrs = attributes._from_msg(msg, name, longname)
                if name not in (".", ".."):
                    entries.append((name, attrs))
    finally:
        client._request(CMD_CLOSE, handle)
    return entries
