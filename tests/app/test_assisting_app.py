"""Assisting departments on the Investigate page (协助部门, issue #12 item 8): QA asks 工程部 to
assist in a case led by 制造部; 工程部's production user finds the case in My Tasks with what
it is asked (also with record-level visibility on), writes its findings and adds a CAPA action
on its part — and is offered no form of the lead's; 制造部's production user still does its
own part."""
from __future__ import annotations

from datetime import timedelta

from streamlit.testing.v1 import AppTest

from core import usecases as uc
from core.model import CapaType, Kind, Role, State, User
from core.usecases.context import Context
from tests.app.helpers import (
    block, en, has_block, login_as, new_app, no_exception, open_case_tab, page_text, values,
    widget, zh,
)

ASK = "请评估夹具定位销的设计"


def _user(app: Context, username: str) -> User:
    user = uc.accounts.active_user(app, username)
    assert user is not None
    return user


def _setup(app: Context) -> tuple[int, int, User]:
    """A demo complaint under analysis led by 制造部, the demo's engineer of 工程部,
    and record-level visibility by department; (case id, 工程部's id, the engineer)."""
    admin = _user(app, "admin")
    depts = {d.code: d.id for d in uc.reference.departments(app, True)}
    c = next(x for x in uc.search.cases_in(app, admin, [State.ROOT_CAUSE])
             if x.kind == Kind.COMPLAINT and x.responsible_department_id == depts["MFG"])
    eng = _user(app, "eng")  # the demo's engineer (黄磊, production of 工程部)
    assert (eng.roles, eng.department_id) == (frozenset({Role.PRODUCTION}), depts["ENG"])
    if not c.root_cause:  # what the lead has found so far (the demo may not have got there)
        prod = _user(app, "prod")
        c = uc.investigation.save_analysis(app, prod, c.id or 0, c.version, prod_line="2 线",
                                           root_cause="定位销磨损，冲压偏位")
    uc.reference.set_settings(app, admin, {"record_visibility": "department"})
    return c.id or 0, depts["ENG"], eng


def _open(page: str, username: str, cid: int | None = None, lang: str = "zh") -> AppTest:
    at = login_as(new_app(), username)
    if lang == "en":
        at.query_params["lang"] = "en"
    if cid is not None:
        at.query_params["id"] = str(cid)
    at.switch_page(page).run()
    no_exception(at)
    return at


def _mark_done(at: AppTest) -> int:
    """How many CAPA actions the user is offered to mark done."""
    return sum(1 for b in at.button if b.label == zh("inv.mark_done"))


def _qa_asks_engineering(cid: int, eng_id: int) -> None:
    at = _open("pages/investigate.py", "qa", cid)
    form = block(at, "expander", zh("inv.set_assisting"))
    widget(form, "multiselect", zh("field.assisting_departments")).set_value([eng_id]).run()
    no_exception(at)
    form = block(at, "expander", zh("inv.set_assisting"))
    widget(form, "text_input", zh("inv.assist_ask_for", dept="工程部")).input(ASK)
    widget(form, "button", zh("common.save")).click().run()
    no_exception(at)
    assert zh("common.saved") in values(at, "success")
    assert zh("inv.assist_line", dept="工程部", ask=ASK) in page_text(at)


