"""pages/log.py: register a complaint (form, validation, duplicates) and the register list."""
from __future__ import annotations

import re
from typing import Any
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from core.errors import NotAllowed
from core.model import Category, Channel, Kind, RegisterFilter, Severity, User
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.app.conftest import DEMO_CASES
from tests.app.helpers import (
    elements, en, login_as, new_app, no_exception, values, widget, zh,
)
from core import usecases as uc

CUSTOMER = "华东电器有限公司"


def _user(app: Context, username: str) -> User:
    user = uc.accounts.active_user(app, username)
    assert user is not None
    return user


def _cases(app: Context) -> list:  # noqa: ANN401 - RegisterRow list
    rows, total = uc.search.register(app, _user(app, "admin"), RegisterFilter(page_size=1000))
    assert total == len(rows)
    return rows


def _log_page(username: str = "sales", lang: str = "zh") -> AppTest:
    at = login_as(new_app(), username)
    if lang == "en":
        at.query_params["lang"] = "en"
    at.run()
    no_exception(at)
    return at


def _ids(app: Context, customer: str, defect_code: str) -> tuple[int, int]:
    cust = next(c.id for c in uc.reference.customers(app) if c.name == customer)
    defect = next(d.id for d in uc.reference.defect_types(app) if d.code == defect_code)
    return cust, defect


def _fill(at: AppTest, app: Context, *, customer: str | None = CUSTOMER, description: str = "",
          product_code: str = "", defect: str | None = None, order_no: str = "",
          amount: str = "") -> None:
    cust_id, defect_id = _ids(app, CUSTOMER if customer is None else customer, defect or "CRACK")
    if customer is not None:
        widget(at, "selectbox", zh("field.customer") + " *").select(cust_id)
    widget(at, "text_area", zh("field.description") + " *").input(description)
    widget(at, "text_input", zh("field.product_code") + " *").input(product_code)
    if defect is not None:
        widget(at, "selectbox", zh("field.defect_type") + " *").select(defect_id)
    widget(at, "text_input", zh("field.order_no")).input(order_no)
    widget(at, "text_input", zh("field.claimed_amount")).input(amount)


def _submit(at: AppTest) -> None:
    widget(at, "button", zh("log.submit")).click().run()
    no_exception(at)


def _this_month() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%y%m")


# ---------------------------------------------------------------- the register


def test_empty_register_says_so(ref_db: Context) -> None:
    at = _log_page()
    assert values(at, "title") == [zh("log.title")]
    assert zh("log.empty") in values(at, "info")
    assert not at.dataframe

    at = _log_page(lang="en")
    assert values(at, "title") == [en("log.title")]
    assert en("log.empty") in values(at, "info")


def test_register_lists_the_demo_cases(demo_db: Context) -> None:
    at = _log_page()
    frame = at.dataframe[0].value
    numbers = {r.number for r in _cases(demo_db)}
    assert len(numbers) == DEMO_CASES
    assert set(frame[zh("field.number")]) == numbers
    assert zh("log.page_of", total=DEMO_CASES, page=1, pages=1) in values(at, "caption")
    rows = _cases(demo_db)
    assert set(frame[zh("field.state")]) == {zh(f"state.{r.state.value}") for r in rows}

    at = _log_page(lang="en")
    frame = at.dataframe[0].value
    assert set(frame[en("field.number")]) == numbers
    assert set(frame[en("field.state")]) == {en(f"state.{r.state.value}") for r in rows}


