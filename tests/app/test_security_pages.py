"""Security of the pages (AppTest): who can open which page, and stale sessions.

Attack → test (the whole list: tests/unit/test_security_services.py's docstring):
- Opening a page of another role with `st.switch_page` (what a crafted link or a page bug
  would do) → every page × every demo user against PAGE_ACCESS: allowed pages run inside
  app.py (the sidebar names the user), the others are not registered (ValueError) →
  test_every_page_opens_only_for_its_roles; a page file nobody classified fails →
  test_every_page_file_is_in_the_access_table.
- Typing the address of a page of another role (`/admin` as sales: a bookmark, a deep link)
  → the forbidden message and a way back, nothing of the page →
  test_the_address_of_a_page_of_another_role_shows_the_forbidden_message; an allowed one
  opens → test_the_address_of_an_allowed_page_opens_it. (Until #11 a logged-out deep link was
  remembered across the Streamlit login form in `kesu_next`; that form and key are gone: the
  HTTP guard now sends a logged-out /admin to /signin?next=/admin, tested by
  tests/integration/test_web.py. The URL typed into a real browser:
  tests/e2e/test_security_browser.py.)
- Roles or a user forged in the session state → nothing: the user and roles come from the
  database through the session token → test_roles_in_the_session_state_do_not_count.
- Replaying a stale session: the user was deactivated, their password was reset, they logged
  out everywhere, or an administrator ended the session since this tab opened → the next run
  shows the signed-out view, the same token in a fresh tab too →
  test_a_stale_session_ends_at_its_next_run; changing one's own password keeps one's own
  session and ends the others → test_changing_my_own_password_keeps_my_session.
- A crafted, unknown, ended, idle or expired session token (the cookie) → the signed-out view,
  no error → test_a_token_that_names_no_live_session_is_refused. (The cookie's flags, and a
  WebSocket without a live session: tests/integration/test_web.py.)
"""
from __future__ import annotations

import dataclasses
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bench import demo
from core.errors import DomainError
from core.model import LoginSession, Role, User
from core.rules.sessions import token_hash
from core.usecases.context import Context
from core.usecases.accounts import UserInput
from tests.app.helpers import (
    assert_signed_out, elements, en, login_as, new_app, no_exception, open_session, open_url,
    sidebar_user, values, widget, zh,
)
from ui.auth import TOKEN_KEY
from core import usecases as uc

ROOT = Path(__file__).resolve().parents[2]
NAMES = {u[0]: u[1] for u in demo.USERS}
# 工程部 and 物资中心 (eng, mat) are production users of other departments: the rework chain
CASE_WORK = {"sales", "qa", "prod", "eng", "mat", "finance", "qamanager", "manager", "gm",
             "chairman"}
MANAGEMENT = {"manager", "gm", "chairman"}
EVERYONE = set(NAMES)
# page -> demo users who may open it (docs/procedure.md §2, §9); the services check again on every
# call
PAGE_ACCESS: dict[str, set[str]] = {
    "pages/log.py": EVERYONE,
    "pages/complaint.py": EVERYONE,
    "pages/inbox.py": EVERYONE,
    "pages/account.py": EVERYONE,
    "pages/tasks.py": CASE_WORK,
    "pages/stats.py": CASE_WORK,
    "pages/investigate.py": {"qa", "qamanager", "prod", "eng", "mat"} | MANAGEMENT,
    "pages/approve.py": {"qa", "qamanager"} | MANAGEMENT,
    # the page opens for QA; importing itself is the QA manager's or admin's (the services)
    "pages/import_register.py": {"qa", "qamanager", "admin"},
    "pages/admin.py": {"admin"},
}


def _signed_in(at: Any, username: str) -> None:
    no_exception(at)
    assert sidebar_user(at) == [zh("sidebar.signed_in_as", name=NAMES[username])]


def _user(app: Context, username: str) -> User:
    user = uc.accounts.active_user(app, username)
    assert user is not None
    return user


