"""The inbox: my notices, what is unread, and which notices I want (docs/procedure.md §8)."""
from __future__ import annotations

from collections.abc import Sequence

from core import notify
from core.errors import InvalidInput
from core.model import Notification, User
from core.usecases import context
from core.usecases.context import Context


def inbox(ctx: Context, actor: User, limit: int = 200) -> list[Notification]:
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        return uow.notifications.for_user(me.id, limit)


def unread_count(ctx: Context, actor: User) -> int:
    with ctx.uow() as uow:
        return uow.notifications.unread_count(actor.id)


def mark_read(ctx: Context, actor: User, ids: Sequence[int] | None = None) -> int:
    """Mark some (or, with None, all) of my notifications read."""
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        n = uow.notifications.mark_read(me.id, ids, ctx.clock())
        uow.commit()
        return n


def notice_preferences(ctx: Context, actor: User) -> notify.Preferences:
    """My choice of notices and channels (My account)."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        return notify.Preferences.from_stored(uow.settings.get(notify.preference_key(me.id)))


def set_notice_preferences(ctx: Context, actor: User, prefs: notify.Preferences) -> None:
    """Store my choice of notices: only known kinds and channels may be turned off."""
    if not all(c in notify.CHANNELS and k in notify.KINDS for c, k in prefs.off):
        raise InvalidInput("err.invalid_input")
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        uow.settings.set(notify.preference_key(me.id), prefs.to_stored())
        uow.commit()