def test_an_assisting_department_sees_what_it_is_asked_and_does_its_part(
        demo_db: Context) -> None:
    cid, eng_id, eng = _setup(demo_db)
    qa = _user(demo_db, "qa")
    number = uc.complaints.case_file(demo_db, qa, cid).complaint.number
    # before it is asked, 工程部 does not even see the case (visibility by department)
    at = _open("pages/tasks.py", "eng")
    assert number not in page_text(at)
    _qa_asks_engineering(cid, eng_id)
    assert [(a.department_id, a.ask) for a in
            uc.complaints.case_file(demo_db, qa, cid).assists] == [(eng_id, ASK)]

    # 工程部's engineer: the task, with what it is asked
    at = _open("pages/tasks.py", "eng")
    text = page_text(at)
    assert f"{zh('task.assist')} (1)" in values(at, "subheader")
    assert number in text and ASK in text
    # the lead department has an open action of its own
    prod = _user(demo_db, "prod")
    today = demo_db.clock().astimezone(uc.context.settings(demo_db).tz).date()
    uc.investigation.add_capa(demo_db, prod, cid, CapaType.CORRECTIVE, "更换定位销", prod.id,
                              today + timedelta(days=5))
    # on Investigate: its findings and its CAPA part, none of the lead's forms
    at = _open("pages/investigate.py", "eng", cid)
    labels = [b.label for b in at.button]
    assert zh("action.submit_analysis") not in labels
    assert not any(a.label == zh("field.root_cause") + " *" for a in at.text_area)
    assert f"**{zh('inv.containment')}**" not in values(at, "markdown")
    assert f"**{zh('inv.analysis')}**" not in values(at, "markdown")
    assert zh("inv.no_findings") in page_text(at)
    lead_cause = uc.complaints.case_file(demo_db, qa, cid).complaint.root_cause
    assert lead_cause and lead_cause in page_text(at)  # what the lead has found so far
    findings = zh("field.findings") + " *"
    widget(at, "text_area", findings).input("定位销设计余量不足，建议改为淬火钢")
    widget(at, "button", zh("inv.save_findings")).click().run()
    no_exception(at)
    assert zh("common.saved") in values(at, "success")
    assert f"{zh('field.findings')}: 定位销设计余量不足，建议改为淬火钢" in page_text(at)
    widget(at, "selectbox", zh("field.owner") + " *").set_value(eng.id)
    widget(at, "text_input", zh("field.capa_description") + " *").input("定位销改为淬火钢")
    widget(at, "date_input", zh("field.due_date") + " *").set_value(today + timedelta(days=10))
    widget(at, "button", zh("inv.add_capa")).click().run()
    no_exception(at)
    case = uc.complaints.case_file(demo_db, qa, cid)
    [part] = [a for a in case.capa if a.description == "定位销改为淬火钢"]
    assert (part.owner_id, part.department_id) == (eng.id, eng_id)
    line = f"定位销改为淬火钢 · {eng.display_name} · {today + timedelta(days=10)} · 工程部"
    assert line in page_text(at)
    # the lead's open action is listed, but only its own part can be marked done here
    assert f"更换定位销 · {prod.display_name}" in page_text(at)
    assert _mark_done(at) == 1
    # answered: the task is gone
    at = _open("pages/tasks.py", "eng")
    assert f"{zh('task.assist')} (1)" not in values(at, "subheader")
    # the timeline names the department and shows the findings
    at = _open("pages/complaint.py", "qa", cid)
    text = page_text(open_case_tab(at, "case.timeline"))
    assert zh("case.changed_from_to", field=zh("field.assisting_departments"), old="—",
              new="工程部") in text
    assert zh("case.changed_from_to", field=zh("field.assisting_department"), old="—",
              new="工程部") in text

    # 制造部's production user (the lead) still does its own part
    at = _open("pages/investigate.py", "prod", cid)
    assert zh("inv.assist_line", dept="工程部", ask=ASK) in page_text(at)
    assert not any(f.label == findings for f in at.text_area)  # not 工程部's findings
    assert _mark_done(at) >= 2  # the lead completes any action of the case
    assert f"**{zh('inv.analysis')}**" in values(at, "markdown")
    widget(at, "text_area", zh("field.root_cause") + " *").input("夹具定位销磨损")
    widget(at, "button", zh("inv.save_analysis")).click().run()
    no_exception(at)
    assert zh("common.saved") in values(at, "success")
    assert uc.complaints.case_file(demo_db, qa, cid).complaint.root_cause == "夹具定位销磨损"


def test_the_assisting_section_reads_in_english(demo_db: Context) -> None:
    cid, eng_id, _ = _setup(demo_db)
    _qa_asks_engineering(cid, eng_id)
    at = _open("pages/investigate.py", "eng", cid, "en")
    assert has_block(at, "expander", en("inv.set_assisting")) is False
    text = page_text(at)
    assert en("inv.assist_line", dept="Engineering", ask=ASK) in text
    assert en("inv.no_findings") in text
    widget(at, "button", en("inv.save_findings")).click().run()
    no_exception(at)
    assert en("err.required", field="findings") in values(at, "error")
    assert "“Assisting department's findings” is required." in values(at, "error")
