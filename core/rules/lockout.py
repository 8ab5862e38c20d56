"""Login lockout: 5 failed attempts within 15 minutes lock the user for 15 minutes
(docs/procedure.md §11)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)


def locked_until(failures: Iterable[datetime], now: datetime,
                 unlocked_at: datetime | None = None) -> datetime | None:
    """When the lock ends, or None if not locked.

    `failures` are the user's failed attempts; those before an admin unlock do not count.
    The user is locked if some failure is the 5th within 15 minutes and that lock has not ended.
    """
    times = sorted(t for t in failures if unlocked_at is None or t > unlocked_at)
    until: datetime | None = None
    for i in range(MAX_FAILURES - 1, len(times)):
        if times[i] - times[i - MAX_FAILURES + 1] <= WINDOW:
            candidate = times[i] + LOCK_FOR
            if until is None or candidate > until:
                until = candidate
    return until if until is not None and until > now else None
