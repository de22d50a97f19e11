"""Reaching Redis (shared sessions and feedback, issue 7): a dead Redis costs milliseconds, never answers.

Short socket timeouts and one immediate retry (a pooled connection left stale by a Redis restart is replaced
at once); redis-py reconnects by itself when Redis is back. Keys start with ``yibao:``.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

PREFIX = "yibao:"
TIMEOUT_SECONDS = 0.5
log = logging.getLogger(__name__)


def connect(url: str, *, timeout: float = TIMEOUT_SECONDS) -> redis.Redis:
    """A client for ``redis://host:port/db`` (lazy: nothing is contacted until the first command)."""
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout,
                                retry=Retry(NoBackoff(), 1), decode_responses=True)


def reachable(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


class Outage:
    """What a caller that can do without Redis remembers about its failures: after one, Redis is skipped for
    ``cooldown`` seconds (an unreachable host then costs one timeout per cooldown, not two per answer); a
    warning is logged at most once per ``warn_every`` seconds, and once more when Redis answers again."""

    def __init__(self, what: str, *, cooldown: float = 1.0, warn_every: float = 60.0) -> None:
        self.what = what
        self.cooldown = cooldown
        self.warn_every = warn_every
        self.down = False
        self._skip_until = 0.0
        self._last_warning = float("-inf")
        self._lock = threading.Lock()

    def skip(self) -> bool:
        return time.monotonic() < self._skip_until

    def failed(self, exc: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            self.down = True
            self._skip_until = now + self.cooldown
            if now - self._last_warning < self.warn_every:
                return
            self._last_warning = now
        log.warning("Redis 不可用，%s（%s: %s）", self.what, type(exc).__name__, exc)

    def recovered(self) -> None:
        if self.down:
            with self._lock:
                was_down, self.down = self.down, False
            if was_down:
                log.info("Redis 已恢复")
