"""pages/account.py: my account — change my own password, sign out everywhere."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from bench import demo
from core.errors import LoginFailed
from core.usecases.context import Context
from tests.app.helpers import (
    SIGNED_OUT_SCRIPT, assert_signed_out, en, login_as, new_app, no_exception, open_page,
    open_url, values, widget, zh,
)
from ui.auth import TOKEN_KEY
from core import usecases as uc

NEW_PW = "brand-new-pw-9"


def _account_page(username: str = "qa", lang: str = "zh") -> AppTest:
    return open_page("pages/account.py", username, lang)


def _change(at: AppTest, old: str, new: str, new2: str, lang: str = "zh") -> None:
    tr = en if lang == "en" else zh
    widget(at, "text_input", tr("account.old")).input(old)
    widget(at, "text_input", tr("account.new")).input(new)
    widget(at, "text_input", tr("account.new2")).input(new2)
    widget(at, "button", tr("common.save")).click().run()
    no_exception(at)


def test_account_page_shows_who_i_am(ref_db: Context) -> None:
    at = _account_page()
    assert values(at, "title") == [zh("account.title")]
    assert values(at, "subheader") == [zh("account.change_password"), zh("account.notices"),
                                       zh("account.sessions")]
    assert any("qa" in t and "陈强（品管QE）" in t for t in values(at, "text"))
    assert zh("account.sessions_help") in values(at, "caption")
    assert widget(at, "button", zh("account.log_out_everywhere"))

    at = _account_page(lang="en")
    assert values(at, "title") == [en("account.title")]
    assert values(at, "subheader") == [en("account.change_password"), en("account.notices"),
                                       en("account.sessions")]
    assert widget(at, "button", en("account.log_out_everywhere"))


def test_change_password(ref_db: Context) -> None:
    at = _account_page()
    _change(at, demo.PASSWORD, NEW_PW, NEW_PW)
    assert values(at, "success") == [zh("account.changed")]
    assert values(at, "title") == [zh("account.title")]  # still logged in, same page
    assert uc.accounts.authenticate(ref_db, "qa", NEW_PW).username == "qa"
    with pytest.raises(LoginFailed):
        uc.accounts.authenticate(ref_db, "qa", demo.PASSWORD)


def test_sign_out_everywhere_ends_every_login_of_mine_and_only_mine(ref_db: Context) -> None:
    at = _account_page()
    mine = at.session_state[TOKEN_KEY]
    other_tab = login_as(new_app(), "qa").run()  # my other browser, its tab open
    colleague = login_as(new_app(), "sales").run()
    widget(at, "button", zh("account.log_out_everywhere")).click().run()
    no_exception(at)
    assert [h.proto.body for h in at.get("html")] == [SIGNED_OUT_SCRIPT]  # on to sign-in
    assert uc.sessions.session_of(ref_db, mine) is None
    at.run()
    assert_signed_out(at)
    other_tab.run()
    assert_signed_out(other_tab)
    colleague.run()  # somebody else's login is not touched
    assert values(colleague, "title") == [zh("log.title")]
    assert values(colleague.sidebar, "caption") == [zh("sidebar.signed_in_as", name="王丽（营销）")]


def test_wrong_old_password_changes_nothing(ref_db: Context) -> None:
    at = _account_page()
    _change(at, "not-my-password", NEW_PW, NEW_PW)
    assert values(at, "error") == [zh("err.old_password_wrong")]
    assert not values(at, "success")
    assert uc.accounts.authenticate(ref_db, "qa", demo.PASSWORD).username == "qa"

    at = _account_page(lang="en")
    _change(at, "still-not-it", NEW_PW, NEW_PW, lang="en")
    assert values(at, "error") == [en("err.old_password_wrong")]
    assert values(at, "error") == ["The current password is wrong."]


def test_new_passwords_that_differ_change_nothing(ref_db: Context) -> None:
    at = _account_page()
    _change(at, demo.PASSWORD, NEW_PW, NEW_PW + "!")
    assert values(at, "error") == [zh("setup.mismatch")]
    assert uc.accounts.authenticate(ref_db, "qa", demo.PASSWORD).username == "qa"


def test_too_short_new_password_changes_nothing(ref_db: Context) -> None:
    at = _account_page()
    _change(at, demo.PASSWORD, "short", "short")
    assert values(at, "error") == [zh("err.password_short", n=8)]
    assert uc.accounts.authenticate(ref_db, "qa", demo.PASSWORD).username == "qa"


def test_every_role_may_open_the_account_page(ref_db: Context) -> None:
    for username in ("admin", "finance", "chairman"):
        at = _account_page(username)
        assert values(at, "title") == [zh("account.title")]


def test_logged_out_visitor_cannot_open_the_account_page(ref_db: Context) -> None:
    at = new_app().run()
    with pytest.raises(ValueError):
        at.switch_page("pages/account.py")
    assert_signed_out(at)
    assert_signed_out(open_url("pages/account.py"))  # nor by its address


def test_a_common_new_password_is_refused_in_both_languages(ref_db: Context) -> None:
    at = _account_page()
    assert zh("account.policy", n=8) in values(at, "caption")
    _change(at, demo.PASSWORD, "qwerty123", "qwerty123")
    assert values(at, "error") == [zh("err.password_common")]
    at = _account_page(lang="en")
    _change(at, demo.PASSWORD, "woaini1314", "woaini1314", lang="en")
    assert values(at, "error") == [en("err.password_common")]
    assert uc.accounts.authenticate(ref_db, "qa", demo.PASSWORD).username == "qa"


def test_guessing_the_current_password_on_my_account_is_slowed_like_a_sign_in(
        ref_db: Context) -> None:
    at = _account_page()
    for i in range(2):
        _change(at, f"guess-{i}", NEW_PW, NEW_PW)
        assert values(at, "error") == [zh("err.old_password_wrong")]
    _change(at, "guess-2", NEW_PW, NEW_PW)
    assert values(at, "error") == [zh("err.old_password_wrong_wait", seconds=1)]
    _change(at, demo.PASSWORD, NEW_PW, NEW_PW)  # at once, even the right one waits
    assert values(at, "error") == [zh("err.login_wait", seconds=1)]
    assert uc.login_delays.is_locked(ref_db, "qa")  # the sign-in page waits too


def test_after_a_reset_no_page_opens_until_a_new_password_is_chosen(ref_db: Context) -> None:
    admin = uc.accounts.active_user(ref_db, "admin")
    qa = uc.accounts.active_user(ref_db, "qa")
    assert admin is not None and qa is not None
    uc.accounts.reset_password(ref_db, admin, qa.id, "temp-Rt5-wq")
    login = uc.sessions.log_in(ref_db, "qa", "temp-Rt5-wq")
    at = new_app()
    at.session_state[TOKEN_KEY] = login.token
    at.switch_page("pages/account.py").run()
    assert_signed_out(at)  # not even My account: the sign-in page's form comes first
    uc.accounts.set_own_password(ref_db, login.token, NEW_PW)
    at = new_app()
    at.session_state[TOKEN_KEY] = login.token
    at.switch_page("pages/account.py").run()
    no_exception(at)
    assert values(at, "title") == [zh("account.title")]
