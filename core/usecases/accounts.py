"""Use cases of accounts: first administrator, sign-in, passwords, users. Login sessions:
sessions; the delays after failed sign-ins: login_delays."""
from __future__ import annotations

import dataclasses
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from core.errors import AccountLocked, InvalidInput, LoginFailed, NotAllowed, NotFound
from core.model import (
    Lang,
    Role,
    User,
)
from core.outbox import EMAIL
from core.ports import (
    UnitOfWork,
)
from core.rules import logins, passwords, sessions
from core.usecases import authority, common, context, login_delays, security
from core.usecases.context import Context

MAX_PASSWORD_BYTES = passwords.MAX_BYTES  # bcrypt's limit
MIN_PASSWORD = passwords.MIN_LENGTH  # core/rules/passwords.py




USERNAME = re.compile(r"^[a-z0-9_.-]{2,32}$")


@dataclass(frozen=True)
class UserInput:
    username: str
    display_name: str
    roles: frozenset[Role]
    department_id: int | None = None
    titles: frozenset[str] = frozenset()
    language: Lang = Lang.ZH
    active: bool = True
    email: str = ""
    display_name_en: str = ""  # signs English reply letters (issue #13)


def needs_first_admin(ctx: Context) -> bool:
    with ctx.uow() as uow:
        return uow.users.count() == 0


def create_first_admin(ctx: Context, username: str, display_name: str, password: str) -> User:
    """The one-time set-up screen: only while there is no user at all."""
    with ctx.uow(write=True) as uow:
        if uow.users.count() > 0:
            raise NotAllowed("err.already_set_up")
        user = _new_user(ctx, uow, UserInput(username, display_name, frozenset({Role.ADMIN})),
                         password)
        security.add(uow, ctx.clock(), "user_created", user, subject=user, roles=user.roles)
        uow.commit()
        return user


def authenticate(ctx: Context, username: str, password: str, client: str = "") -> User:
    """Check a password with growing delays per account name and per client address
    (core/rules/logins.py). The attempt is counted as a failure before the password is
    checked, in one locked transaction: parallel guesses take turns and see each other's
    count, so no more than the free attempts are ever checked at once. A name no account
    has costs the same (a dummy hash is checked)."""
    name = username.strip().lower()
    # a name no account can have (control characters, quotes, wildcards...) is not looked
    # up and has no counter of its own: the client's counter still slows it
    valid = bool(USERNAME.match(name))
    keys = ([logins.name_key(name)] if valid else []) + (
        [logins.client_key(client)] if client else [])
    dummy = _dummy_hash(ctx)
    login_delays.claim(ctx.uow, ctx.clock, keys)
    with ctx.uow() as uow:
        user = uow.users.by_username(name) if valid else None
        hashed = uow.users.password_hash(user.id) if user is not None else dummy
    ok = ctx.hasher.check(password.strip(), hashed) and bool(password)
    if ok and user is not None and user.active:
        login_delays.succeeded(ctx.uow, keys)
        if ctx.hasher.needs_rehash(hashed):
            _rehash(ctx, user, password.strip(), hashed)
        return user
    security.record_with(ctx.uow, ctx.clock(), "login_failed",
                         username=common.CONTROL.sub("", name), subject=user, client=client,
                         why="inactive" if ok else ("unknown" if user is None else "wrong"))
    wait = login_delays.wait(ctx.uow, ctx.clock, keys)
    if wait is not None:
        key, params = login_delays.wait_message("err.login_failed_wait", wait)
        raise AccountLocked(key, **params)
    raise LoginFailed()


def _rehash(ctx: Context, user: User, password: str, old_hash: str) -> None:
    """A hash made at an older cost (bcrypt stores its cost in the hash) is made again at the
    current one while the password is at hand, so lowering or raising the cost takes effect
    at each user's next sign-in. Not a password change: no session ends, nothing is logged."""
    new_hash = ctx.hasher.hash(password)
    with ctx.uow(write=True) as uow:
        if uow.users.rehash_password(user.id, old_hash, new_hash):  # unless changed meanwhile
            uow.commit()


_DUMMY: dict[int, str] = {}


def _dummy_hash(ctx: Context) -> str:
    """A hash of a random password made by this process's hasher (so of the same cost as
    the users' hashes): what a name without an account is checked against."""
    key = id(ctx.hasher)
    if key not in _DUMMY:
        _DUMMY[key] = ctx.hasher.hash(secrets.token_urlsafe(16))
    return _DUMMY[key]


