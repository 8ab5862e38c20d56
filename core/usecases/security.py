"""The security log (issue #11 item 6): who signed in or failed to (the name tried, the
client address), sessions that ended and why, accounts created, changed, deactivated, their
passwords reset or changed, and changes of the settings, the approval matrix, the calendar,
the notification channels, delegations and backups.

Append-only: `add` writes a row inside the caller's unit of work (so the entry and the change
it reports commit together), `record` in a unit of work of its own; the repository has no
update or delete (core/ports.py SecurityLogRepo). Never a password, not even a wrong one.
`security_log` reads it for an administrator (Admin → Security log), which puts the codes
into words and the ids into names (ui/admin_security.py).
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from typing import Any

from core.errors import InvalidInput
from core.model import SecurityEntry, User
from core.ports import UnitOfWork, UowFactory
from core.usecases import context
from core.usecases.context import Context

# What can happen, grouped as the Admin page's filter shows them.
KINDS = (
    "login_ok", "login_failed", "session_ended",
    "user_created", "user_changed", "user_deactivated", "user_reactivated",
    "password_reset", "password_changed", "delay_cleared",
    "settings_changed", "matrix_changed", "titles_changed", "rules_changed",
    "calendar_changed", "limits_changed",
    "channels_changed", "escalation_changed", "delegation_set", "delegation_revoked",
    "backup_made",
)
MAX_TEXT = 100
MAX_DAYS = 366  # one query covers at most a year


def _clean(value: Any) -> str:
    """A detail value as short plain text (no control characters)."""
    text = ",".join(sorted(str(v) for v in value)) if isinstance(value, (set, frozenset)) \
        else str(value)
    return "".join(ch for ch in text if ch.isprintable())[:MAX_TEXT]


def entry(at: datetime, kind: str, actor: User | None = None, *, username: str = "",
          subject: User | None = None, subject_id: int | None = None, client: str = "",
          **detail: Any) -> SecurityEntry:
    assert kind in KINDS, kind
    return SecurityEntry(
        0, at, kind, actor.id if actor is not None else None,
        _clean(username or (actor.username if actor is not None else "")),
        subject.id if subject is not None else subject_id, _clean(client),
        {k: _clean(v) for k, v in detail.items() if v is not None})


def add(uow: UnitOfWork, at: datetime, kind: str, actor: User | None = None,
        **kw: Any) -> None:
    """One entry, in the caller's unit of work (it commits with the change it reports)."""
    uow.security_log.add(entry(at, kind, actor, **kw))


def record_with(uow_factory: UowFactory, at: datetime, kind: str, actor: User | None = None,
                **kw: Any) -> None:
    """One entry in a unit of work of its own (sign-in failures: nothing else is written)."""
    with uow_factory(write=True) as uow:
        add(uow, at, kind, actor, **kw)
        uow.commit()


def security_log(ctx: Context, actor: User, start: date, end: date,
                 kinds: Collection[str] = (), limit: int = 5000) -> list[SecurityEntry]:
    """The entries from `start` to `end` (days in the configured time zone, both included)
    of `kinds` (all when empty), newest first; administrators only."""
    if end < start:
        raise InvalidInput("err.date_range")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput("err.seclog_range", days=MAX_DAYS)
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise InvalidInput("err.unknown", field="kind")
    with ctx.uow() as uow:
        context.require_admin(ctx, uow, actor)
        tz = context.settings_of(ctx, uow).tz
        since = datetime.combine(start, time(0), tz)
        until = datetime.combine(end + timedelta(days=1), time(0), tz)
        return uow.security_log.find(since, until, tuple(kinds), limit)


def add_settings(uow: UnitOfWork, at: datetime, actor: User, values: dict[str, Any]) -> None:
    """One entry per setting whose value changes (called before the values are stored)."""
    for key, value in sorted(values.items()):
        old = uow.settings.get(key)
        if old != value:
            add(uow, at, "settings_changed", actor, field=key, old="" if old is None else old,
                new=value)
