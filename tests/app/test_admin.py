"""pages/admin.py: users (create, deactivate, unlock), sign-ins, reference data; admin only."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from streamlit.testing.v1 import AppTest

from bench import demo
from core.errors import LoginFailed, NotAllowed
from core.model import Product, Role, User
from core.usecases.context import Context
from core.usecases.accounts import UserInput
from tests.app.helpers import (
    assert_signed_out, block, en, login_as, new_app, no_exception, open_page, open_session,
    open_tab, sidebar_user, values, widget, zh,
)
from ui.auth import TOKEN_KEY
from core import usecases as uc
from core.rules import logins

NEW_PW = "new-user-pw-1"


def _user(app: Context, username: str) -> User:
    user = uc.accounts.active_user(app, username)
    assert user is not None
    return user


def _usernames(app: Context) -> list[str]:
    return sorted(u.username for u in uc.accounts.list_users(app, _user(app, "admin")))


def _admin_page(lang: str = "zh") -> AppTest:
    return open_page("pages/admin.py", "admin", lang)


def _create_user(at: AppTest, username: str, name: str, roles: list[Role], pw: str) -> None:
    form = block(at, "expander", zh("admin.new_user"))
    widget(form, "text_input", zh("field.username") + " *").input(username)
    widget(form, "text_input", zh("field.display_name") + " *").input(name)
    widget(form, "multiselect", zh("field.roles") + " *").set_value(roles)
    widget(form, "text_input", zh("admin.initial_password") + " *").input(pw)
    widget(form, "button", zh("common.add")).click().run()
    no_exception(at)


def _pick_user(at: AppTest, username: str, app: Context):  # noqa: ANN202 - the expander block
    uid = next(
        u.id for u in uc.accounts.list_users(app, _user(app, "admin")) if u.username == username
    )
    widget(block(at, "expander", zh("admin.edit_user")), "selectbox", zh("admin.pick_user")).select(
        uid
    ).run()
    no_exception(at)
    return block(at, "expander", zh("admin.edit_user"))


# ---------------------------------------------------------------- reading


def test_admin_sees_users_and_reference_tabs(ref_db: Context) -> None:
    at = _admin_page()
    assert values(at, "title") == [zh("admin.title")]
    tabs = [t.label for t in at.tabs]
    assert tabs[0] == zh("admin.users")
    assert {
        zh(k)
        for k in (
            "admin.departments",
            "admin.customers",
            "admin.products",
            "admin.defects",
            "admin.settings",
        )
    } <= set(tabs)
    # only the open tab, Users, runs and is drawn (issue #14)
    assert all(not t.children for t in at.tabs if t.label != zh("admin.users"))
    users = at.dataframe[0].value
    assert sorted(users[zh("field.username")]) == _usernames(ref_db)
    row = users[users[zh("field.username")] == "qamanager"].iloc[0]
    # the QA manager is also the management representative: both, highest rank first
    assert row[zh("field.titles")] == "管理者代表、品管经理"
    assert users[users[zh("field.username")] == "sales"].iloc[0][zh("field.titles")] == ""
    assert row[zh("field.roles")] == zh("role.qa")

    at = _admin_page(lang="en")
    assert values(at, "title") == [en("admin.title")]
    users = at.dataframe[0].value
    row = users[users[en("field.username")] == "qamanager"].iloc[0]
    assert re.split("、|, ", row[en("field.titles")]) == ["Management representative",
                                                          "QA manager"]


def test_admin_keeps_its_tab_across_a_language_switch(ref_db: Context) -> None:
    at = _admin_page()
    open_tab(at, "admin_tab", zh("admin.customers"))
    widget(at.sidebar, "radio", zh("sidebar.language")).set_value("en").run()
    no_exception(at)
    assert values(at, "title") == [en("admin.title")]
    customers = block(at, "tabs", en("admin.customers"))
    assert en("field.name") in customers.dataframe[0].value.columns  # drawn, in English
    assert all(not t.children for t in at.tabs if t.label != en("admin.customers"))


# ---------------------------------------------------------------- users


def test_admin_creates_a_user_who_can_log_in(ref_db: Context) -> None:
    at = _admin_page()
    _create_user(at, "Newbie", "新同事", [Role.SALES, Role.QA], NEW_PW)
    assert values(at, "success") == [zh("admin.user_created", name="newbie")]
    assert "newbie" in _usernames(ref_db)
    assert "newbie" in list(at.dataframe[0].value[zh("field.username")])
    user = uc.accounts.authenticate(ref_db, "newbie", NEW_PW)
    assert user.roles == frozenset({Role.SALES, Role.QA}) and user.display_name == "新同事"


def test_short_password_creates_nothing(ref_db: Context) -> None:
    before = _usernames(ref_db)
    at = _admin_page()
    _create_user(at, "shorty", "短密码", [Role.SALES], "1234567")
    assert values(at, "error") == [zh("err.password_short", n=8)]
    assert _usernames(ref_db) == before


def test_taken_username_creates_nothing(ref_db: Context) -> None:
    before = _usernames(ref_db)
    at = _admin_page()
    _create_user(at, "SALES", "另一个王丽", [Role.SALES], NEW_PW)
    assert values(at, "error") == [zh("err.username_taken", name="sales")]
    assert _usernames(ref_db) == before
    assert _user(ref_db, "sales").display_name == "王丽（营销）"


def test_user_without_a_role_is_refused_in_english(ref_db: Context) -> None:
    before = _usernames(ref_db)
    at = _admin_page(lang="en")
    form = block(at, "expander", en("admin.new_user"))
    widget(form, "text_input", en("field.username") + " *").input("norole")
    widget(form, "text_input", en("field.display_name") + " *").input("No role")
    widget(form, "text_input", en("admin.initial_password") + " *").input(NEW_PW)
    widget(form, "button", en("common.add")).click().run()
    no_exception(at)
    assert values(at, "error") == [en("err.required", field="roles")]
    assert values(at, "error") == ["“Roles” is required."]
    assert _usernames(ref_db) == before


def test_deactivated_user_is_logged_out_on_the_next_run(ref_db: Context) -> None:
    sales = login_as(new_app(), "sales").run()
    assert sidebar_user(sales) == [zh("sidebar.signed_in_as", name="王丽（营销）")]
    token = sales.session_state[TOKEN_KEY]

    at = _admin_page()
    form = _pick_user(at, "sales", ref_db)
    widget(form, "checkbox", zh("field.active")).uncheck()
    widget(form, "button", zh("common.save")).click().run()
    no_exception(at)
    assert values(at, "success") == [zh("common.saved")]
    assert uc.sessions.session_of(ref_db, token) is None  # the login ended with it
    with pytest.raises(LoginFailed):  # and no new one starts
        uc.sessions.log_in(ref_db, "sales", demo.PASSWORD)
    users = at.dataframe[0].value
    assert users[users[zh("field.username")] == "sales"].iloc[0][zh("field.active")] == zh(
        "common.no"
    )

    sales.run()  # the open session of the deactivated user
    assert_signed_out(sales)
    with pytest.raises(ValueError):
        sales.switch_page("pages/log.py")


def test_admin_sees_the_sign_ins_and_ends_one(ref_db: Context) -> None:
    qa = login_as(new_app(), "qa").run()  # QA's open tab
    qa_token = qa.session_state[TOKEN_KEY]
    phone = open_session("qa")  # ... and QA's phone
    at = _admin_page()
    assert zh("admin.sessions") in values(at, "subheader")
    shown = at.dataframe[1].value
    assert sorted(shown[zh("field.username")]) == ["admin", "qa", "qa"]
    assert set(shown[zh("field.display_name")]) == {"系统管理员", "陈强（品管QE）"}

    found = uc.sessions.session_of(ref_db, qa_token)
    assert found is not None
    pick = widget(at, "selectbox", zh("admin.session_pick"))
    assert any(o.startswith("qa · 陈强（品管QE） · ") for o in pick.options)
    pick.select(found[1].id)
    widget(at, "button", zh("admin.session_end")).click().run()
    no_exception(at)
    assert values(at, "success") == [zh("admin.session_ended")]
    assert sorted(at.dataframe[1].value[zh("field.username")]) == ["admin", "qa"]
    assert uc.sessions.session_of(ref_db, qa_token) is None
    qa.run()  # QA's next click in that tab
    assert_signed_out(qa)
    assert uc.sessions.session_of(ref_db, phone) is not None  # that one login only


def test_an_administrator_alone_sees_only_their_own_sign_in(ref_db: Context) -> None:
    at = _admin_page("en")
    assert en("admin.sessions") in values(at, "subheader")
    shown = at.dataframe[1].value
    assert list(shown[en("field.username")]) == ["admin"]
    assert list(shown[en("field.display_name")]) == ["系统管理员"]


def test_admin_gives_a_user_several_titles_and_takes_them_back(ref_db: Context) -> None:
    at = _admin_page()
    form = _pick_user(at, "manager", ref_db)
    titles = widget(form, "multiselect", zh("field.titles"))
    assert titles.value == ["sales_manager"]
    titles.set_value(["sales_manager", "vp_sales"])  # a title the demo defined
    widget(form, "button", zh("common.save")).click().run()
    no_exception(at)
    assert values(at, "success") == [zh("common.saved")]
    assert _user(ref_db, "manager").titles == {"sales_manager", "vp_sales"}
    users = at.dataframe[0].value
    assert users[users[zh("field.username")] == "manager"].iloc[0][zh("field.titles")] == (
        "营销副总、营销经理")
    form = _pick_user(at, "manager", ref_db)
    widget(form, "multiselect", zh("field.titles")).set_value([])
    widget(form, "button", zh("common.save")).click().run()
    no_exception(at)
    assert _user(ref_db, "manager").titles == frozenset()


def test_admin_cannot_deactivate_themself(ref_db: Context) -> None:
    at = _admin_page()
    form = _pick_user(at, "admin", ref_db)
    widget(form, "checkbox", zh("field.active")).uncheck()
    widget(form, "button", zh("common.save")).click().run()
    assert values(at, "error") == [zh("err.cannot_demote_self")]
    assert uc.accounts.active_user(ref_db, "admin") is not None


def test_admin_lets_a_delayed_user_sign_in_at_once(ref_db: Context) -> None:
    for i in range(3):  # the third failure already makes the next attempt wait
        with pytest.raises(Exception):  # noqa: B017 - LoginFailed, then AccountLocked
            uc.accounts.authenticate(ref_db, "qa", f"wrong-{i}")
    assert uc.login_delays.is_locked(ref_db, "qa")
    # a longer wait than three failures give (1 s, over before a busy machine draws the page):
    # as after a dozen failures in a row
    with ref_db.uow(write=True) as uow:
        key = logins.name_key("qa")
        uow.users.lock_counters([key])
        uow.users.set_counter(key, 12, ref_db.clock())
        uow.commit()
    at = _admin_page()
    users = at.dataframe[0].value
    assert users[users[zh("field.username")] == "qa"].iloc[0][zh("admin.waiting")] == zh(
        "common.yes"
    )

    form = _pick_user(at, "qa", ref_db)
    widget(form, "button", zh("admin.clear_delay")).click().run()
    no_exception(at)
    assert values(at, "success") == [zh("admin.delay_cleared")]
    assert not uc.login_delays.is_locked(ref_db, "qa")
    assert uc.accounts.authenticate(ref_db, "qa", demo.PASSWORD).username == "qa"


def test_admin_reset_tells_that_the_user_must_choose_a_new_password(ref_db: Context) -> None:
    at = _admin_page()
    form = _pick_user(at, "qa", ref_db)
    widget(form, "text_input", zh("admin.new_password")).input("88888888")
    widget(form, "button", zh("admin.reset_password")).click().run()
    assert values(at, "error") == [zh("err.password_common")]  # the policy applies here too
    form = _pick_user(at, "qa", ref_db)
    widget(form, "text_input", zh("admin.new_password")).input("temp-Rt5-wq")
    widget(form, "button", zh("admin.reset_password")).click().run()
    no_exception(at)
    assert values(at, "success") == [zh("admin.reset_done")]
    users = at.dataframe[0].value
    assert users[users[zh("field.username")] == "qa"].iloc[0][zh("admin.must_change")] == zh(
        "common.yes"
    )


# ---------------------------------------------------------------- reference data


def test_duplicate_product_code_is_refused(ref_db: Context) -> None:
    at = _admin_page()
    form = block(open_tab(at, "admin_tab", zh("admin.products")), "expander",
                 zh("admin.add_item"))
    widget(form, "text_input", zh("field.code") + " *").input("hd-2040")
    widget(form, "text_input", zh("field.name") + " *").input("重复的料号")
    widget(form, "button", zh("common.add")).click().run()
    no_exception(at)
    assert values(at, "error") == [zh("err.duplicate_value", value="hd-2040")]
    assert len([p for p in uc.reference.products(ref_db, True) if p.code.lower() == "hd-2040"]) == 1


def test_invalid_setting_is_refused(ref_db: Context) -> None:
    at = _admin_page()
    tab = open_tab(at, "admin_tab", zh("admin.settings"))
    widget(tab, "text_input", zh("field.timezone")).input("Mars/Olympus")
    save = [b for b in tab.button if b.key == f"FormSubmitter:settings-{zh('common.save')}"]
    assert len(save) == 1, [b.key for b in tab.button]
    save[0].click().run()
    no_exception(at)
    assert values(at, "error") == [zh("err.setting_invalid", field="timezone")]
    assert uc.context.settings(ref_db).timezone == "Asia/Shanghai"


# ---------------------------------------------------------------- forbidden


def test_sales_cannot_open_admin_and_the_services_refuse(ref_db: Context) -> None:
    at = login_as(new_app(), "sales").run()
    with pytest.raises(ValueError):
        at.switch_page("pages/admin.py")
    en_at = login_as(new_app(), "sales")
    en_at.query_params["lang"] = "en"
    en_at.run()
    with pytest.raises(ValueError):
        en_at.switch_page("pages/admin.py")

    sales = _user(ref_db, "sales")
    before = _usernames(ref_db)
    with pytest.raises(NotAllowed):
        uc.accounts.create_user(ref_db, sales,
                                UserInput("sneaky", "Sneaky", frozenset({Role.ADMIN})), NEW_PW)
    with pytest.raises(NotAllowed):
        uc.login_delays.unlock_user(ref_db, sales, "qa")
    with pytest.raises(NotAllowed):
        uc.reference.set_settings(ref_db, sales, {"severity_a_claim": Decimal("1")})
    with pytest.raises(NotAllowed):
        uc.reference.save_reference(ref_db, sales, Product(0, "X-1", "偷偷加的"))
    assert _usernames(ref_db) == before
    assert uc.context.settings(ref_db).severity_a_claim == Decimal("10000")
