"""A small in-container cache: what one Lambda container may remember of the table, and for how long.

Every authenticated request used to re-read the same three items (token revocation, organization,
membership) before doing any work. A container serves one request at a time, usually for the same
few callers, so remembering them for seconds removes those reads. Entries expire after
`ttl_seconds` (the documented staleness bound) and the least recently used one goes first when
`max_entries` is reached; `ttl_seconds=0` turns the cache off. Values must be immutable.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, ttl_seconds: float, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()  # `chalice local` and the local worker serve from threads

    @property
    def enabled(self) -> bool:
        return self.ttl_seconds > 0 and self._max_entries > 0

    def get(self, key: K) -> V | None:
        """The remembered value, or None when absent or older than the bound."""
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if self._clock() >= expires:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        """Remember `value` (never None: None means "not cached") for at most `ttl_seconds`."""
        if not self.enabled or value is None:
            return
        with self._lock:
            self._entries[key] = (self._clock() + self.ttl_seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def invalidate(self, *keys: K) -> None:
        """Forget entries this container has just made wrong by its own write."""
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
