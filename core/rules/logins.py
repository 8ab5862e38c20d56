"""Sign-in throttling: growing delays instead of a lock (issue #11 item 4,
docs/decisions/0011-login-delays-and-security-log.md).

Failures are counted per account name tried and per client address. The first few of each
are free; after that every further attempt must wait, twice as long each time, up to a cap:
with the defaults, 3 free failures per name, then 1, 2, 4 … seconds, at most 5 minutes. A
count is forgotten after an hour without failures, and an account's count ends with a
successful sign-in. Nobody is locked out: the right password of the owner works again as
soon as the current delay has passed, and that delay is never longer than the cap.

The state of one counter is (failures, last failure time); everything here is pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

FREE_PER_NAME = 3        # failures of one account name before any wait
FREE_PER_CLIENT = 10     # failures from one address (any names) before any wait
FIRST_DELAY = timedelta(seconds=1)
MAX_DELAY = timedelta(minutes=5)
FORGET_AFTER = timedelta(hours=1)  # a counter with no failure for this long starts again


def name_key(username: str) -> str:
    return "name:" + username[:90]


def client_key(client: str) -> str:
    return "client:" + client[:90]


def free_of(key: str) -> int:
    return FREE_PER_CLIENT if key.startswith("client:") else FREE_PER_NAME


@dataclass(frozen=True)
class Counter:
    failures: int = 0
    last_at: datetime | None = None


def delay(failures: int, free: int = FREE_PER_NAME, first: timedelta = FIRST_DELAY,
          cap: timedelta = MAX_DELAY) -> timedelta:
    """How long to wait after `failures` failures: nothing for the first `free`, then
    `first`, doubling with each further failure, never more than `cap`."""
    if failures < free:
        return timedelta(0)
    steps = failures - free
    if steps >= 30:  # 2**30 seconds is past any cap
        return cap
    return min(first * (1 << steps), cap)


def current(c: Counter, now: datetime) -> Counter:
    """The counter as it stands now: forgotten after an hour without failures."""
    if c.last_at is None or now - c.last_at >= FORGET_AFTER:
        return Counter()
    return c


def allowed_at(c: Counter, now: datetime, free: int = FREE_PER_NAME) -> datetime | None:
    """When the next attempt may be made, or None if it may be made now."""
    c = current(c, now)
    if c.last_at is None:
        return None
    at = c.last_at + delay(c.failures, free)
    return at if at > now else None


def after_failure(c: Counter, now: datetime) -> Counter:
    c = current(c, now)
    return Counter(c.failures + 1, now)


def seconds_left(until: datetime, now: datetime) -> int:
    """Whole seconds to wait (at least 1)."""
    return max(1, math.ceil((until - now).total_seconds()))