def test_every_page_file_is_in_the_access_table() -> None:
    files = {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
    assert files == set(PAGE_ACCESS), "classify every page: who may open it?"


@pytest.mark.parametrize("username", sorted(NAMES))
def test_every_page_opens_only_for_its_roles(ref_db: Context, username: str) -> None:
    for page, allowed in sorted(PAGE_ACCESS.items()):
        at = login_as(new_app(), username).run()
        no_exception(at)
        if username in allowed:
            at.switch_page(page).run()
            no_exception(at)
            _signed_in(at, username)  # app.py ran around the page
            assert zh("err.page_forbidden") not in values(at, "error"), page
        else:
            with pytest.raises(ValueError):
                at.switch_page(page)


@pytest.mark.parametrize(("username", "page"), [
    ("sales", "pages/admin.py"), ("sales", "pages/approve.py"), ("prod", "pages/approve.py"),
    ("finance", "pages/investigate.py"), ("admin", "pages/stats.py"),
    ("admin", "pages/tasks.py"),
])
def test_the_address_of_a_page_of_another_role_shows_the_forbidden_message(
        ref_db: Context, username: str, page: str) -> None:
    assert username not in PAGE_ACCESS[page]
    at = open_url(page, username)
    _signed_in(at, username)  # app.py ran: the user's own navigation is there
    assert values(at, "error") == [zh("err.page_forbidden")]
    assert values(at, "title") == []  # nothing of the page
    assert not at.text_input and not at.selectbox and not at.dataframe and not at.metric
    assert [link.proto.label for link in elements(at, "page_link")] == [zh("common.back")]

    at = open_url(page, username, lang="en")
    no_exception(at)
    assert values(at, "error") == [en("err.page_forbidden")]


@pytest.mark.parametrize(("username", "page", "title"), [
    ("admin", "pages/admin.py", "admin.title"), ("qa", "pages/approve.py", "appr.title"),
    ("sales", "pages/account.py", "account.title"),
])
def test_the_address_of_an_allowed_page_opens_it(ref_db: Context, username: str, page: str,
                                                 title: str) -> None:
    assert username in PAGE_ACCESS[page]
    at = open_url(page, username)
    _signed_in(at, username)
    assert values(at, "title") == [zh(title)]
    assert zh("err.page_forbidden") not in values(at, "error")


def test_roles_in_the_session_state_do_not_count(ref_db: Context) -> None:
    sales = _user(ref_db, "sales")
    at = login_as(new_app(), "sales")
    at.session_state["roles"] = ["admin", "management", "qa"]
    at.session_state["kesu_user"] = dataclasses.replace(  # a forged user object
        sales, roles=frozenset({Role.ADMIN, Role.MANAGEMENT, Role.QA}))
    at.run()
    _signed_in(at, "sales")
    for page in ("pages/admin.py", "pages/approve.py", "pages/investigate.py"):
        with pytest.raises(ValueError):
            at.switch_page(page)
    at = login_as(new_app(), "sales")  # a fresh tab on /admin, the forged user in its state
    at.session_state["kesu_user"] = dataclasses.replace(sales, roles=frozenset({Role.ADMIN}))
    at.switch_page("pages/admin.py").run()
    _signed_in(at, "sales")
    assert values(at, "error") == [zh("err.page_forbidden")]
    assert values(at, "title") == []


def _end(app: Context, how: str, username: str, session_id: int) -> None:
    admin = _user(app, "admin")
    user = _user(app, username)
    if how == "deactivated":
        uc.accounts.update_user(
            app,
            admin,
            user.id,
            UserInput(user.username, user.display_name, user.roles, user.department_id,
                      user.titles, user.language, active=False),
        )
    elif how == "password reset":
        uc.accounts.reset_password(app, admin, user.id, "reset by the admin")
    elif how == "logged out everywhere":  # e.g. from another browser
        assert uc.sessions.log_out_everywhere(app, user) >= 1
    else:  # an administrator ends this one login (a lost phone)
        uc.sessions.end_session(app, admin, session_id)


@pytest.mark.parametrize("how", ["deactivated", "password reset", "logged out everywhere",
                                 "ended by the admin"])
def test_a_stale_session_ends_at_its_next_run(ref_db: Context, how: str) -> None:
    at = login_as(new_app(), "qa").run()
    _signed_in(at, "qa")
    token = at.session_state[TOKEN_KEY]
    at.switch_page("pages/approve.py").run()
    _signed_in(at, "qa")
    assert values(at, "title") == [zh("appr.title")]
    _end(ref_db, how, "qa", at.session_state["kesu_session_id"])
    at.run()  # the next click of the open browser tab
    assert_signed_out(at)  # and nothing of the Approve page
    assert uc.sessions.session_of(ref_db, token) is None
    with pytest.raises(ValueError):
        at.switch_page("pages/approve.py")
    at = new_app()
    at.session_state[TOKEN_KEY] = token  # the same cookie in a fresh tab
    at.switch_page("pages/approve.py").run()
    assert_signed_out(at)
    if how == "deactivated":
        with pytest.raises(DomainError):
            uc.sessions.log_in(ref_db, "qa", demo.PASSWORD)
    else:  # signing in again works
        password = "reset by the admin" if how == "password reset" else demo.PASSWORD
        login = uc.sessions.log_in(ref_db, "qa", password)
        if how == "password reset":  # the session serves nothing until they choose their own
            at = new_app()
            at.session_state[TOKEN_KEY] = login.token
            at.run()
            assert_signed_out(at)
            uc.accounts.set_own_password(ref_db, login.token, "qa-chose-this-9")
        at = new_app()
        at.session_state[TOKEN_KEY] = login.token
        at.run()
        _signed_in(at, "qa")


def test_changing_my_own_password_keeps_my_session(ref_db: Context) -> None:
    at = login_as(new_app(), "finance").run()
    mine = at.session_state[TOKEN_KEY]
    elsewhere = open_session("finance")  # the same user in another browser
    other = login_as(new_app(), "finance").run()  # ... and in a third, its tab open
    _signed_in(other, "finance")
    at.switch_page("pages/account.py").run()
    widget(at, "text_input", zh("account.old")).input(demo.PASSWORD)
    widget(at, "text_input", zh("account.new")).input("my new password")
    widget(at, "text_input", zh("account.new2")).input("my new password")
    widget(at, "button", zh("common.save")).click().run()
    no_exception(at)
    assert zh("account.changed") in values(at, "success")
    at.run()
    _signed_in(at, "finance")
    assert values(at, "title") == [zh("account.title")]
    assert uc.sessions.session_of(ref_db, mine) is not None
    # every other login of mine ends: the other browser, and the open tab at its next run
    assert uc.sessions.session_of(ref_db, elsewhere) is None
    other.run()
    assert_signed_out(other)
    assert uc.sessions.log_in(ref_db, "finance", "my new password").user.username == "finance"


def _stored_session(app: Context, username: str, idle: timedelta, left: timedelta) -> str:
    """A session row of `username`, last seen `idle` ago, its lifetime over `left` from now."""
    token = secrets.token_urlsafe(32)
    now = app.clock()
    with app.uow(write=True) as uow:
        user = uow.users.by_username(username)
        assert user is not None
        uow.sessions.add(LoginSession(0, user.id, now - idle - timedelta(minutes=1), now - idle,
                                      now + left), token_hash(token))
        uow.commit()
    return token


def _token(app: Context, kind: str) -> object:
    if kind == "ended":  # logged out
        token = open_session("prod")
        uc.sessions.log_out(app, token)
        return token
    if kind == "idle":
        minutes = uc.context.settings(app).session_idle_minutes
        return _stored_session(app, "prod", timedelta(minutes=minutes + 1), timedelta(hours=8))
    if kind == "expired":
        return _stored_session(app, "prod", timedelta(0), -timedelta(seconds=1))
    return {"unknown": secrets.token_urlsafe(32), "garbage": "<script>' OR 1=1 --",
            "too long": "x" * 5000, "not text": 12345}[kind]


@pytest.mark.parametrize("kind", ["unknown", "garbage", "too long", "not text", "ended", "idle",
                                  "expired"])
def test_a_token_that_names_no_live_session_is_refused(ref_db: Context, kind: str) -> None:
    at = new_app()
    at.session_state[TOKEN_KEY] = _stored_session(ref_db, "prod", timedelta(0),
                                                  timedelta(hours=8))
    at.run()
    _signed_in(at, "prod")  # the same kind of row, live, does log in
    at = new_app()
    at.session_state[TOKEN_KEY] = _token(ref_db, kind)
    at.switch_page("pages/investigate.py").run()  # a page of prod's, by its address
    assert_signed_out(at)
