"""Serving an ASGI application with ``uvicorn``: TØK's callback endpoint and the simulators.

:class:`AsgiServer` runs an app on a host and port (port 0: a free one, read back after
``start``), with TLS when given a certificate and key, either in a background thread
(``start``/``stop``, for tests and embedding) or in the foreground until interrupted
(``run``, for ``toekgw serve`` and ``toekgw simulate``). The sockets are bound first
(:meth:`AsgiServer.listen`, :mod:`toekgw.gateway.listen`), so that a port in use is one line
naming it. Bodies are bounded by the app itself (:func:`read_body`), since uvicorn sets no
limit of its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from toekgw.gateway.errors import GatewayError
from toekgw.gateway.listen import listening_sockets

__all__ = ["AsgiServer", "BodyTooLarge", "TlsFiles", "read_body"]


class BodyTooLarge(GatewayError):
    """A request body exceeded the endpoint's limit (it was not read further)."""


@dataclasses.dataclass(frozen=True, slots=True)
class TlsFiles:
    """The server's certificate (chain) and key as PEM files; ``client_ca``: require client
    certificates signed by it (mutual TLS)."""

    certificate: Path
    key: Path
    client_ca: Path | None = None

    def pair_problem(self) -> str | None:
        """Why the server could not load the certificate (chain) and key, in an operator's
        words (OpenSSL's reason, ``KEY_VALUES_MISMATCH``, in brackets), or None."""
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(self.certificate, self.key)
        except ssl.SSLError as exc:
            return f"expected a PEM certificate (chain) and its PEM private key{_reason(exc)}"
        return None

    def client_ca_problem(self) -> str | None:
        """Why the server could not load ``client_ca`` (when there is one), or None."""
        if self.client_ca is None:
            return None
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_verify_locations(self.client_ca)
        except ssl.SSLError as exc:
            return f"expected PEM CA certificates{_reason(exc)}"
        return None


def _reason(exc: ssl.SSLError) -> str:
    """OpenSSL's reason (``KEY_VALUES_MISMATCH``) in brackets, when it gives one."""
    return f" ({exc.reason})" if exc.reason else ""


async def read_body(receive: Any, limit: int) -> bytes:
    """The whole request body from an ASGI ``receive``, refusing more than ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"the request body exceeds {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class AsgiServer:
    """One uvicorn server for ``app`` on ``host:port``."""

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: TlsFiles | None = None,
        limit_concurrency: int | None = 200,
        log_level: str = "warning",
    ) -> None:
        options: dict[str, Any] = {}
        if tls is not None:
            options.update(ssl_certfile=str(tls.certificate), ssl_keyfile=str(tls.key))
            if tls.client_ca is not None:
                import ssl

                options.update(ssl_ca_certs=str(tls.client_ca), ssl_cert_reqs=ssl.CERT_REQUIRED)
        self.tls = tls
        self.config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            access_log=False,
            lifespan="off",
            limit_concurrency=limit_concurrency,
            timeout_keep_alive=5,
            **options,
        )
        self.server = uvicorn.Server(self.config)
        self._thread: threading.Thread | None = None
        self._sockets: list[socket.socket] = []

    def listen(self) -> AsgiServer:
        """Bind the host and port now (once): a :class:`GatewayError` naming them and why
        (``port N is in use``) when they cannot be. ``start`` and ``run`` call it."""
        if not self._sockets:
            self._sockets = listening_sockets(
                self.config.host, self.config.port, backlog=self.config.backlog
            )
        return self

    @property
    def port(self) -> int:
        servers = getattr(self.server, "servers", None) or []
        for server in servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        for sock in self._sockets:
            return int(sock.getsockname()[1])
        return int(self.config.port)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.config.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> AsgiServer:
        """Serve in a background thread; returns once it listens."""
        sockets = self.listen()._sockets
        self._thread = threading.Thread(
            target=self.server.run, args=(sockets,), name="asgi-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise GatewayError(f"the HTTP server on {self.config.host} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._close()

    def _close(self) -> None:
        for sock in self._sockets:
            sock.close()
        self._sockets = []

    def run(self, max_seconds: float | None = None) -> None:
        """Serve in the foreground until interrupted (SIGINT/SIGTERM) or, with
        ``max_seconds``, until that many seconds have passed. A signal is the normal end of a
        server: uvicorn lets the requests in hand finish, then raises the signal again as it
        returns; that is taken here as done (the command exits 0), not as an interruption."""
        sockets = self.listen()._sockets
        timer = None
        if max_seconds is not None:
            timer = threading.Timer(max_seconds, lambda: setattr(self.server, "should_exit", True))
            timer.daemon = True
            timer.start()
        try:
            asyncio.run(self.server.serve(sockets))
        except KeyboardInterrupt:  # SIGINT, or SIGTERM as cli.main raises it: after the shutdown
            if not self.server.should_exit:
                raise  # not uvicorn's shutdown: an interruption
        finally:
            self._close()
            if timer is not None:
                timer.cancel()
                timer.join()

    def __enter__(self) -> AsgiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
