"""Login, logout and the login cookie (streamlit-authenticator), with kesu's own checks.

The library keeps the signed cookie and restores a session from it; the credential check,
the lockout and the refusal of stale cookies are kesu's (core.usecases.accounts.authenticate /
session_user), so they hold whatever the library does.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from core.errors import DomainError
from core.model import Lang, Role
from ui import cookie
from ui.context import error_message, kesu, tr
from core import usecases as uc

cookie.install()  # the login cookie is written by a script that starts no extra run

COOKIE_NAME = "kesu_auth"
COOKIE_DAYS = 1.0
AUTH_KEYS = ("authentication_status", "username", "name", "roles", "email")


def _cookie_key() -> str:
    from db.engine import data_dir
    from adapters.security import cookie_key

    try:
        from_secrets = st.secrets.get("cookie_key")  # type: ignore[no-untyped-call]
    except Exception:  # noqa: BLE001 - no secrets.toml is the normal case
        from_secrets = None
    return cookie_key(data_dir(), from_secrets)


@st.cache_data(ttl=30, show_spinner=False)
def _credentials() -> dict[str, Any]:
    """Active users for the library's cookie restore (a fresh copy each run: it mutates it)."""
    users = {}
    for u in uc.accounts.list_active_users(kesu()):
        users[u.username] = {"name": u.display_name, "password": "-", "email": "",
                             "roles": sorted(r.value for r in u.roles)}
    return {"usernames": users}


def credentials_changed() -> None:
    _credentials.clear()


def authenticator() -> stauth.Authenticate:
    """The one Authenticate of this run (its cookie is written by ui/cookie.py)."""
    return stauth.Authenticate(_credentials(), COOKIE_NAME, _cookie_key(), COOKIE_DAYS,
                               auto_hash=False, login_sleep_time=0)


def restore_session(auth: stauth.Authenticate) -> None:
    """Finish pending cookie writes, then log in from a valid cookie (fresh browser tab/reload)."""
    # A run cut short (st.rerun, st.switch_page) can drop the cookie script before the browser
    # ran it: repeat the write on the next few runs (writing it twice is harmless).
    if _countdown("kesu_delete_cookie"):
        auth.cookie_controller.delete_cookie()
    if _countdown("kesu_set_cookie") and st.session_state.get("authentication_status"):
        auth.cookie_controller.set_cookie()
    if st.session_state.get("authentication_status"):
        return
    try:
        auth.login(location="unrendered")
    except LoginError:
        _clear()
        return
    if st.session_state.get("authentication_status"):
        token = auth.cookie_controller.cookie_model.token or {}
        issued = None
        if isinstance(token, dict) and "exp_date" in token:
            issued = datetime.fromtimestamp(float(token["exp_date"]) - COOKIE_DAYS * 86400,
                                            timezone.utc)
        user = uc.accounts.session_user(kesu(), str(st.session_state.get("username")), issued)
        if user is None:  # deactivated, or the password changed since the cookie was issued
            _clear()
            st.session_state["kesu_delete_cookie"] = True
        else:
            st.session_state["kesu_login_at"] = issued


COOKIE_REPEATS = 3


def _countdown(key: str) -> bool:
    """True while a pending cookie write still has runs left (True counts as fresh)."""
    left = st.session_state.get(key)
    if not left:
        return False
    left = COOKIE_REPEATS if left is True else int(left)
    if left <= 1:
        st.session_state.pop(key, None)
    else:
        st.session_state[key] = left - 1
    return True


def current_user() -> Any:
    """The logged-in user, re-read from the database every run: deactivation, a password
    reset or a logout elsewhere since this session logged in end it at its next run."""
    if not st.session_state.get("authentication_status"):
        return None
    user = uc.accounts.session_user(kesu(), str(st.session_state.get("username")),
                                    st.session_state.get("kesu_login_at"))
    if user is None:
        _clear()
        st.session_state["kesu_delete_cookie"] = True
        return None
    st.session_state["kesu_user"] = user
    if not st.session_state.get("lang_forced"):  # the URL or a switch this session wins
        st.session_state["lang"] = user.language.value
    return user


def _clear() -> None:
    for k in AUTH_KEYS:
        st.session_state[k] = None
    st.session_state.pop("kesu_user", None)
    st.session_state.pop("kesu_login_at", None)


def session_renewed() -> None:
    """After the user changed their own password: this session and a fresh cookie count as
    issued now (older sessions and cookies of theirs are refused)."""
    st.session_state["kesu_login_at"] = datetime.now(timezone.utc)
    st.session_state["kesu_set_cookie"] = True


