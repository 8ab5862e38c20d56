"""When a login session still holds (docs/procedure.md §11). Pure: the use cases in
core/usecases/accounts.py make and store them."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from core.model import LoginSession

# How often a session's last-seen time is written: every page run would be a write per click.
TOUCH_EVERY = timedelta(minutes=1)
MAX_AGENT = 200


def token_hash(token: str) -> str:
    """What the database keeps of a session token: its SHA-256, so a copy of the database
    (a backup) cannot log anybody in."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def why_over(s: LoginSession, now: datetime, idle: timedelta) -> str | None:
    """Why the session no longer holds ("ended", "expired", "idle"), or None if it does."""
    if s.ended_at is not None:
        return "ended"
    if now >= s.expires_at:
        return "expired"
    if now - s.last_seen_at >= idle:
        return "idle"
    return None


def needs_touch(s: LoginSession, now: datetime) -> bool:
    return now - s.last_seen_at >= TOUCH_EVERY
