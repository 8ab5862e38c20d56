"""pages/admin.py → Security log (安全日志): an administrator reads sign-ins and changes in
words, names and local times — no ids or codes — filters them by kind and downloads them."""
from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from bench import demo
from core.errors import DomainError
from core.usecases.context import Context
from tests.app.helpers import block, en, no_exception, open_page, open_tab, values, widget, zh
from core import usecases as uc

CODES = re.compile(r"\b(login_ok|login_failed|session_ended|user_changed|logout|unknown|"
                   r"wrong|sales_manager|qa,sales)\b")


def _tab(lang: str = "zh") -> tuple[AppTest, object]:
    at = open_page("pages/admin.py", "admin", lang)
    tr = en if lang == "en" else zh
    return at, open_tab(at, "admin_tab", tr("admin.security"))


def _events(ref_db: Context) -> None:
    uc.sessions.log_in(ref_db, "qa", demo.PASSWORD, "10.1.2.3")
    for name in ("qa", "ghost"):
        with pytest.raises(DomainError):
            uc.sessions.log_in(ref_db, name, "Guess-2026!", "10.6.6.6")
    login = uc.sessions.log_in(ref_db, "sales", demo.PASSWORD, "10.1.2.4")
    uc.sessions.log_out(ref_db, login.token)


def _table(tab: object) -> list[dict[str, str]]:
    [df] = tab.dataframe  # type: ignore[attr-defined]
    return list(df.value.to_dict("records"))


def test_sign_ins_and_sign_outs_read_in_words_names_and_local_time(ref_db: Context) -> None:
    _events(ref_db)
    at, tab = _tab()
    no_exception(at)
    rows = _table(tab)
    assert {r[zh("seclog.col.kind")] for r in rows} >= {
        zh("seclog.kind.login_ok"), zh("seclog.kind.login_failed"),
        zh("seclog.kind.session_ended")}
    ghost = [r for r in rows if r[zh("seclog.col.name")] == "ghost"]
    assert len(ghost) == 1
    assert ghost[0][zh("seclog.col.detail")] == zh("seclog.why.unknown")
    assert ghost[0][zh("seclog.col.client")] == "10.6.6.6"
    wrong = [r for r in rows if r[zh("seclog.col.kind")] == zh("seclog.kind.login_failed")
             and r[zh("seclog.col.name")] == "qa"][0]
    assert wrong[zh("seclog.col.subject")] == "陈强（品管QE） (qa)"  # a name, not an id
    out = [r for r in rows if r[zh("seclog.col.kind")] == zh("seclog.kind.session_ended")][0]
    assert out[zh("seclog.col.detail")] == zh("seclog.reason.logout")
    assert out[zh("seclog.col.by")] == "王丽（营销） (sales)"
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r[zh("seclog.col.at")])
               for r in rows)
    shown = " ".join(str(v) for r in rows for v in r.values())
    assert not CODES.search(shown), CODES.search(shown)
    assert "Guess-2026" not in shown


def test_the_log_in_english_and_a_role_change(ref_db: Context) -> None:
    admin = uc.accounts.active_user(ref_db, "admin")
    qa = uc.accounts.active_user(ref_db, "qa")
    assert admin is not None and qa is not None
    from core.model import Role
    from core.usecases.accounts import UserInput
    uc.accounts.update_user(ref_db, admin, qa.id, UserInput(
        "qa", qa.display_name, frozenset({Role.QA, Role.SALES}), qa.department_id,
        qa.titles, qa.language))
    at, tab = _tab("en")
    no_exception(at)
    rows = _table(tab)
    change = [r for r in rows if r[en("seclog.col.kind")] == en("seclog.kind.user_changed")][0]
    assert change[en("seclog.col.detail")] == "Roles: QA → Sales, QA" or \
        change[en("seclog.col.detail")] == "Roles: QA → QA, Sales"
    assert change[en("seclog.col.by")].endswith("(admin)")


def test_a_change_of_titles_is_shown_by_the_titles_names(ref_db: Context) -> None:
    admin = uc.accounts.active_user(ref_db, "admin")
    qa = uc.accounts.active_user(ref_db, "qa")
    assert admin is not None and qa is not None
    from core.usecases.accounts import UserInput
    uc.accounts.update_user(ref_db, admin, qa.id, UserInput(
        "qa", qa.display_name, qa.roles, qa.department_id,
        frozenset({"qa_manager", "mgmt_rep"}), qa.language))
    for lang, tx, names in (("en", en, ("QA manager", "Management representative", ", ")),
                            ("zh", zh, ("品管经理", "管理者代表", "、"))):
        a, b, sep = names
        words = {tx("seclog.change", what=tx("field.title"), old=tx("common.none"), new=new)
                 for new in (a + sep + b, b + sep + a)}
        at, tab = _tab(lang)
        no_exception(at)
        [change] = [r for r in _table(tab)
                    if r[tx("seclog.col.kind")] == tx("seclog.kind.user_changed")]
        assert change[tx("seclog.col.detail")] in words, change
        assert "qa_manager" not in change[tx("seclog.col.detail")]


def test_filter_by_kind_and_download(ref_db: Context) -> None:
    _events(ref_db)
    at, tab = _tab()
    widget(tab, "multiselect", zh("seclog.kinds")).select("login_ok").run()
    no_exception(at)
    tab = block(at, "tabs", zh("admin.security"))
    rows = _table(tab)
    assert len(rows) == 2 and {r[zh("seclog.col.kind")] for r in rows} == {
        zh("seclog.kind.login_ok")}
    [download] = tab.get("download_button")  # type: ignore[attr-defined]
    assert download.proto.label == zh("seclog.download")


def test_the_csv_opens_in_excel_with_the_chinese_headers() -> None:
    from ui.admin_security import to_csv
    data = to_csv([{"时间": "2026-12-07 10:00:00", "事件": "登录失败", "详情": "密码错误, 再试"}])
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    assert text.splitlines() == ["时间,事件,详情", '2026-12-07 10:00:00,登录失败,"密码错误, 再试"']


def test_nothing_in_the_period_says_so(ref_db: Context) -> None:
    at, tab = _tab()
    widget(tab, "multiselect", zh("seclog.kinds")).select("backup_made").run()
    tab = block(at, "tabs", zh("admin.security"))
    assert zh("seclog.none") in values(tab, "info")