def logout(auth: stauth.Authenticate) -> None:
    """End the session; the cookie is deleted in the next runs (ui/cookie.py's script), and a
    copy of it is refused from now on (core.usecases.accounts.end_sessions)."""
    user = st.session_state.get("kesu_user")
    if user is not None:
        try:
            uc.accounts.end_sessions(kesu(), user)
        except DomainError:
            pass  # a user removed meanwhile: their cookies are refused anyway
    auth.authentication_controller.logout()
    st.session_state.pop("kesu_user", None)
    st.session_state["kesu_delete_cookie"] = True
    st.session_state.pop("kesu_set_cookie", None)


def login_view() -> None:
    """The login form (also shown for a logged-out deep link; the page opens after login)."""
    _, mid, _ = st.columns([1, 2, 1])
    with mid:
        st.title(tr("login.title"))
        st.caption(tr("app.tagline"))
        language_switch("login_lang")
        if st.session_state.get("kesu_next") not in (None, "", "login"):
            st.caption(tr("login.deep_link"))
        with st.form("login", clear_on_submit=False):
            username = st.text_input(tr("login.username"), key="login_user")
            password = st.text_input(tr("login.password"), type="password", key="login_pw")
            submitted = st.form_submit_button(tr("login.submit"), type="primary")
        if submitted:
            _login(username, password)


def _login(username: str, password: str) -> None:
    if not username.strip() or not password:
        st.error(tr("login.missing"))
        return
    try:
        user = uc.accounts.authenticate(kesu(), username, password)
    except DomainError as err:
        st.error(error_message(err))
        return
    chosen = st.session_state.get("lang")
    if st.session_state.get("lang_forced") and chosen in ("zh", "en") \
            and chosen != user.language.value:
        uc.accounts.set_language(kesu(), user, Lang(chosen))  # the language picked at login is kept
    st.session_state.update({
        "authentication_status": True, "username": user.username, "name": user.display_name,
        "roles": sorted(r.value for r in user.roles), "logout": False,
        "kesu_set_cookie": True, "kesu_login_at": datetime.now(timezone.utc),
    })
    st.session_state.pop("kesu_delete_cookie", None)  # a logout's pending delete must not win
    st.rerun()


def setup_view() -> None:
    """The one-time "create the first administrator" screen of an empty database."""
    st.title(tr("setup.title"))
    language_switch("setup_lang")
    st.info(tr("setup.intro"))
    with st.form("setup"):
        username = st.text_input(tr("field.username"), value="admin")
        name = st.text_input(tr("setup.display_name"))
        pw = st.text_input(tr("field.password"), type="password")
        pw2 = st.text_input(tr("setup.password2"), type="password")
        ok = st.form_submit_button(tr("setup.submit"), type="primary")
    if ok:
        if pw != pw2:
            st.error(tr("setup.mismatch"))
            return
        try:
            uc.accounts.create_first_admin(kesu(), username, name, pw)
        except DomainError as err:
            st.error(error_message(err))
            return
        credentials_changed()
        st.session_state["kesu_flash"] = ("success", tr("setup.done"))
        st.rerun()


def language_switch(key: str) -> None:
    """zh / en radio; a logged-in user's choice is saved as their preference."""
    current = st.session_state.get("lang", "zh")
    choice = st.radio(tr("sidebar.language"), ["zh", "en"], index=0 if current == "zh" else 1,
                      format_func=lambda x: tr(f"lang.{x}"), horizontal=True, key=key)
    if choice != current:
        st.session_state["lang"] = choice
        st.session_state["lang_forced"] = True
        user = st.session_state.get("kesu_user")
        if user is not None:
            try:
                uc.accounts.set_language(kesu(), user, Lang(choice))
            except DomainError:
                pass
        st.query_params["lang"] = choice
        st.rerun()


def apply_lang_param() -> None:
    """`?lang=en` / `?lang=zh` in the URL selects the language."""
    q = st.query_params.get("lang")
    if q in ("zh", "en") and st.session_state.get("lang") != q:
        st.session_state["lang"] = q
        st.session_state["lang_forced"] = True
    if "lang" not in st.session_state:
        st.session_state["lang"] = os.environ.get("KESU_DEFAULT_LANG", "zh")


ROLE_PAGES: dict[str, tuple[Role, ...]] = {
    "admin": (Role.ADMIN,),
}
