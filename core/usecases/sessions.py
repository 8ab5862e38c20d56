"""Login sessions: signing in starts one (a random token in an HttpOnly cookie, its hash
stored), each request's cookie is checked against it, and it ends by logging out, idling,
its lifetime, or an administrator (docs/procedure.md §11)."""
from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import timedelta

from core.model import LoginSession, User
from core.rules import sessions as session_rules
from core.usecases import accounts, common, context, security
from core.usecases.context import Context


@dataclass(frozen=True)
class Login:
    """A login that succeeded: the token goes into the HttpOnly cookie, once."""

    user: User
    token: str
    session: LoginSession


@dataclass(frozen=True)
class SessionView:
    """An open login as the Admin page lists it."""

    session: LoginSession
    username: str
    display_name: str


def log_in(ctx: Context, username: str, password: str, client: str = "",
           agent: str = "") -> Login:
    """Check the password (lockout and all, `authenticate`) and start a session: a new random
    token every login, its SHA-256 stored, an absolute end fixed now (docs/procedure.md §11)."""
    user = accounts.authenticate(ctx, username, password, client)
    token = secrets.token_urlsafe(32)
    now = ctx.clock()
    with ctx.uow(write=True) as uow:
        cfg = context.settings_of(ctx, uow)
        s = LoginSession(0, user.id, now, now, now + timedelta(hours=cfg.session_lifetime_hours),
                         client=client[:64],
                         agent=common.CONTROL.sub("", agent)[:session_rules.MAX_AGENT])
        sid = uow.sessions.add(s, session_rules.token_hash(token))
        security.add(uow, now, "login_ok", user, subject=user, client=client)
        uow.commit()
    return Login(user, token, dataclasses.replace(s, id=sid))


def session_of(ctx: Context, token: str | None) -> tuple[User, LoginSession] | None:
    """The user and session a cookie's token stands for, or None: unknown, ended, idle too
    long, past its lifetime, or its user deactivated. A session found over is ended."""
    if not token or len(token) > 200:
        return None
    now = ctx.clock()
    h = session_rules.token_hash(token)
    with ctx.uow() as uow:
        s = uow.sessions.by_hash(h)
        if s is None:
            return None
        cfg = context.settings_of(ctx, uow)
        user = uow.users.get(s.user_id)
        over = session_rules.why_over(s, now, timedelta(minutes=cfg.session_idle_minutes))
        if over is None and (user is None or not user.active):
            over = "deactivated"
    if over is None and user is not None and user.must_change_password:
        return None  # only the sign-in page's "choose a new password" form serves it
    if over is not None:
        if s.ended_at is None:
            with ctx.uow(write=True) as uow:
                uow.sessions.end(s.id, now, over)
                security.add(uow, now, "session_ended", subject_id=s.user_id,
                             client=s.client, reason=over)
                uow.commit()
        return None
    assert user is not None
    if session_rules.needs_touch(s, now):
        with ctx.uow(write=True) as uow:
            uow.sessions.touch(s.id, now)
            uow.commit()
        s = dataclasses.replace(s, last_seen_at=now)
    return user, s


def log_out(ctx: Context, token: str | None) -> None:
    """End the session of this token (the cookie is cleared by the response)."""
    if not token or len(token) > 200:
        return
    with ctx.uow(write=True) as uow:
        s = uow.sessions.by_hash(session_rules.token_hash(token))
        if s is not None and s.ended_at is None:
            uow.sessions.end(s.id, ctx.clock(), "logout")
            security.add(uow, ctx.clock(), "session_ended", uow.users.get(s.user_id),
                         subject_id=s.user_id, client=s.client, reason="logout")
            uow.commit()


def log_out_everywhere(ctx: Context, actor: User) -> int:
    """End every login of the acting user, this one too; how many there were."""
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        n = uow.sessions.end_for_user(me.id, ctx.clock(), "logout_all")
        security.add(uow, ctx.clock(), "session_ended", me, subject=me, reason="logout_all",
                     sessions=n)
        uow.commit()
        return n


def open_sessions(ctx: Context, actor: User) -> list[SessionView]:
    """Every login still open (seen within the idle time), newest activity first (Admin)."""
    now = ctx.clock()
    with ctx.uow() as uow:
        context.require_admin(ctx, uow, actor)
        cfg = context.settings_of(ctx, uow)
        idle = timedelta(minutes=cfg.session_idle_minutes)
        users = {u.id: u for u in uow.users.list()}
        return [SessionView(s, users[s.user_id].username, users[s.user_id].display_name)
                for s in uow.sessions.open_sessions(now - idle)
                if s.user_id in users and session_rules.why_over(s, now, idle) is None]


def end_session(ctx: Context, actor: User, session_id: int) -> None:
    """An administrator ends one login (a lost phone, a shared PC)."""
    with ctx.uow(write=True) as uow:
        me = context.require_admin(ctx, uow, actor)
        s = uow.sessions.get(session_id)
        if s is not None and s.ended_at is None:
            uow.sessions.end(session_id, ctx.clock(), "admin")
            security.add(uow, ctx.clock(), "session_ended", me, subject_id=s.user_id,
                         client=s.client, reason="admin")
        uow.commit()
