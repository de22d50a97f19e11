"""The token bucket (pure, a fake clock) and how the middleware names a client."""

from __future__ import annotations

import pytest

from app.server.middleware import client_address
from app.server.ratelimit import Decision, TokenBucketLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(per_minute: int = 60, burst: int = 3, **kwargs: object) -> tuple[TokenBucketLimiter, Clock]:
    clock = Clock()
    return TokenBucketLimiter(per_minute=per_minute, burst=burst, clock=clock, **kwargs), clock  # type: ignore[arg-type]


def test_burst_then_refused_with_the_wait() -> None:
    bucket, _ = limiter(per_minute=60, burst=3)
    assert [bucket.hit("a").allowed for _ in range(3)] == [True, True, True]
    refused = bucket.hit("a")
    assert refused == Decision(False, pytest.approx(1.0))  # 60/min: one token a second
    assert refused.retry_after_header == "1"


def test_tokens_come_back_at_the_rate() -> None:
    bucket, clock = limiter(per_minute=30, burst=2)  # one token every 2 s
    assert bucket.hit("a").allowed and bucket.hit("a").allowed
    assert bucket.hit("a").retry_after == pytest.approx(2.0)
    clock.now += 1.0
    assert bucket.hit("a").retry_after == pytest.approx(1.0)  # refused calls take nothing
    clock.now += 1.0
    assert bucket.hit("a").allowed and not bucket.hit("a").allowed
    clock.now += 3600  # a long pause refills only up to the burst
    assert [bucket.hit("a").allowed for _ in range(3)] == [True, True, False]


def test_clients_have_their_own_buckets() -> None:
    bucket, _ = limiter(burst=1)
    assert bucket.hit("a").allowed and not bucket.hit("a").allowed
    assert bucket.hit("b").allowed


def test_retry_after_header_is_whole_seconds_at_least_one() -> None:
    assert Decision(False, 0.2).retry_after_header == "1"
    assert Decision(False, 2.01).retry_after_header == "3"
    bucket, _ = limiter(per_minute=1, burst=1)
    bucket.hit("a")
    assert bucket.hit("a").retry_after_header == "60"


def test_memory_stays_bounded() -> None:
    bucket, clock = limiter(per_minute=60, burst=2, max_clients=100)
    for i in range(1000):  # e.g. spoofed addresses
        bucket.hit(f"10.0.{i // 250}.{i % 250}")
    assert len(bucket) == 100
    clock.now += 10  # idle buckets are full again after burst/rate = 2 s: the same as unknown, dropped
    bucket.hit("a")
    assert len(bucket) == 1


def test_recently_seen_clients_are_kept_over_old_ones() -> None:
    bucket, clock = limiter(burst=1, max_clients=2)
    bucket.hit("old")
    clock.now += 0.1
    bucket.hit("busy")
    clock.now += 0.1
    bucket.hit("new")  # over the cap: "old" goes
    assert not bucket.hit("busy").allowed  # still remembered (empty bucket)
    clock.now += 0.1
    assert bucket.hit("old").allowed  # forgotten, starts full


@pytest.mark.parametrize(("per_minute", "burst"), [(0, 1), (-1, 5), (60, 0)])
def test_bad_parameters(per_minute: int, burst: int) -> None:
    with pytest.raises(ValueError):
        TokenBucketLimiter(per_minute=per_minute, burst=burst)


def scope(client: tuple[str, int] | None, forwarded: str | None = None) -> dict[str, object]:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return {"type": "http", "client": client, "headers": headers}


def test_client_address() -> None:
    peer = ("10.0.0.7", 51000)
    assert client_address(scope(peer), trust_proxy_headers=False) == "10.0.0.7"
    # X-Forwarded-For counts only behind our own proxy: otherwise anyone could pick a new address each time
    assert client_address(scope(peer, "1.2.3.4"), trust_proxy_headers=False) == "10.0.0.7"
    assert client_address(scope(peer, "1.2.3.4, 10.0.0.1"), trust_proxy_headers=True) == "1.2.3.4"
    assert client_address(scope(peer, " "), trust_proxy_headers=True) == "10.0.0.7"
    assert client_address(scope(None), trust_proxy_headers=False) == "unknown"
