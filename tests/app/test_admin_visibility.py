"""Admin for record-level visibility (issue #11 item 8): the setting, in words, and each
customer's looking-after department, shown by name."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core import usecases as uc
from core.errors import InvalidInput
from core.model import User
from core.usecases.context import Context
from tests.app.helpers import block, en, no_exception, open_page, open_tab, values, widget, zh


def _admin(ref_db: Context) -> User:
    user = uc.accounts.active_user(ref_db, "admin")
    assert user is not None
    return user


def _save_settings(at: AppTest, tab: object, say: str) -> None:
    save = [b for b in tab.button  # type: ignore[attr-defined]
            if b.key == f"FormSubmitter:settings-{say}"]
    assert len(save) == 1
    save[0].click().run()


def test_admin_switches_visibility_to_by_department(ref_db: Context) -> None:
    at = open_page("pages/admin.py", "admin", "en")
    tab = open_tab(at, "admin_tab", en("admin.settings"))
    box = widget(tab, "selectbox", en("field.record_visibility"))
    assert box.format_func(box.value) == en("record_visibility.all")  # off by default
    box.set_value("department")
    _save_settings(at, tab, en("common.save"))
    no_exception(at)
    assert values(at, "success") == [en("admin.settings_saved")]
    assert uc.context.settings(ref_db).record_visibility == "department"


def test_a_customers_department_is_picked_and_listed_by_name(ref_db: Context) -> None:
    sales = next(d for d in uc.reference.departments(ref_db) if d.code == "SALES")
    at = open_page("pages/admin.py", "admin")
    tab = open_tab(at, "admin_tab", zh("admin.customers"))
    form = block(tab, "expander", zh("admin.add_item"))
    widget(form, "text_input", zh("field.name") + " *").input("宁波戊公司")
    widget(form, "selectbox", zh("field.customer_department")).set_value(sales.id)
    widget(form, "button", zh("common.add")).click().run()
    no_exception(at)
    [c] = [x for x in uc.reference.customers(ref_db) if x.name == "宁波戊公司"]
    assert c.department_id == sales.id
    table = block(at, "tabs", zh("admin.customers")).dataframe[0].value
    row = table[table[zh("field.name")] == "宁波戊公司"].iloc[0]
    assert row[zh("field.department_id")] == sales.name_zh  # a name, not an id


def test_a_setting_out_of_range_says_the_range(ref_db: Context) -> None:
    with pytest.raises(InvalidInput) as err:
        uc.reference.set_settings(ref_db, _admin(ref_db), {"delegation_max_days": 999})
    assert (err.value.key, err.value.params) == (
        "err.setting_range", {"field": "delegation_max_days", "low": 1, "high": 366})
    assert zh("err.setting_range", field="delegation_max_days", low=1, high=366) == (
        "设置「代理最长天数」须在 1 到 366 之间。")
