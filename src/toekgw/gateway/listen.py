"""Listening sockets for the servers the gateway and its simulators run (uvicorn, asyncssh).

They are bound here, before the server library is handed them, so that a port in use (or a
port below 1024 without the privilege, or an address this machine does not have) is one line
naming the address and the reason: the libraries' own way is a log line of theirs and an exit
code of their choosing (uvicorn) or an exception with the system's words (asyncssh).
"""

from __future__ import annotations

import errno
import socket

from toekgw.gateway.errors import GatewayError

__all__ = ["MAX_PORT", "listening_sockets"]

MAX_PORT = 65535


def listening_sockets(host: str, port: int, *, backlog: int = 100) -> list[socket.socket]:
    """Sockets listening on ``host:port`` (every address ``host`` resolves to, as asyncio's
    own server does; port 0: a free one); a :class:`GatewayError` naming the address and
    why when one cannot be bound."""
    where = f"{host}:{port}"
    if not 0 <= port <= MAX_PORT:
        raise GatewayError(f"cannot listen on {where}: expected a port from 0 to {MAX_PORT}")
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise GatewayError(f"cannot listen on {where}: unknown host ({exc.strerror})") from exc
    bound: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            bound.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(backlog)
    except OSError as exc:
        for sock in bound:
            sock.close()
        raise GatewayError(f"cannot listen on {where}: {_why(host, port, exc)}") from exc
    return bound


def _why(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is in use (by another server, or another instance of this one)"
    if exc.errno == errno.EACCES and 0 < port < 1024:
        return f"permission denied (port {port} is below 1024: it needs privileges)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine"
    return exc.strerror or str(exc)
