"""Deputies on the Approve page and on Admin (issue #11 item 5): a manager names a deputy for
a bounded period, both see it listed, either ends it; an admin sees and ends everyone's."""
from __future__ import annotations

from datetime import timedelta

from core import usecases as uc
from core.model import User
from core.usecases.context import Context
from tests.app.helpers import (
    block, en, no_exception, open_page, open_tab, page_text, values, widget, zh,
)


def _user(app: Context, username: str) -> User:
    user = uc.accounts.active_user(app, username)
    assert user is not None
    return user


def _today(app: Context):  # type: ignore[no-untyped-def]
    with app.uow() as uow:
        return uc.context.today(app, uow)


def test_the_general_manager_names_a_deputy_and_revokes_it(ref_db: Context) -> None:
    at = open_page("pages/approve.py", "gm")
    box = block(at, "expander", zh("appr.delegations"))
    assert zh("appr.no_delegations") in values(box, "caption")
    widget(box, "selectbox", zh("field.deputy")).set_value(_user(ref_db, "manager").id)
    today = _today(ref_db)
    widget(box, "date_input", zh("field.end")).set_value(today + timedelta(days=3))
    widget(box, "button", zh("common.save")).click().run()
    no_exception(at)
    assert values(at, "success") == [zh("appr.delegated")]
    text = page_text(at)
    assert "周杰（营销经理）" in text and "吴建国（总经理）" in text
    assert zh("appr.delegation_active") in text

    # the deputy sees it on their own Approve page, and may end it
    dep = open_page("pages/approve.py", "manager")
    assert "吴建国（总经理）" in page_text(block(dep, "expander", zh("appr.delegations")))
    widget(dep, "button", zh("appr.revoke")).click().run()
    no_exception(dep)
    assert values(dep, "success") == [zh("appr.revoked_delegation")], values(dep, "error")
    assert "吴建国（总经理）" in page_text(dep)  # kept, as history
    assert not [b for b in dep.button if b.label == zh("appr.revoke")]
    [v] = uc.delegation.delegations(ref_db, _user(ref_db, "gm"))
    assert v.revoked_by == "周杰（营销经理）" and not v.current


def test_the_form_says_the_limit_and_what_is_missing_in_english(ref_db: Context) -> None:
    uc.reference.set_settings(ref_db, _user(ref_db, "admin"), {"delegation_max_days": 5})
    at = open_page("pages/approve.py", "gm", "en")
    box = block(at, "expander", en("appr.delegations"))
    assert en("appr.delegation_rule", days=5) in values(box, "caption")
    widget(box, "button", en("common.save")).click().run()  # no deputy picked
    no_exception(at)
    assert values(at, "error") == [en("err.required", field="deputy")]
    assert uc.delegation.delegations(ref_db, _user(ref_db, "gm")) == []
    # the date picker stops at the limit (core refuses longer ones: tests/unit/test_lifecycle.py)
    box = block(at, "expander", en("appr.delegations"))
    widget(box, "selectbox", en("field.deputy")).set_value(_user(ref_db, "manager").id)
    widget(box, "date_input", en("field.end")).set_value(_today(ref_db) + timedelta(days=30))
    widget(box, "button", en("common.save")).click().run()
    no_exception(at)
    [v] = uc.delegation.delegations(ref_db, _user(ref_db, "gm"))
    assert (v.delegation.end - v.delegation.start).days + 1 <= 5


def test_admin_names_a_deputy_for_a_manager_and_sees_all(ref_db: Context) -> None:
    uc.delegation.set_delegation(ref_db, _user(ref_db, "chairman"), _user(ref_db, "gm").id,
                               _today(ref_db), _today(ref_db) + timedelta(days=2))
    at = open_page("pages/admin.py", "admin")
    box = block(open_tab(at, "admin_tab", zh("admin.settings")), "expander",
                zh("appr.delegations"))
    assert "郑卫东（董事长）" in page_text(box)
    widget(box, "selectbox", zh("field.signs_for")).set_value(_user(ref_db, "manager").id)
    widget(box, "selectbox", zh("field.deputy")).set_value(_user(ref_db, "qamanager").id)
    widget(box, "button", zh("common.save")).click().run()
    no_exception(at)
    assert values(at, "error") == []
    views = uc.delegation.delegations(ref_db, _user(ref_db, "admin"))
    assert [(v.manager, v.deputy, v.created_by) for v in views] == [
        ("周杰（营销经理）", "孙涛（品管经理）", "系统管理员"),
        ("郑卫东（董事长）", "吴建国（总经理）", "郑卫东（董事长）"),
    ]


def test_people_without_a_title_or_a_delegation_see_no_deputies_box(ref_db: Context) -> None:
    at = open_page("pages/approve.py", "qa")
    assert not [b for b in at.expander if b.label == zh("appr.delegations")]
