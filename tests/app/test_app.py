"""app.py: first-administrator set-up, login and lockout, language, role-filtered navigation."""
from __future__ import annotations

import pytest
from streamlit.runtime.pages_manager import PagesManager

from bench import demo
from core.model import Lang
from core.usecases.context import Context
from tests.app.helpers import (
    en, login_as, new_app, no_exception, page_text, sidebar_user, values, widget, zh,
)
from core import usecases as uc

ADMIN_PW = "first-admin-pw"


def _login_form(at, username: str, password: str, lang: str = "zh") -> None:  # noqa: ANN001
    tr = en if lang == "en" else zh
    widget(at, "text_input", tr("login.username")).input(username)
    widget(at, "text_input", tr("login.password")).input(password)
    widget(at, "button", tr("login.submit")).click().run()
    no_exception(at)


def _setup_form(at, username: str, name: str, pw: str, pw2: str) -> None:  # noqa: ANN001
    widget(at, "text_input", zh("field.username")).input(username)
    widget(at, "text_input", zh("setup.display_name")).input(name)
    widget(at, "text_input", zh("field.password")).input(pw)
    widget(at, "text_input", zh("setup.password2")).input(pw2)
    widget(at, "button", zh("setup.submit")).click().run()
    no_exception(at)


# ---------------------------------------------------------------- first administrator


def test_empty_database_shows_the_first_administrator_screen(empty_db: Context) -> None:
    at = new_app().run()
    no_exception(at)
    assert values(at, "title") == [zh("setup.title")]
    assert zh("setup.intro") in values(at, "info")
    assert not [b for b in at.button if b.label == zh("login.submit")]

    at = new_app()
    at.query_params["lang"] = "en"
    at.run()
    assert values(at, "title") == [en("setup.title")]
    assert en("setup.intro") in values(at, "info")


def test_setup_refuses_mismatched_passwords(empty_db: Context) -> None:
    at = new_app().run()
    _setup_form(at, "boss", "老板", ADMIN_PW, ADMIN_PW + "x")
    assert zh("setup.mismatch") in values(at, "error")
    assert uc.accounts.needs_first_admin(empty_db)
    assert values(at, "title") == [zh("setup.title")]


def test_setup_refuses_a_short_password(empty_db: Context) -> None:
    at = new_app().run()
    _setup_form(at, "boss", "老板", "short", "short")
    assert zh("err.password_short", n=8) in values(at, "error")
    assert uc.accounts.needs_first_admin(empty_db)


def test_setup_creates_the_administrator_who_can_then_log_in(empty_db: Context) -> None:
    at = new_app().run()
    _setup_form(at, "boss", "老板", ADMIN_PW, ADMIN_PW)
    assert not uc.accounts.needs_first_admin(empty_db)
    assert zh("setup.done") in values(at, "success")
    assert values(at, "title") == [zh("login.title")]  # the screen is gone for good

    _login_form(at, "boss", ADMIN_PW)
    assert sidebar_user(at)[0] == zh("sidebar.signed_in_as", name="老板")
    assert values(at, "title") == [zh("log.title")]
    user = uc.accounts.session_user(empty_db, "boss")
    assert user is not None and user.is_admin


# ---------------------------------------------------------------- login form


def test_login_with_the_right_password_opens_the_log_page(ref_db: Context) -> None:
    at = new_app().run()
    assert values(at, "title") == [zh("login.title")]
    assert sidebar_user(at) == []
    _login_form(at, "sales", demo.PASSWORD)
    assert values(at, "title") == [zh("log.title")]
    assert sidebar_user(at) == [zh("sidebar.signed_in_as", name="王丽（营销）")]
    assert at.session_state["authentication_status"] is True
    assert at.session_state["username"] == "sales"


def test_login_with_a_wrong_password_shows_the_error(ref_db: Context) -> None:
    at = new_app().run()
    _login_form(at, "sales", "not-the-password")
    assert zh("err.login_failed") in values(at, "error")
    assert values(at, "title") == [zh("login.title")]
    assert sidebar_user(at) == []

    at = new_app()
    at.query_params["lang"] = "en"
    at.run()
    _login_form(at, "sales", "still-wrong", lang="en")
    assert en("err.login_failed") in values(at, "error")


def test_login_without_username_or_password_asks_for_both(ref_db: Context) -> None:
    at = new_app().run()
    _login_form(at, "", "")
    assert zh("login.missing") in values(at, "error")


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(ref_db: Context) -> None:
    locked = zh("err.account_locked", minutes=15)
    at = new_app().run()
    for i in range(4):
        _login_form(at, "qa", f"wrong-{i}")
        assert values(at, "error") == [zh("err.login_failed")]
    _login_form(at, "qa", "wrong-5")
    assert values(at, "error") == [locked]
    _login_form(at, "qa", demo.PASSWORD)
    assert values(at, "error") == [locked]
    assert values(at, "title") == [zh("login.title")]
    assert not at.session_state["authentication_status"]
    assert uc.accounts.is_locked(ref_db, "qa")


