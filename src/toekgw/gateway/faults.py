"""Crash points: where the crash tests kill the process, by name.

``TOEKGW_CRASH_AT=inbound.after_download`` makes the process SIGKILL itself the first time it
reaches that point (``name:3`` the third time). Unset, a crash point costs one dict lookup. It
exists so that the tests can stop the gateway at exactly the step they mean to, instead of
racing a timer; nothing else should set it. ``TOEKGW_PAUSE_AT`` (same syntax) makes the process
SIGSTOP itself there instead, so that a test can run a second process against the first one
held mid-step, then SIGCONT it.

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
    "journal.items.batch",
    "journal.migrate.filled",
    "outbound.after_journal",
    "outbound.after_upload",
    "transport.put.mid",
)

_counts: dict[str, int] = {}


def crash_point(name: str) -> None:
    for variable, action in (
        ("TOEKGW_CRASH_AT", signal.SIGKILL),
        ("TOEKGW_PAUSE_AT", signal.SIGSTOP),
    ):
        spec = os.environ.get(variable)
        if not spec:
            continue
        target, _, nth = spec.partition(":")
        if target != name:
            continue
        key = f"{variable}:{name}"
        _counts[key] = _counts.get(key, 0) + 1
        if _counts[key] == int(nth or 1):
            os.kill(os.getpid(), action)