def test_a_case_number_is_an_exact_match_and_a_big_count_is_more_than(
        demo_db: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    case = _cases(demo_db)[3]
    at = _log_page()
    widget(at, "text_input", zh("log.search")).input(case.number.lower()).run()
    no_exception(at)
    assert list(at.dataframe[0].value[zh("field.number")]) == [case.number]
    assert zh("log.exact_match") in values(at, "caption")
    widget(at, "text_input", zh("log.search")).input("").run()
    assert zh("log.exact_match") not in values(at, "caption")

    monkeypatch.setattr("ui.register.COUNT_LIMIT", 3)  # the Log counts no further
    at = _log_page(lang="en")
    assert en("log.page_of_many", n="3", page=1, pages=1) in values(at, "caption")
    assert len(at.dataframe[0].value) == DEMO_CASES  # the page still shows every row


def test_register_search_without_match_says_no_match(demo_db: Context) -> None:
    at = _log_page()
    widget(at, "text_input", zh("log.search")).input("no-such-thing-xyz").run()
    no_exception(at)
    assert zh("log.no_match") in values(at, "info")
    assert not at.dataframe


def test_register_search_finds_a_case_by_number(demo_db: Context) -> None:
    number = _cases(demo_db)[0].number
    at = _log_page()
    widget(at, "text_input", zh("log.search")).input(number).run()
    assert list(at.dataframe[0].value[zh("field.number")]) == [number]


# ---------------------------------------------------------------- bad input


def errors(at: Any) -> list[str]:
    """The error shown, one problem per line (a form's problems come together)."""
    (shown,) = values(at, "error")
    return str(shown).split("  \n")


def test_form_without_customer_or_description_saves_nothing(ref_db: Context) -> None:
    at = _log_page()
    _submit(at)
    # every problem at once, one per line, in the order of the form
    assert errors(at) == [zh("err.required", field=f)
                          for f in ("customer", "description", "product_code", "defect_type")]
    assert errors(at)[0] == "请填写「客户」。"
    assert _cases(ref_db) == []

    _fill(at, ref_db, description="   ", product_code="MJ-501", defect="CRACK")
    _submit(at)
    assert errors(at) == [zh("err.required", field="description")]
    assert _cases(ref_db) == []
    assert not values(at, "success")


def test_required_error_in_english(ref_db: Context) -> None:
    at = _log_page(lang="en")
    widget(at, "button", en("log.submit")).click().run()
    assert errors(at)[:2] == [en("err.required", field="customer"),
                              en("err.required", field="description")]
    assert errors(at)[0] == "“Customer” is required."
    assert _cases(ref_db) == []


def test_quality_complaint_needs_product_code_and_defect_type(ref_db: Context) -> None:
    at = _log_page()
    _fill(at, ref_db, description="外壳开裂")
    _submit(at)
    assert errors(at) == [zh("err.required", field="product_code"),
                          zh("err.required", field="defect_type")]
    _fill(at, ref_db, description="外壳开裂", product_code="MJ-501")
    _submit(at)
    assert errors(at) == [zh("err.required", field="defect_type")]
    assert _cases(ref_db) == []


def test_claimed_amount_that_is_not_a_number_shows_the_amount_error(ref_db: Context) -> None:
    at = _log_page()
    _fill(at, ref_db, description="外壳开裂", product_code="MJ-501", defect="CRACK", amount="abc")
    _submit(at)
    assert values(at, "error") == [zh("err.amount", field="claimed_amount")]
    assert _cases(ref_db) == []
    # what the user typed is still there to correct
    assert widget(at, "text_area", zh("field.description") + " *").value == "外壳开裂"


# ---------------------------------------------------------------- happy paths


def test_register_a_complaint_through_the_form(ref_db: Context) -> None:
    at = _log_page()
    _fill(at, ref_db, description="客户来电：外壳开裂 3 件", product_code="MJ-501",
          defect="CRACK", amount="1,500.50")
    _submit(at)
    expected = f"KS{_this_month()}-001"
    assert values(at, "success") == [zh("log.saved", number=expected)]
    assert re.fullmatch(r"KS\d{4}-\d{3}", expected)

    rows = _cases(ref_db)
    assert [r.number for r in rows] == [expected]
    case = uc.complaints.complaint(ref_db, _user(ref_db, "admin"), rows[0].id).complaint
    assert case.description == "客户来电：外壳开裂 3 件"
    assert case.product_code == "MJ-501"
    assert str(case.claimed_amount) == "1500.50"
    assert case.received_by_id == _user(ref_db, "sales").id
    # the new case is in the register, and the form is empty again for the next call
    assert list(at.dataframe[0].value[zh("field.number")]) == [expected]
    assert widget(at, "text_area", zh("field.description") + " *").value == ""


def test_register_a_complaint_in_english(ref_db: Context) -> None:
    cust_id, defect_id = _ids(ref_db, "Pacific Home Supply Inc.", "LEAK")
    at = _log_page(lang="en")
    widget(at, "selectbox", en("field.customer") + " *").select(cust_id)
    widget(at, "text_area", en("field.description") + " *").input("Kettle leaks at the seam")
    widget(at, "text_input", en("field.product_code") + " *").input("HD-2040")
    widget(at, "selectbox", en("field.defect_type") + " *").select(defect_id)
    widget(at, "button", en("log.submit")).click().run()
    no_exception(at)
    number = f"KS{_this_month()}-001"
    assert values(at, "success") == [en("log.saved", number=number)]
    frame = at.dataframe[0].value
    assert list(frame[en("field.defect_type")]) == ["Leakage"]


def test_duplicate_warning_needs_the_confirmation_to_save(ref_db: Context) -> None:
    cust_id, defect_id = _ids(ref_db, CUSTOMER, "CRACK")
    first = uc.complaints.register_complaint(ref_db, _user(ref_db, "qa"), ComplaintDraft(
        customer_id=cust_id, kind=Kind.COMPLAINT, channel=Channel.PHONE,
        description="第一次来电", category=Category.NON_QUALITY, order_no="SO-7788"))

    at = _log_page()
    _fill(at, ref_db, description="同一订单再次来电", product_code="MJ-502", defect="SCRATCH",
          order_no="so-7788")
    _submit(at)
    assert zh("log.dup_need_confirm") in values(at, "warning")
    links = [p.label for p in elements(at, "page_link")]
    assert zh("log.dup_same_order", number=first.number) in links
    assert len(_cases(ref_db)) == 1  # nothing saved yet

    _submit(at)  # again without the tick: still not saved
    assert zh("log.dup_need_confirm") in values(at, "warning")
    assert len(_cases(ref_db)) == 1

    widget(at, "checkbox", zh("log.dup_confirm")).check()
    _submit(at)
    second = f"KS{_this_month()}-002"
    assert values(at, "success") == [zh("log.saved", number=second)]
    assert sorted(r.number for r in _cases(ref_db)) == [first.number, second]
    assert zh("log.dup_need_confirm") not in values(at, "warning")  # the warning is gone


def test_add_a_customer_inline_and_it_is_chosen(ref_db: Context) -> None:
    at = _log_page()
    widget(at, "text_input", zh("field.name") + " *").input("杭州新客户有限公司")
    widget(at, "button", zh("common.add")).click().run()
    no_exception(at)
    assert values(at, "success") == [zh("log.customer_added", name="杭州新客户有限公司")]
    new = next(c for c in uc.reference.customers(ref_db) if c.name == "杭州新客户有限公司")
    assert widget(at, "selectbox", zh("field.customer") + " *").value == new.id


# ---------------------------------------------------------------- forbidden role


def test_admin_without_a_case_role_cannot_log_a_complaint(ref_db: Context) -> None:
    at = _log_page("admin")
    assert zh("log.no_case_role") in values(at, "info")
    assert not at.get("form") or all(f.key != "log_form" for f in at.get("form"))
    with pytest.raises(NotAllowed):  # and the service refuses whatever page it came from
        uc.complaints.register_complaint(
            ref_db,
            _user(ref_db, "admin"),
            ComplaintDraft(customer_id=uc.reference.customers(ref_db)[0].id, kind=Kind.COMPLAINT,
                           channel=Channel.PHONE, description="x", category=Category.NON_QUALITY),
        )
    assert _cases(ref_db) == []


def test_a_safety_complaint_proposed_below_the_criteria_asks_for_a_reason(ref_db: Context) -> None:
    """Issue #12: the criteria were shown but not applied; a 15,000 claim with a safety risk
    proposed as C is refused in words until a reason is given, and what was typed stays."""
    at = _log_page()
    _fill(at, ref_db, description="电池鼓包，客户称有起火风险", product_code="MJ-501",
          defect="CRACK", amount="15000")
    widget(at, "checkbox", zh("field.safety_risk")).check()
    widget(at, "selectbox", zh("field.severity_proposed")).select(Severity.C)
    _submit(at)
    assert values(at, "error") == [zh("err.severity_below", suggested="A",
                                      criteria="safety,claim_a")]
    assert _cases(ref_db) == []
    assert widget(at, "checkbox", zh("field.safety_risk")).value  # kept to correct
    widget(at, "text_input", zh("field.severity_note")).input("客户书面确认仅外观问题")
    _submit(at)
    [row] = _cases(ref_db)
    case = uc.complaints.complaint(ref_db, _user(ref_db, "admin"), row.id).complaint
    assert (case.safety_risk, case.severity_note) == (True, "客户书面确认仅外观问题")