def active_user(ctx: Context, username: str) -> User | None:
    """The active user of that name, or None (the command line, the demo loader, tests)."""
    name = username.strip().lower()
    if not USERNAME.match(name):
        return None
    with ctx.uow() as uow:
        user = uow.users.by_username(name)
        return user if user is not None and user.active else None


def change_password(ctx: Context, actor: User, old: str, new: str,
                    keep_session: int | None = None) -> None:
    """A new password; every other login of the user ends (`keep_session`: this one).
    The current password is checked like a sign-in: a wrong one counts as a failure of the
    account's name and the growing delays apply (issue #11)."""
    with ctx.uow() as uow:
        me = context.acting_user(ctx, uow, actor)
        hashed = uow.users.password_hash(me.id)
    keys = [logins.name_key(me.username)]
    login_delays.claim(ctx.uow, ctx.clock, keys)
    if not ctx.hasher.check(old.strip(), hashed):
        security.record_with(ctx.uow, ctx.clock(), "login_failed", me, subject=me, why="account")
        wait = login_delays.wait(ctx.uow, ctx.clock, keys)
        if wait is not None:
            key, params = login_delays.wait_message("err.old_password_wrong_wait", wait)
            raise InvalidInput(key, **params)
        raise InvalidInput("err.old_password_wrong")
    login_delays.succeeded(ctx.uow, keys)
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        now = ctx.clock()
        uow.users.set_password(me.id, _hash_new(ctx, new, me.username, hashed), now)
        ended = uow.sessions.end_for_user(me.id, now, "password", keep=keep_session)
        security.add(uow, now, "password_changed", me, subject=me, sessions=ended)
        uow.commit()


def reset_password(ctx: Context, actor: User, user_id: int, new: str) -> None:
    """An administrator sets a new password: every login of that user ends, their failure
    count is forgotten, and at the next sign-in they must choose a password of their own
    before anything else (`must_change_password`)."""
    with ctx.uow(write=True) as uow:
        context.require_role(context.acting_user(ctx, uow, actor), Role.ADMIN)
        target = uow.users.get(user_id)
        if target is None:
            raise NotFound()
        now = ctx.clock()
        uow.users.set_password(user_id, _hash_new(ctx, new, target.username), now,
                               must_change=True)
        ended = uow.sessions.end_for_user(user_id, now, "password")
        security.add(uow, now, "password_reset", actor, subject=target, sessions=ended)
        key = logins.name_key(target.username)
        uow.users.lock_counters([key])
        uow.users.set_counter(key, 0, None)
        uow.commit()


def pending_password_change(ctx: Context, token: str | None) -> User | None:
    """The user of a live session that may only choose a new password (after a reset), or
    None. `sessions.session_of` gives such a session to nobody: no page, file or WebSocket
    works with it until `set_own_password` has run."""
    if not token or len(token) > 200:
        return None
    now = ctx.clock()
    with ctx.uow() as uow:
        s = uow.sessions.by_hash(sessions.token_hash(token))
        if s is None:
            return None
        cfg = context.settings_of(ctx, uow)
        user = uow.users.get(s.user_id)
        if (user is None or not user.active or not user.must_change_password
                or sessions.why_over(s, now, timedelta(minutes=cfg.session_idle_minutes))):
            return None
        return user


def set_own_password(ctx: Context, token: str | None, new: str) -> User:
    """The forced change after a reset: the session's user chooses a new password (the
    policy applies, and it must differ from the one the administrator set); then the
    session becomes a normal one."""
    user = pending_password_change(ctx, token)
    if user is None or token is None:
        raise NotAllowed("err.password_change_over")
    with ctx.uow(write=True) as uow:
        hashed = uow.users.password_hash(user.id)
        s = uow.sessions.by_hash(sessions.token_hash(token))
        assert s is not None
        now = ctx.clock()
        uow.users.set_password(user.id, _hash_new(ctx, new, user.username, hashed), now,
                               must_change=False)
        ended = uow.sessions.end_for_user(user.id, now, "password", keep=s.id)
        security.add(uow, now, "password_changed", user, subject=user, sessions=ended,
                     client=s.client, forced="yes")
        uow.commit()
    return dataclasses.replace(user, must_change_password=False)


