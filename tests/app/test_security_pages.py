"""Security of the pages (AppTest): who can open which page, and stale sessions.

Attack → test (the whole list: tests/unit/test_security_services.py's docstring):
- Opening a page of another role with `st.switch_page` (what a crafted link or a page bug
  would do) → every page × every demo user against PAGE_ACCESS: allowed pages run inside
  app.py (the sidebar names the user), the others are not registered (ValueError) →
  test_every_page_opens_only_for_its_roles; a page file nobody classified fails →
  test_every_page_file_is_in_the_access_table.
- A deep link remembered while logged out (`/admin` before login) → after login only a page
  of the user's roles opens → test_a_remembered_deep_link_opens_only_an_allowed_page.
  (The URL typed into a real browser: tests/e2e/test_security_browser.py.)
- Roles forged in the session state (`roles: ["admin"]`) → nothing: roles come from the
  database → test_roles_in_the_session_state_do_not_count.
- Replaying a stale session: the user was deactivated, their password was reset, or they
  logged out in another browser since this session logged in → the next run shows the login
  form → test_a_stale_session_ends_at_its_next_run; changing one's own password keeps one's
  own session → test_changing_my_own_password_keeps_my_session.
- A login cookie issued before a password change, after a logout, or for a deactivated user
  → the login form; a fresh one logs in → test_a_stale_cookie_is_refused.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from streamlit_authenticator.models.cookie_model import CookieModel

from bench import demo
from core.usecases.context import Context
from core.usecases.accounts import UserInput
from tests.app.helpers import (
    login_as, new_app, no_exception, sidebar_user, values, widget, zh,
)
from core import usecases as uc

ROOT = Path(__file__).resolve().parents[2]
NAMES = {u[0]: u[1] for u in demo.USERS}
CASE_WORK = {"sales", "qa", "prod", "finance", "qamanager", "manager", "gm", "chairman"}
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
    "pages/investigate.py": {"qa", "qamanager", "prod"} | MANAGEMENT,
    "pages/approve.py": {"qa", "qamanager"} | MANAGEMENT,
    # the page opens for QA; importing itself is the QA manager's or admin's (the services)
    "pages/import_register.py": {"qa", "qamanager", "admin"},
    "pages/admin.py": {"admin"},
}


def _login_form(at: Any, username: str, password: str = demo.PASSWORD) -> None:
    widget(at, "text_input", zh("login.username")).input(username)
    widget(at, "text_input", zh("login.password")).input(password)
    widget(at, "button", zh("login.submit")).click().run()
    no_exception(at)


def _logged_out(at: Any) -> None:
    assert values(at, "title") == [zh("login.title")]
    assert sidebar_user(at) == []
    assert not at.session_state["authentication_status"]


def _signed_in(at: Any, username: str) -> None:
    assert sidebar_user(at) == [zh("sidebar.signed_in_as", name=NAMES[username])]


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


@pytest.mark.parametrize(("username", "lands_on"),
                         [("sales", "log.title"), ("qa", "log.title"), ("admin", "admin.title")])
def test_a_remembered_deep_link_opens_only_an_allowed_page(ref_db: Context, username: str,
                                                           lands_on: str) -> None:
    at = new_app()
    at.session_state["kesu_next"] = "admin"  # what app.py keeps from a logged-out /admin
    at.session_state["kesu_started"] = True
    at.run()
    _logged_out(at)
    _login_form(at, username)
    assert values(at, "title") == [zh(lands_on)]
    _signed_in(at, username)


def test_roles_in_the_session_state_do_not_count(ref_db: Context) -> None:
    at = login_as(new_app(), "sales", roles=["admin", "management", "qa"]).run()
    _signed_in(at, "sales")
    for page in ("pages/admin.py", "pages/approve.py", "pages/investigate.py"):
        with pytest.raises(ValueError):
            at.switch_page(page)


def _end(app: Context, how: str, username: str) -> None:
    admin = uc.accounts.session_user(app, "admin")
    user = uc.accounts.session_user(app, username)
    assert admin is not None and user is not None
    if how == "deactivated":
        uc.accounts.update_user(
            app,
            admin,
            user.id,
            UserInput(user.username, user.display_name, user.roles, user.department_id,
                      user.approval_level, user.title, user.language, active=False),
        )
    elif how == "password reset":
        uc.accounts.reset_password(app, admin, user.id, "reset by the admin")
    else:  # logged out in another browser
        uc.accounts.end_sessions(app, user)


@pytest.mark.parametrize("how", ["deactivated", "password reset", "logged out elsewhere"])
def test_a_stale_session_ends_at_its_next_run(ref_db: Context, how: str) -> None:
    at = new_app().run()
    _login_form(at, "qa")
    _signed_in(at, "qa")
    at.switch_page("pages/approve.py").run()
    _signed_in(at, "qa")
    _end(ref_db, how, "qa")
    at.run()  # the next click of the open browser tab
    no_exception(at)
    _logged_out(at)
    assert at.session_state["kesu_delete_cookie"]  # and the cookie goes too
    with pytest.raises(ValueError):
        at.switch_page("pages/approve.py")


def test_changing_my_own_password_keeps_my_session(ref_db: Context) -> None:
    at = new_app().run()
    _login_form(at, "finance")
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


def _cookie(monkeypatch: pytest.MonkeyPatch, username: str, issued: datetime) -> None:
    exp = (issued + timedelta(days=1)).timestamp()  # ui.auth: issued = exp - COOKIE_DAYS
    payload = {"username": username, "exp_date": exp}

    def get_cookie(self: CookieModel) -> dict[str, Any]:
        self.token = payload
        return payload

    monkeypatch.setattr(CookieModel, "get_cookie", get_cookie)


@pytest.mark.parametrize("how", ["deactivated", "password reset", "logged out elsewhere"])
def test_a_stale_cookie_is_refused(ref_db: Context, monkeypatch: pytest.MonkeyPatch,
                                   how: str) -> None:
    issued = datetime.now(timezone.utc) - timedelta(minutes=10)
    _cookie(monkeypatch, "prod", issued)
    at = new_app().run()  # a fresh tab: the cookie logs in
    no_exception(at)
    _signed_in(at, "prod")
    _end(ref_db, how, "prod")
    at = new_app().run()  # the same cookie in another fresh tab
    no_exception(at)
    _logged_out(at)
    if how != "deactivated":  # a cookie issued after the change logs in again
        _cookie(monkeypatch, "prod", datetime.now(timezone.utc) + timedelta(seconds=1))
        at = new_app().run()
        _signed_in(at, "prod")


def test_a_cookie_for_an_unknown_user_is_refused(ref_db: Context,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _cookie(monkeypatch, "mallory", datetime.now(timezone.utc))
    at = new_app().run()
    no_exception(at)
    _logged_out(at)
