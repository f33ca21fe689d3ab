"""A second of memory for what changes only by admin action (which key is whose, a participant's
URL and secret): every request and every delivery needs it, so it is kept here rather than read
from the switch's database each time. A change made by an admin call is seen within the TTL."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")
TTL_S = 1.0
ENTRIES_MAX = 10_000


class TtlCache(Generic[K, V]):
    def __init__(
        self, ttl_s: float = TTL_S, entries_max: int = ENTRIES_MAX, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.entries_max = entries_max
        self.clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K, load: Callable[[K], V | None]) -> V | None:
        """The cached value, or `load(key)`; a None (unknown) is never kept, so nobody is refused
        for a second after being registered and unknown keys cannot fill the cache."""
        now = self.clock()
        found = self._entries.get(key)
        if found is not None and found[0] > now:
            self._entries.move_to_end(key)
            return found[1]
        value = load(key)
        if value is None:
            self._entries.pop(key, None)
            return None
        self._entries[key] = (now + self.ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.entries_max:
            self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        self._entries.clear()