def test_a_deactivated_or_unknown_user_in_the_session_gets_the_login_form(ref_db: Context) -> None:
    at = login_as(new_app(), "nobody").run()
    no_exception(at)
    assert values(at, "title") == [zh("login.title")]
    assert sidebar_user(at) == []


# ---------------------------------------------------------------- language


def test_lang_query_parameter_gives_english(ref_db: Context) -> None:
    at = new_app()
    at.query_params["lang"] = "en"
    at.run()
    assert values(at, "title") == [en("login.title")]
    assert widget(at, "text_input", en("login.username"))
    _login_form(at, "sales", demo.PASSWORD, lang="en")
    assert values(at, "title") == [en("log.title")]
    assert sidebar_user(at) == [en("sidebar.signed_in_as", name="王丽（营销）")]
    # the language chosen at login is kept as the user's preference
    assert uc.accounts.session_user(ref_db, "sales").language == Lang.EN  # type: ignore[union-attr]


def test_sidebar_language_switch_changes_the_page_and_saves_the_preference(ref_db: Context) -> None:
    at = login_as(new_app(), "qa").run()
    assert values(at, "title") == [zh("log.title")]
    at.sidebar.radio[0].set_value("en").run()
    no_exception(at)
    assert values(at, "title") == [en("log.title")]
    assert at.query_params.get("lang") == "en"
    assert uc.accounts.session_user(ref_db, "qa").language == Lang.EN  # type: ignore[union-attr]
    at.sidebar.radio[0].set_value("zh").run()
    assert values(at, "title") == [zh("log.title")]


def test_a_user_whose_preference_is_english_gets_english_after_login(ref_db: Context) -> None:
    uc.accounts.set_language(ref_db, uc.accounts.session_user(ref_db, "prod"), Lang.EN)  # type: ignore[arg-type]
    at = new_app().run()
    assert values(at, "title") == [zh("login.title")]
    _login_form(at, "prod", demo.PASSWORD)
    assert values(at, "title") == [en("log.title")]


# ---------------------------------------------------------------- navigation


def test_navigation_is_filtered_by_role(ref_db: Context) -> None:
    at = login_as(new_app(), "sales").run()
    with pytest.raises(ValueError):
        at.switch_page("pages/admin.py")
    at.switch_page("pages/account.py").run()
    assert values(at, "title") == [zh("account.title")]

    at = login_as(new_app(), "admin").run()
    at.switch_page("pages/admin.py").run()
    no_exception(at)
    assert values(at, "title") == [zh("admin.title")]


def test_logged_out_visitor_can_open_no_page(ref_db: Context) -> None:
    at = new_app().run()
    for page in ("pages/log.py", "pages/admin.py", "pages/account.py", "pages/complaint.py"):
        with pytest.raises(ValueError):
            at.switch_page(page)


def test_legacy_pages_workaround_holds(ref_db: Context) -> None:
    """Fails if AppTest runs pages/x.py without app.py (the `pages/` folder pitfall).

    Without the conftest workaround, switch_page() reaches pages that st.navigation did not
    register, and the page runs without app.py: no sidebar, no login check.
    """
    at = login_as(new_app(), "sales").run()
    assert PagesManager.uses_pages_directory is False
    at.switch_page("pages/account.py").run()
    no_exception(at)
    assert values(at, "title") == [zh("account.title")]
    assert sidebar_user(at) == [zh("sidebar.signed_in_as", name="王丽（营销）")]  # app.py ran
    with pytest.raises(ValueError):
        at.switch_page("pages/admin.py")  # only app.py's navigation knows it is not allowed

    at = login_as(new_app(), "sales")
    at.query_params["lang"] = "en"
    at.run().switch_page("pages/account.py").run()
    assert sidebar_user(at) == [en("sidebar.signed_in_as", name="王丽（营销）")]


def test_logout_returns_to_the_login_form_and_clears_the_session(ref_db: Context) -> None:
    at = login_as(new_app(), "sales").run()
    at.switch_page("pages/account.py").run()
    widget(at.sidebar, "button", zh("sidebar.logout")).click().run()
    no_exception(at)
    assert values(at, "title") == [zh("login.title")]
    assert sidebar_user(at) == []
    assert not at.session_state["authentication_status"]
    assert "kesu_user" not in at.session_state
    with pytest.raises(ValueError):
        at.switch_page("pages/account.py")
    at.run()  # the next run still shows the login form (the cookie is deleted then)
    assert values(at, "title") == [zh("login.title")]
    assert page_text(at).count(zh("sidebar.signed_in_as", name="王丽（营销）")) == 0
