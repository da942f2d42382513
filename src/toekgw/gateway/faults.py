"""Crash points: where the crash tests kill the process, by name.

``TOEKGW_CRASH_AT=inbound.after_download`` makes the process SIGKILL itself the first time it
reaches that point (``name:3`` the third time). Unset, a crash point costs one dict lookup. It
exists so that the tests can stop the gateway at exactly the step they mean to, instead of
racing a timer; nothing else should set it.

:data:`POINTS` lists the core's own points; an adapter names its points
``<counterpart>.<flow>.<step>`` where it calls :func:`crash_point` (``nemkonto.send.after_put``).
"""

from __future__ import annotations

import os
import signal

__all__ = ["POINTS", "crash_point"]

#: The core's crash points (the adapters' are named where they are reached).
POINTS = (
    "inbound.after_download",
    "inbound.after_commit",
    "inbound.after_remote_dispose",
    "outbound.after_journal",
    "outbound.after_upload",
    "transport.put.mid",
)

_counts: dict[str, int] = {}


def crash_point(name: str) -> None:
    spec = os.environ.get("TOEKGW_CRASH_AT")
    if not spec:
        return
    target, _, nth = spec.partition(":")
    if target != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