def _hash_new(ctx: Context, password: str, username: str, old_hash: str | None = None) -> str:
    """The hash of a new password that passes the policy (core/rules/passwords.py)."""
    pw = password.strip()
    found = passwords.problem(pw, username)
    if found is not None:
        raise InvalidInput(found[0], **found[1])
    if old_hash is not None and ctx.hasher.check(pw, old_hash):
        raise InvalidInput("err.password_same")
    return ctx.hasher.hash(pw)


def set_language(ctx: Context, actor: User, lang: Lang) -> None:
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        uow.users.update(dataclasses.replace(me, language=lang))
        uow.commit()


def list_active_users(ctx: Context) -> list[User]:
    """Who may log in (for the login cookie machinery; no password hashes)."""
    with ctx.uow() as uow:
        return [u for u in uow.users.list() if u.active]


def list_users(ctx: Context, actor: User) -> list[User]:
    with ctx.uow() as uow:
        context.acting_user(ctx, uow, actor)
        return uow.users.list()


def create_user(ctx: Context, actor: User, data: UserInput, password: str) -> User:
    with ctx.uow(write=True) as uow:
        me = context.acting_user(ctx, uow, actor)
        context.require_role(me, Role.ADMIN)
        user = _new_user(ctx, uow, data, password)
        security.add(uow, ctx.clock(), "user_created", me, subject=user, roles=user.roles,
                     title=",".join(sorted(user.titles)), department=user.department_id)
        uow.commit()
        return user


def _new_user(ctx: Context, uow: UnitOfWork, data: UserInput, password: str) -> User:
    name = data.username.strip().lower()
    if not USERNAME.match(name):
        raise InvalidInput("err.username_format")
    if uow.users.by_username(name) is not None:
        raise InvalidInput("err.username_taken", name=name)
    _check_user(ctx, uow, data)
    user = User(0, name, data.display_name.strip(), data.roles, data.department_id,
                data.titles, data.active, data.language,
                data.email.strip(), display_name_en=data.display_name_en.strip())
    uid = uow.users.add(user, _hash_new(ctx, password, name))
    return dataclasses.replace(user, id=uid)


def _check_user(ctx: Context, uow: UnitOfWork, data: UserInput) -> None:
    if not data.display_name.strip() or len(data.display_name) > common.MAX_SHORT:
        raise InvalidInput("err.required", field="display_name")
    if len(data.display_name_en.strip()) > common.MAX_SHORT:
        raise InvalidInput("err.too_long", field="display_name_en")
    if not data.roles:
        raise InvalidInput("err.required", field="roles")
    known = {d.code for d in authority.titles_of(uow).defs}
    if not data.titles <= known:
        raise InvalidInput("err.unknown", field="title")
    if data.department_id is not None and data.department_id not in {
            d.id for d in uow.ref.departments(include_inactive=True)}:
        raise InvalidInput("err.unknown", field="department")
    email = data.email.strip()
    if email and (len(email) > common.MAX_SHORT * 2 or not EMAIL.match(email)):
        raise InvalidInput("err.email_format")


def update_user(ctx: Context, actor: User, user_id: int, data: UserInput) -> User:
    """Roles, department, titles, name, language, active, e-mail. Users are never
    deleted."""
    with ctx.uow(write=True) as uow:
        me = context.require_admin(ctx, uow, actor)
        old = uow.users.get(user_id)
        if old is None:
            raise NotFound()
        _check_user(ctx, uow, data)
        if me.id == user_id and (not data.active or Role.ADMIN not in data.roles):
            raise InvalidInput("err.cannot_demote_self")
        new = dataclasses.replace(
            old, display_name=data.display_name.strip(), roles=data.roles,
            department_id=data.department_id, titles=data.titles, language=data.language,
            active=data.active,
            email=data.email.strip(), display_name_en=data.display_name_en.strip())
        uow.users.update(new)
        now = ctx.clock()
        if old.active and not new.active:
            n = uow.sessions.end_for_user(user_id, now, "deactivated")
            security.add(uow, now, "user_deactivated", me, subject=new, sessions=n)
        elif new.active and not old.active:
            security.add(uow, now, "user_reactivated", me, subject=new)
        for what, before, after in (
                ("roles", ",".join(sorted(old.roles)), ",".join(sorted(new.roles))),
                ("title", ",".join(sorted(old.titles)), ",".join(sorted(new.titles))),
                ("department", old.department_id or "", new.department_id or "")):
            if before != after:
                security.add(uow, now, "user_changed", me, subject=new, what=what, old=before,
                             new=after)
        uow.commit()
        return new
