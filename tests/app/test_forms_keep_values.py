"""Issue #13 "Forms and times": a refused save keeps everything typed on every form, every
problem at once above the button; a product pick fills 料号/品名 at once; CAPA actions are changed
and withdrawn with a reason; defaults are the company's local time even when the server's clock
(UTC) is already a day behind — 23:50 UTC is 07:50 the next morning in Shanghai."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from core.model import (
    CapaType, Category, Channel, Kind, RegisterFilter, ReplyMethod, Severity, State,
    User, Validity,
)
from core.usecases.complaints import ComplaintDraft
from core.usecases.context import Context
from tests.app.helpers import (
    block, login_as, new_app, no_exception, open_case_tab, unfold, values, widget, zh,
)
from ui.context import kesu
from core import usecases as uc

CUSTOMER = "华东电器有限公司"


def _user(app: Context, username: str) -> User:
    user = uc.accounts.active_user(app, username)
    assert user is not None
    return user


def _open(page: str, username: str, cid: int | None = None) -> AppTest:
    at = login_as(new_app(), username)
    at.run()
    if cid is not None:
        at.query_params["id"] = str(cid)
    at.switch_page(page).run()
    no_exception(at)
    return at


def _register(app: Context, kind: Kind = Kind.COMPLAINT) -> int:
    cust = next(c.id for c in uc.reference.customers(app) if c.name == CUSTOMER)
    defect = uc.reference.defect_types(app)[0].id
    case = uc.complaints.register_complaint(app, _user(app, "sales"), ComplaintDraft(
        customer_id=cust, kind=kind, channel=Channel.PHONE, description="外壳开裂 3 件",
        product_code="MJ-501", defect_type_id=defect, severity_proposed=Severity.C))
    return case.id or 0


def _investigating(app: Context) -> int:
    """A valid quality complaint classified by QA: its analysis and CAPA plan are due."""
    cid = _register(app)
    sales, qa = _user(app, "sales"), _user(app, "qa")
    c = uc.investigation.dispatch(app, sales, cid, uc.complaints.case_file(app, qa, cid)
                                  .complaint.version)
    c = uc.investigation.acknowledge(app, qa, cid, c.version)
    uc.investigation.classify(app, qa, cid, c.version, Validity.VALID, Category.QUALITY,
                              Severity.C, uc.reference.departments(app)[0].id)
    assert uc.complaints.case_file(app, qa, cid).complaint.state == State.ROOT_CAUSE
    return cid


def _demo_case_in(app: Context, state: State) -> int:
    """A demo case the story left in `state` (the demo has cases in reply and follow-up)."""
    rows, _ = uc.search.register(app, _user(app, "admin"), RegisterFilter(page_size=100))
    found = [r.id for r in rows if r.state == state]
    assert found, state
    return found[0]


def _today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _form(at: AppTest, key: str) -> Any:
    found = [f for f in at.get("form") if f.proto.form.form_id == key]
    assert len(found) == 1, [f.proto.form.form_id for f in at.get("form")]
    return found[0]


def _kinds_in_order(node: Any) -> list[str]:
    """The element kinds of a block in the order a user sees them."""
    out: list[str] = []

    def walk(n: Any) -> None:
        out.append(n.type)
        for child in getattr(n, "children", {}).values():
            walk(child)
    walk(node)
    return out


# ---------------------------------------------------------------- the Log page


def test_a_refused_registration_keeps_every_value_and_says_every_problem_above_the_button(
        ref_db: Context) -> None:
    cust = next(c.id for c in uc.reference.customers(ref_db) if c.name == CUSTOMER)
    product = uc.reference.products(ref_db)[0]
    at = _open("pages/log.py", "sales")
    # a quality complaint (the default) stars its conditionally required fields
    code_label = zh("field.product_code") + " *"
    # picking a product fills 料号 and 品名 at once, before any save
    widget(at, "selectbox", zh("log.product_pick")).select(product.id).run()
    assert widget(at, "text_input", code_label).value == product.code
    assert widget(at, "text_input", zh("field.product_name")).value == product.name
    widget(at, "selectbox", zh("field.customer") + " *").select(cust)
    widget(at, "text_input", zh("field.order_no")).input("SO-9911")
    widget(at, "text_input", zh("field.lot")).input("L-77")
    widget(at, "text_input", zh("field.claimed_amount")).input("abc")
    widget(at, "selectbox", zh("field.channel") + " *").select(Channel.EMAIL)
    widget(at, "button", zh("log.submit")).click().run()
    no_exception(at)
    # description, defect type and amount: all three at once, in the order of the form
    assert values(at, "error") == ["  \n".join([
        zh("err.required", field="description"), zh("err.amount", field="claimed_amount"),
        zh("err.required", field="defect_type")])]
    form = _form(at, "log_form")
    kinds = _kinds_in_order(form)
    assert kinds.index("error") < kinds.index("button")  # above the save button
    assert uc.search.register(ref_db, _user(ref_db, "admin"),
                              RegisterFilter())[1] == 0
    kept = {"customer": widget(at, "selectbox", zh("field.customer") + " *").value,
            "channel": widget(at, "selectbox", zh("field.channel") + " *").value,
            "code": widget(at, "text_input", code_label).value,
            "name": widget(at, "text_input", zh("field.product_name")).value,
            "order": widget(at, "text_input", zh("field.order_no")).value,
            "lot": widget(at, "text_input", zh("field.lot")).value,
            "amount": widget(at, "text_input", zh("field.claimed_amount")).value}
    assert kept == {"customer": cust, "channel": Channel.EMAIL, "code": product.code,
                    "name": product.name, "order": "SO-9911", "lot": "L-77", "amount": "abc"}
    # a suggestion needs neither: the stars go
    widget(at, "radio", zh("field.kind") + " *").set_value(Kind.SUGGESTION)
    widget(at, "button", zh("log.submit")).click().run()
    assert widget(at, "text_input", zh("field.product_code")).value == product.code
    assert [s.label for s in at.selectbox if s.label.startswith(zh("field.defect_type"))] == [
        zh("field.defect_type")]


def test_the_duplicate_warning_is_above_the_save_button(ref_db: Context) -> None:
    cust = next(c.id for c in uc.reference.customers(ref_db) if c.name == CUSTOMER)
    uc.complaints.register_complaint(ref_db, _user(ref_db, "qa"), ComplaintDraft(
        customer_id=cust, kind=Kind.COMPLAINT, channel=Channel.PHONE, description="第一次",
        category=Category.NON_QUALITY, order_no="SO-7788"))
    at = _open("pages/log.py", "sales")
    widget(at, "selectbox", zh("field.customer") + " *").select(cust)
    widget(at, "text_area", zh("field.description") + " *").input("同一订单再次来电")
    widget(at, "radio", zh("field.category")).set_value(Category.NON_QUALITY)
    widget(at, "text_input", zh("field.order_no")).input("SO-7788")
    widget(at, "button", zh("log.submit")).click().run()
    no_exception(at)
    assert zh("log.dup_need_confirm") in values(at, "warning")
    kinds = _kinds_in_order(_form(at, "log_form"))
    assert kinds.index("alert") < kinds.index("button") if "alert" in kinds else \
        kinds.index("warning") < kinds.index("button")
    assert widget(at, "text_area", zh("field.description") + " *").value == "同一订单再次来电"


def test_a_refused_new_customer_keeps_what_was_typed_and_a_saved_one_empties_it(
        ref_db: Context) -> None:
    at = _open("pages/log.py", "sales")
    form = block(at, "expander", zh("log.new_customer_title"))
    widget(form, "text_input", zh("field.contact")).input("王经理")
    widget(form, "text_input", zh("field.phone")).input("0512-6666 8888")
    widget(form, "button", zh("common.add")).click().run()  # no name
    no_exception(at)
    assert zh("err.required", field="name") in values(at, "error")
    form = block(at, "expander", zh("log.new_customer_title"))
    assert widget(form, "text_input", zh("field.contact")).value == "王经理"
    assert widget(form, "text_input", zh("field.phone")).value == "0512-6666 8888"
    widget(form, "text_input", zh("field.name") + " *").input("苏州新客户有限公司")
    widget(form, "button", zh("common.add")).click().run()
    no_exception(at)
    form = block(at, "expander", zh("log.new_customer_title"))
    assert [widget(form, "text_input", zh(k)).value for k in ("field.contact", "field.phone")] \
        == ["", ""]


# ---------------------------------------------------------------- the Complaint page


def test_a_refused_edit_of_the_case_keeps_what_was_typed(ref_db: Context) -> None:
    cid = _register(ref_db)
    at = _open("pages/complaint.py", "sales", cid)
    form = unfold(at, zh("case.edit"))  # the form is drawn once it is opened (issue #14)
    widget(form, "text_input", zh("field.order_no")).input("SO-NEW-1")
    widget(form, "text_input", zh("field.lot")).input("L-NEW")
    widget(form, "text_area", zh("field.description") + " *").input("   ")
    widget(form, "text_input", zh("case.edit_comment")).input("客户补充了订单号")
    widget(form, "button", zh("common.save")).click().run()
    no_exception(at)
    assert zh("err.required", field="description") in values(at, "error")
    form = block(at, "expander", zh("case.edit"))
    assert widget(form, "text_input", zh("field.order_no")).value == "SO-NEW-1"
    assert widget(form, "text_input", zh("field.lot")).value == "L-NEW"
    assert widget(form, "text_input", zh("case.edit_comment")).value == "客户补充了订单号"
    assert uc.complaints.case_file(ref_db, _user(ref_db, "qa"), cid).complaint.order_no == ""


def test_a_refused_reply_keeps_its_date_and_method(demo_db: Context) -> None:
    ref_db = demo_db
    cid = _demo_case_in(demo_db, State.REPLYING)
    at = _open("pages/complaint.py", "sales", cid)
    form = unfold(at, zh("action.reply"))  # the form is drawn once it is opened (issue #14)
    yesterday = widget(form, "date_input", zh("field.reply_date")).value - timedelta(days=1)
    widget(form, "date_input", zh("field.reply_date")).set_value(yesterday)
    widget(form, "selectbox", zh("field.reply_method")).set_value(ReplyMethod.LETTER)
    widget(form, "text_area", zh("field.reply_text") + " *").input("  ")
    widget(form, "button", zh("action.reply")).click().run()  # no reply text
    no_exception(at)
    assert zh("err.required", field="reply_text") in values(at, "error")
    form = block(at, "expander", zh("action.reply"))
    assert widget(form, "date_input", zh("field.reply_date")).value == yesterday
    assert widget(form, "selectbox", zh("field.reply_method")).value == ReplyMethod.LETTER
    assert uc.complaints.case_file(ref_db, _user(ref_db, "qa"), cid).complaint.state == \
        State.REPLYING


def test_a_refused_assessment_keeps_what_was_typed(demo_db: Context) -> None:
    cid = _demo_case_in(demo_db, State.ROOT_CAUSE)
    at = _open("pages/complaint.py", "manager", cid)
    form = block(open_case_tab(at, "case.records"), "expander", zh("action.assessment_recorded"))
    widget(form, "text_input", zh("field.person") + " *").input("李娜")
    widget(form, "radio", zh("field.assessment")).set_value("deduction")
    widget(form, "text_input", zh("field.amount")).input("两百")
    widget(form, "text_input", zh("field.note")).input("夹具点检漏项")
    widget(form, "button", zh("common.save")).click().run()
    no_exception(at)
    assert values(at, "error")
    form = block(at, "expander", zh("action.assessment_recorded"))
    assert [widget(form, "text_input", label).value for label in (
        zh("field.person") + " *", zh("field.amount"), zh("field.note"))] == [
        "李娜", "两百", "夹具点检漏项"]
    assert widget(form, "radio", zh("field.assessment")).value == "deduction"
    assert uc.meetings.assessments(demo_db, _user(demo_db, "manager"), cid) == []


# ---------------------------------------------------------------- CAPA on Investigate


def test_a_refused_capa_action_keeps_what_was_typed_then_a_saved_one_empties_the_form(
        ref_db: Context) -> None:
    cid = _investigating(ref_db)
    prod = _user(ref_db, "prod")
    at = _open("pages/investigate.py", "qa", cid)
    widget(at, "selectbox", zh("field.capa_type")).set_value(CapaType.PREVENTIVE)
    widget(at, "text_input", zh("field.capa_description") + " *").input("更换夹具并加入点检")
    widget(at, "button", zh("inv.add_capa")).click().run()  # neither owner nor due date
    no_exception(at)
    assert values(at, "error") == ["  \n".join([zh("err.required", field="owner"),
                                                zh("err.required", field="due_date")])]
    assert widget(at, "text_input", zh("field.capa_description") + " *").value == \
        "更换夹具并加入点检"
    assert widget(at, "selectbox", zh("field.capa_type")).value == CapaType.PREVENTIVE
    assert uc.complaints.case_file(ref_db, prod, cid).capa == []
    due = widget(at, "date_input", zh("field.due_date") + " *")
    widget(at, "selectbox", zh("field.owner") + " *").set_value(prod.id)
    due.set_value(_today() + timedelta(days=14))
    widget(at, "button", zh("inv.add_capa")).click().run()
    no_exception(at)
    assert zh("common.saved") in values(at, "success")
    [saved] = uc.complaints.case_file(ref_db, prod, cid).capa
    assert (saved.type, saved.description, saved.owner_id) == (
        CapaType.PREVENTIVE, "更换夹具并加入点检", prod.id)
    add = [f for f in at.get("form") if f.proto.form.form_id.startswith(f"capa_{cid}_")]
    assert [widget(f, "text_input", zh("field.capa_description") + " *").value
            for f in add] == [""]


def test_a_capa_action_is_changed_then_withdrawn_with_a_reason_and_stays_listed(
        ref_db: Context) -> None:
    cid = _investigating(ref_db)
    qa, prod = _user(ref_db, "qa"), _user(ref_db, "prod")
    due = _today() + timedelta(days=10)
    uc.investigation.add_capa(ref_db, qa, cid, CapaType.CORRECTIVE, "更换夹具", prod.id, due)
    [action] = uc.complaints.case_file(ref_db, qa, cid).capa
    at = _open("pages/investigate.py", "qa", cid)
    change = block(at, "expander", zh("inv.capa_change", n=1))
    widget(change, "text_input", zh("field.capa_description") + " *").input("更换夹具并校准")
    widget(change, "button", zh("inv.capa_save_change")).click().run()  # no reason
    no_exception(at)
    assert values(at, "error") == [zh("err.required", field="reason")]
    change = block(at, "expander", zh("inv.capa_change", n=1))
    assert widget(change, "text_input", zh("field.capa_description") + " *").value == \
        "更换夹具并校准"
    widget(change, "text_input", zh("field.reason") + " *").input("QA 要求加入校准")
    widget(change, "button", zh("inv.capa_save_change")).click().run()
    no_exception(at)
    assert zh("common.saved") in values(at, "success")
    assert uc.complaints.case_file(ref_db, qa, cid).capa[0].description == "更换夹具并校准"

    change = block(at, "expander", zh("inv.capa_change", n=1))
    widget(change, "text_input", zh("field.reason") + " *").input("由工程部的对策取代")
    widget(change, "button", zh("inv.capa_withdraw")).click().run()
    no_exception(at)
    [withdrawn] = uc.complaints.case_file(ref_db, qa, cid).capa
    assert (withdrawn.id, withdrawn.status) == (action.id, "withdrawn")
    shown = values(at, "text")
    assert any(s.startswith(f"[{zh('capa.withdrawn')}]") and "更换夹具并校准" in s for s in shown)
    assert not [b for b in at.expander if b.label == zh("inv.capa_change", n=1)]
    events = uc.complaints.complaint(ref_db, qa, cid).events
    assert [(e.action, e.comment) for e in events[-2:]] == [
        ("capa_edited", "QA 要求加入校准"), ("capa_withdrawn", "由工程部的对策取代")]


# ---------------------------------------------------------------- the server's clock at 23:50 UTC


@pytest.fixture
def utc_evening(ref_db: Context) -> datetime:
    """The machine's clock at 23:50 UTC (the app's one clock), the company in Shanghai."""
    late = datetime(2026, 12, 6, 23, 50, tzinfo=timezone.utc)
    app = kesu()
    with app.uow(write=True) as uow:
        uow.settings.set("timezone", "Asia/Shanghai")
        uow.commit()
    app.clock = lambda: late
    return late


def test_at_2350_utc_the_log_form_offers_shanghai_time_and_saves(
        ref_db: Context, utc_evening: datetime) -> None:
    at = _open("pages/log.py", "sales")
    assert widget(at, "date_input", zh("field.received_date")).value == date(2026, 12, 7)
    assert widget(at, "time_input", zh("field.received_time")).value.strftime("%H:%M") == "07:50"
    cust = next(c.id for c in uc.reference.customers(ref_db) if c.name == CUSTOMER)
    widget(at, "selectbox", zh("field.customer") + " *").select(cust)
    widget(at, "text_area", zh("field.description") + " *").input("早上客户来电")
    widget(at, "radio", zh("field.category")).set_value(Category.NON_QUALITY)
    widget(at, "button", zh("log.submit")).click().run()
    no_exception(at)
    assert not values(at, "error")
    [row] = uc.search.register(kesu(), _user(kesu(), "admin"),
                               RegisterFilter())[0]
    case = uc.complaints.case_file(kesu(), _user(kesu(), "admin"), row.id).complaint
    assert case.received_at == utc_evening


def test_at_2350_utc_the_customer_informed_time_is_shanghai_time_and_saves(
        ref_db: Context, utc_evening: datetime) -> None:
    cid = _register(kesu())
    at = _open("pages/complaint.py", "sales", cid)
    form = unfold(at, zh("action.customer_acknowledged"))
    assert widget(form, "date_input", zh("field.customer_ack_date")).value == date(2026, 12, 7)
    assert widget(form, "time_input", zh("field.customer_ack_time")).value.strftime(
        "%H:%M") == "07:50"
    widget(form, "text_input", zh("field.customer_ack_method") + " *").input("电话")
    widget(form, "button", zh("common.save")).click().run()
    no_exception(at)
    assert zh("err.future_date", field="customer_ack_at") not in values(at, "error")
    c = uc.complaints.case_file(kesu(), _user(kesu(), "admin"), cid).complaint
    assert c.customer_ack_at == utc_evening
