"""Sign-in delays: every failed attempt makes the next one of the same account name and of the
same client address wait longer (core/rules/logins.py; docs/procedure.md §11). Counted before
the password is checked, in one locked transaction; an administrator may clear a name's wait."""
from __future__ import annotations

import math
from typing import Any

from core.errors import AccountLocked
from core.model import Role, User
from core.ports import Clock, UowFactory
from core.rules import logins
from core.usecases import context, security
from core.usecases.context import Context


def wait_message(key: str, seconds: int) -> tuple[str, dict[str, Any]]:
    """The key and parameters of "wait …": seconds up to 90, then whole minutes."""
    if seconds <= 90:
        return key, {"seconds": seconds}
    return key + "_minutes", {"minutes": math.ceil(seconds / 60)}


def claim(uows: UowFactory, clock: Clock, keys: list[str]) -> None:
    """Refuse the attempt while any of its counters must wait; else count it as a failure
    now (undone by `succeeded`), committed before the password is checked."""
    if not keys:
        return
    now = clock()
    with uows(write=True) as uow:
        counters = uow.users.lock_counters(keys)
        waits = [at for k, (n, last) in counters.items()
                 if (at := logins.allowed_at(logins.Counter(n, last), now,
                                             logins.free_of(k))) is not None]
        if waits:
            key, params = wait_message("err.login_wait", logins.seconds_left(max(waits), now))
            raise AccountLocked(key, **params)
        for k, (n, last) in counters.items():
            c = logins.after_failure(logins.Counter(n, last), now)
            uow.users.set_counter(k, c.failures, c.last_at)
        uow.commit()


def succeeded(uows: UowFactory, keys: list[str]) -> None:
    """The password was right: the account's count starts again; the client's loses only
    this attempt (a valid account of one's own must not wash a guessing client clean)."""
    if not keys:
        return
    with uows(write=True) as uow:
        for k, (n, last) in uow.users.lock_counters(keys).items():
            if k.startswith("client:"):
                uow.users.set_counter(k, max(0, n - 1), last)
            else:
                uow.users.set_counter(k, 0, None)
        uow.commit()


def wait(uows: UowFactory, clock: Clock, keys: list[str]) -> int | None:
    """Seconds the next attempt must wait, or None."""
    now = clock()
    with uows() as uow:
        counters = uow.users.counters(keys) if keys else {}
    waits = [at for k, (n, last) in counters.items()
             if (at := logins.allowed_at(logins.Counter(n, last), now,
                                         logins.free_of(k))) is not None]
    return logins.seconds_left(max(waits), now) if waits else None


def is_locked(ctx: Context, username: str) -> bool:
    """Whether the next sign-in of this name must wait (Admin's user list)."""
    return wait(ctx.uow, ctx.clock, [logins.name_key(username.strip().lower())]) is not None


def unlock_user(ctx: Context, actor: User, username: str) -> None:
    """An administrator lets the name try again at once (its failures are forgotten)."""
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        context.require_role(me, Role.ADMIN)
        key = logins.name_key(username.strip().lower())
        uow.users.lock_counters([key])
        uow.users.set_counter(key, 0, None)
        security.add(uow, ctx.clock(), "delay_cleared", me,
                     subject=uow.users.by_username(username.strip().lower()))
        uow.commit()
