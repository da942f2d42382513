"""A cache of expiring credentials (security tokens), shared by the threads of a process.

``TokenCache.get(key, fetch)`` returns the cached token for ``key`` while ``now`` is before
its expiry minus ``margin``; otherwise it calls ``fetch`` - once, however many callers ask at
the same moment: the others wait for that one fetch and share its result (single flight per
key). The clock is injected. ``invalidate`` drops a token a counterpart has refused, so the
next ``get`` fetches anew. What a token is and how it is fetched belongs to the adapter.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["Clock", "Expiring", "TokenCache", "utc_now"]

T = TypeVar("T")
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass(frozen=True, slots=True)
class Expiring(Generic[T]):
    """A token and the moment it stops being valid (timezone-aware)."""

    value: T
    expires: dt.datetime


class TokenCache(Generic[T]):
    """Tokens per key, refreshed ``margin`` before they expire."""

    def __init__(self, *, margin: dt.timedelta, clock: Clock = utc_now) -> None:
        self.margin = margin
        self.clock = clock
        self._tokens: dict[Hashable, Expiring[T]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, fetch: Callable[[], Expiring[T]]) -> Expiring[T]:
        cached = self._fresh(key)
        if cached is not None:
            return cached
        with self._lock(key):
            cached = self._fresh(key)  # fetched by whoever held the lock before us
            if cached is not None:
                return cached
            token = fetch()
            self._tokens[key] = token
            return token

    def expiries(self) -> dict[Hashable, dt.datetime]:
        """When each cached token expires (for monitoring; nothing is fetched)."""
        with self._guard:
            return {key: token.expires for key, token in self._tokens.items()}

    def invalidate(self, key: Hashable) -> None:
        with self._guard:
            self._tokens.pop(key, None)

    def _fresh(self, key: Hashable) -> Expiring[T] | None:
        token = self._tokens.get(key)
        if token is not None and self.clock() < token.expires - self.margin:
            return token
        return None

    def _lock(self, key: Hashable) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())
