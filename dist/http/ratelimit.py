"""Refusing an address that keeps presenting bad tokens: a brake on guessing secrets, kept in this process."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from dist.http.errors import RateLimited

MAX_FAILURES = 10
WINDOW_SECONDS = 60.0
# Addresses remembered at most; the least recently failing one is forgotten first, so memory stays bounded
# whatever the number of addresses a client can send from.
MAX_ADDRESSES = 10_000


class AuthFailures:
    """Counts failed authentications per client address in fixed windows: after `limit` failures within
    `window` seconds, every authenticated request from that address is refused until the window ends."""

    def __init__(
        self,
        *,
        limit: int = MAX_FAILURES,
        window: float = WINDOW_SECONDS,
        capacity: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.capacity = capacity
        self.clock = clock
        # address -> (start of its window, failures in it)
        self._windows: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def check(self, address: str) -> None:
        """Raises `auth.rate_limited` while `address` is over the limit."""
        entry = self._windows.get(address)
        if entry is None:
            return
        start, failures = entry
        left = start + self.window - self.clock()
        if left <= 0:
            del self._windows[address]
        elif failures >= self.limit:
            raise RateLimited(
                "auth.rate_limited",
                f"too many failed authentications from this address; try again in {math.ceil(left)} s",
                retry_after=math.ceil(left),
            )

    def failed(self, address: str) -> None:
        now = self.clock()
        start, failures = self._windows.pop(address, (now, 0))
        if now - start >= self.window:
            start, failures = now, 0
        self._windows[address] = (start, failures + 1)
        while len(self._windows) > self.capacity:
            self._windows.popitem(last=False)
