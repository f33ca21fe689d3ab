"""Token buckets for alias look-ups, per participant: a miss costs more than a hit.

As in PIX's directory (DICT), a participant that probes for aliases that do not exist spends its
budget fast, so enumerating citizens' ids through the directory is slow by design.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BUCKET_CAPACITY = 100.0
REFILL_PER_SECOND = 20.0
HIT_COST = 1.0
MISS_COST = 10.0
BUCKETS_MAX = 10_000
RETRY_AFTER_S_MAX = 3_600


@dataclass(slots=True)
class Bucket:
    tokens: float
    updated_ms: int


def refill(bucket: Bucket, now_ms: int, capacity: float = BUCKET_CAPACITY, rate: float = REFILL_PER_SECOND) -> Bucket:
    elapsed_s = max(0, now_ms - bucket.updated_ms) / 1000
    return Bucket(min(capacity, bucket.tokens + elapsed_s * rate), max(now_ms, bucket.updated_ms))


class AliasLookupLimiter:
    """The imperative part: one bucket per BIN, in memory (each worker keeps its own)."""

    def __init__(self, capacity: float = BUCKET_CAPACITY, rate: float = REFILL_PER_SECOND) -> None:
        self.capacity, self.rate = capacity, rate
        self.buckets: dict[str, Bucket] = {}

    def allowed(self, bin_code: str, now_ms: int) -> bool:
        """Whether a look-up may start: at least the cost of a miss must be left."""
        bucket = refill(self._bucket(bin_code, now_ms), now_ms, self.capacity, self.rate)
        self.buckets[bin_code] = bucket
        return bucket.tokens >= MISS_COST

    def retry_after_s(self, bin_code: str, now_ms: int) -> int:
        """Whole seconds until a look-up may start again (HTTP's Retry-After): at least 1."""
        bucket = refill(self._bucket(bin_code, now_ms), now_ms, self.capacity, self.rate)
        if self.rate <= 0:
            return RETRY_AFTER_S_MAX  # a bucket that never refills (tests): come back much later
        return min(RETRY_AFTER_S_MAX, max(1, math.ceil((MISS_COST - bucket.tokens) / self.rate)))

    def charge(self, bin_code: str, now_ms: int, hit: bool) -> None:
        bucket = refill(self._bucket(bin_code, now_ms), now_ms, self.capacity, self.rate)
        bucket.tokens = max(0.0, bucket.tokens - (HIT_COST if hit else MISS_COST))
        self.buckets[bin_code] = bucket

    def _bucket(self, bin_code: str, now_ms: int) -> Bucket:
        found = self.buckets.get(bin_code)
        if found is None:
            if len(self.buckets) >= BUCKETS_MAX:
                self.buckets.clear()  # a bound on memory; participants are far fewer than this
            found = Bucket(self.capacity, now_ms)
        return found
