"""The simulator's SSH side: a real SFTP server (asyncssh) on 127.0.0.1 over the platform tree.

Each login lands chrooted in ``parties/<user>/`` and sees ``IN/`` and ``OUT/``. Logins use
public keys only: ``parties/<user>/authorized_keys`` if present, else the server-wide file.
Faults from :class:`~toekgw.simulators.serviceplatform.platform.Faults`: refuse the next N logins,
drop the connection once a session has moved N bytes, be slow (a delay per read/write).

:class:`ServiceplatformSimulator` runs the server and the platform's pick-up loop on an event
loop in a background thread, so tests and the CLI drive it the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

from toekgw.gateway.listen import listening_sockets
from toekgw.simulators.serviceplatform.platform import Faults, Platform

__all__ = ["ServiceplatformSimulator", "ensure_key"]

log = logging.getLogger(__name__)


def ensure_key(path: Path) -> Any:
    """The ed25519 private key at ``path``, generated (with ``.pub``) if missing."""
    if path.exists():
        return asyncssh.read_private_key(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(str(path))
    path.chmod(0o600)
    key.write_public_key(str(path) + ".pub")
    return key


class _SshServer(asyncssh.SSHServer):
    def __init__(self, sim: ServiceplatformSimulator) -> None:
        self._sim = sim
        self._conn: Any = None

    def connection_made(self, conn: Any) -> None:
        self._conn = conn
        self._sim.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self._sim.connections.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        sim = self._sim
        if sim.platform.take_login_refusal():
            return True  # no keys set: every key is refused
        try:
            home = sim.platform.party_dir(username)
        except ValueError:
            return True
        if not home.is_dir():
            return True
        own = home / "authorized_keys"
        keys = own if own.exists() else sim.authorized_keys
        if keys is not None and Path(keys).exists():
            self._conn.set_authorized_keys(str(keys))
        return True


class _SftpServer(asyncssh.SFTPServer):
    def __init__(self, chan: Any, sim: ServiceplatformSimulator) -> None:
        self._sim = sim
        self._moved = 0
        user = chan.get_extra_info("username")
        super().__init__(chan, chroot=str(sim.platform.party_dir(user)).encode())

    async def _fault(self, size: int) -> None:
        faults = self._sim.platform.faults
        if faults.delay:
            await asyncio.sleep(faults.delay)
        self._moved += size
        if self._sim.platform.take_drop(self._moved):
            self.connection.abort()
            raise asyncssh.SFTPConnectionLost("connection dropped (simulated fault)")

    async def read(self, file_obj: object, offset: int, size: int) -> bytes:
        await self._fault(size)
        data = super().read(file_obj, offset, size)
        assert isinstance(data, bytes)
        return data

    async def write(self, file_obj: object, offset: int, data: bytes) -> int:
        await self._fault(len(data))
        written = super().write(file_obj, offset, data)
        assert isinstance(written, int)
        return written

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        super().rename(oldpath, newpath)
        self._sim.kick()

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        super().posix_rename(oldpath, newpath)
        self._sim.kick()

    def close(self, file_obj: object) -> None:
        super().close(file_obj)
        self._sim.kick()


@dataclass(frozen=True, slots=True)
class _Running:
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    server: Any
    scanner: asyncio.Future[None]


class ServiceplatformSimulator:
    """The platform over SFTP. ``with ServiceplatformSimulator(root) as sim:`` starts it on a
    free port of 127.0.0.1; ``sim.port``, ``sim.known_hosts_line()`` tell a client where."""

    def __init__(
        self,
        root: Path,
        *,
        parties: tuple[str, ...] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        host_key: Path | None = None,
        authorized_keys: Path | None = None,
        faults: Faults | None = None,
        routes: dict[str, str] | None = None,
        scan_interval: float = 0.2,
    ) -> None:
        self.platform = Platform(Path(root), faults or Faults(), dict(routes or {}))
        for party in parties:
            self.platform.add_party(party)
        self.host = host
        self.requested_port = port
        self.host_key_path = host_key or Path(root) / "ssh_host_ed25519_key"
        self.host_key = ensure_key(self.host_key_path)
        self.authorized_keys = authorized_keys
        self.scan_interval = scan_interval
        self.port = 0
        self._running: _Running | None = None
        self.connections: set[Any] = set()
        self._wake: asyncio.Event | None = None

    @property
    def faults(self) -> Faults:
        return self.platform.faults

    def fingerprint(self) -> str:
        return str(self.host_key.get_fingerprint("sha256"))

    def known_hosts_line(self) -> str:
        public = self.host_key.export_public_key("openssh").decode().split()
        entry = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
        return f"{entry} {public[0]} {public[1]}"

    def kick(self) -> None:
        """Look for triggers now (called on the server's loop after a rename or close)."""
        if self._wake is not None:
            self._wake.set()

    async def _scan_forever(self) -> None:
        assert self._wake is not None
        # A flag, not only cancellation: Python 3.11's wait_for can lose a cancel that lands
        # as the event is set (a kick at shutdown), and the loop would then run on forever.
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.scan_interval)
            self._wake.clear()
            if self._stopping:
                continue
            try:
                self.platform.scan()
            except Exception as exc:  # one bad pick-up must not end the routing of all files
                log.error("the platform's pick-up failed (tried again at the next scan): %s", exc)

    def start(self) -> ServiceplatformSimulator:
        # Bound here: a port in use is a GatewayError naming it, not asyncssh's OSError.
        sock, *others = listening_sockets(self.host, self.requested_port)
        for other in others:  # the first of the host's addresses is the simulator's
            other.close()
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        box: dict[str, Any] = {}

        async def boot() -> None:
            self._stopping = False
            self._wake = asyncio.Event()
            box["server"] = await asyncssh.create_server(
                lambda: _SshServer(self),
                sock=sock,
                server_host_keys=[self.host_key],
                sftp_factory=lambda chan: _SftpServer(chan, self),
                allow_scp=False,
                login_timeout=30,
            )
            box["scanner"] = asyncio.ensure_future(self._scan_forever())

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(boot())
            except BaseException as exc:
                box["error"] = exc
                ready.set()
                return
            ready.set()
            loop.run_forever()

        thread = threading.Thread(target=run, name="serviceplatform-sim", daemon=True)
        thread.start()
        ready.wait(30)
        if "error" in box:
            sock.close()
            raise RuntimeError(f"the simulator could not start: {box['error']}") from box["error"]
        server = box["server"]
        self.port = int(server.sockets[0].getsockname()[1])
        self._running = _Running(loop, thread, server, box["scanner"])
        return self

    def stop(self) -> None:
        running = self._running
        if running is None:
            return
        self._running = None

        async def shutdown() -> None:
            self._stopping = True
            if self._wake is not None:
                self._wake.set()
            running.scanner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running.scanner
            running.server.close()
            # Abort the sessions first: waiting for the server to close can wait for them.
            for conn in list(self.connections):
                conn.abort()
            await running.server.wait_closed()
            # Let the aborted sessions' handlers finish before the loop goes away.
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        future = asyncio.run_coroutine_threadsafe(shutdown(), running.loop)
        try:
            future.result(10)
        finally:
            running.loop.call_soon_threadsafe(running.loop.stop)
            running.thread.join(10)
            running.loop.close()

    def __enter__(self) -> ServiceplatformSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
