"""A token bucket per client, in memory (pure: no I/O, no FastAPI; the clock is passed in for tests).

Each client may send ``burst`` requests at once; the bucket then refills at ``per_minute / 60`` tokens a
second. The state lives in this process: with several server instances behind a load balancer each
instance limits on its own, so a client gets up to N times the rate (a shared limiter, e.g. in Redis, would
be needed for one global limit).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0  # seconds until one token is back (0 when allowed)

    @property
    def retry_after_header(self) -> str:
        """Whole seconds for the ``Retry-After`` header, at least 1."""
        return str(max(1, math.ceil(self.retry_after)))


class TokenBucketLimiter:
    """``hit(client)`` takes one token from the client's bucket, or says how long to wait.

    Clients idle long enough to have a full bucket again are forgotten (that is the same as never seen), and
    at most ``max_clients`` buckets are kept (the least recently seen go first): memory stays bounded even if
    addresses are spoofed.
    """

    def __init__(self, *, per_minute: int, burst: int, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("per_minute must be > 0 and burst >= 1")
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = float(burst)
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client → (tokens, at)
        self._lock = threading.Lock()

    def hit(self, client: str) -> Decision:
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                tokens -= 1.0
                decision = Decision(True)
            else:
                decision = Decision(False, (1.0 - tokens) / self.rate)
            self._buckets[client] = (tokens, now)  # re-inserted: the most recently seen is last
            self._forget(now)
        return decision

    def __len__(self) -> int:
        return len(self._buckets)

    def _forget(self, now: float) -> None:
        full_after = self.burst / self.rate  # an idle bucket is full again after this many seconds
        while self._buckets:
            client, (_, at) = next(iter(self._buckets.items()))
            if now - at < full_after and len(self._buckets) <= self.max_clients:
                break
            del self._buckets[client]
