"""Who is logged in: the server-side session named by the HttpOnly cookie that kesu's sign-in
route set (adapters/web.py, docs/decisions/0010-server-sessions.md). The pages never see a
password or write a cookie: they ask the session every run, so a logout elsewhere, an idle or
expired session, a password change or a deactivation ends this one at its next click.
"""
from __future__ import annotations

import os
from typing import Any

import streamlit as st

from adapters.web import COOKIE, SIGNOUT
from core.errors import DomainError
from core.model import Lang
from ui.context import error_message, kesu, lang, tr
from core import usecases as uc

# The cookie of the WebSocket this Streamlit session was opened with, kept for its runs
# (Streamlit hands every run the same connect-time cookies).
TOKEN_KEY = "kesu_token"


def session_token() -> str | None:
    token = st.session_state.get(TOKEN_KEY)
    if isinstance(token, str) and token:
        return token
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # noqa: BLE001 - no request context (a test, a bare run)
        return None
    return value if isinstance(value, str) and value else None


def current_user() -> Any:
    """The logged-in user, re-read from the database every run, or None."""
    token = session_token()
    found = uc.sessions.session_of(kesu(), token)
    if found is None:
        _clear()
        return None
    user, session = found
    st.session_state[TOKEN_KEY] = token
    st.session_state["kesu_session_id"] = session.id
    st.session_state["kesu_user"] = user
    if not st.session_state.get("lang_forced"):  # the URL or a switch this session wins
        st.session_state["lang"] = user.language.value
    return user


def _clear() -> None:
    for key in (TOKEN_KEY, "kesu_session_id", "kesu_user"):
        st.session_state.pop(key, None)


def session_id() -> int | None:
    """This login's session id (to keep it when the password changes)."""
    sid = st.session_state.get("kesu_session_id")
    return sid if isinstance(sid, int) else None


def logout() -> None:
    """End this login on the server at once; the browser is then sent to sign-out, which
    clears the cookie and shows the sign-in page."""
    token = session_token()
    if token:
        try:
            uc.sessions.log_out(kesu(), token)
        except DomainError:
            pass
    _clear()


def signed_out_view() -> None:
    """What a Streamlit session shows once its login is over (logged out here or elsewhere,
    idle, expired): a word, and the browser goes on to the sign-in page."""
    _, mid, _ = st.columns([1, 2, 1])
    with mid:
        st.title(tr("login.title"))
        st.info(tr("login.signed_out"))
        st.markdown(f"[{tr('login.again')}]({SIGNOUT})")
    leave_for_signin()


def leave_for_signin() -> None:
    """Send the browser to sign-out, in the page's language (a constant script: no user text
    in it, only one of two fixed addresses)."""
    target = SIGNOUT + ("?lang=en" if lang() == "en" else "?lang=zh")
    st.html(f'<script>window.location.replace("{target}")</script>',
            unsafe_allow_javascript=True)


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
        st.success(tr("setup.done"))
        leave_for_signin()


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
