"""The auth failure limiter in process: windows, lock-out, and memory bounded whatever the addresses."""

from __future__ import annotations

import pytest

from dist.http.errors import RateLimited
from dist.http.ratelimit import AuthFailures


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_is_locked_out_until_its_window_ends() -> None:
    ticks = Ticks()
    limiter = AuthFailures(limit=3, window=60, clock=ticks)
    for _ in range(3):
        limiter.check("10.0.0.1")
        limiter.failed("10.0.0.1")
    ticks.now += 20
    with pytest.raises(RateLimited) as refused:
        limiter.check("10.0.0.1")
    assert (refused.value.code, refused.value.retry_after) == ("auth.rate_limited", 40)
    limiter.check("10.0.0.2")
    ticks.now += 40
    limiter.check("10.0.0.1")


def test_failures_in_an_old_window_do_not_count() -> None:
    ticks = Ticks()
    limiter = AuthFailures(limit=3, window=60, clock=ticks)
    limiter.failed("10.0.0.1")
    limiter.failed("10.0.0.1")
    ticks.now += 61
    limiter.failed("10.0.0.1")
    limiter.failed("10.0.0.1")
    limiter.check("10.0.0.1")


def test_memory_stays_bounded_by_forgetting_the_oldest_address() -> None:
    limiter = AuthFailures(limit=1, window=60, capacity=100, clock=Ticks())
    limiter.failed("first")
    for n in range(10_000):
        limiter.failed(f"10.{n}")
    assert len(limiter._windows) == 100
    # The first address was forgotten; the latest is still locked out.
    limiter.check("first")
    with pytest.raises(RateLimited):
        limiter.check("10.9999")
